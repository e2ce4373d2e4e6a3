import { Context } from '@temporalio/activity';

/** Heartbeat interval; the workflows' heartbeat timeouts are a few of these. */
export const HEARTBEAT_EVERY_MS = 1000;

/**
 * Runs `work` while heartbeating (with the current `details`) every `everyMs`, and stops
 * when it ends either way: a killed worker's attempt is noticed within the heartbeat
 * timeout, and the details let the next attempt resume where this one was. A cancellation
 * arrives with a heartbeat's answer; `work` gets the activity's cancellation signal to stop on.
 */
export async function heartbeating<T>(
  work: (cancelled: AbortSignal) => Promise<T>,
  details?: () => unknown,
  everyMs = HEARTBEAT_EVERY_MS,
): Promise<T> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(details?.()), everyMs);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(beat);
  }
}
