import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import type { Client } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import type { DatabaseHandle } from '@settlement/db';
import { HealthController, READINESS_CHECKS } from '@settlement/observability';
import {
  DATABASE,
  InfrastructureModule,
  KAFKA,
  TEMPORAL_CLIENT,
  infrastructureChecks,
} from '@settlement/platform';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuthGuard, TOKENS } from './auth/auth.guard';
import { TokenRateLimitGuard } from './auth/rate-limit.guard';
import { TokenFileWatcher } from './auth/token-rotation';
import type { TokenRegistry } from './auth/tokens';
import type { AdminAppConfig } from './config';
import { AccountsController } from './controllers/accounts.controller';
import { ConsumersController } from './controllers/consumers.controller';
import { DeadLettersController } from './controllers/dead-letters.controller';
import { SessionController } from './controllers/session.controller';
import { CyclesController } from './controllers/cycles.controller';
import { CycleScheduleService } from './cycle-schedule.service';
import { LookupsController } from './controllers/lookups.controller';
import { ReplaysController } from './controllers/replays.controller';
import { ErrorFilter } from './http/error.filter';
import { SafeInputPipe } from './http/safe-input.pipe';
import { KafkaAdminService } from './kafka-admin.service';
import { AccountsUseCases } from './usecases/accounts';
import { ConsumerUseCases } from './usecases/consumers';
import { DeadLetterUseCases } from './usecases/dead-letters';
import { ResubmissionPublisher } from './resubmission-publisher.service';
import { CycleUseCases } from './usecases/cycles';
import { LookupUseCases } from './usecases/lookups';
import { ReplayUseCases } from './usecases/replays';

@Module({})
export class AdminModule {
  static forRoot(config: AdminAppConfig, tokens: TokenRegistry): DynamicModule {
    return {
      module: AdminModule,
      imports: [
        InfrastructureModule.forRoot('admin', config, {
          database: true,
          kafka: true,
          temporal: true,
        }),
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 60_000, limit: config.ADMIN_RATE_LIMIT_PER_MINUTE }],
          errorMessage: `rate limit: at most ${config.ADMIN_RATE_LIMIT_PER_MINUTE} requests per minute per token`,
        }),
      ],
      controllers: [
        HealthController,
        AccountsController,
        LookupsController,
        ConsumersController,
        ReplaysController,
        DeadLettersController,
        SessionController,
        CyclesController,
      ],
      providers: [
        { provide: TOKENS, useValue: tokens },
        // Guards run in this order: who is calling, then how often.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: TokenRateLimitGuard },
        TokenFileWatcher,
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_PIPE, useClass: SafeInputPipe },
        KafkaAdminService,
        AccountsUseCases,
        LookupUseCases,
        ConsumerUseCases,
        ReplayUseCases,
        ResubmissionPublisher,
        DeadLetterUseCases,
        CycleUseCases,
        CycleScheduleService,
        {
          provide: READINESS_CHECKS,
          inject: [DATABASE, KAFKA, TEMPORAL_CLIENT],
          useFactory: (db: DatabaseHandle, kafka: Kafka, temporal: Client) =>
            infrastructureChecks(db, kafka, temporal),
        },
      ],
    };
  }
}
