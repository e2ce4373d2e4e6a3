import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import {
  heartbeating,
  replayChunkSteps,
  type PartitionReader,
  type RawMessage,
  type ReplayChunkInput,
  type ReplayChunkResult,
  type ReplayChunkStore,
} from '@settlement/activities';

/**
 * A replay chunk cancelled while it runs (its workflow cancelled, its attempt timed out, its
 * worker shutting down), under MockActivityEnvironment: the activity's own steps, with an
 * in-memory partition and replay row behind the chunk's two ports instead of Kafka and
 * PostgreSQL. It runs as the worker runs it: inside heartbeating, with the activity's signal.
 */
const chunk: ReplayChunkInput = {
  replayId: 'rpl-cancel',
  topic: 'transactions',
  partition: 0,
  fromOffset: '0',
  toOffset: '100',
  mode: 'settle',
};

/** Waits `ms`, or rejects with the signal's reason (as the Kafka reader stops) once it aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

/** An in-memory partition behind the reader port: one message per `everyMs`, like a slow fetch. */
function slowPartition(everyMs = 10, onRead?: () => void) {
  const state = { opened: 0, open: 0, delivered: 0 };
  const read: PartitionReader = async (range, signal) => {
    state.opened++;
    state.open++;
    try {
      const out: RawMessage[] = [];
      for (let offset = range.from; offset < range.to; offset++) {
        await pause(everyMs, signal);
        out.push({
          topic: range.topic,
          partition: range.partition,
          offset: offset.toString(),
          key: Buffer.from('acc-1'),
          value: Buffer.from('{}'),
          headers: [],
          timestamp: '0',
        });
        state.delivered++;
      }
      onRead?.();
      return out;
    } finally {
      state.open--;
    }
  };
  return { state, read };
}

/** The replay's row in memory: progress per partition and the chunks applied. */
function replayRow(onLookup?: () => void) {
  const progress: Record<string, string> = { '0': '0' };
  const applied: ReplayChunkInput[] = [];
  const totals = (readNow: number): ReplayChunkResult => ({
    counts: { read: applied.length, alreadySettled: 0, settled: 0, rejected: 0, deadLettered: 0 },
    differences: 0,
    readNow,
    outboxBatchId: null,
  });
  const store: ReplayChunkStore = {
    async appliedAlready(input) {
      onLookup?.();
      return progress[String(input.partition)] === input.fromOffset ? undefined : totals(0);
    },
    async apply(input, raw) {
      applied.push(input);
      progress[String(input.partition)] = input.toOffset;
      return totals(raw.length);
    },
  };
  return { progress, applied, store };
}

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs the chunk as the replayChunk activity does, heartbeating every 10 ms. */
function runChunk(
  env: MockActivityEnvironment,
  ports: { read: PartitionReader; store: ReplayChunkStore },
): Promise<ReplayChunkResult> {
  const activity = (input: ReplayChunkInput) =>
    heartbeating((cancelled) => replayChunkSteps(ports, input, cancelled), undefined, 10);
  return env.run(activity, chunk);
}

describe('a replay chunk cancelled under MockActivityEnvironment', () => {
  it('cancelled mid-read: stops reading, lets go of the partition, applies nothing and throws CancelledFailure', async () => {
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const partition = slowPartition();
    const row = replayRow();
    const running = runChunk(env, { read: partition.read, store: row.store });
    await eventually(() => partition.state.delivered >= 5 && beats >= 1);
    env.cancel();
    const err = await running.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CancelledFailure);
    expect((err as CancelledFailure).message).toBe('CANCELLED');
    const delivered = partition.state.delivered;
    const beatsAtStop = beats;
    expect(delivered).toBeLessThan(100);
    expect(partition.state.open).toBe(0);
    expect(row.applied).toEqual([]);
    expect(row.progress).toEqual({ '0': '0' });
    // Nothing goes on behind the failure: no more messages read, no more heartbeats.
    await new Promise((r) => setTimeout(r, 100));
    expect(partition.state.delivered).toBe(delivered);
    expect(beats).toBe(beatsAtStop);
  });

  it('cancelled before the read: never opens the partition', async () => {
    const env = new MockActivityEnvironment();
    const partition = slowPartition();
    // The cancellation arrives while the chunk looks up its progress.
    const row = replayRow(() => env.cancel());
    await expect(runChunk(env, { read: partition.read, store: row.store })).rejects.toBeInstanceOf(
      CancelledFailure,
    );
    expect(partition.state.opened).toBe(0);
    expect(row.applied).toEqual([]);
  });

  it('cancelled once the range is read: opens no transaction, the chunk stays to do', async () => {
    const env = new MockActivityEnvironment();
    const partition = slowPartition(1, () => env.cancel());
    const row = replayRow();
    await expect(runChunk(env, { read: partition.read, store: row.store })).rejects.toBeInstanceOf(
      CancelledFailure,
    );
    expect(partition.state.delivered).toBe(100);
    expect(partition.state.open).toBe(0);
    expect(row.applied).toEqual([]);
    expect(row.progress).toEqual({ '0': '0' });
  });

  it('not cancelled: reads the range and applies it once', async () => {
    const env = new MockActivityEnvironment();
    const partition = slowPartition(1);
    const row = replayRow();
    const result = await runChunk(env, { read: partition.read, store: row.store });
    expect(result.readNow).toBe(100);
    expect(row.applied).toEqual([chunk]);
    expect(row.progress).toEqual({ '0': '100' });
  });
});
