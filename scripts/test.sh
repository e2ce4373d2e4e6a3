#!/usr/bin/env bash
# npm test — the whole suite: starts the local stack if it is not up (idempotent), applies the
# migrations when they exist, builds, runs the unit and the integration tier (both always run),
# then prints one closing line "N passed, N failed" (scripts/test-summary.js).
# Exit status: non-zero when any step or tier failed, or when no test ran.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RESULTS=.test-results
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
status=0
step() { printf '\n==> %s\n' "$*"; }
fail_step() {
  # A step that fails before jest runs is recorded so the summary counts it as a failure.
  printf '{"numPassedTests":0,"numFailedTests":0,"numRuntimeErrorTestSuites":1,"step":"%s"}\n' "$1" >"$RESULTS/step-$1.json"
  status=1
}

step "stack: npm run stack:up"
stack_ok=1
if ! timeout "${STACK_UP_TIMEOUT:-3600}" bash scripts/stack/up.sh; then
  echo "test.sh: the local stack did not come up; the integration tier will fail (see the messages above)" >&2
  stack_ok=0
  fail_step stack-up
fi

if [ -d libs/db/migrations ] && [ -n "$(ls -A libs/db/migrations 2>/dev/null)" ] && [ "$stack_ok" = 1 ]; then
  step "build + migrate"
  if timeout 900 npm run --silent build && timeout 300 npm run --silent db:migrate; then
    built=1
  else
    echo "test.sh: build or db:migrate failed" >&2
    fail_step migrate
    built=0
  fi
else
  step "build (no migrations yet: libs/db/migrations is missing or empty, skipping db:migrate)"
  if timeout 900 npm run --silent build; then built=1; else
    fail_step build
    built=0
  fi
fi
[ "$built" = 1 ] || echo "test.sh: npm run build failed (type errors above); running the tests anyway" >&2

step "unit tests"
timeout "${UNIT_TIMEOUT:-1800}" npx jest --config jest.config.js --ci --json --outputFile="$RESULTS/unit.json" || status=1

step "integration tests"
timeout "${INTEGRATION_TIMEOUT:-3000}" npx jest --config jest.integration.config.js --ci --runInBand --forceExit \
  --json --outputFile="$RESULTS/integration.json" || status=1

echo
node scripts/test-summary.js "$RESULTS" || status=1
exit "$status"
