import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import type { KafkaConfig } from '@settlement/config';
import type { Logger } from '@settlement/observability';
import { registerCodecs } from './codecs';

/**
 * Builds the kafkajs client from validated configuration. Plaintext, TLS, SASL/PLAIN,
 * SCRAM and MSK IAM (OAUTHBEARER signed with the pod's AWS credentials, e.g. EKS Pod
 * Identity) are settings, not code paths chosen by the callers.
 */
export function createKafka(
  config: KafkaConfig,
  logger: Logger,
  clientId = config.KAFKA_CLIENT_ID,
): Kafka {
  registerCodecs(config.KAFKA_MAX_DECOMPRESSED_BATCH_BYTES);
  const options: KafkaJsConfig = {
    clientId,
    brokers: config.KAFKA_BROKERS,
    ssl: config.KAFKA_SSL || config.KAFKA_SASL_MECHANISM === 'aws-msk-iam',
    sasl: saslOptions(config),
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 200, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }) => {
        const { message, ...extra } = log;
        const method =
          level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug';
        logger[method]({ kafka: namespace, ...extra }, message);
      },
  };
  return new Kafka(options);
}

function saslOptions(config: KafkaConfig): SASLOptions | undefined {
  switch (config.KAFKA_SASL_MECHANISM) {
    case 'none':
      return undefined;
    case 'aws-msk-iam': {
      const region = config.AWS_REGION as string;
      return {
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => {
          const { token } = await generateAuthToken({ region });
          return { value: token };
        },
      };
    }
    default:
      return {
        mechanism: config.KAFKA_SASL_MECHANISM,
        username: config.KAFKA_SASL_USERNAME as string,
        password: config.KAFKA_SASL_PASSWORD as string,
      } as SASLOptions;
  }
}
