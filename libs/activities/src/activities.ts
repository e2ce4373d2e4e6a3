import { Context } from '@temporalio/activity';
import type { Kafka, Producer } from 'kafkajs';
import {
  describeRange,
  type CycleSummary,
  type CycleWindow,
  type SettleBatchInput,
  type SettleBatchResult,
} from '@settlement/contracts';
import { reserveReplayBudget, type Database, type PartitionTurns } from '@settlement/db';
import { inSpan, metrics, type Logger } from '@settlement/observability';
import { heartbeating } from './heartbeat';
import { countSettlement } from './outcome-metrics';
import { settleBatchWithOutbox } from './settle-batch.activity';
import { publishOutcomes, type PublishProgress } from './publish-outcomes.activity';
import { mergeProgress, publishBudgetMs, publishSettled } from './publish-settled';
import { recordReplayStatus, replayChunk } from './replay.activity';
import * as cycles from './cycle.activity';
import type { ReplayChunkInput, ReplayChunkResult, ReplayStatus } from './replay.types';
import { recordRedriveStatus, redriveChunk } from './redrive';
import type { RedriveChunkResult, RedriveStatus } from './redrive.types';
import { publishPendingResubmissions } from './resubmission';

export interface ActivityDeps {
  db: Database;
  producer: Producer;
  topics: { outcomes: string; deadLetters: string };
  logger: Logger;
  /** For replays: reads the source topic with throwaway consumer groups. */
  kafka?: Kafka;
  /** Settlement cycles: where they are announced and how long they wait for late batches. */
  cycles?: { topic: string; graceMs: number };
  /** Wakes a batch waiting for its predecessor at that one's commit (else it polls). */
  turns?: PartitionTurns;
}

/** Defaults of the shared config schema, for workers built without cycle settings (tests). */
const CYCLE_DEFAULTS = { topic: 'settlement-cycles', graceMs: 300_000 };

