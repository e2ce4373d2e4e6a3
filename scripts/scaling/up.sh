#!/usr/bin/env bash
# npm run scaling:up — a Kubernetes control plane without kubelet on this machine, so KEDA and
# the HPA make real scaling decisions from the local stack's Kafka lag and Temporal backlog:
#
#   etcd (127.0.0.1) <- kube-apiserver <- kube-controller-manager (HPA controller only)
#                            ^   \-> APIService v1beta1.external.metrics.k8s.io
#                            |        -> Service keda/keda-metrics-apiserver -> KEDA metrics adapter
#   KEDA operator (host) <- gRPC -------------------------------------------/   (netns, veth)
#        \-> Kafka 127.0.0.1:9092, Temporal 127.0.0.1:7233 (the shared stack)
#
# The API server validates every manifest of both overlays (server-side dry run, the CRDs of
# KEDA, External Secrets and the Prometheus operator installed), then the `scaling` overlay is
# applied for real. Pods never run: the decisions land on the Deployments' scale subresource.
# Idempotent; builds the binaries on first use (scripts/scaling/build.sh). Needs root (netns).
set -Eeuo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$SECONDS
is_root || die "scaling:up creates a network namespace and a veth pair: run it as root"
mkdir -p "$SCALING_STATE" "$SCALING_PIDS" "$SCALING_LOGS"
exec 9>"$SCALING_STATE/.up.lock"
flock -w 3600 9 || die "another scaling:up holds $SCALING_STATE/.up.lock"

bash "$(dirname "${BASH_SOURCE[0]}")/build.sh"
KUSTOMIZE="$(bash "$STACK_REPO/scripts/tools/install-kustomize.sh")"
# The triggers read the shared stack's Kafka and Temporal (up.sh returns at once when healthy).
bash "$STACK_REPO/scripts/stack/up.sh" >/dev/null || die "the local stack is not healthy (npm run stack:up says why)"

PKI="$SCALING_STATE/pki"
KEDA_CERTS="$SCALING_STATE/keda-certs"
APISERVER_URL="https://$VETH_HOST_IP:$APISERVER_PORT"

