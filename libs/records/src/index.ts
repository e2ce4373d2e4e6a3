// Kafka records as the system reads and writes them: header conversion, the dead-letter
// builder, batch messages and outbox records. One place, used by ingest, settlement, replay.
export * from './headers';
export * from './dead-letter';
export * from './batch-message';
export * from './kafka-record';
export * from './range-reader';
