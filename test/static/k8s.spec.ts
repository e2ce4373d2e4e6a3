import { existsSync } from 'node:fs';
import path from 'node:path';
import { knownVariables, loadConfig } from '@settlement/config';
import { APP_NODE_FLAGS } from '../../scripts/apps-runner';
import {
  APP_PARTS,
  APP_PORT_VAR,
  APPS,
  type App,
  find,
  findByPrefix,
  type K8sObject,
  KUSTOMIZATIONS,
  readText,
  render,
  ROOT,
  STANDARD_VARIABLES,
  validateModels,
} from './support';

/**
 * Static checks of k8s/: every kustomization renders with the real kustomize binary, every
 * rendered object validates against the Kubernetes / KEDA / CRD schemas, and the app
 * workloads are hardened and configured with names the apps actually read.
 */

const allowedVariables = new Set([...knownVariables(), ...STANDARD_VARIABLES]);
/** Values standing in for Secret contents when the effective env is validated. */
const SECRET_PLACEHOLDERS: Record<string, string> = {
  DATABASE_URL: 'postgres://app@db.example:5432/settlement',
  ADMIN_TOKEN: 'placeholder-token-0123456789abcdef',
  ADMIN_OPERATOR_TOKENS: 'placeholder-token-1,placeholder-token-2',
  ADMIN_READONLY_TOKENS: 'placeholder-token-3',
  KAFKA_SASL_USERNAME: 'user',
  KAFKA_SASL_PASSWORD: 'password',
};

function appDeployment(objects: K8sObject[], app: App): K8sObject {
  return find(objects, 'Deployment', `settlement-${app}`);
}

/** Effective environment of a container: envFrom ConfigMaps, then env; secrets as placeholders. */
function effectiveEnv(
  objects: K8sObject[],
  container: K8sObject,
): { env: Record<string, string>; secretRefs: string[] } {
  const env: Record<string, string> = {};
  const secretRefs: string[] = [];
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef)
      Object.assign(
        env,
        findByPrefix(objects, 'ConfigMap', from.configMapRef.name.replace(/-[a-z0-9]{10}$/, ''))
          .data,
      );
    if (from.secretRef)
      throw new Error(
        `envFrom secretRef hides variable names; use env[].valueFrom.secretKeyRef (${container.name})`,
      );
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      secretRefs.push(e.valueFrom.secretKeyRef.name);
      env[e.name] = SECRET_PLACEHOLDERS[e.name] ?? 'placeholder';
    } else if (e.valueFrom) {
      throw new Error(`unexpected valueFrom for ${e.name}`);
    } else {
      env[e.name] = String(e.value ?? '');
    }
  }
  return { env, secretRefs };
}

/** Longest activity startToCloseTimeout declared by the workflows, in seconds. */
function longestActivitySeconds(): number {
  const dir = path.join(ROOT, 'libs/workflows/src');
  const source = ['settle-batch.workflow.ts']
    .map((f) => path.join(dir, f))
    .filter((f) => existsSync(f))
    .map((f) => readText(path.relative(ROOT, f)))
    .join('\n');
  const seconds = [...source.matchAll(/startToCloseTimeout:\s*'(\d+)\s*(s|m)'/g)].map(
    (m) => Number(m[1]) * (m[2] === 'm' ? 60 : 1),
  );
  return seconds.length > 0 ? Math.max(...seconds) : 60;
}

