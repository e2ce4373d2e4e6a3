import type { Client } from '@temporalio/client';
import type { LedgerTx } from '@settlement/db';
import { recordAudit } from '../audit';
import { conflict, notFound } from '../http/errors';
import type { Caller } from './context';

/**
 * Cancels a RUNNING workflow-backed run (a replay, a re-drive) whose row the caller locked in
 * `tx`: the audit row and the cancellation request succeed or fail together. The workflow
 * itself records CANCELLED once it stopped.
 */
export async function cancelRun(
  tx: LedgerTx,
  temporal: Client,
  caller: Caller,
  run: { what: string; id: string; row?: { status: string; workflowId: string } },
): Promise<{ workflowId: string; status: 'CANCELLING' }> {
  if (!run.row) throw notFound(`${run.what} ${run.id} not found`);
  if (run.row.status !== 'RUNNING') {
    throw conflict(`${run.what} ${run.id} is ${run.row.status}, not RUNNING`);
  }
  await recordAudit(tx, {
    principal: caller.principal,
    action: caller.action,
    target: run.id,
    details: null,
    outcome: 'SUCCESS',
    statusCode: 202,
  });
  await temporal.workflow.getHandle(run.row.workflowId).cancel();
  return { workflowId: run.row.workflowId, status: 'CANCELLING' };
}
