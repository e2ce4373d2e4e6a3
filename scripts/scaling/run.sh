#!/usr/bin/env bash
# npm run scaling:run — records the scaling run from scratch: starts the control plane
# (scaling:up, which builds it once), builds the apps, runs the scenario, redraws the chart
# and stops the control plane again, whatever happened. The recording goes to
# docs/autoscaling/ only when every decision passes scripts/scaling/decisions.ts; otherwise it
# stays in the scaling state folder for a look, and the command fails.
# Not part of .ci/run: README.md ("Autoscaling proven on a real control plane") says why.
set -Eeuo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HERE="$(dirname "${BASH_SOURCE[0]}")"
DOCS="$STACK_REPO/docs/autoscaling"
mkdir -p "$SCALING_STATE"
RECORDING="$SCALING_STATE/scenario.json"

stop_control_plane() { bash "$HERE/down.sh" || warn "scaling:down failed: stop it with npm run scaling:down"; }
trap stop_control_plane EXIT

bash "$HERE/up.sh"
(cd "$STACK_REPO" && npm run --silent build)
rm -f "$RECORDING"
if ! (cd "$STACK_REPO" && node dist/scripts/scaling/scenario.js "$RECORDING"); then
  [ -f "$RECORDING" ] && warn "the run broke a rule or stopped; its samples: $RECORDING (npm run scaling:chart -- $RECORDING)"
  die "scaling scenario failed"
fi
cp "$RECORDING" "$DOCS/scenario.json"
(cd "$STACK_REPO" && npx prettier --write "$DOCS/scenario.json" >/dev/null)
(cd "$STACK_REPO" && node dist/scripts/scaling/chart.js "$DOCS/scenario.json" "$DOCS/scenario.svg")
ok "recorded $DOCS/scenario.json and redrew scenario.svg; npx jest --config jest.config.js test/static/scaling-run.spec.ts checks them"
