#!/usr/bin/env bash
# npm run test:faults — the fault suite (docs/reliability.md). Starts a stack instance of its
# own (other ports, its own state dir: it kills Kafka, Temporal and PostgreSQL with kill -9,
# so it must never touch the shared stack on the default ports), builds, runs
# test/faults/*.fault-spec.ts with jest (results in .test-results/faults.json, counted by
# scripts/test-summary.js), then stops that stack instance and deletes its data.
# Env: FAULTS_SOAK_SECONDS (default 75; 600 for the long soak), FAULTS_STACK_DIR, FAULTS_*_PORT.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export STACK_STATE_DIR="${FAULTS_STACK_DIR:-$PWD/.stack-faults}"
export STACK_KAFKA_PORT="${FAULTS_KAFKA_PORT:-29092}"
export STACK_KAFKA_CONTROLLER_PORT="${FAULTS_KAFKA_CONTROLLER_PORT:-29093}"
export STACK_TEMPORAL_PORT="${FAULTS_TEMPORAL_PORT:-27233}"
export STACK_TEMPORAL_UI_PORT="${FAULTS_TEMPORAL_UI_PORT:-28233}"
export STACK_PG_PORT="${FAULTS_PG_PORT:-25432}"
for p in "$STACK_KAFKA_PORT" "$STACK_KAFKA_CONTROLLER_PORT" "$STACK_TEMPORAL_PORT" "$STACK_TEMPORAL_UI_PORT" "$STACK_PG_PORT"; do
  case "$p" in 9092 | 9093 | 7233 | 8233 | 5432)
    echo "test-faults: port $p is the shared stack's; refusing to kill it" >&2
    exit 1
    ;;
  esac
done
# The apps, loadgen, ledger:check and the test's clients all follow these.
export KAFKA_BROKERS="127.0.0.1:$STACK_KAFKA_PORT"
export TEMPORAL_ADDRESS="127.0.0.1:$STACK_TEMPORAL_PORT"
export DATABASE_URL="postgres://postgres@127.0.0.1:$STACK_PG_PORT/settlement"

RESULTS=.test-results
mkdir -p "$RESULTS"
rm -f "$RESULTS/faults.json"
status=0
stop_stack() { timeout 180 bash scripts/stack/down.sh --purge >/dev/null 2>&1 || true; }
trap stop_stack EXIT

printf '\n==> fault suite: own stack in %s (Kafka %s, Temporal %s, PostgreSQL %s)\n' \
  "$STACK_STATE_DIR" "$STACK_KAFKA_PORT" "$STACK_TEMPORAL_PORT" "$STACK_PG_PORT"
if ! timeout "${STACK_UP_TIMEOUT:-3600}" bash scripts/stack/up.sh; then
  echo "test-faults: the fault suite's stack did not come up" >&2
  printf '{"numPassedTests":0,"numFailedTests":0,"numRuntimeErrorTestSuites":1,"step":"faults-stack"}\n' >"$RESULTS/faults.json"
  exit 1
fi
if [ ! -f dist/scripts/ledger-check.js ] || [ "${FAULTS_BUILD:-1}" = 1 ]; then
  timeout 900 npm run --silent build || status=1
fi
timeout "${FAULTS_TIMEOUT:-1800}" npx jest --config jest.faults.config.js --ci --runInBand --forceExit \
  --json --outputFile="$RESULTS/faults.json" || status=1
exit "$status"
