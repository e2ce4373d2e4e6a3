import { Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DatabaseHandle } from '@settlement/db';
import { HealthController, READINESS_CHECKS } from '@settlement/observability';
import { DATABASE, InfrastructureModule, KAFKA, infrastructureChecks } from '@settlement/platform';
import type { WorkerAppConfig } from './config';
import { TemporalWorkerService } from './temporal-worker.service';

@Module({})
export class WorkerModule {
  static forRoot(config: WorkerAppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [InfrastructureModule.forRoot('worker', config, { database: true, kafka: true })],
      controllers: [HealthController],
      providers: [
        TemporalWorkerService,
        {
          provide: READINESS_CHECKS,
          inject: [DATABASE, KAFKA, TemporalWorkerService],
          useFactory: (db: DatabaseHandle, kafka: Kafka, worker: TemporalWorkerService) => [
            ...infrastructureChecks(db, kafka, null),
            {
              name: 'temporal-worker',
              check: async () => {
                if (worker.state() !== 'RUNNING') throw new Error(`worker is ${worker.state()}`);
              },
            },
          ],
        },
      ],
    };
  }
}
