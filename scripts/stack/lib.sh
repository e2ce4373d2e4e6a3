# shellcheck shell=bash
# Shared settings and helpers for scripts/stack/{up,down,status}.sh. Sourced, not run.
#
# Layout:
#   cache (fetched/built, keyed by version): ${SETTLEMENT_CACHE:-$HOME/.cache/settlement-stack}
#   state (data, logs, pid files):           <repo>/.stack   (override: STACK_STATE_DIR)

STACK_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_STATE="${STACK_STATE_DIR:-$STACK_REPO/.stack}"
STACK_CACHE="${SETTLEMENT_CACHE:-$HOME/.cache/settlement-stack}"
STACK_PIDS="$STACK_STATE/pids"
STACK_LOGS="$STACK_STATE/logs"

KAFKA_VERSION="${STACK_KAFKA_VERSION:-4.1.1}"
TEMPORAL_CLI_VERSION="${STACK_TEMPORAL_CLI_VERSION:-1.5.1}"

STACK_HOST=127.0.0.1
KAFKA_PORT="${STACK_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${STACK_KAFKA_CONTROLLER_PORT:-9093}"
TEMPORAL_PORT="${STACK_TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${STACK_TEMPORAL_UI_PORT:-8233}"
PG_PORT="${STACK_PG_PORT:-5432}"
PG_DATABASES=(settlement settlement_test)
KAFKA_TOPICS=("transactions:8" "transactions.dlq:4" "settlements:8" "settlement-cycles:1")
# Custom search attributes the workflows set (name:type), registered on every stack:up
# (docs/temporal-ui.md). The dev server's SQLite visibility holds at most 3 Int, 3 Double,
# 10 Keyword and 3 KeywordList custom attributes per namespace: counts are Double, exact to 2^53.
TEMPORAL_SEARCH_ATTRIBUTES=(
  "SettlementTopic:Keyword" "SettlementPartition:Keyword" "SettlementFirstOffset:Int" "SettlementLastOffset:Int"
  "SettlementSettled:Double" "SettlementRejected:Double" "SettlementDeadLettered:Double"
  "SettlementDeadLetterReasons:KeywordList" "SettlementStatus:Keyword" "SettlementReplayId:Keyword"
  # settlementCycle (docs/settlement-cycles.md)
  "SettlementCycleCutoff:Datetime" "SettlementCycleWindowStart:Datetime" "SettlementCycleStatus:Keyword"
  "SettlementCycleTransactions:Int" "SettlementCycleTotals:KeywordList"
)

# Timeouts (seconds). Every wait is bounded.
KAFKA_START_TIMEOUT="${STACK_KAFKA_START_TIMEOUT:-120}"
TEMPORAL_START_TIMEOUT="${STACK_TEMPORAL_START_TIMEOUT:-120}"
PG_START_TIMEOUT="${STACK_PG_START_TIMEOUT:-60}"
MVN_TIMEOUT="${STACK_MVN_TIMEOUT:-1200}"
GO_BUILD_TIMEOUT="${STACK_GO_BUILD_TIMEOUT:-2700}"
APT_TIMEOUT="${STACK_APT_TIMEOUT:-900}"

KAFKA_HOME="$STACK_CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
TEMPORAL_CACHE_BIN="$STACK_CACHE/temporal-cli-$TEMPORAL_CLI_VERSION/bin/temporal"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  _c_b=$'\033[1m'; _c_r=$'\033[31m'; _c_g=$'\033[32m'; _c_y=$'\033[33m'; _c_0=$'\033[0m'
else
  _c_b=; _c_r=; _c_g=; _c_y=; _c_0=
fi

say() { printf '%s[stack]%s %s\n' "$_c_b" "$_c_0" "$*"; }
ok() { printf '%s[stack]%s %s%s%s\n' "$_c_b" "$_c_0" "$_c_g" "$*" "$_c_0"; }
warn() { printf '%s[stack]%s %s%s%s\n' "$_c_b" "$_c_0" "$_c_y" "$*" "$_c_0" >&2; }
die() {
  printf '%s[stack] ERROR:%s %s\n' "$_c_r" "$_c_0" "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }

# Last lines of a log file, indented, to stderr.
show_log_tail() {
  local file="$1" n="${2:-40}"
  if [ -s "$file" ]; then
    printf '%s---- last %s lines of %s ----%s\n' "$_c_y" "$n" "$file" "$_c_0" >&2
    tail -n "$n" "$file" | sed 's/^/    /' >&2
    printf '%s---- end of %s ----%s\n' "$_c_y" "$file" "$_c_0" >&2
  else
    warn "(log $file is empty or missing)"
  fi
}

pid_file() { echo "$STACK_PIDS/$1.pid"; }

# Prints the recorded pid of service $1 if that process is alive and its command line
# contains $2 (guards against a recycled pid); otherwise prints nothing and returns 1.
live_pid() {
  local f pid
  f="$(pid_file "$1")"
  [ -f "$f" ] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -n "${2:-}" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"; then
    return 1
  fi
  echo "$pid"
}

# Who listens on TCP port $1 (any address)? Prints "name (pid N)" or "unknown process", returns 1 if free.
port_owner() {
  local port="$1" line
  line="$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n1)"
  if [ -z "$line" ]; then
    # ss missing or no listener: try a plain connect as a fallback.
    if ! command -v ss >/dev/null 2>&1 && (exec 3<>"/dev/tcp/$STACK_HOST/$port") 2>/dev/null; then
      echo "unknown process"
      return 0
    fi
    return 1
  fi
  if [[ "$line" =~ \"([^\"]+)\",pid=([0-9]+) ]]; then
    echo "${BASH_REMATCH[1]} (pid ${BASH_REMATCH[2]})"
  else
    echo "unknown process (run as root to see it)"
  fi
}

# Pids listening on port $1.
port_pids() {
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

port_open() { (exec 3<>"/dev/tcp/$STACK_HOST/$1") 2>/dev/null; }

# Stops a process: signal $2 (default TERM), wait up to $3 seconds, then KILL.
stop_pid() {
  local pid="$1" sig="${2:-TERM}" wait_s="${3:-30}" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < wait_s * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    # A zombie child of ours counts as gone.
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
    sleep 0.2
  done
  warn "pid $pid did not stop within ${wait_s}s after SIG$sig; sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  return 1
}

# The PostgreSQL server binaries (highest installed version).
pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then
      echo "$d"
      return 0
    fi
  done
  if command -v postgres >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v postgres)"
    return 0
  fi
  return 1
}

# PostgreSQL refuses to run as root: run its tools as the `postgres` OS user then.
PG_OS_USER=postgres
as_pg() {
  if is_root; then
    runuser -u "$PG_OS_USER" -- "$@"
  else
    "$@"
  fi
}

# The PostgreSQL data directory: under the state dir when the postgres user can reach it,
# otherwise (e.g. a repo below /root, mode 700) in /var/tmp, linked from the state dir.
pg_data_dir() {
  if [ -L "$STACK_STATE/postgres" ]; then
    readlink -f "$STACK_STATE/postgres"
  else
    echo "$STACK_STATE/postgres"
  fi
}

temporal_bin() {
  if [ -n "${TEMPORAL_BIN:-}" ] && [ -x "$TEMPORAL_BIN" ]; then
    echo "$TEMPORAL_BIN"
  elif command -v temporal >/dev/null 2>&1; then
    command -v temporal
  elif [ -x "$TEMPORAL_CACHE_BIN" ]; then
    echo "$TEMPORAL_CACHE_BIN"
  else
    return 1
  fi
}
