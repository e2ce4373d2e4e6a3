#!/usr/bin/env bash
# npm run stack:up — starts the local infrastructure on loopback and waits until each part is
# healthy: Apache Kafka (KRaft, single node), the Temporal dev server (with Web UI) and
# PostgreSQL. Idempotent: on a healthy running stack it only checks and returns.
# See docs/local-stack.md.
set -Eeuo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$SECONDS
mkdir -p "$STACK_STATE" "$STACK_PIDS" "$STACK_LOGS" "$STACK_CACHE"

# One stack:up at a time per state dir.
exec 9>"$STACK_STATE/.up.lock"
if ! flock -w 900 9; then
  die "another 'stack:up' holds $STACK_STATE/.up.lock for more than 15 minutes; is one stuck?"
fi

# Runs "$@" in the background with a time limit, output to $log, printing a line every 30s.
run_with_progress() {
  local label="$1" limit="$2" log="$3"
  shift 3
  local start=$SECONDS next=$((SECONDS + 30)) pid rc
  timeout --kill-after=30 "$limit" "$@" >>"$log" 2>&1 </dev/null &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS >= next)); then
      say "  ... still $label ($((SECONDS - start))s, log: $log)"
      next=$((SECONDS + 30))
    fi
  done
  rc=0
  wait "$pid" || rc=$?
  if ((rc == 124)); then
    warn "$label timed out after ${limit}s"
  fi
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# Health checks (quiet; return 0 when healthy)

pg_psql() {
  PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -h "$STACK_HOST" -p "$PG_PORT" -U postgres "$@"
}
pg_healthy() {
  [ "$(pg_psql -d postgres -tAc 'select 1' 2>/dev/null)" = 1 ]
}

temporal_healthy() {
  local bin
  bin="$(temporal_bin)" || return 1
  "$bin" operator namespace describe default --address "$STACK_HOST:$TEMPORAL_PORT" \
    --command-timeout 5s -o none >/dev/null 2>&1 &&
    (exec 3<>"/dev/tcp/$STACK_HOST/$TEMPORAL_UI_PORT") 2>/dev/null
}

# The workflows' custom search attributes: a workflow that sets an unregistered one fails its
# task, so every start (also on a running stack) registers the missing ones.
temporal_search_attributes() {
  local bin known spec name type
  bin="$(temporal_bin)" || return 1
  known="$("$bin" operator search-attribute list --address "$STACK_HOST:$TEMPORAL_PORT" --command-timeout 10s 2>/dev/null)" || return 1
  for spec in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    name="${spec%%:*}" type="${spec##*:}"
    grep -qE "^[[:space:]]*$name[[:space:]]" <<<"$known" && continue
    "$bin" operator search-attribute create --address "$STACK_HOST:$TEMPORAL_PORT" --command-timeout 10s \
      --name "$name" --type "$type" >/dev/null || return 1
  done
}

