import { advanceCursor, ensureCursor, PartitionTurns } from '@settlement/db';
import { createTestDatabase, type TestDatabase } from './support/database';

/**
 * The wake-up of a batch waiting for its predecessor, on the real PostgreSQL: the settle
 * transaction's announcement (advanceCursor) reaches a listener on another connection at
 * commit, and a rolled-back one never does.
 */
describe('partition turns (LISTEN/NOTIFY on PostgreSQL)', () => {
  let db: TestDatabase;
  let listening: Awaited<ReturnType<typeof PartitionTurns.listen>>;

  beforeAll(async () => {
    db = await createTestDatabase('turns');
    await ensureCursor(db.db, 'tx', 0, '0');
    listening = await PartitionTurns.listen(db.client);
  });

  afterAll(async () => {
    await listening?.unlisten();
    await db?.drop();
  });

  it('wakes the watcher when the transaction moving the cursor commits', async () => {
    const watch = listening.turns.watch('tx', 0);
    const committed = db.db.transaction((tx) => advanceCursor(tx, 'tx', 0, '10'));
    const started = Date.now();
    await committed;
    await watch.next(60_000);
    const ms = Date.now() - started;
    watch.close();
    process.stdout.write(`woken ${ms} ms after the commit began (fallback would be 60,000)\n`);
    expect(ms).toBeLessThan(30_000);
  });

  it('does not wake anyone for a rolled-back transaction', async () => {
    const watch = listening.turns.watch('tx', 0);
    await expect(
      db.db.transaction(async (tx) => {
        await advanceCursor(tx, 'tx', 0, '20');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const started = Date.now();
    await watch.next(1500);
    watch.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});
