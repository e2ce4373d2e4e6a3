#!/usr/bin/env bash
# npm test — the whole suite: starts the local stack if it is not up (idempotent), applies the
# migrations, installs kustomize for the static checks, builds, runs the unit, workflow and integration tiers (all always run),
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

step "build: npm run build"
if ! timeout 900 npm run --silent build; then
  echo "test.sh: npm run build failed (errors above); running the tests anyway" >&2
  fail_step build
fi

step "migrate: npm run db:migrate"
if [ "$stack_ok" = 1 ]; then
  timeout 300 npm run --silent db:migrate || fail_step migrate
else
  fail_step migrate
fi

# The static deployment checks render k8s/ with the real kustomize (built once into the cache).
step "tools: kustomize"
timeout 900 bash scripts/tools/install-kustomize.sh >/dev/null || fail_step kustomize

step "unit tests"
timeout "${UNIT_TIMEOUT:-1800}" npx jest --config jest.config.js --ci --json --outputFile="$RESULTS/unit.json" || status=1

# The workflow tier: the workflows on a dev server of their own (the cached Temporal CLI),
# activities stubbed; no Kafka or PostgreSQL.
step "workflow tests"
timeout "${WORKFLOW_TIMEOUT:-900}" npx jest --config jest.workflows.config.js --ci --runInBand --forceExit \
  --json --outputFile="$RESULTS/workflows.json" || status=1

step "integration tests"
timeout "${INTEGRATION_TIMEOUT:-3000}" npx jest --config jest.integration.config.js --ci --runInBand --forceExit \
  --json --outputFile="$RESULTS/integration.json" || status=1

echo
node scripts/test-summary.js "$RESULTS" || status=1
exit "$status"