# Java-side Kafka tools (used when kafkajs is not installed yet, e.g. before `npm ci`).
kafka_tool() {
  local cls="$1"
  shift
  timeout 60 java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$STACK_STATE/kafka/tools-log4j2.xml" \
    -cp "$KAFKA_LIBS/*" "$cls" "$@"
}

kafka_roundtrip_java() {
  local spec topic parts marker got
  for spec in "${KAFKA_TOPICS[@]}" "_stack_health:1"; do
    topic="${spec%%:*}" parts="${spec##*:}"
    kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$STACK_HOST:$KAFKA_PORT" \
      --create --if-not-exists --topic "$topic" --partitions "$parts" --replication-factor 1 >/dev/null || return 1
  done
  marker="ping-$$-$RANDOM"
  echo "$marker" | kafka_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$STACK_HOST:$KAFKA_PORT" \
    --topic _stack_health >/dev/null || return 1
  got="$(kafka_tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$STACK_HOST:$KAFKA_PORT" \
    --topic _stack_health --from-beginning --timeout-ms 20000 --group "stack-health-$$" 2>/dev/null || true)"
  grep -qF "$marker" <<<"$got"
}

# Topics + a produce/consume round trip through a fresh consumer group.
kafka_roundtrip() {
  local rc=0
  if command -v node >/dev/null 2>&1; then
    (cd "$STACK_REPO" && timeout 60 node scripts/stack/kafka-check.js "$STACK_HOST:$KAFKA_PORT" "${KAFKA_TOPICS[@]}") \
      >>"$STACK_LOGS/kafka-check.log" 2>&1 || rc=$?
  else
    rc=2
  fi
  if ((rc == 2)); then
    kafka_roundtrip_java >>"$STACK_LOGS/kafka-check.log" 2>&1
    return
  fi
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# Fast path: everything already ours, alive and healthy.

PG_BIN="$(pg_bindir || true)"

stack_quick_ok() {
  [ -n "$PG_BIN" ] || return 1
  live_pid kafka kafka.Kafka >/dev/null || return 1
  live_pid temporal start-dev >/dev/null || return 1
  live_pid postgres postgres >/dev/null || return 1
  pg_healthy && temporal_healthy && kafka_roundtrip
}

print_summary() {
  local ui
  ui="http://$STACK_HOST:$TEMPORAL_UI_PORT"
  ok "stack is up ($((SECONDS - T0))s):"
  say "  Kafka        $STACK_HOST:$KAFKA_PORT  (KRaft controller $STACK_HOST:$KAFKA_CONTROLLER_PORT; topics: ${KAFKA_TOPICS[*]})"
  say "  Temporal     $STACK_HOST:$TEMPORAL_PORT  (namespace default)"
  say "  Web UI       $ui"
  say "  PostgreSQL   postgres://postgres@$STACK_HOST:$PG_PORT/settlement  (also settlement_test)"
  say "  state+logs   $STACK_STATE   cache $STACK_CACHE"
  say "  stop with    npm run stack:down   (add -- --purge to delete the data)"
}

if stack_quick_ok && temporal_search_attributes; then
  print_summary
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Tools

need_java() {
  command -v java >/dev/null 2>&1 ||
    die "java not found: Kafka needs a Java 17+ runtime. Install it, e.g. 'apt-get install -y openjdk-17-jre-headless'."
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  if [ -n "$v" ] && ((v < 17)); then
    die "java $v found, but Kafka $KAFKA_VERSION needs Java 17+: 'apt-get install -y openjdk-17-jre-headless'."
  fi
}

fetch_kafka() {
  [ -f "$KAFKA_HOME/.complete" ] && return 0
  command -v mvn >/dev/null 2>&1 ||
    die "mvn not found: it fetches the Kafka $KAFKA_VERSION jars from Maven Central on the first run. Install it, e.g. 'apt-get install -y maven'."
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central (first run, ~1 min)..."
  mkdir -p "$KAFKA_HOME"
  cat >"$KAFKA_HOME/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.settlement-stack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-storage</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$KAFKA_HOME/libs.tmp"
  : >"$KAFKA_HOME/mvn.log"
  if ! run_with_progress "fetching Kafka jars" "$MVN_TIMEOUT" "$KAFKA_HOME/mvn.log" \
    mvn -B -f "$KAFKA_HOME/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_HOME/libs.tmp"; then
    show_log_tail "$KAFKA_HOME/mvn.log" 30
    die "could not fetch the Kafka $KAFKA_VERSION jars with mvn (log: $KAFKA_HOME/mvn.log)"
  fi
  ls "$KAFKA_HOME/libs.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "mvn ran but kafka_2.13 jar is missing in $KAFKA_HOME/libs.tmp"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_HOME/libs.tmp" "$KAFKA_LIBS"
  date -u +%FT%TZ >"$KAFKA_HOME/.complete"
  say "Kafka jars cached in $KAFKA_LIBS ($(ls "$KAFKA_LIBS" | wc -l) jars)"
}

build_temporal() {
  temporal_bin >/dev/null && return 0
  local gobin="$STACK_CACHE/temporal-cli-$TEMPORAL_CLI_VERSION/bin" log="$STACK_CACHE/temporal-go-install.log"
  mkdir -p "$gobin"
  # Wait for a build that another process may be running into the same folder.
  exec 8>"$STACK_CACHE/temporal-build.lock"
  flock -w "$GO_BUILD_TIMEOUT" 8 || die "timed out waiting for another Temporal CLI build ($STACK_CACHE/temporal-build.lock)"
  if [ -x "$gobin/temporal" ]; then
    exec 8>&-
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    die "no 'temporal' binary on PATH and 'go' not found to build it. Either put a Temporal CLI binary on PATH (or set TEMPORAL_BIN), or install Go 1.24+ and rerun (it runs: go install github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION)."
  say "building Temporal CLI $TEMPORAL_CLI_VERSION with 'go install' (first run, ~3-10 min on 2 cores)..."
  local tmpbin="$gobin.tmp"
  rm -rf "$tmpbin"
  mkdir -p "$tmpbin"
  echo "== $(date -u +%FT%TZ) go install github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" >>"$log"
  if ! run_with_progress "building Temporal CLI" "$GO_BUILD_TIMEOUT" "$log" \
    env GOBIN="$tmpbin" GOFLAGS="${GOFLAGS:--modcacherw}" go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION"; then
    show_log_tail "$log" 30
    die "could not build the Temporal CLI (log: $log). See docs/local-stack.md (fallback: put a 'temporal' binary on PATH)."
  fi
  mv "$tmpbin/temporal" "$gobin/temporal"
  rm -rf "$tmpbin"
  echo "rc=0" >>"$log"
  exec 8>&-
  say "Temporal CLI cached at $gobin/temporal"
}

ensure_postgres_installed() {
  [ -n "$PG_BIN" ] && return 0
  if ! is_root; then
    die "PostgreSQL server not found (no /usr/lib/postgresql/*/bin/postgres). Install Debian's package: 'sudo apt-get install -y postgresql'."
  fi
  say "PostgreSQL server not found: installing Debian's 'postgresql' package (apt-get)..."
  local log="$STACK_LOGS/apt-postgresql.log"
  : >"$log"
  run_with_progress "apt-get update" "$APT_TIMEOUT" "$log" apt-get update ||
    { show_log_tail "$log"; die "apt-get update failed (log: $log)"; }
  run_with_progress "installing postgresql" "$APT_TIMEOUT" "$log" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql ||
    { show_log_tail "$log"; die "apt-get install postgresql failed (log: $log)"; }
  PG_BIN="$(pg_bindir)" || die "postgresql installed but no server binary found under /usr/lib/postgresql"
  # The package may have started its own 'main' cluster; ours uses its own data dir and port.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name port status _; do
      if [ "$status" = online ] && [ "$port" = "$PG_PORT" ]; then
        say "stopping the package's default cluster $ver/$name on port $port"
        pg_ctlcluster "$ver" "$name" stop || true
      fi
    done
  fi
}

