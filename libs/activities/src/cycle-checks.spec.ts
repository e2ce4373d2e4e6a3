import { describeLagging, partitionsBehind, storedTotalsDiffer } from './cycle-checks';

describe('partitionsBehind', () => {
  const target = (topic: string, partition: number, nextOffset: string) => ({
    topic,
    partition,
    nextOffset,
  });
  const cursor = (topic: string, partition: number, nextOffset: bigint) => ({
    topic,
    partition,
    nextOffset,
  });

  it('lists the partitions before their target or without a cursor, by topic then partition', () => {
    const lagging = partitionsBehind(
      [target('tx', 10, '40'), target('tx', 2, '5'), target('a', 1, '7'), target('tx', 3, '9')],
      [cursor('tx', 10, 12n), cursor('tx', 2, 5n), cursor('tx', 3, 10n), cursor('a', 2, 100n)],
    );
    expect(lagging).toEqual([
      { topic: 'a', partition: 1, target: 7n, cursor: null },
      { topic: 'tx', partition: 10, target: 40n, cursor: 12n },
    ]);
    expect(describeLagging(lagging)).toBe('a/1 at no cursor of 7, tx/10 at 12 of 40');
  });

  it('compares offsets beyond 2^53 exactly', () => {
    const big = 2n ** 60n;
    expect(partitionsBehind([target('tx', 0, String(big + 1n))], [cursor('tx', 0, big)])).toEqual([
      { topic: 'tx', partition: 0, target: big + 1n, cursor: big },
    ]);
    expect(partitionsBehind([target('tx', 0, String(big))], [cursor('tx', 0, big)])).toEqual([]);
  });

  it('keeps a topic and partition apart from another topic with the same partition', () => {
    expect(
      partitionsBehind([target('b', 0, '3')], [cursor('a', 0, 3n), cursor('b', 1, 3n)]),
    ).toEqual([{ topic: 'b', partition: 0, target: 3n, cursor: null }]);
  });
});

describe('storedTotalsDiffer', () => {
  const totals = new Map([
    ['EUR', { debits: 1200n, credits: 1200n }],
    ['USD', { debits: 0n, credits: 0n }],
  ]);

  it('accepts stored totals equal to the positions, and a currency that did not move left out', () => {
    expect(storedTotalsDiffer(totals, { EUR: { debits: '1200', credits: '1200' } })).toBe(false);
  });

  it('finds a stored side that differs, or a currency that moved but was not stored', () => {
    expect(storedTotalsDiffer(totals, { EUR: { debits: '1200', credits: '1100' } })).toBe(true);
    expect(storedTotalsDiffer(totals, { EUR: { debits: '1100', credits: '1200' } })).toBe(true);
    expect(storedTotalsDiffer(totals, {})).toBe(true);
  });

  it('compares amounts beyond 2^53 exactly', () => {
    const big = 2n ** 60n + 1n;
    const moved = new Map([['EUR', { debits: big, credits: big }]]);
    expect(storedTotalsDiffer(moved, { EUR: { debits: String(big), credits: String(big) } })).toBe(
      false,
    );
    expect(
      storedTotalsDiffer(moved, { EUR: { debits: String(big - 1n), credits: String(big) } }),
    ).toBe(true);
  });
});
