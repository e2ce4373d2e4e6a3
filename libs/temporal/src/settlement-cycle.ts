import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import {
  cutoffText,
  cycleScheduleId,
  cycleWorkflowId,
  cycleWorkflowIdPrefix,
  WORKFLOW_TYPES,
  type SettlementCycleInput,
} from '@settlement/contracts';
import type { settlementCycle } from '@settlement/workflows';

export interface CycleScheduleSettings {
  /** The source topic: it scopes the Schedule and the cycles' workflow ids. */
  topic: string;
  taskQueue: string;
  /** `off`, `@every 1m`, `@daily` or a cron expression (SETTLEMENT_CYCLE_CRON). */
  cron: string;
  timezone: string;
}

/**
 * Creates the Schedule that starts a settlementCycle at each cut-off, or brings an existing
 * one to these settings; `off` deletes it. Idempotent, so every admin replica may call it at
 * start. BUFFER_ONE: a cut-off that comes while the previous cycle still runs starts right
 * after it, never beside it (and never more than one waits).
 */
export async function ensureCycleSchedule(
  client: Client,
  settings: CycleScheduleSettings,
): Promise<'created' | 'updated' | 'deleted' | 'absent'> {
  const scheduleId = cycleScheduleId(settings.topic);
  const handle = client.schedule.getHandle(scheduleId);
  if (settings.cron === 'off') {
    try {
      await handle.delete();
      return 'deleted';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'absent';
      throw err;
    }
  }
  const options: Omit<ScheduleOptions, 'scheduleId'> = {
    spec: { cronExpressions: [settings.cron], timezone: settings.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPES.settlementCycle,
      // Temporal appends the scheduled time: cycle-<topic>-2026-11-29T10:05:00Z, the same id
      // an operator's request for that cut-off gets (cycleWorkflowId).
      workflowId: cycleWorkflowIdPrefix(settings.topic),
      taskQueue: settings.taskQueue,
      args: [{ requestedBy: 'schedule' } satisfies SettlementCycleInput],
      staticSummary: `Scheduled settlement cycle of ${settings.topic} (${settings.cron}, ${settings.timezone})`,
    },
    policies: { overlap: 'BUFFER_ONE', catchupWindow: '1 day' },
  };
  try {
    await client.schedule.create({ scheduleId, ...options });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await handle.update((previous) => ({ ...previous, ...options, state: previous.state }));
  return 'updated';
}

/**
 * Starts (or finds) the cycle of a cut-off under its deterministic workflow id. A cut-off
 * whose cycle failed may run again (ALLOW_DUPLICATE_FAILED_ONLY); one that is running or
 * completed answers with the existing run.
 */
export async function startSettlementCycle(
  client: Client,
  settings: Pick<CycleScheduleSettings, 'topic' | 'taskQueue'>,
  cutoff: Date,
  requestedBy: string,
): Promise<{ workflowId: string; alreadyStarted: boolean }> {
  const workflowId = cycleWorkflowId(settings.topic, cutoff);
  try {
    await client.workflow.start<typeof settlementCycle>(WORKFLOW_TYPES.settlementCycle, {
      taskQueue: settings.taskQueue,
      workflowId,
      args: [{ cutoff: cutoff.toISOString(), requestedBy } satisfies SettlementCycleInput],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      staticSummary: `Settlement cycle of ${settings.topic}, cut-off ${cutoffText(cutoff)} (requested by ${requestedBy})`,
    });
    return { workflowId, alreadyStarted: false };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { workflowId, alreadyStarted: true };
    throw err;
  }
}
