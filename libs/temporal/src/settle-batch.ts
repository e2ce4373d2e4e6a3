import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  settleBatchWorkflowId,
  WORKFLOW_TYPES,
  type SettleBatchInput,
  type SettleBatchResult,
} from '@settlement/contracts';

/**
 * Starts the settleBatch workflow of a micro-batch under its deterministic id. A second
 * start of the same batch (a redelivery) is refused by Temporal, open or closed, and is
 * reported as `alreadyStarted` rather than as an error.
 */
export async function startSettleBatch(
  client: Client,
  taskQueue: string,
  input: SettleBatchInput,
): Promise<{
  workflowId: string;
  alreadyStarted: boolean;
  result: () => Promise<SettleBatchResult>;
}> {
  const workflowId = settleBatchWorkflowId(input.batchId);
  const result = () => client.workflow.getHandle(workflowId).result() as Promise<SettleBatchResult>;
  try {
    await client.workflow.start(WORKFLOW_TYPES.settleBatch, {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return { workflowId, alreadyStarted: false, result };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { workflowId, alreadyStarted: true, result };
    throw err;
  }
}
