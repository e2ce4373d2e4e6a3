#!/usr/bin/env bash
# Builds (once) and caches, keyed by version, the control plane that scaling:up runs:
#   etcd, kube-apiserver, kube-controller-manager, kubectl, KEDA operator + metrics adapter,
#   and the CRDs (KEDA, ExternalSecret, PodMonitor, PrometheusRule) the overlays need.
# Everything comes from the Go module proxy; nothing else is fetched. Idempotent: a second run
# only checks the cache. About 10-20 min of CPU on 2 cores the first time.
set -Eeuo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v go >/dev/null 2>&1 || die "the Go toolchain (1.26+, KEDA $KEDA_VERSION needs it) is needed to build the control plane"
mkdir -p "$STACK_CACHE"
exec 7>"$STACK_CACHE/scaling-build.lock"
flock -w "$GO_BUILD_TIMEOUT" 7 || die "another scaling build holds $STACK_CACHE/scaling-build.lock"

export GOWORK=off GOFLAGS="-mod=mod -modcacherw -buildvcs=false"
WORK="$STACK_CACHE/scaling-src"
mkdir -p "$WORK"

# Runs a build step with a time limit, its output in $log; shows the log's tail on failure.
build_step() {
  local label="$1" log="$2"
  shift 2
  local t0=$SECONDS
  say "building $label (log: $log)"
  echo "== $(date -u +%FT%TZ) $*" >>"$log"
  if ! timeout --kill-after=30 "$GO_BUILD_TIMEOUT" "$@" >>"$log" 2>&1 </dev/null; then
    show_log_tail "$log" 30
    die "building $label failed: $* (log: $log)"
  fi
  say "built $label in $((SECONDS - t0))s"
}

# A writable copy of a module from the module cache (which is read-only).
module_copy() {
  local mod="$1" version="$2" dest="$3" dir
  if [ ! -f "$dest/go.mod" ]; then
    dir="$(cd "$WORK" && go mod download -json "$mod@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [ -d "$dir" ] || die "go mod download $mod@$version gave no folder"
    rm -rf "$dest.tmp"
    cp -r "$dir" "$dest.tmp"
    chmod -R u+w "$dest.tmp"
    mv "$dest.tmp" "$dest"
  fi
}

build_etcd() {
  [ -x "$ETCD_BIN" ] && return 0
  local src="$WORK/etcd-$ETCD_VERSION"
  mkdir -p "$src"
  cat >"$src/main.go" <<'GO'
// etcd's own entry point, built from the published server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  [ -f "$src/go.mod" ] || (cd "$src" && go mod init local/settlement-etcd >/dev/null 2>&1)
  (cd "$src" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >>"$src/build.log" 2>&1) ||
    { show_log_tail "$src/build.log"; die "go get go.etcd.io/etcd/server/v3@$ETCD_VERSION failed"; }
  mkdir -p "$(dirname "$ETCD_BIN")"
  build_step "etcd $ETCD_VERSION" "$src/build.log" \
    bash -c "cd '$src' && go mod tidy && go build -ldflags '-s -w' -o '$ETCD_BIN.tmp' . && mv '$ETCD_BIN.tmp' '$ETCD_BIN'"
}

build_kubernetes() {
  [ -x "$K8S_BIN/kube-apiserver" ] && [ -x "$K8S_BIN/kube-controller-manager" ] && [ -x "$K8S_BIN/kubectl" ] && return 0
  local src="$WORK/kubernetes-$K8S_VERSION"
  module_copy k8s.io/kubernetes "$K8S_VERSION" "$src"
  # The module's go.mod points the k8s.io staging modules at ./staging, which its zip lacks:
  # require the published staging modules at the matching version instead.
  if grep -q '^replace (' "$src/go.mod"; then
    awk '/^replace \(/{skip=1} !skip{print} skip&&/^\)/{skip=0}' "$src/go.mod" |
      sed -E "s#^(\s+k8s\.io/[a-z0-9-]+) v0\.0\.0( // indirect)?\$#\1 $K8S_STAGING_VERSION\2#" >"$src/go.mod.new"
    mv "$src/go.mod.new" "$src/go.mod"
  fi
  mkdir -p "$K8S_BIN"
  local minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  build_step "kube-apiserver, kube-controller-manager and kubectl $K8S_VERSION" "$src/build.log" \
    bash -c "cd '$src' && mkdir -p out && go build -ldflags '$ld' -o out/ ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kubectl && mv out/* '$K8S_BIN/'"
}

build_keda() {
  [ -x "$KEDA_BIN/keda-operator" ] && [ -x "$KEDA_BIN/keda-adapter" ] && return 0
  local src="$WORK/keda-$KEDA_VERSION"
  module_copy github.com/kedacore/keda/v2 "$KEDA_VERSION" "$src"
  mkdir -p "$KEDA_BIN"
  local ld="-s -w -X=github.com/kedacore/keda/v2/version.Version=${KEDA_VERSION#v} -X=github.com/kedacore/keda/v2/version.GitCommit=module-proxy"
  build_step "KEDA operator and metrics adapter $KEDA_VERSION" "$src/build.log" \
    bash -c "cd '$src' && mkdir -p out && go build -ldflags '$ld' -o out/keda-operator ./cmd/operator && go build -ldflags '$ld' -o out/keda-adapter ./cmd/adapter && mv out/* '$KEDA_BIN/'"
}

# The Prometheus operator's kinds the eks overlay uses.
PROM_CRDS=(podmonitors prometheusrules)

collect_crds() {
  local kind missing=0
  for kind in "${PROM_CRDS[@]}"; do
    [ -f "$CRD_DIR/monitoring.coreos.com_$kind.yaml" ] || missing=1
  done
  [ -f "$CRD_DIR/.complete" ] && ((missing == 0)) && return 0
  rm -rf "$CRD_DIR.tmp"
  mkdir -p "$CRD_DIR.tmp"
  local keda eso prom
  keda="$(cd "$WORK" && go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  cp "$keda"/config/crd/bases/*.yaml "$CRD_DIR.tmp/"
  eso="$(cd "$WORK" && go mod download -json "github.com/external-secrets/external-secrets@$ESO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  cp "$eso/config/crds/bases/external-secrets.io_externalsecrets.yaml" "$CRD_DIR.tmp/" ||
    die "no ExternalSecret CRD in github.com/external-secrets/external-secrets@$ESO_VERSION"
  prom="$(cd "$WORK" && go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  for kind in "${PROM_CRDS[@]}"; do
    cp "$prom/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$CRD_DIR.tmp/" ||
      die "no $kind CRD in github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION"
  done
  chmod -R u+w "$CRD_DIR.tmp"
  date -u +%FT%TZ >"$CRD_DIR.tmp/.complete"
  rm -rf "$CRD_DIR"
  mv "$CRD_DIR.tmp" "$CRD_DIR"
}

T0=$SECONDS
build_etcd
build_kubernetes
build_keda
collect_crds
ok "control plane binaries cached under $STACK_CACHE ($((SECONDS - T0))s)"
