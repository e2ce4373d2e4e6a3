import type { KafkaMessage } from 'kafkajs';
import { outboxToKafka } from '@settlement/records';
import { formBatch } from './micro-batch';

const tx = (id: string, debit = 'acct-1') =>
  JSON.stringify({
    id,
    debitAccount: debit,
    creditAccount: 'acct-2',
    amount: '100',
    currency: 'EUR',
    occurredAt: '2026-11-25T10:00:00Z',
  });

const message = (
  offset: number,
  value: Buffer | string | null,
  key: string | null = 'acct-1',
  headers = {},
) =>
  ({
    offset: String(offset),
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value),
    timestamp: '1764064800000',
    attributes: 0,
    headers,
  }) as KafkaMessage;

describe('formBatch', () => {
  it('chains the range from the previous batch and ends after the last message', () => {
    const { input } = formBatch(
      'transactions',
      3,
      40n,
      [message(42, tx('a')), message(45, tx('b'))],
      7,
    );
    expect(input).toMatchObject({
      batchId: 'transactions-3-40-46',
      fromOffset: '40',
      nextOffset: '46',
      deadLettered: 0,
      closedAt: '1970-01-01T00:00:00.007Z',
    });
    expect(input.messages?.map((m) => [m.offset, m.key, JSON.parse(m.value).id])).toEqual([
      ['42', 'acct-1', 'a'],
      ['45', 'acct-1', 'b'],
    ]);
  });

  it('dead-letters bad input with reason, field, original bytes and source, and keeps the good', () => {
    const garbage = Buffer.from([0x7b, 0xff, 0xfe]);
    const { input, deadLetters } = formBatch(
      'transactions',
      0,
      0n,
      [
        message(0, garbage, 'acct-1', { trace: Buffer.from('t-1') }),
        message(1, tx('ok')),
        message(2, tx('wrong-key'), 'acct-9'),
        message(3, 'x'.repeat(5000)),
        message(4, JSON.stringify({ id: 'n', amount: 100 })),
      ],
      0,
    );
    expect(input.messages?.map((m) => m.offset)).toEqual(['1']);
    expect(input.deadLettered).toBe(4);
    expect(deadLetters.map((d) => [d.row.offset, d.row.reason, d.row.field])).toEqual([
      ['0', 'MALFORMED_JSON', '$'],
      ['2', 'SCHEMA_VIOLATION', 'key'],
      ['3', 'TOO_LARGE', '$'],
      ['4', 'SCHEMA_VIOLATION', 'debitAccount'],
    ]);
    const first = deadLetters[0];
    expect(Buffer.from(first.row.value, 'base64')).toEqual(garbage);
    const record = outboxToKafka(first.record);
    expect(record.value).toEqual(garbage);
    expect({ ...first.row.headers }).toEqual({ trace: 't-1' });
    expect({ ...record.headers }).toMatchObject({
      trace: Buffer.from('t-1'),
      'dlq-reason': Buffer.from('MALFORMED_JSON'),
      'dlq-source-topic': Buffer.from('transactions'),
      'dlq-source-partition': Buffer.from('0'),
      'dlq-source-offset': Buffer.from('0'),
      'dedupe-key': Buffer.from('transactions/0/0'),
    });
    expect(first.row.batchId).toBe('transactions-0-0-5');
  });

  it('keeps a batch of only dead letters, so the partition cursor still advances', () => {
    const { input, deadLetters } = formBatch('t', 1, 9n, [message(9, null)], 0);
    expect(input.messages).toEqual([]);
    expect(input.nextOffset).toBe('10');
    expect(deadLetters[0].row).toMatchObject({ reason: 'MALFORMED_JSON', value: '' });
  });
});
