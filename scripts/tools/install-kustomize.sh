#!/usr/bin/env bash
# Installs the pinned kustomize into the project's cache (built from source with the Go module
# proxy; no binary download) and prints the binary's path on stdout. Idempotent: a second call
# only prints the path.
#
#   bash scripts/tools/install-kustomize.sh          # -> ~/.cache/settlement-stack/kustomize-v5.8.1/bin/kustomize
#
# test/static/k8s.spec.ts looks for the binary at the same place (or $KUSTOMIZE_BIN) and fails
# with a pointer to this script when it is missing.
set -euo pipefail

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.1}" # go 1.24 module; builds with the machine's Go
CACHE="${SETTLEMENT_CACHE:-$HOME/.cache/settlement-stack}"
DEST="$CACHE/kustomize-$KUSTOMIZE_VERSION/bin"
BIN="$DEST/kustomize"

if [[ -x "$BIN" ]] && "$BIN" version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-kustomize: the Go toolchain is needed to build kustomize $KUSTOMIZE_VERSION (go not on PATH)" >&2
  exit 1
fi

mkdir -p "$DEST"
echo "install-kustomize: building sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION (about 15 s)" >&2
# A private build cache would make every machine rebuild the world; the default Go caches are fine.
GOBIN="$DEST" GOFLAGS="${GOFLAGS:--buildvcs=false}" \
  go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2
"$BIN" version >&2
echo "$BIN"
