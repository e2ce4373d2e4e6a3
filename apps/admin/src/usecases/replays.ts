import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import type { ReplayInput, ReplayRange } from '@settlement/activities';
import { readPartitionRange } from '@settlement/records';
import type { AdminConfig, KafkaConfig, TemporalConfig } from '@settlement/config';
import { replayWorkflowId, startReplay } from '@settlement/temporal';
import {
  countRunningReplays,
  findReplay,
  insertReplay,
  listReplays,
  lockReplay,
  lockReplayStarts,
  type DatabaseHandle,
  type LedgerTx,
  type Replay,
} from '@settlement/db';
import { offsetsAtTime } from '@settlement/kafka';
import { CONFIG, DATABASE, KAFKA, TEMPORAL_CLIENT } from '@settlement/platform';
import { recordAudit } from '../audit';
import { badRequest, conflict, notFound, unprocessable } from '../http/errors';
import { decodeCursor, encodeCursor, limitSchema, type Page } from '../http/pagination';
import { KafkaAdminService } from '../kafka-admin.service';
import { cancelRun } from './cancellation';
import type { Caller } from './context';

const offset = z.union([
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,18})$/, 'offset must be a non-negative integer (decimal string)'),
  z
    .number()
    .int('offset must be an integer')
    .nonnegative('offset must not be negative')
    .max(Number.MAX_SAFE_INTEGER),
]);
/** The largest time a JavaScript Date holds (year 275760). */
const MAX_EPOCH_MS = 8.64e15;
const timestamp = z.union([
  z
    .string()
    .refine(
      (s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)),
      'timestamp must be RFC 3339',
    )
    // Kafka's offset-for-time lookup knows nothing before the epoch (year 0001 is not a time).
    .refine((s) => !(Date.parse(s) < 0), 'timestamp must not be before 1970-01-01T00:00:00Z'),
  z
    .number()
    .int('timestamp must be epoch milliseconds')
    .nonnegative()
    .max(MAX_EPOCH_MS, 'timestamp is beyond any date'),
]);
const position = z
  .object(
    { offset: offset.optional(), timestamp: timestamp.optional() },
    { message: 'expected {"offset"} or {"timestamp"}' },
  )
  .strict()
  .refine(
    (p) => (p.offset === undefined) !== (p.timestamp === undefined),
    'give exactly one of offset or timestamp',
  )
  .describe(
    'exactly one of offset (decimal string or integer) or timestamp (RFC 3339 or epoch ms); `to` is exclusive',
  );

export const startReplaySchema = z
  .object({
    topic: z.string().min(1, 'topic must not be empty').max(249).optional(),
    partitions: z
      .array(
        z
          .number()
          .int('partitions must be integers')
          .nonnegative('partitions must not be negative'),
        {
          message: 'partitions must be an array of partition numbers',
        },
      )
      .min(1, 'partitions must not be empty')
      .refine((a) => new Set(a).size === a.length, 'partitions must not repeat')
      .optional(),
    from: position,
    to: position,
    mode: z
      .enum(['settle', 'verify'], { message: "mode must be 'settle' or 'verify'" })
      .default('settle'),
  })
  .strict()
  .superRefine((b, ctx) => {
    const { from, to } = b;
    if (
      from.offset !== undefined &&
      to.offset !== undefined &&
      BigInt(from.offset) > BigInt(to.offset)
    ) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must not be before from' });
    }
    if (
      from.timestamp !== undefined &&
      to.timestamp !== undefined &&
      ms(from.timestamp) > ms(to.timestamp)
    ) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must not be before from' });
    }
  });
export type StartReplayCommand = z.infer<typeof startReplaySchema>;

export const listReplaysSchema = z.object({ limit: limitSchema, cursor: z.string().optional() });
export type ListReplaysQuery = z.infer<typeof listReplaysSchema>;
const replayCursor = z.tuple([z.string().min(1), z.string().min(1)]);

function ms(t: string | number): number {
  return typeof t === 'number' ? t : Date.parse(t);
}

