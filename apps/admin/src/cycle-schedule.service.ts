import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { CyclesConfig, KafkaConfig, TemporalConfig } from '@settlement/config';
import { CONFIG, LOGGER, TEMPORAL_CLIENT, type Logger } from '@settlement/platform';
import { ensureCycleSchedule } from '@settlement/temporal';

/**
 * Brings the settlement-cycle Schedule to the configured cut-offs at admin start. Admin, not
 * the worker: workers scale to zero with KEDA, and it is the Schedule's own start that wakes
 * them; admin always runs and rolls out with every configuration change. Replicas converge
 * on the same settings, so a race between two of them is harmless.
 */
@Injectable()
export class CycleScheduleService implements OnApplicationBootstrap {
  constructor(
    @Inject(CONFIG) private readonly config: KafkaConfig & TemporalConfig & CyclesConfig,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const settings = {
      topic: this.config.KAFKA_TOPIC,
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      cron: this.config.SETTLEMENT_CYCLE_CRON,
      timezone: this.config.SETTLEMENT_CYCLE_TIMEZONE,
    };
    const outcome = await ensureCycleSchedule(this.temporal, settings);
    this.logger.info({ ...settings, outcome }, 'settlement-cycle schedule');
  }
}
