/**
 * The micro-batch close rules of one partition, pure: messages accumulate until
 * `maxMessages`, `maxBytes` (by the caller's cost function) or `maxWaitMs` after the first
 * one, whichever comes first - except that a batch due by time stays open while `ready`
 * says the partition cannot start it anyway (its in-flight batches are at the cap): it keeps
 * growing and closes as soon as the partition can take it (`poke`) or at a cap. Under load
 * batches grow to the caps (fewer per-batch costs), at low load they close after
 * `maxWaitMs` (latency). Time comes from an injected clock, so the rules are tested with a
 * fake one.
 */
export interface BatcherClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: BatcherClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BatchLimits {
  maxMessages: number;
  maxBytes: number;
  maxWaitMs: number;
}

export interface ClosedBatch<M> {
  messages: M[];
  /** When the first message arrived and when the batch closed (clock ms). */
  firstAt: number;
  closedAt: number;
}

export class PartitionBatcher<M> {
  private buffer: M[] = [];
  private bytes = 0;
  private firstAt = 0;
  private timer: unknown;
  /** The wait elapsed while the partition could not take the batch. */
  private due = false;

  constructor(
    private readonly limits: BatchLimits,
    private readonly cost: (m: M) => number,
    private readonly onClose: (batch: ClosedBatch<M>) => void,
    private readonly clock: BatcherClock = systemClock,
    private readonly ready: () => boolean = () => true,
  ) {}

  get size(): number {
    return this.buffer.length;
  }

  /** Adds messages in order; closes on the size and byte caps, arms the wait timer. */
  add(messages: Iterable<M>): void {
    for (const m of messages) {
      if (this.buffer.length === 0) this.firstAt = this.clock.now();
      this.buffer.push(m);
      this.bytes += this.cost(m);
      if (this.buffer.length >= this.limits.maxMessages || this.bytes >= this.limits.maxBytes) {
        this.close();
      }
    }
    if (this.due) {
      this.poke();
    } else if (this.buffer.length > 0 && this.timer === undefined) {
      const wait = Math.max(0, this.firstAt + this.limits.maxWaitMs - this.clock.now());
      this.timer = this.clock.setTimer(() => this.waitElapsed(), wait);
    }
  }

  /** Closes a batch that is due by time once the partition can take it. */
  poke(): void {
    if (this.due && this.ready()) this.close();
  }

  private waitElapsed(): void {
    this.timer = undefined;
    this.due = true;
    this.poke();
  }

  /** Closes the open batch, if any, and hands it on. */
  close(): void {
    if (this.buffer.length === 0) {
      this.clear();
      return;
    }
    const closed: ClosedBatch<M> = {
      messages: this.buffer,
      firstAt: this.firstAt,
      closedAt: this.clock.now(),
    };
    this.clear();
    this.onClose(closed);
  }

  /** Drops the open batch (its messages are read again after a rebalance). */
  clear(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.due = false;
    this.buffer = [];
    this.bytes = 0;
  }
}

/** The messages in order, stopping as soon as the fetch went stale or the consumer stopped. */
export function* whileLive<M>(messages: readonly M[], live: () => boolean): Iterable<M> {
  for (const m of messages) {
    if (!live()) return;
    yield m;
  }
}
