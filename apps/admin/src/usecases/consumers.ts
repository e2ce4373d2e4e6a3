import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { KafkaConfig } from '@settlement/config';
import { getConsumerControl, setConsumptionPaused, type DatabaseHandle } from '@settlement/db';
import { metrics } from '@settlement/observability';
import { CONFIG, DATABASE } from '@settlement/platform';
import { recordAudit } from '../audit';
import { KafkaAdminService } from '../kafka-admin.service';
import type { Caller } from './context';

export const pauseSchema = z
  .object({
    reason: z
      .string({ message: 'reason must be a string' })
      .max(500, 'reason must be at most 500 chars')
      .optional(),
  })
  .strict();
export type PauseCommand = z.infer<typeof pauseSchema>;

export interface ConsumptionState {
  groupId: string;
  paused: boolean;
  reason: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface PartitionLag {
  partition: number;
  /** null when the group has not committed on this partition yet. */
  committedOffset: string | null;
  startOffset: string;
  endOffset: string;
  lag: string;
}

@Injectable()
export class ConsumerUseCases {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(CONFIG) private readonly config: KafkaConfig,
    private readonly kafkaAdmin: KafkaAdminService,
  ) {}

  /**
   * Writes the durable pause flag of the live consumer group (consumer_controls) and its audit
   * row in one transaction. Every ingest instance polls the flag and pauses or resumes within
   * a few seconds; a restarted instance reads it before consuming.
   */
  async setPaused(paused: boolean, cmd: PauseCommand, caller: Caller): Promise<ConsumptionState> {
    const groupId = this.config.KAFKA_GROUP_ID;
    const state = await this.database.db.transaction(async (tx) => {
      const row = await setConsumptionPaused(tx, groupId, paused, {
        reason: cmd.reason ?? null,
        updatedBy: caller.principal.name,
      });
      await recordAudit(tx, {
        principal: caller.principal,
        action: caller.action,
        target: groupId,
        details: { paused, reason: cmd.reason ?? null },
        outcome: 'SUCCESS',
        statusCode: 200,
      });
      return row;
    });
    metrics.pausedPartitions.set(paused ? 1 : 0);
    return {
      groupId,
      paused: state.paused,
      reason: state.reason,
      updatedAt: state.updatedAt.toISOString(),
      updatedBy: state.updatedBy,
    };
  }

  async state(): Promise<ConsumptionState> {
    const groupId = this.config.KAFKA_GROUP_ID;
    const row = await getConsumerControl(this.database.db, groupId);
    metrics.pausedPartitions.set(row?.paused ? 1 : 0);
    return {
      groupId,
      paused: row?.paused ?? false,
      reason: row?.reason ?? null,
      updatedAt: row?.updatedAt.toISOString() ?? null,
      updatedBy: row?.updatedBy ?? null,
    };
  }

  /** Per partition of the live topic: the group's committed offset, the log end, the lag. */
  async lag(): Promise<{
    groupId: string;
    topic: string;
    consumption: ConsumptionState;
    totalLag: string;
    partitions: PartitionLag[];
  }> {
    const topic = this.config.KAFKA_TOPIC;
    const groupId = this.config.KAFKA_GROUP_ID;
    const admin = await this.kafkaAdmin.get();
    const [ends, committed, consumption] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
      this.state(),
    ]);
    const committedBy = new Map(
      (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
        p.partition,
        p.offset,
      ]),
    );
    let total = 0n;
    const partitions = ends
      .map((e): PartitionLag => {
        const c = committedBy.get(e.partition);
        const hasCommit = c !== undefined && BigInt(c) >= 0n;
        const end = BigInt(e.high);
        const lag = end - (hasCommit ? BigInt(c) : BigInt(e.low));
        const clamped = lag < 0n ? 0n : lag;
        total += clamped;
        return {
          partition: e.partition,
          committedOffset: hasCommit ? String(c) : null,
          startOffset: e.low,
          endOffset: e.high,
          lag: clamped.toString(),
        };
      })
      .sort((a, b) => a.partition - b.partition);
    return { groupId, topic, consumption, totalLag: total.toString(), partitions };
  }
}
