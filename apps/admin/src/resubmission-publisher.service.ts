import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type Kafka, type Producer } from 'kafkajs';
import { publishPendingResubmissions, publishResubmission } from '@settlement/activities';
import type { AdminConfig } from '@settlement/config';
import type { DatabaseHandle } from '@settlement/db';
import { CONFIG, DATABASE, KAFKA, LOGGER, type Logger } from '@settlement/platform';
import { KeyHashPartitioner } from '@settlement/kafka';

/** Resubmissions older than this and still unpublished were left behind by a crash. */
const RELAY_AFTER_MS = 10_000;

/**
 * Publishes resubmitted dead letters to their source topic. A request publishes its own
 * resubmission right after the state change commits; a relay publishes any that a crash
 * left unpublished. Both go through publishResubmission, which claims the row and checks
 * for an earlier attempt's message, so none is lost and none is sent twice.
 */
@Injectable()
export class ResubmissionPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private producer?: Promise<Producer>;
  private relay?: NodeJS.Timeout;
  private relaying = false;

  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(CONFIG) private readonly config: AdminConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.relay = setInterval(
      () => void this.relayPending(),
      this.config.RESUBMIT_RELAY_INTERVAL_MS,
    );
    this.relay.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.relay) clearInterval(this.relay);
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect();
  }

  /** After the commit; a failure here is logged and left to the relay, the state is durable. */
  async publish(deadLetterId: string): Promise<boolean> {
    try {
      await publishResubmission(await this.deps(), deadLetterId);
      return true;
    } catch (err) {
      this.logger.warn({ err, deadLetterId }, 'resubmission not published yet; the relay retries');
      return false;
    }
  }

  private async relayPending(): Promise<void> {
    if (this.relaying) return;
    this.relaying = true;
    try {
      const n = await publishPendingResubmissions(await this.deps(), {
        olderThanMs: RELAY_AFTER_MS,
        limit: 500,
      });
      if (n > 0) this.logger.info({ published: n }, 'relayed unpublished resubmissions');
    } catch (err) {
      this.logger.warn({ err }, 'resubmission relay failed; retrying on the next tick');
    } finally {
      this.relaying = false;
    }
  }

  private async deps() {
    if (!this.producer) {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: false,
        // Keyed by debit account like every producer of the topic (Java-compatible murmur2).
        createPartitioner: KeyHashPartitioner,
      });
      this.producer = producer.connect().then(
        () => producer,
        (err: unknown) => {
          this.producer = undefined;
          throw err;
        },
      );
    }
    return { db: this.database.db, kafka: this.kafka, producer: await this.producer };
  }
}
