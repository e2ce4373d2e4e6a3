import type { SettleBatchResult } from '@settlement/contracts';
import { metrics } from '@settlement/observability';

/**
 * The worker's outcome counters for one applied batch (or replay chunk), each with its
 * reason. Called after the database transaction committed, by whoever decided the outcomes,
 * so every outcome is counted once: a retry finds the batch applied and counts nothing.
 */
export function countSettlement(
  result: Pick<
    SettleBatchResult,
    'settled' | 'duplicates' | 'rejectedReasons' | 'deadLetterReasons'
  >,
): void {
  if (result.settled > 0) metrics.outcomes.inc({ status: 'SETTLED', reason: '' }, result.settled);
  for (const [reason, n] of Object.entries(result.rejectedReasons ?? {}))
    metrics.outcomes.inc({ status: 'REJECTED', reason }, n);
  for (const [reason, n] of Object.entries(result.deadLetterReasons ?? {}))
    metrics.deadLetters.inc({ reason }, n);
  if (result.duplicates > 0) metrics.duplicates.inc(result.duplicates);
}