# A port must be free, or held by the process we recorded for that service.
check_port_free() {
  local port="$1" what="$2" owner
  if owner="$(port_owner "$port")"; then
    die "port $port (needed for $what) is already in use by $owner, which this stack did not start. Stop it, or choose other ports (see docs/local-stack.md: STACK_*_PORT)."
  fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

start_postgres() {
  local pid
  if pid="$(live_pid postgres postgres)"; then
    if pg_healthy; then
      say "PostgreSQL already running (pid $pid)"
      return 0
    fi
    warn "PostgreSQL pid $pid is alive but not answering: restarting it"
    stop_pid "$pid" INT 30 || true
  fi
  if [ -f "$(pid_file postgres)" ]; then
    say "postgres: stale pid file from an earlier run (process $(tr -dc '0-9' <"$(pid_file postgres)") is gone): cleaning up"
  fi
  rm -f "$(pid_file postgres)"

  # Data dir, reachable by the postgres OS user.
  local base="$STACK_STATE/postgres"
  if is_root; then
    id -u "$PG_OS_USER" >/dev/null 2>&1 ||
      useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$PG_OS_USER" ||
      die "could not create the '$PG_OS_USER' OS user (PostgreSQL refuses to run as root)"
    if [ ! -e "$base" ] && ! runuser -u "$PG_OS_USER" -- test -x "$STACK_STATE"; then
      local alt
      alt="/var/tmp/settlement-stack-pg-$(printf '%s' "$STACK_STATE" | md5sum | cut -c1-12)"
      mkdir -p "$alt"
      ln -s "$alt" "$base"
      say "PostgreSQL data in $alt (the postgres user cannot reach $STACK_STATE)"
    fi
  fi
  mkdir -p "$base"
  base="$(pg_data_dir)"
  is_root && chown "$PG_OS_USER": "$base" && chmod 700 "$base"
  local data="$base/data" log="$base/postgres.log"
  ln -sfn "$log" "$STACK_LOGS/postgres.log"

  # A postmaster left from an earlier run whose pid file we lost: adopt it if it is alive.
  if [ -f "$data/postmaster.pid" ]; then
    pid="$(head -n1 "$data/postmaster.pid" | tr -dc '0-9')"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q postgres; then
      echo "$pid" >"$(pid_file postgres)"
      if pg_healthy; then
        say "PostgreSQL already running (pid $pid, adopted)"
        return 0
      fi
      warn "PostgreSQL pid $pid from an earlier run is not answering: stopping it"
      stop_pid "$pid" INT 30 || true
    fi
    rm -f "$data/postmaster.pid" 2>/dev/null || true
  fi
  check_port_free "$PG_PORT" PostgreSQL

  if [ ! -f "$data/PG_VERSION" ]; then
    say "initialising a PostgreSQL cluster in $data"
    rm -rf "$data"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale >"$STACK_LOGS/initdb.log" 2>&1 ||
      { show_log_tail "$STACK_LOGS/initdb.log"; die "initdb failed"; }
    cat >>"$data/postgresql.conf" <<EOF

# --- settlement local stack (scripts/stack/up.sh) ---
listen_addresses = '$STACK_HOST'
unix_socket_directories = ''
max_connections = 200
shared_buffers = 256MB
log_min_messages = warning
EOF
  fi
  say "starting PostgreSQL on $STACK_HOST:$PG_PORT"
  if ! as_pg "$PG_BIN/pg_ctl" start -D "$data" -l "$log" -w -t "$PG_START_TIMEOUT" -o "-p $PG_PORT" \
    >"$STACK_LOGS/pg_ctl.log" 2>&1 </dev/null 8>&- 9>&-; then
    cat "$STACK_LOGS/pg_ctl.log" >&2
    show_log_tail "$log"
    die "PostgreSQL did not start within ${PG_START_TIMEOUT}s"
  fi
  head -n1 "$data/postmaster.pid" | tr -dc '0-9' >"$(pid_file postgres)"
}

wait_postgres() {
  local i db
  for ((i = 0; i < PG_START_TIMEOUT * 2; i++)); do
    pg_healthy && break
    sleep 0.5
  done
  if ! pg_healthy; then
    show_log_tail "$STACK_LOGS/postgres.log"
    die "PostgreSQL on $STACK_HOST:$PG_PORT does not answer 'select 1' after ${PG_START_TIMEOUT}s"
  fi
  for db in "${PG_DATABASES[@]}"; do
    if [ "$(pg_psql -d postgres -tAc "select 1 from pg_database where datname = '$db'")" != 1 ]; then
      pg_psql -d postgres -c "create database \"$db\"" >/dev/null || die "could not create database $db"
      say "created database $db"
    fi
  done
  ok "PostgreSQL healthy"
}

# ---------------------------------------------------------------------------------------------
# Kafka

write_kafka_config() {
  local dir="$STACK_STATE/kafka"
  mkdir -p "$dir/data" "$STACK_LOGS/kafka"
  cat >"$dir/server.properties" <<EOF
# Generated by scripts/stack/up.sh on each start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$STACK_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$STACK_HOST:$KAFKA_PORT,CONTROLLER://$STACK_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$STACK_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
background.threads=4
log.retention.hours=168
log.segment.bytes=134217728
EOF
  cat >"$dir/log4j2.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="server" fileName="$STACK_LOGS/kafka/server.log" filePattern="$STACK_LOGS/kafka/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
    <RollingFile name="controller" fileName="$STACK_LOGS/kafka/controller.log" filePattern="$STACK_LOGS/kafka/controller.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>
      <DefaultRolloverStrategy max="2"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="server"/></Root>
    <Logger name="kafka.controller" level="INFO" additivity="false"><AppenderRef ref="controller"/></Logger>
    <Logger name="org.apache.kafka.controller" level="INFO" additivity="false"><AppenderRef ref="controller"/></Logger>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
  </Loggers>
</Configuration>
EOF
  cat >"$dir/tools-log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders><Console name="err" target="SYSTEM_ERR"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers><Root level="WARN"><AppenderRef ref="err"/></Root></Loggers>
</Configuration>
EOF
}

kafka_jvm_opts() {
  printf '%s\n' -Xmx1g -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true -Dkafka.logs.dir="$STACK_LOGS/kafka" \
    -Dlog4j2.configurationFile="$STACK_STATE/kafka/log4j2.xml"
}

start_kafka() {
  local pid
  if pid="$(live_pid kafka kafka.Kafka)"; then
    if port_open "$KAFKA_PORT" && kafka_roundtrip; then
      say "Kafka already running (pid $pid)"
      KAFKA_STARTED=0
      return 0
    fi
    warn "Kafka pid $pid is alive but not healthy: restarting it"
    stop_pid "$pid" TERM 60 || true
  fi
  if [ -f "$(pid_file kafka)" ]; then
    say "kafka: stale pid file from an earlier run (process $(tr -dc '0-9' <"$(pid_file kafka)") is gone): cleaning up"
  fi
  rm -f "$(pid_file kafka)"
  check_port_free "$KAFKA_PORT" "Kafka (broker)"
  check_port_free "$KAFKA_CONTROLLER_PORT" "Kafka (KRaft controller)"
  write_kafka_config
  local dir="$STACK_STATE/kafka" opts
  mapfile -t opts < <(kafka_jvm_opts)
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cid
    [ -s "$dir/cluster-id" ] || head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$dir/cluster-id"
    cid="$(cat "$dir/cluster-id")"
    say "formatting Kafka storage (cluster id $cid)"
    if ! timeout 120 java -Xmx256m -Dlog4j2.configurationFile="$dir/tools-log4j2.xml" -cp "$KAFKA_LIBS/*" \
      kafka.tools.StorageTool format -t "$cid" -c "$dir/server.properties" --ignore-formatted \
      >"$STACK_LOGS/kafka/format.log" 2>&1; then
      show_log_tail "$STACK_LOGS/kafka/format.log"
      die "Kafka storage format failed"
    fi
  fi
  say "starting Kafka $KAFKA_VERSION (KRaft) on $STACK_HOST:$KAFKA_PORT"
  setsid nohup java "${opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" \
    >>"$STACK_LOGS/kafka/kafka.out" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$(pid_file kafka)"
  KAFKA_STARTED=1
}

wait_kafka() {
  local pid i limit=$KAFKA_START_TIMEOUT start=$SECONDS
  pid="$(cat "$(pid_file kafka)")"
  if [ "${KAFKA_STARTED:-0}" = 1 ]; then
    while ! port_open "$KAFKA_PORT"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        show_log_tail "$STACK_LOGS/kafka/kafka.out" 20
        show_log_tail "$STACK_LOGS/kafka/server.log"
        rm -f "$(pid_file kafka)"
        die "Kafka exited during start-up (logs: $STACK_LOGS/kafka/)"
      fi
      if ((SECONDS - start > limit)); then
        show_log_tail "$STACK_LOGS/kafka/server.log"
        die "Kafka did not open $STACK_HOST:$KAFKA_PORT within ${limit}s (logs: $STACK_LOGS/kafka/)"
      fi
      sleep 0.5
    done
    # Topics + real produce/consume round trip; retried while the broker settles.
    until kafka_roundtrip; do
      if ((SECONDS - start > limit)) || ! kill -0 "$pid" 2>/dev/null; then
        show_log_tail "$STACK_LOGS/kafka-check.log" 20
        show_log_tail "$STACK_LOGS/kafka/server.log"
        die "Kafka produce/consume round trip failed within ${limit}s (logs: $STACK_LOGS/kafka/, $STACK_LOGS/kafka-check.log)"
      fi
      sleep 1
    done
  fi
  ok "Kafka healthy (produce/consume round trip ok)"
}

# ---------------------------------------------------------------------------------------------
# Temporal

start_temporal() {
  local pid bin
  bin="$(temporal_bin)"
  if pid="$(live_pid temporal start-dev)"; then
    if temporal_healthy; then
      say "Temporal already running (pid $pid)"
      return 0
    fi
    warn "Temporal pid $pid is alive but not healthy: restarting it"
    stop_pid "$pid" TERM 30 || true
  fi
  if [ -f "$(pid_file temporal)" ]; then
    say "temporal: stale pid file from an earlier run (process $(tr -dc '0-9' <"$(pid_file temporal)") is gone): cleaning up"
  fi
  rm -f "$(pid_file temporal)"
  check_port_free "$TEMPORAL_PORT" "Temporal (gRPC)"
  check_port_free "$TEMPORAL_UI_PORT" "Temporal (Web UI)"
  mkdir -p "$STACK_STATE/temporal"
  say "starting Temporal dev server on $STACK_HOST:$TEMPORAL_PORT (Web UI $TEMPORAL_UI_PORT)"
  # SQLite in WAL mode, synced at checkpoints: a settlement workflow cost the dev server 35-40 %
  # less CPU than with its default rollback journal (docs/benchmarks.md). A killed process loses
  # nothing committed; only an OS crash could lose the last transactions of this local store.
  setsid nohup "$bin" server start-dev --ip "$STACK_HOST" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$STACK_STATE/temporal/temporal.db" --namespace default --log-level warn \
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=NORMAL \
    >>"$STACK_LOGS/temporal.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$(pid_file temporal)"
}

wait_temporal() {
  local pid start=$SECONDS
  pid="$(cat "$(pid_file temporal)")"
  until temporal_healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail "$STACK_LOGS/temporal.log"
      rm -f "$(pid_file temporal)"
      die "Temporal dev server exited during start-up (log: $STACK_LOGS/temporal.log)"
    fi
    if ((SECONDS - start > TEMPORAL_START_TIMEOUT)); then
      show_log_tail "$STACK_LOGS/temporal.log"
      die "Temporal did not answer 'operator namespace describe default' within ${TEMPORAL_START_TIMEOUT}s"
    fi
    sleep 1
  done
  ok "Temporal healthy (namespace default)"
}

# ---------------------------------------------------------------------------------------------

# Before starting anything: the ports of every service that is not already ours must be free.
preflight_ports() {
  live_pid postgres postgres >/dev/null || check_port_free "$PG_PORT" PostgreSQL
  if ! live_pid temporal start-dev >/dev/null; then
    check_port_free "$TEMPORAL_PORT" "Temporal (gRPC)"
    check_port_free "$TEMPORAL_UI_PORT" "Temporal (Web UI)"
  fi
  if ! live_pid kafka kafka.Kafka >/dev/null; then
    check_port_free "$KAFKA_PORT" "Kafka (broker)"
    check_port_free "$KAFKA_CONTROLLER_PORT" "Kafka (KRaft controller)"
  fi
}

preflight_ports
need_java
fetch_kafka
build_temporal
ensure_postgres_installed

start_postgres
start_temporal
start_kafka
wait_postgres
wait_temporal
wait_kafka
temporal_search_attributes || die "could not register Temporal search attributes (${TEMPORAL_SEARCH_ATTRIBUTES[*]})"
print_summary
