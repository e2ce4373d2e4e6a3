import {
  find,
  findByPrefix,
  type K8sObject,
  KUSTOMIZATIONS,
  loadCompose,
  readText,
  render,
} from './support';

/**
 * The autoscaling parameters agree with each other, with the Kafka topology and with the apps'
 * configuration: the KEDA triggers watch the topic, group, task queue and cluster the apps use.
 */

// Metadata keys KEDA's scalers accept (keda.sh docs, scalers/apache-kafka, temporal,
// prometheus, postgresql): a misspelt key would otherwise be ignored silently by KEDA.
const TRIGGER_KEYS: Record<string, string[]> = {
  kafka: [
    'bootstrapServers',
    'consumerGroup',
    'topic',
    'lagThreshold',
    'activationLagThreshold',
    'offsetResetPolicy',
    'allowIdleConsumers',
    'scaleToZeroOnInvalidOffset',
    'excludePersistentLag',
    'limitToPartitionsWithLag',
    'ensureEvenDistributionOfPartitions',
    'version',
    'partitionLimitation',
    'sasl',
    'saslTokenProvider',
    'tls',
    'unsafeSsl',
    'awsRegion',
  ],
  temporal: [
    'endpoint',
    'endpointFromEnv',
    'namespace',
    'taskQueue',
    'targetQueueSize',
    'activationTargetQueueSize',
    'queueTypes',
    'buildId',
    'selectAllActive',
    'selectUnversioned',
    'minConnectTimeout',
    'unsafeSsl',
    'tlsServerName',
    'apiKeyFromEnv',
  ],
  prometheus: [
    'serverAddress',
    'query',
    'threshold',
    'activationThreshold',
    'namespace',
    'customHeaders',
    'ignoreNullValues',
    'queryParameters',
    'unsafeSsl',
    'timeout',
  ],
  postgresql: [
    'connectionFromEnv',
    'host',
    'port',
    'userName',
    'dbName',
    'sslmode',
    'passwordFromEnv',
    'query',
    'targetQueryValue',
    'activationTargetQueryValue',
  ],
};

/** Metric names the apps register (libs/observability/src/metrics.ts). */
function registeredMetrics(): Set<string> {
  const source = readText('libs/observability/src/metrics.ts');
  return new Set([...source.matchAll(/name:\s*'([a-z_:]+)'/g)].map((m) => m[1]));
}

function named(so: K8sObject, name: string): K8sObject {
  const hit = so.spec.triggers.find((t: K8sObject) => t.name === name);
  if (!hit) throw new Error(`${so.metadata.name}: no trigger named ${name}`);
  return hit;
}

function trigger(so: K8sObject, type: string): K8sObject {
  const hits = so.spec.triggers.filter((t: K8sObject) => t.type === type);
  if (hits.length !== 1)
    throw new Error(`${so.metadata.name}: expected one ${type} trigger, got ${hits.length}`);
  return hits[0];
}

function partitions(objects: K8sObject[]): number {
  return Number(
    find(objects, 'ConfigMap', 'settlement-kafka-topics').data['transactions.partitions'],
  );
}

