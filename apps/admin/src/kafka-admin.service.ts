import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { KAFKA } from '@settlement/platform';

/** One connected kafkajs admin client for the app's lifetime (lag, offset lookups). */
@Injectable()
export class KafkaAdminService implements OnApplicationShutdown {
  private admin?: Promise<Admin>;

  constructor(@Inject(KAFKA) private readonly kafka: Kafka) {}

  get(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(
        () => admin,
        (err: unknown) => {
          this.admin = undefined;
          throw err;
        },
      );
    }
    return this.admin;
  }

  async onApplicationShutdown(): Promise<void> {
    const admin = await this.admin?.catch(() => undefined);
    await admin?.disconnect();
  }
}
