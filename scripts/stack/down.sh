#!/usr/bin/env bash
# npm run stack:down [-- --purge] — stops what scripts/stack/up.sh started, by the pids it
# recorded (TERM, wait, then KILL; PostgreSQL gets INT = fast shutdown), never by process name.
# Data is kept unless --purge is given.
set -Eeuo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    -h | --help)
      echo "usage: npm run stack:down [-- --purge]   (--purge also deletes the data in $STACK_STATE)"
      exit 0
      ;;
    *) die "unknown argument: $arg (usage: stack:down [--purge])" ;;
  esac
done

mkdir -p "$STACK_STATE"
exec 9>"$STACK_STATE/.up.lock"
flock -w 120 9 || die "a 'stack:up' is running (lock $STACK_STATE/.up.lock); try again when it is done"

stop_service() {
  local name="$1" pattern="$2" sig="$3" wait_s="$4" pid f
  f="$(pid_file "$name")"
  if pid="$(live_pid "$name" "$pattern")"; then
    say "stopping $name (pid $pid)"
    stop_pid "$pid" "$sig" "$wait_s" || warn "$name (pid $pid) is still alive"
  elif [ -f "$f" ]; then
    say "$name was not running (removing stale pid file)"
  else
    say "$name: not started by this stack"
  fi
  rm -f "$f"
}

stop_service kafka kafka.Kafka TERM 60
stop_service temporal start-dev TERM 30

# PostgreSQL: the pid file we wrote, or the postmaster.pid of our own data dir.
if ! live_pid postgres postgres >/dev/null; then
  pgdata="$(pg_data_dir)/data"
  if [ -f "$pgdata/postmaster.pid" ]; then
    head -n1 "$pgdata/postmaster.pid" | tr -dc '0-9' >"$(pid_file postgres)" 2>/dev/null || true
  fi
fi
stop_service postgres postgres INT 60

if ((PURGE)); then
  pgdir="$(pg_data_dir)"
  if [ -L "$STACK_STATE/postgres" ] && [ -d "$pgdir" ]; then
    rm -rf "$pgdir"
  fi
  rm -rf "$STACK_STATE"
  say "purged $STACK_STATE (the cache $STACK_CACHE is kept)"
fi
ok "stack stopped"
