/**
 * Headers every dead letter carries on the DLQ topic, beside the original key, value and
 * headers, so an operator can find the source message and the reason without the database.
 */
export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  reason: string;
  field?: string | null;
  message: string;
}

export function deadLetterHeaders(source: DeadLetterSource): Record<string, string> {
  const headers: Record<string, string> = {
    'dlq-reason': source.reason,
    'dlq-message': source.message,
    'dlq-source-topic': source.topic,
    'dlq-source-partition': String(source.partition),
    'dlq-source-offset': source.offset,
  };
  if (source.field) headers['dlq-field'] = source.field;
  return headers;
}
