# shellcheck shell=bash
# Settings and helpers for scripts/scaling/{build,up,down,scenario}.sh: a Kubernetes control plane
# without kubelet (etcd, kube-apiserver, kube-controller-manager) plus KEDA's operator and metrics
# adapter, all built from the Go module proxy, cached by version and run on this machine.
# Sourced, not run. Reuses the stack's helpers (say/warn/die, live_pid, stop_pid, port_owner).
# shellcheck source=../stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../stack/lib.sh"

K8S_VERSION="${SCALING_K8S_VERSION:-v1.34.4}"
K8S_STAGING_VERSION="v0${K8S_VERSION#v1}" # k8s.io/api etc. are published as v0.<minor>.<patch>
ETCD_VERSION="${SCALING_ETCD_VERSION:-v3.6.5}"
KEDA_VERSION="${SCALING_KEDA_VERSION:-v2.21.0}"
# CRDs the eks overlay uses besides KEDA's (read from the operators' own Go modules).
ESO_VERSION="${SCALING_ESO_VERSION:-v1.3.2}"
PROM_OPERATOR_VERSION="${SCALING_PROM_OPERATOR_VERSION:-v0.85.0}"

K8S_BIN="$STACK_CACHE/kubernetes-$K8S_VERSION/bin"
ETCD_BIN="$STACK_CACHE/etcd-$ETCD_VERSION/bin/etcd"
KEDA_HOME="$STACK_CACHE/keda-$KEDA_VERSION"
KEDA_BIN="$KEDA_HOME/bin"
CRD_DIR="$STACK_CACHE/scaling-crds-keda-$KEDA_VERSION-eso-$ESO_VERSION-prom-$PROM_OPERATOR_VERSION"

# Runtime state: its own folder (not inside the stack's, which stack:down --purge deletes).
SCALING_STATE="${SCALING_STATE_DIR:-$STACK_REPO/.scaling}"
SCALING_PIDS="$SCALING_STATE/pids"
SCALING_LOGS="$SCALING_STATE/logs"
KUBECONFIG_FILE="$SCALING_STATE/kubeconfig"

ETCD_PORT="${SCALING_ETCD_PORT:-2379}"
ETCD_PEER_PORT="${SCALING_ETCD_PEER_PORT:-2380}"
APISERVER_PORT="${SCALING_APISERVER_PORT:-6443}"
KCM_PORT="${SCALING_KCM_PORT:-10257}"
KEDA_METRICS_PORT="${SCALING_KEDA_METRICS_PORT:-18080}"
KEDA_PROBE_PORT="${SCALING_KEDA_PROBE_PORT:-18081}"
KEDA_GRPC_PORT="${SCALING_KEDA_GRPC_PORT:-19666}"
KEDA_WEBHOOK_PORT="${SCALING_KEDA_WEBHOOK_PORT:-19443}"

# The metrics adapter must sit behind a Service whose endpoint is not a loopback address, so it
# gets its own network namespace joined to the host by a veth pair on a private /30 of our own.
NETNS="${SCALING_NETNS:-settlement-keda}"
VETH_HOST="${SCALING_VETH_HOST:-skeda0}"
VETH_NS="${SCALING_VETH_NS:-skeda1}"
VETH_HOST_IP="${SCALING_VETH_HOST_IP:-10.213.77.1}"
VETH_NS_IP="${SCALING_VETH_NS_IP:-10.213.77.2}"
ADAPTER_PORT="${SCALING_ADAPTER_PORT:-6443}"
SERVICE_CIDR="${SCALING_SERVICE_CIDR:-10.213.80.0/24}"

kube() { "$(kubectl_bin)" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# kubectl at the server's version (the machine's may be missing or too old for a 1.34 server).
kubectl_bin() { echo "$K8S_BIN/kubectl"; }

scaling_pid_file() { echo "$SCALING_PIDS/$1.pid"; }

# Like the stack's live_pid, for the scaling state folder.
scaling_live_pid() {
  STACK_PIDS="$SCALING_PIDS" live_pid "$@"
}
