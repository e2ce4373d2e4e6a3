import type { Message } from 'kafkajs';
import { headersToKafka } from './headers';
import { outboxToKafka, recordSize } from './kafka-record';

describe('recordSize', () => {
  it('counts key, value, framing and every header value with its key, in bytes', () => {
    const record: Message = {
      key: 'k€', // 4 bytes
      value: Buffer.alloc(10),
      headers: headersToKafka([
        ['a', Buffer.from('xy')],
        ['a', Buffer.from('z')],
        ['__proto__', Buffer.from('p')],
        ['é', Buffer.alloc(0)],
      ]),
    };
    // 64 framing + 4 + 10; headers: (1+2+8) + (1+1+8) + (9+1+8) + (2+0+8)
    expect(recordSize(record)).toBe(64 + 4 + 10 + 11 + 10 + 18 + 10);
  });

  it('counts string header values by their UTF-8 bytes and skips absent ones', () => {
    const record = {
      value: 'v',
      headers: { s: 'ü', none: undefined, list: ['ab', Buffer.from('c')] },
    } as unknown as Message;
    expect(recordSize(record)).toBe(64 + 1 + (1 + 2 + 8) + (4 + 2 + 8) + (4 + 1 + 8));
  });

  it('sizes an outcome record with its dedupe-key header', () => {
    const record = outboxToKafka({ key: 'tx-1', value: '{"id":"tx-1"}' });
    expect(recordSize(record)).toBe(64 + 4 + 13 + ('dedupe-key'.length + 4 + 8));
  });
});
