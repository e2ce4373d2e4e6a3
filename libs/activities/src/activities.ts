import { Context } from '@temporalio/activity';
import type { Producer } from 'kafkajs';
import type { SettleBatchInput, SettleBatchResult } from '@settlement/contracts';
import type { Database } from '@settlement/db';
import { metrics, type Logger } from '@settlement/observability';
import { settleBatch } from './settle-batch.activity';
import { publishOutcomes } from './publish-outcomes.activity';

export interface ActivityDeps {
  db: Database;
  producer: Producer;
  topics: { outcomes: string; deadLetters: string };
  logger: Logger;
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
      return publishOutcomes(deps, batchId);
    },
  };
}

export type SettlementActivities = ReturnType<typeof createActivities>;
