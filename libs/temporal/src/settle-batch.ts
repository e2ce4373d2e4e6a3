import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  batchStartAttributes,
  batchSummary,
  closedAtIso,
  describeRange,
  settleBatchWorkflowId,
  WORKFLOW_TYPES,
  type SettleBatchInput,
  type SettleBatchResult,
} from '@settlement/contracts';
import type { settleBatch } from '@settlement/workflows';

/**
 * Starts the settleBatch workflow of a micro-batch under its deterministic id. A second
 * start of the same batch (a redelivery) is refused by Temporal, open or closed, and is
 * reported as `alreadyStarted` rather than as an error.
 */
export async function startSettleBatch(
  client: Client,
  taskQueue: string,
  input: SettleBatchInput,
  /** Valid messages of the batch (for the Web UI summary; staged inputs carry none). */
  messageCount = input.messages?.length ?? 0,
): Promise<{
  workflowId: string;
  alreadyStarted: boolean;
  result: () => Promise<SettleBatchResult>;
}> {
  const workflowId = settleBatchWorkflowId(input.batchId);
  const result = () => client.workflow.getHandle<typeof settleBatch>(workflowId).result();
  try {
    await client.workflow.start<typeof settleBatch>(WORKFLOW_TYPES.settleBatch, {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      // A workflow task held by a killed worker is handed out again after this, not after
      // the default 10 s: the batch's partition waits on it (ingest's in-flight slots).
      workflowTaskTimeout: '4s',
      typedSearchAttributes: batchStartAttributes(input),
      // What the Web UI lists and shows first: one sentence, then the batch's identity.
      staticSummary: batchSummary(input, messageCount + input.deadLettered, input.deadLettered),
      staticDetails: [
        `batch ${input.batchId} (${describeRange(input)})`,
        `closed by ingest at ${closedAtIso(input)}`,
        input.replayId ? `replay ${input.replayId}` : undefined,
      ]
        .filter(Boolean)
        .join('\n'),
    });
    return { workflowId, alreadyStarted: false, result };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { workflowId, alreadyStarted: true, result };
    throw err;
  }
}
