import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Kafka } from 'kafkajs';
import type { Client, Connection } from '@temporalio/client';
import type { DatabaseConfig, KafkaConfig, TemporalConfig } from '@settlement/config';
import { createDatabase, type DatabaseHandle } from '@settlement/db';
import { createKafka } from '@settlement/kafka';
import {
  createLogger,
  stopTracing,
  type Logger,
  type ReadinessCheck,
} from '@settlement/observability';
import { createTemporalClient } from '@settlement/temporal';
import { CONFIG, DATABASE, KAFKA, LOGGER, TEMPORAL_CLIENT } from './tokens';

type Needs = { database?: boolean; kafka?: boolean; temporal?: boolean };

/** Closes what the module opened, after the app's own shutdown hooks have run. */
@Injectable()
class InfrastructureShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle | null,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.temporal?.connection.close();
    await this.database?.close();
    // Last: the spans of the work finished in the shutdown hooks above are still queued.
    await stopTracing();
  }
}

/**
 * The connections a service needs, built once from validated configuration and shared
 * through the tokens in tokens.ts.
 */
@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(
    service: string,
    config: Partial<DatabaseConfig & KafkaConfig & TemporalConfig> & {
      LOG_LEVEL: string;
      LOG_FORMAT?: string;
    },
    needs: Needs,
  ): DynamicModule {
    const logger = createLogger(service, config.LOG_LEVEL);
    const providers: Provider[] = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
      {
        provide: DATABASE,
        useFactory: () =>
          needs.database
            ? createDatabase({
                url: config.DATABASE_URL as string,
                poolMax: config.DATABASE_POOL_MAX,
                applicationName: service,
              })
            : null,
      },
      {
        provide: KAFKA,
        useFactory: () =>
          needs.kafka ? createKafka(config as KafkaConfig, logger, `${service}`) : null,
      },
      {
        provide: TEMPORAL_CLIENT,
        useFactory: () => (needs.temporal ? createTemporalClient(config as TemporalConfig) : null),
      },
      InfrastructureShutdown,
    ];
    return {
      module: InfrastructureModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger,
            // The admin logs each request with its id (the caller's x-request-id, or a new
            // one, echoed back); probes and scrapes of the other services stay silent.
            autoLogging: service === 'admin' ? { ignore: (req) => isProbe(req.url) } : false,
            genReqId: requestId,
          },
        }),
      ],
      providers,
      exports: [CONFIG, LOGGER, DATABASE, KAFKA, TEMPORAL_CLIENT],
    };
  }
}

const isProbe = (url: string | undefined) => /^\/(health\/|metrics)/.test(url ?? '');

/** The request's id: the caller's `x-request-id` when it is sane, a new UUID otherwise. */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id =
    typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/** Readiness checks for whichever of the three dependencies a service uses. */
export function infrastructureChecks(
  database: DatabaseHandle | null,
  kafka: Kafka | null,
  temporal: Client | null,
): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [];
  if (database) {
    checks.push({ name: 'postgres', check: async () => void (await database.client`select 1`) });
  }
  if (kafka) {
    checks.push({
      name: 'kafka',
      check: async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          await admin.describeCluster();
        } finally {
          await admin.disconnect();
        }
      },
    });
  }
  if (temporal) {
    checks.push({
      name: 'temporal',
      check: async () => void (await (temporal.connection as Connection).healthService.check({})),
    });
  }
  return checks;
}

export type { Logger };