# Waits up to $2 seconds for command "${@:3}" to succeed; the service $1 is named in the error.
wait_for() {
  local what="$1" limit="$2" i
  shift 2
  for ((i = 0; i < limit; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

# Starts "$@" in the background as service $1 (log in $SCALING_LOGS, pid recorded), unless the
# recorded pid is alive with $2 in its command line.
start_service() {
  local name="$1" pattern="$2"
  shift 2
  if scaling_live_pid "$name" "$pattern" >/dev/null; then
    return 0
  fi
  say "starting $name"
  # 9>&-: the service must not inherit (and hold) the scaling:up lock.
  setsid "$@" >>"$SCALING_LOGS/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$(scaling_pid_file "$name")"
}

fail_service() {
  show_log_tail "$SCALING_LOGS/$1.log" 40
  die "$1 did not become ready within $2s (log: $SCALING_LOGS/$1.log)"
}

# ---------------------------------------------------------------------------------------------
# Network: a namespace of our own for the metrics adapter, joined to the host by a veth pair on
# a private /30. The API server's aggregator reaches the adapter through a Service, whose
# endpoints may not be loopback addresses; the adapter reaches the API server and the operator
# on the host end of the pair.
setup_network() {
  if ! ip netns list | grep -qw "$NETNS"; then
    ip netns add "$NETNS"
  fi
  if ! ip link show "$VETH_HOST" >/dev/null 2>&1; then
    ip link add "$VETH_HOST" type veth peer name "$VETH_NS" netns "$NETNS"
    ip addr add "$VETH_HOST_IP/30" dev "$VETH_HOST"
    ip link set "$VETH_HOST" up
    ip netns exec "$NETNS" ip addr add "$VETH_NS_IP/30" dev "$VETH_NS"
    ip netns exec "$NETNS" ip link set "$VETH_NS" up
    ip netns exec "$NETNS" ip link set lo up
  fi
  ip -n "$NETNS" -4 addr show dev "$VETH_NS" 2>/dev/null | grep -qF "$VETH_NS_IP/" ||
    die "veth $VETH_HOST <-> $NETNS/$VETH_NS: $VETH_NS_IP is not configured (ip netns exec $NETNS ip addr)"
}

# ---------------------------------------------------------------------------------------------
# Keys and certificates (openssl), once per state folder.
make_pki() {
  [ -f "$PKI/.complete" ] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl is needed for the control plane's keys"
  rm -rf "$PKI"
  mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    # The aggregator's client identity towards the adapter (front proxy), and its CA.
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=front-proxy-ca \
      -keyout front-proxy-ca.key -out front-proxy-ca.crt
    openssl req -newkey rsa:2048 -nodes -subj /CN=front-proxy-client \
      -keyout front-proxy-client.key -out front-proxy-client.csr
    openssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key \
      -CAcreateserial -days 3650 -out front-proxy-client.crt
    # Local admin token (this machine only; the state folder is not in git).
    printf '%s,admin,admin,system:masters\n' "$(openssl rand -hex 24)" >tokens.csv
  ) >>"$SCALING_LOGS/pki.log" 2>&1 || die "openssl failed (log: $SCALING_LOGS/pki.log)"
  touch "$PKI/.complete"
}

write_kubeconfig() {
  local token
  token="$(cut -d, -f1 "$PKI/tokens.csv")"
  cat >"$KUBECONFIG_FILE" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: scaling
    cluster:
      server: $APISERVER_URL
      # The API server's serving certificate is self-signed (--cert-dir) and local.
      insecure-skip-tls-verify: true
users:
  - name: admin
    user:
      token: $token
contexts:
  - name: scaling
    context: { cluster: scaling, user: admin }
current-context: scaling
YAML
  chmod 600 "$KUBECONFIG_FILE"
}

# ---------------------------------------------------------------------------------------------
start_etcd() {
  start_service etcd "$ETCD_BIN" "$ETCD_BIN" --name scaling --data-dir "$SCALING_STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "scaling=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
    --quota-backend-bytes 1073741824 --log-level warn
  wait_for etcd 60 curl -sf "http://127.0.0.1:$ETCD_PORT/health" || fail_service etcd 60
}

start_apiserver() {
  start_service kube-apiserver kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address="$VETH_HOST_IP" --advertise-address="$VETH_HOST_IP" --secure-port="$APISERVER_PORT" \
    --cert-dir="$PKI/apiserver" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --token-auth-file="$PKI/tokens.csv" --authorization-mode=RBAC \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --enable-aggregator-routing=true \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --profiling=false --v=1
  wait_for kube-apiserver 180 kube get --raw /readyz || fail_service kube-apiserver 180
}

start_controller_manager() {
  # Only the controllers the decisions need: no scheduler and no kubelet, so the Deployment and
  # ReplicaSet controllers would only create Pods that never run.
  start_service kube-controller-manager kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE" \
    --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
    --controllers=horizontalpodautoscaling,namespace,garbagecollector \
    --horizontal-pod-autoscaler-sync-period=15s --v=2
  wait_for kube-controller-manager 90 curl -skf "https://127.0.0.1:$KCM_PORT/healthz" ||
    fail_service kube-controller-manager 90
}

# KEDA's own settings (its Deployments set these): watch all namespaces, live in `keda`.
KEDA_ENV=(env KUBECONFIG="$KUBECONFIG_FILE" WATCH_NAMESPACE="" POD_NAMESPACE=keda
  KEDA_CLUSTER_OBJECT_NAMESPACE=keda OPERATOR_NAME=keda-operator)

start_keda_operator() {
  mkdir -p "$KEDA_CERTS"
  local args=(--cert-dir="$KEDA_CERTS" --enable-cert-rotation=true --enable-webhook-patching=false
    --leader-elect=false --metrics-bind-address="127.0.0.1:$KEDA_METRICS_PORT"
    --health-probe-bind-address="127.0.0.1:$KEDA_PROBE_PORT"
    --metrics-service-bind-address="$VETH_HOST_IP:$KEDA_GRPC_PORT"
    --zap-log-level=info --zap-encoder=console --zap-time-encoding=rfc3339)
  # Its first start writes the certificates (CA, operator and adapter) into the Secret
  # kedaorg-certs and exits by design; in a cluster the Secret is mounted at --cert-dir, here
  # its keys are copied there.
  if ! kube get secret kedaorg-certs -n keda >/dev/null 2>&1; then
    say "KEDA operator: first start writes its certificates"
    timeout 120 "${KEDA_ENV[@]}" "$KEDA_BIN/keda-operator" "${args[@]}" >>"$SCALING_LOGS/keda-operator.log" 2>&1 </dev/null 9>&- || true
    kube get secret kedaorg-certs -n keda >/dev/null 2>&1 || fail_service keda-operator 120
  fi
  local key
  for key in ca.crt ca.key tls.crt tls.key; do
    kube get secret kedaorg-certs -n keda -o "jsonpath={.data.${key//./\\.}}" | base64 -d >"$KEDA_CERTS/$key"
    [ -s "$KEDA_CERTS/$key" ] || die "Secret keda/kedaorg-certs has no $key"
  done
  chmod 600 "$KEDA_CERTS"/*.key
  start_service keda-operator keda-operator "${KEDA_ENV[@]}" "$KEDA_BIN/keda-operator" "${args[@]}"
  wait_for keda-operator 120 curl -sf "http://127.0.0.1:$KEDA_PROBE_PORT/readyz" || fail_service keda-operator 120
}

# The adapter's Service + EndpointSlice (no selector: the endpoint is the adapter's veth address;
# the aggregator reads EndpointSlices)
# and the APIService the HPA controller reads external metrics through.
register_adapter() {
  kube apply --server-side --field-manager=scaling-up -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: { name: keda-metrics-apiserver, namespace: keda }
spec:
  ports: [{ name: https, port: 443, targetPort: $ADAPTER_PORT, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: keda-metrics-apiserver-netns
  namespace: keda
  labels:
    kubernetes.io/service-name: keda-metrics-apiserver
    endpointslice.kubernetes.io/managed-by: scaling-up
addressType: IPv4
ports: [{ name: https, port: $ADAPTER_PORT, protocol: TCP }]
endpoints: [{ addresses: [$VETH_NS_IP], conditions: { ready: true } }]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: v1beta1.external.metrics.k8s.io }
spec:
  service: { name: keda-metrics-apiserver, namespace: keda, port: 443 }
  group: external.metrics.k8s.io
  version: v1beta1
  caBundle: $(base64 -w0 "$KEDA_CERTS/ca.crt")
  groupPriorityMinimum: 100
  versionPriority: 100
YAML
}

start_keda_adapter() {
  # The adapter's own kubeconfig: same admin token, server on the host end of the veth pair.
  start_service keda-adapter keda-adapter ip netns exec "$NETNS" "${KEDA_ENV[@]}" \
    "$KEDA_BIN/keda-adapter" --secure-port="$ADAPTER_PORT" --bind-address="$VETH_NS_IP" \
    --cert-dir="$KEDA_CERTS" --tls-cert-file="$KEDA_CERTS/tls.crt" --tls-private-key-file="$KEDA_CERTS/tls.key" \
    --client-ca-file="$KEDA_CERTS/ca.crt" \
    --lister-kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE" \
    --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --metrics-service-address="$VETH_HOST_IP:$KEDA_GRPC_PORT" \
    --metrics-service-grpc-authority=keda-operator.keda.svc.cluster.local \
    --port=8080 --zap-log-level=info --zap-encoder=console
  wait_for keda-adapter 120 kube get --raw /apis/external.metrics.k8s.io/v1beta1 ||
    fail_service keda-adapter 120
}

# ---------------------------------------------------------------------------------------------
install_crds() {
  kube apply --server-side --force-conflicts --field-manager=scaling-up -f "$CRD_DIR" >/dev/null
  kube wait --for=condition=Established --timeout=60s -f "$CRD_DIR" >/dev/null
}

# Every manifest of both overlays through the real API server (validation, CRD schemas), then
# the scaling overlay for real. --force-conflicts: the overlay as committed wins over fields a
# scenario patched (it points the triggers at its own topic and queue, and may have stopped
# before it put them back).
apply_overlays() {
  local overlay out
  # A Job's template is immutable and none runs here: drop those of an earlier apply, so a
  # changed Job validates as it would on a fresh cluster.
  kube delete jobs -n settlement --all --ignore-not-found >/dev/null
  for overlay in local eks; do
    out="$SCALING_STATE/render-$overlay.yaml"
    "$KUSTOMIZE" build "$STACK_REPO/k8s/overlays/$overlay" >"$out"
    if ! kube apply --server-side --force-conflicts --dry-run=server --field-manager=scaling-up -f "$out" >"$SCALING_LOGS/dry-run-$overlay.log" 2>&1; then
      show_log_tail "$SCALING_LOGS/dry-run-$overlay.log" 40
      die "k8s/overlays/$overlay fails the API server's validation (kubectl apply --server-side --dry-run=server)"
    fi
    say "k8s/overlays/$overlay: $(grep -c . "$SCALING_LOGS/dry-run-$overlay.log") objects pass the server-side dry run"
  done
  "$KUSTOMIZE" build "$STACK_REPO/k8s/overlays/scaling" >"$SCALING_STATE/render-scaling.yaml"
  kube apply --server-side --force-conflicts --field-manager=scaling-up -f "$SCALING_STATE/render-scaling.yaml" >"$SCALING_LOGS/apply-scaling.log" 2>&1 ||
    { show_log_tail "$SCALING_LOGS/apply-scaling.log"; die "applying k8s/overlays/scaling failed"; }
}

setup_network
make_pki
write_kubeconfig
start_etcd
start_apiserver
kube create namespace keda --dry-run=client -o yaml | kube apply --server-side --field-manager=scaling-up -f - >/dev/null
kube create namespace settlement --dry-run=client -o yaml | kube apply --server-side --field-manager=scaling-up -f - >/dev/null
# The adapter reads the front proxy's CA from kube-system/extension-apiserver-authentication.
kube create rolebinding keda-adapter-auth-reader -n kube-system --role=extension-apiserver-authentication-reader \
  --user=admin --dry-run=client -o yaml | kube apply --server-side --field-manager=scaling-up -f - >/dev/null
install_crds
start_controller_manager
start_keda_operator
register_adapter
start_keda_adapter
apply_overlays
ok "scaling control plane up ($((SECONDS - T0))s): kubectl --kubeconfig $KUBECONFIG_FILE get scaledobjects,hpa -n settlement"
say "  API server  $APISERVER_URL   KEDA metrics adapter $VETH_NS_IP:$ADAPTER_PORT (netns $NETNS)"
say "  stop with   npm run scaling:down   (add -- --purge to delete $SCALING_STATE)"
