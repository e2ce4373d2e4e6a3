import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';

/** Shared helpers of the static deployment checks (no cluster, no Docker, no network). */

export const ROOT = path.resolve(__dirname, '../..');
export const KUSTOMIZE_VERSION = 'v5.8.1';
export const KUSTOMIZATIONS = ['k8s/base', 'k8s/overlays/local', 'k8s/overlays/eks'] as const;
export const APPS = ['ingest', 'worker', 'admin'] as const;
export type App = (typeof APPS)[number];
/** Configuration parts each app validates at start-up (libs/config). */
export const APP_PARTS = {
  ingest: ['kafka', 'temporal', 'database', 'ingest'],
  worker: ['kafka', 'temporal', 'database', 'worker'],
  admin: ['kafka', 'temporal', 'database', 'admin'],
} as const;
export const APP_PORT_VAR: Record<App, string> = {
  ingest: 'INGEST_HTTP_PORT',
  worker: 'WORKER_HTTP_PORT',
  admin: 'ADMIN_PORT',
};
/** Standard variables that are not the apps' own settings but may appear in manifests. */
export const STANDARD_VARIABLES = ['NODE_ENV', 'NODE_OPTIONS', 'AWS_REGION'];

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: any };
  [k: string]: any;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

export function kustomizeBinary(): string {
  const cache =
    process.env.SETTLEMENT_CACHE ?? path.join(os.homedir(), '.cache', 'settlement-stack');
  const candidate =
    process.env.KUSTOMIZE_BIN ??
    path.join(cache, `kustomize-${KUSTOMIZE_VERSION}`, 'bin', 'kustomize');
  if (!existsSync(candidate)) {
    throw new Error(
      `kustomize ${KUSTOMIZE_VERSION} not found at ${candidate}. Install it with ` +
        '`bash scripts/tools/install-kustomize.sh` (builds it with the Go module proxy), ' +
        'or point KUSTOMIZE_BIN at a kustomize binary.',
    );
  }
  return candidate;
}

const renderCache = new Map<string, K8sObject[]>();

/** `kustomize build <dir>` with the real binary, parsed into objects. */
export function render(dir: string): K8sObject[] {
  const cached = renderCache.get(dir);
  if (cached) return cached;
  const out = execFileSync(kustomizeBinary(), ['build', path.join(ROOT, dir)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const objects = parseAllDocuments(out)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors[0].message}`);
      return doc.toJS() as K8sObject;
    })
    .filter((o) => o !== null);
  renderCache.set(dir, objects);
  return objects;
}

export type ValidationResult = {
  apiVersion: string;
  kind: string;
  name: string;
  error: string | null;
};

/** Validates objects against the kubernetes-models / KEDA / CRD schemas (see validate-models.mjs). */
export function validateModels(objects: unknown[]): ValidationResult[] {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'validate-models.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(objects),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as ValidationResult[];
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const hit = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!hit) throw new Error(`${kind}/${name} not rendered`);
  return hit;
}

export function findByPrefix(objects: K8sObject[], kind: string, prefix: string): K8sObject {
  // Generated ConfigMaps and Secrets carry a content hash suffix.
  const hits = objects.filter(
    (o) =>
      o.kind === kind && (o.metadata.name === prefix || o.metadata.name.startsWith(`${prefix}-`)),
  );
  if (hits.length !== 1) throw new Error(`expected one ${kind} ${prefix}*, got ${hits.length}`);
  return hits[0];
}

export function readText(rel: string): string {
  return readFileSync(path.join(ROOT, rel), 'utf8');
}

/** docker-compose.yml with YAML merge keys (`<<: *app`) resolved. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadCompose(): any {
  return parse(readText('docker-compose.yml'), { merge: true });
}