/** The activities the worker registers; workflows see only their types. */
export function createActivities(deps: ActivityDeps) {
  const cycleDeps: cycles.CycleDeps = {
    db: deps.db,
    producer: deps.producer,
    ...(deps.cycles ?? CYCLE_DEFAULTS),
  };
  return {
    async settleBatch(input: SettleBatchInput): Promise<SettleBatchResult> {
      const { workflowExecution, attempt } = Context.current().info;
      const { result, seconds } = await settleThenPublish(deps, input);
      // Counted once, where decided: a retry finds the batch applied and counts nothing.
      if (!result.alreadyApplied) countSettlement(result);
      deps.logger.info(
        {
          batchId: input.batchId,
          workflowId: workflowExecution?.workflowId,
          range: describeRange(input),
          settled: result.settled,
          rejected: result.rejected,
          duplicates: result.duplicates,
          deadLettered: result.deadLettered,
          alreadyApplied: result.alreadyApplied,
          published: result.published,
          attempt,
          durationMs: Math.round(seconds * 1000),
        },
        'batch settled',
      );
      return result;
    },

    async publishOutcomes({
      batchId,
      sent,
    }: {
      batchId: string;
      /** Rows the settle activity sent but could not mark published. */
      sent?: string[];
    }): Promise<{ published: number }> {
      // What an earlier attempt (or the settle activity) sent: this attempt only marks it.
      const ctx = Context.current();
      let progress = mergeProgress(
        ctx.info.heartbeatDetails as PublishProgress | undefined,
        sent && { sent },
      );
      return heartbeating(
        () =>
          publishOutcomes(deps, batchId, {
            progress,
            onSent: (sent) => ctx.heartbeat((progress = sent)),
          }),
        () => progress,
      );
    },

    async replayChunk(input: ReplayChunkInput): Promise<ReplayChunkResult> {
      // Heartbeats let Temporal notice a killed worker in seconds and retry the chunk elsewhere,
      // and bring a cancellation in, which stops the chunk before it changes anything.
      const result = await heartbeating((cancelled) => replayChunk(deps, input, cancelled));
      deps.logger.debug({ ...input, readNow: result.readNow }, 'replay chunk done');
      return result;
    },

    /** How long a replay waits before its next chunk, under the budget all replays share. */
    async reserveReplayBudget(input: {
      messages: number;
      maxMessagesPerSecond: number;
    }): Promise<{ waitMs: number }> {
      return {
        waitMs: await reserveReplayBudget(deps.db, input.messages, input.maxMessagesPerSecond),
      };
    },

    async recordReplayStatus(input: {
      replayId: string;
      status: ReplayStatus;
      error?: string;
    }): Promise<void> {
      await recordReplayStatus(deps, input);
      deps.logger.info(input, 'replay finished');
    },

    async redriveChunk(input: {
      redriveId: string;
      cursor: string;
      chunkSize: number;
    }): Promise<RedriveChunkResult> {
      return redriveChunk(deps, input);
    },

    /** Publishes the re-drive's resubmissions not published yet; safe to retry (see publishResubmission). */
    async publishRedriven({ redriveId }: { redriveId: string }): Promise<{ published: number }> {
      const kafka = deps.kafka;
      if (!kafka) throw new Error('the worker has no Kafka client for re-drives');
      const published = await heartbeating(() =>
        publishPendingResubmissions(
          { db: deps.db, kafka, producer: deps.producer },
          { redriveId, limit: 100_000 },
        ),
      );
      return { published };
    },

    async recordRedriveStatus(input: {
      redriveId: string;
      status: RedriveStatus;
      error?: string;
    }): Promise<void> {
      await recordRedriveStatus(deps, input);
      deps.logger.info(input, 're-drive finished');
    },

    async closeCycleWindow(input: {
      cutoff: string;
      workflowId: string;
      requestedBy: string;
    }): Promise<CycleWindow> {
      return cycles.closeCycleWindow(cycleDeps, input);
    },

    async awaitWindowSettled(input: { cycleId: string }): Promise<{ waitedMs: number }> {
      const ctx = Context.current();
      return cycles.awaitWindowSettled(cycleDeps, input, { heartbeat: () => ctx.heartbeat() });
    },

    async computeNetPositions(input: { cycleId: string }): Promise<CycleSummary> {
      const summary = await cycles.computeNetPositions(cycleDeps, input);
      deps.logger.info({ ...summary }, 'cycle positions computed');
      return summary;
    },

    async verifyNetPositions(input: { cycleId: string }): Promise<CycleSummary> {
      return cycles.verifyNetPositions(cycleDeps, input);
    },

    async publishCycle(input: { cycleId: string }): Promise<CycleSummary> {
      const summary = await cycles.publishCycle(cycleDeps, input);
      deps.logger.info({ ...summary }, 'cycle completed');
      return summary;
    },

    async recordCycleFailure(input: { cycleId: string; error: string }): Promise<void> {
      await cycles.recordCycleFailure(cycleDeps, input);
      deps.logger.error(input, 'cycle failed');
    },
  };
}

export type SettlementActivities = ReturnType<typeof createActivities>;

/**
 * The settle activity's work: the batch's transaction, then its outbox to Kafka from the
 * records in memory, which saves the workflow its publishOutcomes activity. When publishing
 * fails the result says `published: false` and the workflow publishes from the outbox.
 */
async function settleThenPublish(
  deps: ActivityDeps,
  input: SettleBatchInput,
): Promise<{ result: SettleBatchResult; seconds: number }> {
  const startedAtMs = Date.now();
  const ctx = Context.current();
  const { workflowExecution, startToCloseTimeoutMs } = ctx.info;
  // What an earlier attempt sent after its commit: this one finds the batch applied and only
  // marks those rows.
  let progress = ctx.info.heartbeatDetails as PublishProgress | undefined;
  const stop = metrics.batchSettleDuration.startTimer();
  // Heartbeats: a killed worker's batch is retried elsewhere within the heartbeat timeout
  // instead of the start-to-close timeout; its open transaction died with it.
  return heartbeating(
    async () => {
      const settled = await settleBatchWithOutbox(
        deps,
        input,
        workflowExecution?.workflowId ?? input.batchId,
      );
      const seconds = stop();
      const attributes = { 'settlement.batch_id': input.batchId, 'messaging.system': 'kafka' };
      const publish = await inSpan('outbox publish', attributes, () =>
        publishSettled(deps, input.batchId, settled.outbox, {
          progress,
          onSent: (sent) => ctx.heartbeat((progress = sent)),
          budgetMs: publishBudgetMs({ startedAtMs, startToCloseTimeoutMs }, Date.now()),
        }),
      );
      const result: SettleBatchResult = { ...settled.result, published: publish.published };
      if (publish.sent) result.sentOutboxRows = publish.sent;
      return { result, seconds };
    },
    () => progress,
  );
}
