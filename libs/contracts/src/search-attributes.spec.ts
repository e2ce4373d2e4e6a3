import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  batchStartAttributes,
  batchSummary,
  countAttributes,
  describeCounts,
  describeRange,
  groupDigits,
  replaySummary,
  searchAttributeRegistrations,
} from './search-attributes';

const range = { topic: 'transactions', partition: 4, fromOffset: '40', nextOffset: '43' };

describe('the Web UI view of a batch', () => {
  it('names the range with inclusive offsets', () => {
    expect(describeRange(range)).toBe('transactions[4] offsets 40-42');
    expect(describeRange({ ...range, nextOffset: '41' })).toBe('transactions[4] offset 40');
  });

  it('reads like a sentence, with grouped digits and dead-letter reasons', () => {
    expect(
      `${describeRange(range)}: ${describeCounts({ settled: 3050, rejected: 50, deadLettered: 0 })}`,
    ).toBe('transactions[4] offsets 40-42: 3,050 settled, 50 rejected');
    expect(
      describeCounts({
        settled: 1,
        rejected: 0,
        deadLettered: 3,
        deadLetterReasons: { DUPLICATE_CONFLICT: 2, MALFORMED_JSON: 1 },
      }),
    ).toBe('1 settled, 0 rejected, 3 dead-lettered (DUPLICATE_CONFLICT 2, MALFORMED_JSON 1)');
    expect(batchSummary(range, 3, 1)).toBe(
      'transactions[4] offsets 40-42: 3 messages, 1 dead-lettered at ingest',
    );
    expect(batchSummary({ ...range, nextOffset: '41' }, 1, 0)).toBe(
      'transactions[4] offset 40: 1 message',
    );
    expect(groupDigits(1234567)).toBe('1,234,567');
    expect(
      replaySummary('rpl-1', 'transactions', 'settle', [
        { partition: 0, fromOffset: '0', toOffset: '100' },
      ]),
    ).toBe('replay rpl-1 (settle) of transactions[0] offsets 0-99');
  });

  it('starts RUNNING with topic, partition and offsets, then upserts counts and sorted reasons', () => {
    const start = Object.fromEntries(batchStartAttributes(range).map((p) => [p.key.name, p.value]));
    expect(start).toEqual({
      SettlementTopic: 'transactions',
      SettlementPartition: '4',
      SettlementFirstOffset: 40,
      SettlementLastOffset: 42,
      SettlementStatus: 'RUNNING',
    });
    const done = Object.fromEntries(
      countAttributes('SETTLED', {
        settled: 2,
        rejected: 1,
        deadLettered: 1,
        deadLetterReasons: { TOO_LARGE: 0, DUPLICATE_CONFLICT: 1 },
      }).map((p) => [p.key.name, p.value]),
    );
    expect(done).toMatchObject({
      SettlementStatus: 'SETTLED',
      SettlementSettled: 2,
      SettlementDeadLetterReasons: ['DUPLICATE_CONFLICT'],
    });
  });

  it('registers in stack:up exactly the attributes the code sets', () => {
    const lib = readFileSync(path.resolve(__dirname, '../../../scripts/stack/lib.sh'), 'utf8');
    const block = /TEMPORAL_SEARCH_ATTRIBUTES=\(([^)]*)\)/.exec(lib)?.[1] ?? '';
    const registered = [...block.matchAll(/"([A-Za-z]+):([A-Za-z]+)"/g)].map(
      (m) => `${m[1]}:${m[2]}`,
    );
    for (const [name, type] of searchAttributeRegistrations()) {
      expect(registered).toContain(`${name}:${type}`);
    }
  });
});
