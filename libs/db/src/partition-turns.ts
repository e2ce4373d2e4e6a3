import type postgres from 'postgres';

/**
 * The channel a settlement announces a moved partition cursor on (payload `topic/partition`),
 * from its transaction (advanceCursor): PostgreSQL delivers it when, and only if, it commits.
 */
export const CURSOR_MOVED_CHANNEL = 'settlement_cursor_moved';

/** The announcement's payload, and the key its watchers are found by. */
export const cursorKey = (topic: string, partition: number) => `${topic}/${partition}`;

export interface TurnWatch {
  next(ms: number): Promise<void>;
  close(): void;
}

/**
 * Where batches wait for their partition's turn (the previous batch committed). A waiter
 * wakes when any process's settlement announces that cursor moved (LISTEN), or after its
 * timeout at the latest: the timeout is the fallback for a missed announcement, so the
 * waiting batches of busy partitions no longer poll PostgreSQL every few milliseconds
 * (which cost the worker and PostgreSQL more CPU than the settlement of small batches).
 */
export class PartitionTurns {
  private readonly watchers = new Map<string, Set<() => void>>();

  /**
   * Watches the cursor of (topic, partition) from now on: `next(ms)` resolves at once if an
   * announcement came since the last call (none is lost between a cursor read and the wait),
   * else at the next one, or after `ms`. Close it when done.
   */
  watch(topic: string, partition: number): TurnWatch {
    const key = cursorKey(topic, partition);
    const set = this.watchers.get(key) ?? new Set();
    this.watchers.set(key, set);
    let announced = false;
    let wake: (() => void) | undefined;
    const onMoved = () => {
      announced = true;
      wake?.();
    };
    set.add(onMoved);
    return {
      next: (ms) =>
        new Promise((resolve) => {
          const done = () => {
            clearTimeout(timer);
            wake = undefined;
            announced = false;
            resolve();
          };
          const timer = setTimeout(done, announced ? 0 : ms);
          wake = done;
        }),
      close: () => {
        set.delete(onMoved);
        if (set.size === 0 && this.watchers.get(key) === set) this.watchers.delete(key);
        wake?.();
      },
    };
  }

  /** Wakes the watchers of the partition named by an announcement's payload. */
  moved(payload: string): void {
    for (const onMoved of [...(this.watchers.get(payload) ?? [])]) onMoved();
  }

  /** Open watches (tests). */
  get watching(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /**
   * Listens for announcements on a dedicated connection of `client` (postgres.js re-listens
   * after a reconnect; announcements missed meanwhile are covered by the waiters' timeouts).
   */
  static async listen(
    client: postgres.Sql,
  ): Promise<{ turns: PartitionTurns; unlisten: () => Promise<void> }> {
    const turns = new PartitionTurns();
    const { unlisten } = await client.listen(CURSOR_MOVED_CHANNEL, (payload) =>
      turns.moved(payload),
    );
    return { turns, unlisten };
  }
}
