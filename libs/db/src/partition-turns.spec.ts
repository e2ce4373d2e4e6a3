import { PartitionTurns } from './partition-turns';

describe('PartitionTurns', () => {
  it('wakes a watch at its partition’s announcement, not another’s', async () => {
    const turns = new PartitionTurns();
    const watch = turns.watch('tx', 3);
    const woke = watch.next(60_000).then(() => 'woke');
    turns.moved('tx/4');
    turns.moved('other/3');
    expect(await Promise.race([woke, new Promise((r) => setTimeout(() => r('still'), 50))])).toBe(
      'still',
    );
    turns.moved('tx/3');
    expect(await woke).toBe('woke');
    watch.close();
    expect(turns.watching).toBe(0);
  });

  it('does not lose an announcement that came between two waits', async () => {
    const turns = new PartitionTurns();
    const watch = turns.watch('tx', 0);
    turns.moved('tx/0');
    const started = Date.now();
    await watch.next(60_000);
    expect(Date.now() - started).toBeLessThan(30_000);
    watch.close();
  });

  it('gives up waiting after the timeout, and close releases a pending wait', async () => {
    const turns = new PartitionTurns();
    const watch = turns.watch('tx', 0);
    const started = Date.now();
    await watch.next(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    const pending = watch.next(60_000);
    watch.close();
    await pending;
    expect(turns.watching).toBe(0);
  });
});
