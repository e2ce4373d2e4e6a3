import { Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Client } from '@temporalio/client';
import type { DatabaseHandle } from '@settlement/db';
import { HealthController, READINESS_CHECKS } from '@settlement/observability';
import {
  DATABASE,
  InfrastructureModule,
  KAFKA,
  TEMPORAL_CLIENT,
  infrastructureChecks,
} from '@settlement/platform';
import type { IngestAppConfig } from './config';
import { IngestConsumerService } from './ingest-consumer.service';

@Module({})
export class IngestModule {
  static forRoot(config: IngestAppConfig): DynamicModule {
    return {
      module: IngestModule,
      imports: [
        InfrastructureModule.forRoot('ingest', config, {
          database: true,
          kafka: true,
          temporal: true,
        }),
      ],
      controllers: [HealthController],
      providers: [
        IngestConsumerService,
        {
          provide: READINESS_CHECKS,
          inject: [DATABASE, KAFKA, TEMPORAL_CLIENT, IngestConsumerService],
          useFactory: (
            db: DatabaseHandle,
            kafka: Kafka,
            temporal: Client,
            consumer: IngestConsumerService,
          ) => [
            ...infrastructureChecks(db, kafka, temporal),
            {
              name: 'consumer',
              check: async () => {
                if (!consumer.running()) throw new Error('kafka consumer is not running');
              },
            },
          ],
        },
      ],
    };
  }
}
