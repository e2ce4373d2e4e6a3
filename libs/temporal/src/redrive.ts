import type { Client } from '@temporalio/client';
import type { RedriveFilter, RedriveInput } from '@settlement/activities';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES } from '@settlement/contracts';
import type { redriveDeadLetters } from '@settlement/workflows';

/** A re-drive's workflow id: one workflow per re-drive row. */
export const redriveWorkflowId = (redriveId: string): string => `dead-letter-redrive-${redriveId}`;

/**
 * Starts the redriveDeadLetters workflow of a recorded re-drive, typed by the workflow
 * function: the input is checked against the workflow's parameter and the handle's result is
 * a RedriveProgress, no cast.
 */
export async function startRedrive(
  client: Client,
  taskQueue: string,
  input: RedriveInput,
  about: { matched: number; requestedBy: string },
) {
  return client.workflow.start<typeof redriveDeadLetters>(WORKFLOW_TYPES.redriveDeadLetters, {
    taskQueue,
    workflowId: redriveWorkflowId(input.redriveId),
    args: [input],
    typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.status, value: 'RUNNING' }],
    staticSummary: redriveSummary(input.redriveId, input.filter, about.matched),
    staticDetails: `requested by ${about.requestedBy}`,
  });
}

/** `re-drive rdr-1 of 12 OPEN dead letters (reason SCHEMA_VIOLATION, since ...)`. */
function redriveSummary(redriveId: string, filter: RedriveFilter, matched: number): string {
  const parts = [
    filter.reason ? `reason ${filter.reason}` : null,
    filter.since ? `since ${filter.since}` : null,
    filter.until ? `until ${filter.until}` : null,
  ].filter((p) => p !== null);
  return `re-drive ${redriveId} of ${matched} OPEN dead letters${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
