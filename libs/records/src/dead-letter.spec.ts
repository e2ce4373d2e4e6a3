import { createHash } from 'node:crypto';
import { DLQ_LIMITS } from '@settlement/contracts';
import { buildDeadLetter, type SourceRecord } from './dead-letter';
import { headersFromKafka, headersToKafka, loadHeaders, storeHeaders } from './headers';
import { outboxToKafka, recordSize } from './kafka-record';

const verdict = { reason: 'TOO_LARGE', field: '$', message: 'the value is larger than 4096 bytes' };
const source = (value: Buffer, key: Buffer | null = Buffer.from('acct-1')): SourceRecord => ({
  topic: 'transactions',
  partition: 0,
  offset: '41',
  key,
  value,
  headers: [['trace', Buffer.from('t')]],
});
const text = (v: unknown) => (v === undefined ? undefined : String(v));

describe('buildDeadLetter', () => {
  it('carries a small original whole', () => {
    const value = Buffer.alloc(DLQ_LIMITS.valueBytes, 0x61);
    const record = outboxToKafka(buildDeadLetter(source(value), verdict, 'b').record);
    expect(record.value).toEqual(value);
    expect(record.headers?.['dlq-value-truncated']).toBeUndefined();
  });

  it('keeps a large original whole in the row and a prefix, size and sha256 in the record', () => {
    const value = Buffer.alloc(1_000_000, 0x62);
    const key = Buffer.alloc(5000, 0x6b);
    const dead = buildDeadLetter(source(value, key), verdict, 'b');
    expect(Buffer.from(dead.row.value, 'base64')).toEqual(value);
    const record = outboxToKafka(dead.record);
    expect(record.value).toEqual(value.subarray(0, DLQ_LIMITS.valueBytes));
    expect(record.key).toEqual(key.subarray(0, DLQ_LIMITS.keyBytes));
    const h = record.headers ?? {};
    expect(text(h['dlq-value-truncated'])).toBe('true');
    expect(text(h['dlq-value-size'])).toBe('1000000');
    expect(text(h['dlq-value-sha256'])).toBe(createHash('sha256').update(value).digest('hex'));
    expect(text(h['dlq-key-size'])).toBe('5000');
    expect(text(h['dedupe-key'])).toBe('transactions/0/41');
    expect(recordSize(record)).toBeLessThan(64 * 1024);
  });

  it('leaves out original headers that together are too large, and says how many', () => {
    const s = source(Buffer.from('x'));
    s.headers = [
      ['a', Buffer.alloc(DLQ_LIMITS.headerBytes, 1)],
      ['b', Buffer.from('y')],
    ];
    const record = outboxToKafka(buildDeadLetter(s, verdict, null).record);
    expect(record.headers?.a).toBeUndefined();
    expect(text(record.headers?.['dlq-headers-omitted'])).toBe('2');
  });
});

describe('headers', () => {
  it('keeps a __proto__ header, repeated keys and arbitrary bytes through every form', () => {
    const decoded = JSON.parse('{"__proto__":"p","k":["1","2"]}') as Record<string, unknown>;
    const list = headersFromKafka(decoded as never);
    expect(list).toEqual([
      ['__proto__', Buffer.from('p')],
      ['k', Buffer.from('1')],
      ['k', Buffer.from('2')],
    ]);
    const back = headersToKafka(loadHeaders(JSON.parse(JSON.stringify(storeHeaders(list)))));
    expect(Object.keys(back)).toEqual(['__proto__', 'k']);
    expect(back.k).toEqual([Buffer.from('1'), Buffer.from('2')]);
  });

  it('reads headers stored by older versions as UTF-8 objects', () => {
    expect(loadHeaders({ trace: 'x' })).toEqual([['trace', Buffer.from('x')]]);
    expect(loadHeaders(null)).toEqual([]);
  });
});
