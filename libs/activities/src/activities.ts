import { Context } from '@temporalio/activity';
import type { Kafka, Producer } from 'kafkajs';
import type { SettleBatchInput, SettleBatchResult } from '@settlement/contracts';
import type { Database } from '@settlement/db';
import { metrics, type Logger } from '@settlement/observability';
import { settleBatch } from './settle-batch.activity';
import { publishOutcomes, type PublishProgress } from './publish-outcomes.activity';
import { recordReplayStatus, replayChunk } from './replay.activity';
import type { ReplayChunkInput, ReplayChunkResult, ReplayStatus } from './replay.types';

export interface ActivityDeps {
  db: Database;
  producer: Producer;
  topics: { outcomes: string; deadLetters: string };
  logger: Logger;
  /** For replays: reads the source topic with throwaway consumer groups. */
  kafka?: Kafka;
}

/** The activities the worker registers; workflows see only their types. */
export function createActivities(deps: ActivityDeps) {
  return {
    async settleBatch(input: SettleBatchInput): Promise<SettleBatchResult> {
      const { workflowExecution, attempt } = Context.current().info;
      const stop = metrics.batchSettleDuration.startTimer();
      const result = await settleBatch(deps, input, workflowExecution?.workflowId ?? input.batchId);
      stop();
      if (!result.alreadyApplied) {
        metrics.outcomes.inc({ status: 'SETTLED', reason: '' }, result.settled);
        metrics.outcomes.inc({ status: 'REJECTED', reason: '' }, result.rejected);
      }
      deps.logger.debug({ ...result, attempt }, 'batch settled');
      return result;
    },

    async publishOutcomes({ batchId }: { batchId: string }): Promise<{ published: number }> {
      // What an earlier attempt sent is in its heartbeat: this attempt only marks it.
      const ctx = Context.current();
      return publishOutcomes(deps, batchId, {
        progress: ctx.info.heartbeatDetails as PublishProgress | undefined,
        onSent: (progress) => ctx.heartbeat(progress),
      });
    },

    async replayChunk(input: ReplayChunkInput): Promise<ReplayChunkResult> {
      // Heartbeats let Temporal notice a killed worker in seconds and retry the chunk elsewhere.
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      let result: ReplayChunkResult;
      try {
        result = await replayChunk(deps, input);
      } finally {
        clearInterval(beat);
      }
      deps.logger.debug({ ...input, readNow: result.readNow }, 'replay chunk done');
      return result;
    },

    async recordReplayStatus(input: {
      replayId: string;
      status: ReplayStatus;
      error?: string;
    }): Promise<void> {
      await recordReplayStatus(deps, input);
      deps.logger.info(input, 'replay finished');
    },
  };
}

export type SettlementActivities = ReturnType<typeof createActivities>;
