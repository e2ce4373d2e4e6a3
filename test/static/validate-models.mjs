// Validates Kubernetes objects (a JSON array on stdin) against the OpenAPI schemas shipped by
// kubernetes-models and its CRD packages (KEDA, External Secrets, prometheus-operator).
// Runs as a plain Node process because those packages are ES modules only; the jest specs in
// this folder call it and assert on its JSON answer: [{ kind, name, error }] per object.
const modules = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
  'external-secrets.io/v1': '@kubernetes-models/external-secrets/external-secrets.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

let input = '';
for await (const chunk of process.stdin) input += chunk;
const objects = JSON.parse(input);
const results = [];
for (const obj of objects) {
  if (obj.kind === 'Secret' && obj.data) {
    // kustomize folds long base64 values over several lines; the API server's base64 decoder
    // (Go's encoding/base64) skips the line breaks, the schema's "byte" format does not.
    for (const k of Object.keys(obj.data)) obj.data[k] = String(obj.data[k]).replace(/[\r\n]/g, '');
  }
  const name = obj?.metadata?.name ?? '?';
  const spec = modules[obj.apiVersion];
  let error = null;
  if (!spec) {
    error = `no schema known for apiVersion ${obj.apiVersion}`;
  } else {
    const mod = await import(spec);
    const Model = mod[obj.kind];
    if (typeof Model !== 'function') {
      error = `no model ${obj.kind} in ${spec}`;
    } else {
      try {
        new Model(obj).validate();
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    }
  }
  results.push({ apiVersion: obj.apiVersion, kind: obj.kind, name, error });
}
process.stdout.write(JSON.stringify(results));