describe.each(KUSTOMIZATIONS)('scaling in %s', (dir) => {
  let objects: K8sObject[];
  let config: Record<string, string>;
  let ingest: K8sObject;
  let worker: K8sObject;
  beforeAll(() => {
    objects = render(dir);
    config = findByPrefix(objects, 'ConfigMap', 'settlement-config').data;
    ingest = find(objects, 'ScaledObject', 'settlement-ingest');
    worker = find(objects, 'ScaledObject', 'settlement-worker');
  });

  it('uses only known trigger metadata keys', () => {
    for (const so of [ingest, worker]) {
      for (const t of so.spec.triggers) {
        expect(TRIGGER_KEYS[t.type]).toBeDefined();
        expect(Object.keys(t.metadata).filter((k) => !TRIGGER_KEYS[t.type].includes(k))).toEqual(
          [],
        );
      }
    }
  });

  it('targets Deployments that leave replicas to KEDA', () => {
    for (const so of [ingest, worker]) {
      const target = find(objects, 'Deployment', so.spec.scaleTargetRef.name);
      expect(target.spec.replicas).toBeUndefined();
      expect(so.spec.minReplicaCount).toBe(0); // both scale to zero
      expect(so.spec.maxReplicaCount).toBeGreaterThan(0);
    }
  });

  it('never runs more ingest replicas than the topic has partitions', () => {
    const p = partitions(objects);
    expect(p).toBeGreaterThan(0);
    expect(ingest.spec.maxReplicaCount).toBeLessThanOrEqual(p);
    const kafka = trigger(ingest, 'kafka').metadata;
    expect(kafka.allowIdleConsumers).toBe('false');
    expect(kafka.limitToPartitionsWithLag).toBe('true');
  });

  it('watches the topic, group and brokers the apps use, with sane thresholds', () => {
    const kafka = trigger(ingest, 'kafka');
    const m = kafka.metadata;
    expect(m.topic).toBe(config.KAFKA_TOPIC);
    expect(m.consumerGroup).toBe(config.KAFKA_GROUP_ID);
    expect(m.bootstrapServers).toBe(config.KAFKA_BROKERS);
    expect(Number(m.lagThreshold)).toBeGreaterThan(0);
    expect(m.activationLagThreshold).toBeDefined();
    expect(Number(m.activationLagThreshold)).toBeGreaterThanOrEqual(0);
    expect(Number(m.activationLagThreshold)).toBeLessThan(Number(m.lagThreshold));
    expect(['earliest', 'latest']).toContain(m.offsetResetPolicy);
    if (config.KAFKA_SSL === 'true') expect(m.tls).toBe('enable');
    if (config.KAFKA_SASL_MECHANISM === 'aws-msk-iam') {
      expect(m).toMatchObject({
        sasl: 'oauthbearer',
        saslTokenProvider: 'aws_msk_iam',
        tls: 'enable',
        awsRegion: config.AWS_REGION,
      });
      const auth = find(objects, 'TriggerAuthentication', kafka.authenticationRef.name);
      expect(auth.spec.podIdentity.provider).toBe('aws');
      expect(auth.spec.secretTargetRef).toBeUndefined();
    } else {
      expect(m.sasl ?? 'none').toBe('none');
    }
  });

  it('watches the Temporal task queue the worker polls', () => {
    const m = trigger(worker, 'temporal').metadata;
    expect(m.endpoint).toBe(config.TEMPORAL_ADDRESS);
    expect(m.namespace).toBe(config.TEMPORAL_NAMESPACE);
    expect(m.taskQueue).toBe(config.TEMPORAL_TASK_QUEUE);
    expect(Number(m.targetQueueSize)).toBeGreaterThan(0);
    expect(Number(m.activationTargetQueueSize)).toBeGreaterThanOrEqual(0);
    expect(Number(m.activationTargetQueueSize)).toBeLessThan(Number(m.targetQueueSize));
  });

  it('keeps workers while settlement is in flight: PENDING batches in the ledger the worker writes', () => {
    const t = named(worker, 'in-flight-batches');
    expect(t.type).toBe('postgresql');
    const m = t.metadata;
    // KEDA resolves the variable from the worker Deployment: the same database, in every overlay.
    const deployment = find(objects, 'Deployment', worker.spec.scaleTargetRef.name);
    const env = deployment.spec.template.spec.containers[0].env;
    expect(env.find((e: K8sObject) => e.name === m.connectionFromEnv)).toBeDefined();
    expect(m.connectionFromEnv).toBe('DATABASE_URL');
    // The table and status the ledger records batches with (libs/db/src/schema.ts).
    const schema = readText('libs/db/src/schema.ts');
    expect(schema).toMatch(/pgTable\(\s*'batches'/);
    expect(schema).toMatch(/BATCH_STATUSES = \[[^\]]*'PENDING'/);
    expect(schema).toMatch(/index\('batches_status_idx'\)\.on\(t\.status/);
    expect(m.query).toBe("SELECT count(*) FROM batches WHERE status = 'PENDING'");
    // One worker per WORKER_MAX_CONCURRENT_ACTIVITIES batches; any batch wakes one.
    const activities = env.find((e: K8sObject) => e.name === 'WORKER_MAX_CONCURRENT_ACTIVITIES');
    expect(Number(m.targetQueryValue)).toBe(Number(activities.value));
    expect(m.activationTargetQueryValue).toBe('0');
  });

  // Activation only (one replica while batches form, never more), on the app's own
  // DATABASE_URL, over every status batches are recorded with so batches_status_idx serves it.
  function expectRecentBatches(so: K8sObject, replays: 'counted' | 'excluded') {
    const t = named(so, 'recent-batches');
    expect(t.type).toBe('postgresql');
    const deployment = find(objects, 'Deployment', so.spec.scaleTargetRef.name);
    const env = deployment.spec.template.spec.containers[0].env;
    expect(env.find((e: K8sObject) => e.name === t.metadata.connectionFromEnv)).toBeDefined();
    const schema = readText('libs/db/src/schema.ts');
    const statuses = [
      ...(/BATCH_STATUSES = \[([^\]]*)\]/.exec(schema)?.[1] ?? '').matchAll(/'([A-Z]+)'/g),
    ];
    expect(statuses.length).toBeGreaterThan(0);
    expect(t.metadata.query).toContain(
      `status IN (${statuses.map((m) => `'${m[1]}'`).join(', ')})`,
    );
    expect(schema).toMatch(/index\('batches_status_idx'\)\.on\(t\.status, t\.createdAt\)/);
    expect(t.metadata.query).toMatch(/created_at > now\(\) - interval '\d+ seconds'/);
    expect(/replay_id IS NULL/.test(t.metadata.query)).toBe(replays === 'excluded');
    expect(Number(t.metadata.targetQueryValue)).toBeGreaterThanOrEqual(1_000_000);
    expect(t.metadata.activationTargetQueryValue).toBe('0');
  }

  it('keeps one worker while batches form, whatever the backlog and the PENDING count read', () => {
    expectRecentBatches(worker, 'counted');
  });

  it('keeps ingest awake while traffic flows: the inbound rate, or recent batches without Prometheus', () => {
    if (dir !== 'k8s/overlays/local') {
      expect(Number(trigger(ingest, 'prometheus').metadata.activationThreshold)).toBeGreaterThan(0);
      expect(ingest.spec.triggers.filter((t: K8sObject) => t.type === 'postgresql')).toEqual([]);
      return;
    }
    // Replayed batches are formed by the worker, not by ingest.
    expectRecentBatches(ingest, 'excluded');
  });

  it('queries metrics the apps export in the Prometheus triggers', () => {
    const metrics = registeredMetrics();
    const prom = [ingest, worker].flatMap((so) =>
      so.spec.triggers.filter((t: K8sObject) => t.type === 'prometheus'),
    );
    if (dir === 'k8s/overlays/local') {
      expect(prom).toEqual([]); // no Prometheus in the local overlay
      return;
    }
    expect(trigger(worker, 'temporal')).toBeDefined();
    expect(worker.spec.triggers.map((t: K8sObject) => t.name)).toEqual([
      'task-queue-backlog',
      'in-flight-batches',
      'recent-batches',
    ]);
    expect(trigger(ingest, 'prometheus').metadata.query).toMatch(
      /rate\(settlement_ingest_messages_total\{topic="transactions"\}/,
    );
    for (const t of prom) {
      const used = [...t.metadata.query.matchAll(/\b(settlement_[a-z_]+)/g)].map((x) => x[1]);
      expect(used.length).toBeGreaterThan(0);
      for (const name of used) expect(metrics.has(name)).toBe(true);
      expect(Number(t.metadata.threshold)).toBeGreaterThan(0);
      expect(t.metadata.serverAddress).toMatch(/^https?:\/\//);
    }
  });

  it('scales out at once and in slowly (no flapping)', () => {
    for (const so of [ingest, worker]) {
      const b = so.spec.advanced.horizontalPodAutoscalerConfig.behavior;
      expect(b.scaleUp.stabilizationWindowSeconds).toBe(0);
      expect(b.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
      expect(b.scaleUp.policies.length).toBeGreaterThan(0);
      expect(b.scaleDown.policies.length).toBeGreaterThan(0);
      expect(so.spec.cooldownPeriod).toBeGreaterThanOrEqual(60);
    }
    // Each ingest scale-in is a consumer-group rebalance: one pod per step.
    const down = ingest.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown;
    expect(down.policies).toEqual([expect.objectContaining({ type: 'Pods', value: 1 })]);
  });

  it('keeps the workers within the PostgreSQL connection budget (docs/operations.md)', () => {
    const CONNECTION_BUDGET = 200;
    expect(worker.spec.maxReplicaCount * Number(config.DATABASE_POOL_MAX)).toBeLessThanOrEqual(
      CONNECTION_BUDGET,
    );
  });
});

describe('one partition count', () => {
  it('docker-compose creates `transactions` with the base partition count', () => {
    const compose = loadCompose();
    const script: string = [compose.services['kafka-init'].command].flat().join('\n');
    const line = script.split('\n').find((l) => /--topic transactions\s/.test(l));
    expect(line).toBeDefined();
    const count = Number(/--partitions (\d+)/.exec(line!)?.[1]);
    expect(count).toBe(partitions(render('k8s/base')));
    expect(count).toBe(partitions(render('k8s/overlays/local')));
  });

  it('the local overlay creates its topics from the ConfigMap, not from a copy of the number', () => {
    const job = find(render('k8s/overlays/local'), 'Job', 'kafka-topics');
    const env = job.spec.template.spec.containers[0].env;
    const ref = env.find((e: K8sObject) => e.name === 'TRANSACTIONS_PARTITIONS').valueFrom
      .configMapKeyRef;
    expect(ref).toEqual({ name: 'settlement-kafka-topics', key: 'transactions.partitions' });
  });
});
