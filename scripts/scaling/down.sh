#!/usr/bin/env bash
# npm run scaling:down [-- --purge] — stops what scaling:up started, by the pids it recorded
# (never by name), and removes its network namespace (which takes the veth pair with it).
# The shared stack (Kafka, Temporal, PostgreSQL) is left alone.
set -Eeuo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    *) die "unknown argument: $arg (usage: scaling:down [--purge])" ;;
  esac
done

mkdir -p "$SCALING_STATE"
exec 9>"$SCALING_STATE/.up.lock"
flock -w 120 9 || die "a scaling:up is running (lock $SCALING_STATE/.up.lock)"

stop_scaling_service() {
  local name="$1" pattern="$2" pid
  if pid="$(scaling_live_pid "$name" "$pattern")"; then
    say "stopping $name (pid $pid)"
    stop_pid "$pid" TERM 30 || warn "$name (pid $pid) is still alive"
  fi
  rm -f "$(scaling_pid_file "$name")"
}

# Reverse order of start: consumers of the API server first, etcd last.
stop_scaling_service keda-adapter keda-adapter
stop_scaling_service keda-operator keda-operator
stop_scaling_service kube-controller-manager kube-controller-manager
stop_scaling_service kube-apiserver kube-apiserver
stop_scaling_service etcd "$ETCD_BIN"

if is_root && ip netns list 2>/dev/null | grep -qw "$NETNS"; then
  ip netns delete "$NETNS" && say "removed network namespace $NETNS (and veth $VETH_HOST)"
fi
# Deleting the namespace removes the pair, asynchronously: only a leftover host end is deleted.
if is_root && ip link show "$VETH_HOST" >/dev/null 2>&1; then
  ip link delete "$VETH_HOST" 2>/dev/null || true
fi
if ((PURGE)); then
  rm -rf "$SCALING_STATE"
  say "purged $SCALING_STATE (the cache $STACK_CACHE is kept)"
fi
ok "scaling control plane stopped"
