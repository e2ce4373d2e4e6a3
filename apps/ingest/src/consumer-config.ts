import { PartitionAssigners, type ConsumerConfig } from 'kafkajs';
import type { IngestAppConfig } from './config';
import { stickyAssigner, type PartitionOwnership } from './sticky-assigner';

/** The consumer's settings: fetch bounds, group session and the partition assigners. */
export function consumerConfig(c: IngestAppConfig, ownership: PartitionOwnership): ConsumerConfig {
  return {
    groupId: c.KAFKA_GROUP_ID,
    maxBytesPerPartition: c.INGEST_MAX_BYTES_PER_PARTITION,
    maxBytes: c.INGEST_MAX_BYTES,
    maxWaitTimeInMs: Math.min(c.BATCH_MAX_WAIT_MS, 500),
    sessionTimeout: c.INGEST_SESSION_TIMEOUT_MS,
    heartbeatInterval: Math.min(3_000, Math.floor(c.INGEST_SESSION_TIMEOUT_MS / 3)),
    rebalanceTimeout: 60_000,
    // Sticky first, round-robin as the fallback while a rolling deploy mixes versions.
    partitionAssigners: [stickyAssigner(ownership), PartitionAssigners.roundRobin],
  };
}
