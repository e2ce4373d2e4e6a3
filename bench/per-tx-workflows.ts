import { proxyActivities } from '@temporalio/workflow';
import type { BatchMessage } from '../libs/contracts/src/batch';

/** Bench only: the common Temporal pattern, one workflow per transaction. */
export interface PerTxActivities {
  settleOne(input: { topic: string; partition: number; message: BatchMessage }): Promise<void>;
}

const { settleOne } = proxyActivities<PerTxActivities>({
  startToCloseTimeout: '60s',
  retry: { initialInterval: '100ms', backoffCoefficient: 1.5, maximumInterval: '2s' },
});

export async function settleTransaction(input: {
  topic: string;
  partition: number;
  message: BatchMessage;
}): Promise<void> {
  await settleOne(input);
}
