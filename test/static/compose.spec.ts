import { existsSync } from 'node:fs';
import path from 'node:path';
import { knownVariables, loadConfig } from '@settlement/config';
import { APP_NATIVE_ENV, APP_NODE_FLAGS } from '../../scripts/apps-runner';
import {
  APP_PARTS,
  APP_PORT_VAR,
  APPS,
  loadCompose,
  readText,
  ROOT,
  STANDARD_VARIABLES,
} from './support';

/**
 * docker-compose.yml cannot run on these machines (no Docker engine), so it is checked
 * statically: services, images/build contexts, ports, health checks, dependencies and the apps'
 * environment, against CONTRACT.md and libs/config.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Service = any;
const compose = loadCompose();
const services: Record<string, Service> = compose.services;
const allowed = new Set([...knownVariables(), ...STANDARD_VARIABLES]);
const CONTRACT_PORTS = { admin: 3000, ingest: 3001, worker: 3002 } as const;

/** Compose interpolation `${VAR:?msg}` / `${VAR:-default}` -> a sample value. */
function interpolate(value: unknown): string {
  return String(value).replace(/\$\{([A-Z_]+)(?::?[-?][^}]*)?\}/g, (_m, name: string) =>
    name === 'ADMIN_TOKEN' ? 'sample-admin-token-0123456789' : `sample-${name}`,
  );
}
function published(
  service: Service,
): Array<{ host: string; hostPort: number; containerPort: number }> {
  return (service.ports ?? []).map((p: string) => {
    const parts = String(p).split(':');
    return {
      host: parts.length === 3 ? parts[0] : '0.0.0.0',
      hostPort: Number(parts.at(-2)),
      containerPort: Number(parts.at(-1)),
    };
  });
}
function dockerfileStages(): string[] {
  return [...readText('Dockerfile').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
}

describe('docker-compose.yml', () => {
  it('has the whole local stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'admin',
        'ingest',
        'kafka',
        'kafka-init',
        'migrate',
        'postgres',
        'temporal',
        'worker',
      ].sort(),
    );
  });

  it('runs Kafka 4 in KRaft mode on 127.0.0.1:9092 with the contract topics', () => {
    const kafka = services.kafka;
    expect(kafka.image).toMatch(/^apache\/kafka:4\./);
    expect(kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(kafka.environment.KAFKA_ADVERTISED_LISTENERS).toContain('127.0.0.1:9092');
    expect(published(kafka)).toContainEqual({
      host: '127.0.0.1',
      hostPort: 9092,
      containerPort: 9092,
    });
    expect(Object.keys(services).some((s) => /zookeeper/i.test(s))).toBe(false);
    const script = [services['kafka-init'].command].flat().join('\n');
    for (const topic of ['transactions', 'transactions.dlq', 'settlements']) {
      expect(script).toMatch(new RegExp(`--topic ${topic.replace('.', '\\.')} `));
    }
  });

  it('runs Temporal with its Web UI on 7233/8233 and PostgreSQL on 5432', () => {
    expect(published(services.temporal)).toEqual(
      expect.arrayContaining([
        { host: '127.0.0.1', hostPort: 7233, containerPort: 7233 },
        { host: '127.0.0.1', hostPort: 8233, containerPort: 8233 },
      ]),
    );
    expect(services.temporal.command).toEqual(
      expect.arrayContaining(['start-dev', '--ui-port', '8233']),
    );
    expect(services.postgres.environment.POSTGRES_DB).toBe('settlement');
    expect(published(services.postgres)).toContainEqual({
      host: '127.0.0.1',
      hostPort: 5432,
      containerPort: 5432,
    });
  });

  it('runs migrations once, from the migrate stage, before the apps', () => {
    const m = services.migrate;
    expect(m.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile', target: 'migrate' });
    expect(m.restart).toBe('no');
    expect(m.depends_on.postgres.condition).toBe('service_healthy');
    expect(dockerfileStages()).toContain('migrate');
  });

  it('gives every dependency waited on as healthy a health check', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, cond] of Object.entries<Service>(s.depends_on ?? {})) {
        expect(services[dep]).toBeDefined();
        if (cond.condition === 'service_healthy')
          expect([name, dep, services[dep].healthcheck?.test]).toEqual([
            name,
            dep,
            expect.anything(),
          ]);
      }
    }
  });

  it('never publishes a port beyond the loopback interface', () => {
    for (const s of Object.values(services))
      for (const p of published(s)) expect(p.host).toBe('127.0.0.1');
  });

  describe.each(APPS)('%s', (app) => {
    const s: Service = services[app];
    const env: Record<string, string> = Object.fromEntries(
      Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
    );

    it('builds the runtime stage and runs the built entry point', () => {
      expect(s.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile', target: 'runtime' });
      expect(existsSync(path.join(ROOT, s.build.context, s.build.dockerfile))).toBe(true);
      expect(dockerfileStages()).toContain('runtime');
      expect(s.command).toEqual([
        'node',
        ...(APP_NODE_FLAGS[app] ?? []),
        `dist/apps/${app}/src/main.js`,
      ]);
    });

    it('listens, publishes and is health-checked on the contract port', () => {
      const port = CONTRACT_PORTS[app];
      expect(Number(env[APP_PORT_VAR[app]])).toBe(port);
      expect(published(s)).toContainEqual({
        host: '127.0.0.1',
        hostPort: port,
        containerPort: port,
      });
      expect(s.healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${port}/health/ready`);
    });

    it('starts after Kafka topics, Temporal and migrations', () => {
      expect(s.depends_on).toMatchObject({
        'kafka-init': { condition: 'service_completed_successfully' },
        temporal: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
    });

    it('is hardened like the Kubernetes pods', () => {
      expect(s.read_only).toBe(true);
      expect(s.user).toMatch(/^[1-9]\d*(:\d+)?$/);
      expect(s.cap_drop).toContain('ALL');
      expect(s.tmpfs).toContain('/tmp');
    });

    it('sets only variables the app knows, and they pass its start-up validation', () => {
      expect(Object.keys(env).filter((k) => !allowed.has(k))).toEqual([]);
      expect(() => loadConfig([...APP_PARTS[app]] as never, env)).not.toThrow();
      expect(env).toMatchObject({
        KAFKA_TOPIC: 'transactions',
        KAFKA_DLQ_TOPIC: 'transactions.dlq',
        KAFKA_OUTCOME_TOPIC: 'settlements',
        KAFKA_GROUP_ID: 'settlement-ingest',
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: 'settlement',
      });
      // Addresses point at compose services on their container ports.
      const [kafkaHost, kafkaPort] = env.KAFKA_BROKERS.split(':');
      expect(services[kafkaHost]).toBeDefined();
      expect(services.kafka.environment.KAFKA_ADVERTISED_LISTENERS).toContain(
        `${kafkaHost}:${kafkaPort}`,
      );
      expect(services[env.TEMPORAL_ADDRESS.split(':')[0]]).toBeDefined();
      expect(services[new URL(env.DATABASE_URL).hostname]).toBeDefined();
    });
  });

  it('commits no admin token', () => {
    expect(String(services.admin.environment.ADMIN_TOKEN)).toMatch(/^\$\{ADMIN_TOKEN:\?/);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = readText('Dockerfile');
  const stages = dockerfileStages();

  it('is multi-stage on a glibc slim base (the Temporal core bridge needs glibc)', () => {
    expect(stages).toEqual(
      expect.arrayContaining(['deps', 'build', 'prod-deps', 'runtime', 'migrate']),
    );
    // A supported Node.js LTS (20 left support in April 2026).
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:(22|24)-bookworm-slim/);
    const instructions = dockerfile
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n');
    expect(instructions).not.toMatch(/alpine/i);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('gives the apps the allocator settings the local scripts give them', () => {
    const runtime = dockerfile
      .split(/^FROM /m)
      .find((b) => /AS runtime$/.test(b.split('\n')[0].trim()))!;
    const env = new Map(
      [...runtime.matchAll(/^ENV\s+((?:.*\\\n)*.*)$/gm)]
        .flatMap((m) => m[1].replace(/\\\n/g, ' ').split(/\s+/))
        .filter((kv) => kv.includes('='))
        .map((kv) => kv.split('=') as [string, string]),
    );
    for (const [name, value] of Object.entries(APP_NATIVE_ENV)) expect(env.get(name)).toBe(value);
  });

  it('runs both final stages as a non-root user', () => {
    for (const stage of ['runtime', 'migrate']) {
      const body = dockerfile
        .split(/^FROM /m)
        .find((b) => new RegExp(`AS ${stage}$`).test(b.split('\n')[0].trim()))!;
      const user = /^USER\s+(\S+)/m.exec(body)?.[1];
      expect(user).toBeDefined();
      expect(user).not.toMatch(/^(root|0)(:|$)/);
    }
  });

  it('keeps dependencies, build output, VCS data and env files out of the context', () => {
    const ignore = readText('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['**/node_modules', 'dist', '.git', '.env', '.env.*'])
      expect(ignore).toContain(entry);
  });
});
