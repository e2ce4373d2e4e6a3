import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import * as path from 'node:path';
import { parse } from 'yaml';

/**
 * A minimal client of the scaling control plane's API server (scripts/scaling/up.sh): the
 * server and admin token of its kubeconfig, JSON in and out. The server's certificate is the
 * self-signed one kube-apiserver made for itself on this machine, so it is not verified.
 */
export class Cluster {
  private constructor(
    private readonly server: URL,
    private readonly token: string,
  ) {}

  static fromKubeconfig(file: string): Cluster {
    /* eslint-disable @typescript-eslint/no-explicit-any -- kubeconfig is untyped YAML */
    const cfg: any = parse(readFileSync(file, 'utf8'));
    const server: string | undefined = cfg?.clusters?.[0]?.cluster?.server;
    const token: string | undefined = cfg?.users?.[0]?.user?.token;
    /* eslint-enable @typescript-eslint/no-explicit-any */
    if (!server || !token)
      throw new Error(`${file}: no server or token (was it written by scripts/scaling/up.sh?)`);
    return new Cluster(new URL(server), token);
  }

  static defaultKubeconfig(root: string): string {
    const state = process.env.SCALING_STATE_DIR ?? path.join(root, '.scaling');
    return path.join(state, 'kubeconfig');
  }

  get<T>(apiPath: string): Promise<T> {
    return this.call<T>('GET', apiPath);
  }

  /** JSON patch (RFC 6902), e.g. to point a ScaledObject's trigger at this run's topic. */
  jsonPatch<T>(apiPath: string, ops: object[]): Promise<T> {
    return this.call<T>('PATCH', apiPath, ops, 'application/json-patch+json');
  }

  private call<T>(method: string, apiPath: string, body?: unknown, type?: string): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        new URL(apiPath, this.server),
        {
          method,
          rejectUnauthorized: false,
          timeout: 10_000,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/json',
            ...(payload ? { 'content-type': type ?? 'application/json' } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 300)
              reject(new Error(`${method} ${apiPath}: ${res.statusCode} ${text.slice(0, 300)}`));
            else resolve(JSON.parse(text) as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
