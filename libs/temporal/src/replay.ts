import type { Client } from '@temporalio/client';
import type { ReplayInput } from '@settlement/activities';
import { replayStartAttributes, replaySummary, WORKFLOW_TYPES } from '@settlement/contracts';
import type { replayRange } from '@settlement/workflows';

/** A replay's workflow id: one workflow per replay row. */
export const replayWorkflowId = (replayId: string): string => `replay-${replayId}`;

/**
 * Starts the replayRange workflow of a recorded replay, typed by the workflow function:
 * the input is checked against the workflow's parameter and the handle's result is a
 * ReplayProgress, no cast.
 */
export async function startReplay(
  client: Client,
  taskQueue: string,
  input: ReplayInput,
  requestedBy: string,
) {
  return client.workflow.start<typeof replayRange>(WORKFLOW_TYPES.replayRange, {
    taskQueue,
    workflowId: replayWorkflowId(input.replayId),
    args: [input],
    typedSearchAttributes: replayStartAttributes(input.replayId, input.topic),
    staticSummary: replaySummary(input.replayId, input.topic, input.mode, input.ranges),
    staticDetails: `requested by ${requestedBy}`,
  });
}