describe.each(KUSTOMIZATIONS)('kustomization %s', (dir) => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render(dir);
  });

  it('renders with kustomize and every object validates against its schema', () => {
    expect(objects.length).toBeGreaterThan(10);
    const failures = validateModels(objects).filter((r) => r.error !== null);
    expect(failures).toEqual([]);
  });

  it('puts everything in the settlement namespace', () => {
    const stray = objects.filter(
      (o) => o.kind !== 'Namespace' && o.metadata.namespace !== 'settlement',
    );
    expect(stray.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    expect(
      find(objects, 'Namespace', 'settlement').metadata.labels[
        'pod-security.kubernetes.io/enforce'
      ],
    ).toBe('restricted');
  });

  it('uses only variables of the apps configuration schema in ConfigMaps', () => {
    const cm = findByPrefix(objects, 'ConfigMap', 'settlement-config');
    const unknown = Object.keys(cm.data).filter((k) => !allowedVariables.has(k));
    expect(unknown).toEqual([]);
  });

  describe.each(APPS)('%s', (app) => {
    it('runs the app image with the built entry point', () => {
      const [c] = appDeployment(objects, app).spec.template.spec.containers;
      const imageName = c.image
        .replace(/[:@].*$/, '')
        .split('/')
        .pop();
      expect(imageName).toBe('settlement');
      // The same V8 flags as the local scripts and the bench (scripts/apps-runner.ts).
      expect(c.command).toEqual([
        'node',
        ...(APP_NODE_FLAGS[app] ?? []),
        `dist/apps/${app}/src/main.js`,
      ]);
    });

    it('has the source of that entry point (tsc emits dist/apps/<app>/src/main.js from it)', () => {
      expect(existsSync(path.join(ROOT, `apps/${app}/src/main.ts`))).toBe(true);
    });

    it('is hardened: non-root, read-only root fs, no capabilities, writable /tmp only', () => {
      const pod = appDeployment(objects, app).spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
        });
        expect(c.securityContext.capabilities.drop).toContain('ALL');
        const tmp = c.volumeMounts.find((m: K8sObject) => m.mountPath === '/tmp');
        expect(pod.volumes.find((v: K8sObject) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      }
    });

    it('has probes on the port it listens on, resources, spread and a grace period', () => {
      const deployment = appDeployment(objects, app);
      const pod = deployment.spec.template.spec;
      const [c] = pod.containers;
      const { env } = effectiveEnv(objects, c);
      const port = Number(env[APP_PORT_VAR[app]]);
      const named = (p: string | number) =>
        typeof p === 'number' ? p : c.ports.find((x: K8sObject) => x.name === p)?.containerPort;
      expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(named(c.livenessProbe.httpGet.port)).toBe(port);
      expect(named(c.readinessProbe.httpGet.port)).toBe(port);
      for (const kind of ['requests', 'limits']) {
        expect(c.resources[kind].cpu).toBeDefined();
        expect(c.resources[kind].memory).toBeDefined();
      }
      expect(pod.topologySpreadConstraints.map((t: K8sObject) => t.topologyKey)).toEqual(
        expect.arrayContaining(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']),
      );
      const preStop = Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
      if (app === 'worker') {
        // Longer than the longest batch: running activities must finish before SIGKILL.
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
          longestActivitySeconds() + preStop,
        );
      } else {
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop);
      }
    });

    it('reads only known variables, and they pass the app start-up validation', () => {
      const [c] = appDeployment(objects, app).spec.template.spec.containers;
      const { env, secretRefs } = effectiveEnv(objects, c);
      expect(Object.keys(env).filter((k) => !allowedVariables.has(k))).toEqual([]);
      expect(() => loadConfig([...APP_PARTS[app]] as never, env)).not.toThrow();
      if (dir !== 'k8s/base') {
        // Every referenced Secret is produced by the overlay (generator or ExternalSecret),
        // except settlement-admin locally, which the operator creates (docs/operations.md).
        const provided = new Set(
          objects
            .filter((o) => o.kind === 'Secret' || o.kind === 'ExternalSecret')
            .map((o) => (o.kind === 'ExternalSecret' ? o.spec.target.name : o.metadata.name)),
        );
        const missing = secretRefs.filter(
          (s) => !provided.has(s) && !(dir === 'k8s/overlays/local' && s === 'settlement-admin'),
        );
        expect(missing).toEqual([]);
      }
    });

    it("connects to PostgreSQL with its own login's Secret, never the migration owner's", () => {
      const [c] = appDeployment(objects, app).spec.template.spec.containers;
      const url = (c.env ?? []).find((e: K8sObject) => e.name === 'DATABASE_URL');
      // A generated Secret's name carries its content hash.
      const secret = url.valueFrom.secretKeyRef.name.replace(/-[a-z0-9]{10}$/, '');
      expect(secret).toBe(`settlement-${app}-database`);
      const generated = objects.find(
        (o) => o.kind === 'Secret' && o.metadata.name === url.valueFrom.secretKeyRef.name,
      );
      if (generated) {
        const value = Buffer.from(generated.data.DATABASE_URL, 'base64').toString('utf8');
        expect(new URL(value).username).toBe(`settlement_${app}_app`);
      }
    });

    it('has its own ServiceAccount, a PodDisruptionBudget and a NetworkPolicy', () => {
      const deployment = appDeployment(objects, app);
      const labels = deployment.spec.template.metadata.labels;
      const sa = find(objects, 'ServiceAccount', deployment.spec.template.spec.serviceAccountName);
      expect(sa.metadata.name).toBe(`settlement-${app}`);
      const selects = (sel: Record<string, string>) =>
        Object.entries(sel).every(([k, v]) => labels[k] === v);
      expect(
        objects.some(
          (o) => o.kind === 'PodDisruptionBudget' && selects(o.spec.selector.matchLabels),
        ),
      ).toBe(true);
      expect(
        objects.some(
          (o) =>
            o.kind === 'NetworkPolicy' &&
            Object.keys(o.spec.podSelector).length > 0 &&
            selects(o.spec.podSelector.matchLabels),
        ),
      ).toBe(true);
    });
  });

  it('denies all traffic by default', () => {
    const deny = find(objects, 'NetworkPolicy', 'default-deny');
    expect(deny.spec.podSelector).toEqual({});
    expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  it('runs migrations as a hardened one-shot Job with the migrate image', () => {
    const job = find(objects, 'Job', 'settlement-migrate');
    const [c] = job.spec.template.spec.containers;
    expect(
      c.image
        .replace(/[:@].*$/, '')
        .split('/')
        .pop(),
    ).toBe('settlement-migrate');
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('stores no static credentials', () => {
    // Only the local overlay may generate a Secret, and it holds a password-less URL.
    for (const s of objects.filter((o) => o.kind === 'Secret')) {
      expect(dir).toBe('k8s/overlays/local');
      for (const value of Object.values<string>(s.data ?? {})) {
        const url = Buffer.from(value, 'base64').toString('utf8');
        expect(url).not.toMatch(/:\/\/[^@/]*:[^@/]*@/);
      }
    }
    const text = JSON.stringify(objects);
    expect(text).not.toMatch(/AKIA[0-9A-Z]{16}/);
    expect(text).not.toMatch(/aws_?secret_?access_?key|awsAccessKeyID|awsSecretAccessKey/i);
    // Pod Identity, not IRSA: no role annotations on ServiceAccounts.
    expect(text).not.toContain('eks.amazonaws.com/role-arn');
    for (const o of objects.filter(
      (x) => x.kind === 'Deployment' || x.kind === 'Job' || x.kind === 'StatefulSet',
    )) {
      for (const c of o.spec.template.spec.containers) {
        for (const e of c.env ?? []) {
          if (/PASSWORD|SECRET|TOKEN/.test(e.name)) expect(e.valueFrom?.secretKeyRef).toBeDefined();
        }
      }
    }
  });
});

describe('eks overlay', () => {
  it('configures MSK IAM, TLS and the region for the apps, as configuration only', () => {
    const objects = render('k8s/overlays/eks');
    const cm = findByPrefix(objects, 'ConfigMap', 'settlement-config');
    expect(cm.data).toMatchObject({ KAFKA_SASL_MECHANISM: 'aws-msk-iam', KAFKA_SSL: 'true' });
    expect(cm.data.AWS_REGION).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
    for (const broker of cm.data.KAFKA_BROKERS.split(',')) expect(broker).toMatch(/:9098$/);
    const images = objects
      .filter((o) => o.kind === 'Deployment')
      .map((o) => o.spec.template.spec.containers[0].image as string);
    for (const image of images) {
      expect(image).toMatch(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/settlement:/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  it('narrows every egress rule of every NetworkPolicy to destinations, never any address on a port', () => {
    const policies = render('k8s/overlays/eks').filter((o) => o.kind === 'NetworkPolicy');
    const open = policies.flatMap((p) =>
      ((p.spec.egress ?? []) as { to?: unknown[] }[])
        .filter((rule) => !rule.to || rule.to.length === 0)
        .map(() => p.metadata.name),
    );
    expect(policies.length).toBeGreaterThan(4);
    expect(open).toEqual([]);
  });
});

describe('alerts as code (PrometheusRule in the eks overlay)', () => {
  const objects = render('k8s/overlays/eks');
  const rule = find(objects, 'PrometheusRule', 'settlement');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const rules: { alert: string; expr: string }[] = rule.spec.groups.flatMap((g: any) => g.rules);
  const exported = new Set(
    [...readText('libs/observability/src/metrics.ts').matchAll(/name:\s*'([a-z_:]+)'/g)].map(
      (m) => m[1],
    ),
  );

  it.each([
    ['lag growing', 'SettlementLagGrowing'],
    ['conflicts', 'SettlementDuplicateConflict'],
    ['failed batches', 'SettlementBatchFailed'],
    ['workers saturated', 'SettlementWorkersSaturated'],
    ['dead-letter rate', 'SettlementDeadLetterRate'],
    ['replay failures', 'SettlementReplayFailed'],
  ])('alerts on %s', (_what, alert) => {
    expect(rules.map((r) => r.alert)).toContain(alert);
  });

  it("queries only the apps' metrics and the Temporal SDK's, with balanced expressions", () => {
    for (const r of rules) {
      const names = [...r.expr.matchAll(/\b((?:settlement|temporal)_[a-z_]+)/g)].map((m) => m[1]);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names.filter((n) => n.startsWith('settlement_')))
        expect(exported).toContain(name.replace(/_(bucket|sum|count)$/, ''));
      for (const [open, close] of [
        ['(', ')'],
        ['{', '}'],
        ['[', ']'],
      ])
        expect(r.expr.split(open).length).toBe(r.expr.split(close).length);
    }
  });
});