type Config = AdminConfig & KafkaConfig & TemporalConfig;

export const REPLAY_CHUNK_SIZE = 500;

@Injectable()
export class ReplayUseCases {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly kafkaAdmin: KafkaAdminService,
  ) {}

  /**
   * Resolves the request to offsets per partition (timestamps through Kafka's offset-for-time
   * lookup), refuses with 422 what the log cannot serve, then records the replay and starts
   * its workflow in one step: the row, the audit row and the start succeed or fail together.
   */
  async start(cmd: StartReplayCommand, caller: Caller) {
    const topic = cmd.topic ?? this.config.KAFKA_TOPIC;
    const sources = this.sourceTopics();
    if (!sources.includes(topic)) {
      throw badRequest(`field 'topic': replays read only ${sources.join(', ')}`);
    }
    const ranges = await this.resolve(topic, cmd);
    const replayId = `rpl-${randomBytes(8).toString('hex')}`;
    const workflowId = replayWorkflowId(replayId);
    const input: ReplayInput = {
      replayId,
      topic,
      mode: cmd.mode,
      ranges: ranges.filter((r) => BigInt(r.toOffset) > BigInt(r.fromOffset)),
      chunkSize: REPLAY_CHUNK_SIZE,
      maxMessagesPerSecond: this.config.REPLAY_MAX_MESSAGES_PER_SECOND,
    };
    await this.database.db.transaction(async (tx) => {
      await this.holdRunningSlot(tx);
      await insertReplay(tx, {
        id: replayId,
        workflowId,
        topic,
        mode: cmd.mode,
        ranges,
        request: cmd as unknown as Record<string, unknown>,
        progress: Object.fromEntries(ranges.map((r) => [String(r.partition), r.fromOffset])),
        requestedBy: caller.principal.name,
      });
      await recordAudit(tx, {
        principal: caller.principal,
        action: caller.action,
        target: replayId,
        details: { topic, mode: cmd.mode, ranges, request: cmd },
        outcome: 'SUCCESS',
        statusCode: 202,
      });
      await startReplay(
        this.temporal,
        this.config.TEMPORAL_TASK_QUEUE,
        input,
        caller.principal.name,
      );
    });
    return { replayId, workflowId, topic, mode: cmd.mode, ranges };
  }

  /** The configured source topic(s): a replay never reads outcomes, dead letters or internals. */
  private sourceTopics(): string[] {
    const configured = this.config.REPLAY_SOURCE_TOPICS;
    return configured.length > 0 ? [...configured] : [this.config.KAFKA_TOPIC];
  }

  /**
   * At most REPLAY_MAX_RUNNING replays run at once. The transaction-scoped advisory lock
   * serialises concurrent starts, so two of them cannot both see a free slot.
   */
  private async holdRunningSlot(tx: Pick<LedgerTx, 'execute' | '$count'>): Promise<void> {
    await lockReplayStarts(tx);
    const running = await countRunningReplays(tx);
    const max = this.config.REPLAY_MAX_RUNNING;
    if (running >= max) {
      throw conflict(
        `${running} replays are running (at most ${max}); wait for one to finish or cancel one`,
      );
    }
  }

  private async resolve(topic: string, cmd: StartReplayCommand): Promise<ReplayRange[]> {
    const admin = await this.kafkaAdmin.get();
    let all: number[];
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      all = meta.topics[0].partitions.map((p) => p.partitionId).sort((a, b) => a - b);
    } catch {
      throw unprocessable(`topic ${topic} does not exist`);
    }
    const partitions = cmd.partitions ?? all;
    const missing = partitions.filter((p) => !all.includes(p));
    if (missing.length)
      throw unprocessable(
        `topic ${topic} has no partition ${missing.join(', ')} (it has ${all.length})`,
      );
    const bounds = new Map(
      (await admin.fetchTopicOffsets(topic)).map((o) => [
        o.partition,
        { low: BigInt(o.low), high: BigInt(o.high) },
      ]),
    );

    const at = async (
      p: { offset?: string | number; timestamp?: string | number },
      which: 'from' | 'to',
    ) => {
      const out = new Map<number, bigint>();
      if (p.offset !== undefined) {
        for (const part of partitions) out.set(part, BigInt(p.offset));
        return out;
      }
      const t = ms(p.timestamp as string | number);
      if (which === 'to' && t > Date.now()) {
        throw unprocessable(
          `to.timestamp ${new Date(t).toISOString()} is beyond the log end (it is in the future)`,
        );
      }
      const found = await offsetsAtTime(admin, topic, t);
      for (const f of found) {
        if (!partitions.includes(f.partition)) continue;
        const b = bounds.get(f.partition)!;
        out.set(
          f.partition,
          f.offset === '-1' || f.offset === undefined ? b.high : BigInt(f.offset),
        );
      }
      return out;
    };
    const froms = await at(cmd.from, 'from');
    const tos = await at(cmd.to, 'to');
    const ranges: ReplayRange[] = [];
    for (const part of partitions) {
      const b = bounds.get(part)!;
      const from = froms.get(part)!;
      const to = tos.get(part)!;
      if (from < b.low) {
        throw unprocessable(
          `partition ${part}: from offset ${from} is before retention (the log starts at ${b.low})`,
        );
      }
      if (to > b.high) {
        throw unprocessable(`partition ${part}: to offset ${to} is beyond the log end (${b.high})`);
      }
      if (cmd.from.timestamp !== undefined && b.low > 0n && from === b.low && b.high > b.low) {
        // The earliest retained message may be newer than `from`: then older messages are gone.
        const [first] = await readPartitionRange(
          this.kafka,
          topic,
          part,
          b.low,
          b.low + 1n,
          15_000,
        );
        if (first && BigInt(first.timestamp) > BigInt(ms(cmd.from.timestamp))) {
          throw unprocessable(
            `partition ${part}: from.timestamp is before retention (the oldest retained message is from ${new Date(Number(first.timestamp)).toISOString()})`,
          );
        }
      }
      if (to < from)
        throw badRequest(`field 'to': partition ${part} maps to offset ${to}, before from ${from}`);
      ranges.push({ partition: part, fromOffset: from.toString(), toOffset: to.toString() });
    }
    return ranges;
  }

  async get(id: string) {
    const r = await findReplay(this.database.db, id);
    if (!r) throw notFound(`replay ${id} not found`);
    return replayView(r);
  }

  /** Newest first, keyset on (created_at, id): index replays_created_idx. */
  async list(q: ListReplaysQuery): Promise<Page<ReturnType<typeof replayView>>> {
    const after = decodeCursor(q.cursor, replayCursor);
    const rows = await listReplays(
      this.database.db,
      after ? { createdAt: new Date(after[0]), id: after[1] } : undefined,
      q.limit + 1,
    );
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(replayView),
      nextCursor: more && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  /** Requests cancellation; the workflow stops after the chunk in hand and records CANCELLED. */
  async cancel(id: string, caller: Caller) {
    return this.database.db.transaction(async (tx) => {
      const row = await lockReplay(tx, id);
      return {
        replayId: id,
        ...(await cancelRun(tx, this.temporal, caller, { what: 'replay', id, row })),
      };
    });
  }
}

function replayView(r: Replay) {
  return {
    replayId: r.id,
    workflowId: r.workflowId,
    status: r.status,
    mode: r.mode,
    topic: r.topic,
    ranges: r.ranges,
    counts: {
      read: Number(r.read),
      alreadySettled: Number(r.alreadySettled),
      settled: Number(r.settled),
      rejected: Number(r.rejected),
      deadLettered: Number(r.deadLettered),
    },
    differences: Number(r.differences),
    differenceSamples: r.differenceSamples ?? [],
    progress: r.progress ?? {},
    requestedBy: r.requestedBy,
    error: r.error,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}
