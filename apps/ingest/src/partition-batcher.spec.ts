import { PartitionBatcher, type BatcherClock, type ClosedBatch } from './partition-batcher';

/** A clock whose time moves only when the test says so. */
class FakeClock implements BatcherClock {
  t = 1_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now = () => this.t;
  setTimer = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimer = (id: unknown) => void this.timers.delete(id as number);
  advance(ms: number) {
    this.t += ms;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at <= this.t) {
        this.timers.delete(id);
        timer.fn();
      }
    }
  }
  get pending() {
    return this.timers.size;
  }
}

function setup(limits = { maxMessages: 3, maxBytes: 100, maxWaitMs: 200 }) {
  const clock = new FakeClock();
  const closed: ClosedBatch<number>[] = [];
  const capacity = { ready: true };
  const batcher = new PartitionBatcher<number>(
    limits,
    (m) => m,
    (b) => closed.push(b),
    clock,
    () => capacity.ready,
  );
  return { clock, closed, batcher, capacity };
}

describe('PartitionBatcher', () => {
  it('closes at the message cap', () => {
    const { closed, batcher, clock } = setup();
    batcher.add([1, 1, 1, 1]);
    expect(closed.map((b) => b.messages)).toEqual([[1, 1, 1]]);
    expect(batcher.size).toBe(1);
    expect(clock.pending).toBe(1);
  });

  it('closes at the byte cap, including the message that reached it', () => {
    const { closed, batcher } = setup();
    batcher.add([40, 70, 5]);
    expect(closed.map((b) => b.messages)).toEqual([[40, 70]]);
    expect(batcher.size).toBe(1);
  });

  it('closes on time, counted from the first message, not the last', () => {
    const { closed, batcher, clock } = setup();
    batcher.add([1]);
    clock.advance(150);
    batcher.add([1]);
    clock.advance(49);
    expect(closed).toHaveLength(0);
    clock.advance(1);
    expect(closed).toEqual([{ messages: [1, 1], firstAt: 1_000, closedAt: 1_200 }]);
    expect(clock.pending).toBe(0);
  });

  it('clear drops the open batch and its timer; close of an empty batch hands nothing on', () => {
    const { closed, batcher, clock } = setup();
    batcher.add([1, 2]);
    batcher.clear();
    clock.advance(1_000);
    batcher.close();
    expect(closed).toHaveLength(0);
    expect(clock.pending).toBe(0);
  });

  it('a size close disarms the timer of the batch it closed', () => {
    const { closed, batcher, clock } = setup();
    batcher.add([1, 1]);
    batcher.add([1]);
    expect(closed).toHaveLength(1);
    expect(clock.pending).toBe(0);
    clock.advance(500);
    expect(closed).toHaveLength(1);
  });

  it('holds a batch due by time while the partition cannot start it, closes it on poke', () => {
    const { closed, batcher, clock, capacity } = setup({
      maxMessages: 10,
      maxBytes: 100,
      maxWaitMs: 200,
    });
    capacity.ready = false;
    batcher.add([1]);
    clock.advance(200);
    batcher.poke();
    expect(closed).toHaveLength(0);
    batcher.add([1, 1]);
    expect(batcher.size).toBe(3);
    clock.advance(300);
    capacity.ready = true;
    batcher.poke();
    expect(closed).toEqual([{ messages: [1, 1, 1], firstAt: 1_000, closedAt: 1_500 }]);
    expect(clock.pending).toBe(0);
  });

  it('a held batch still closes at its cap, and the next one waits for time again', () => {
    const { closed, batcher, clock, capacity } = setup();
    capacity.ready = false;
    batcher.add([1]);
    clock.advance(200);
    batcher.add([1, 1, 1]);
    expect(closed.map((b) => b.messages)).toEqual([[1, 1, 1]]);
    capacity.ready = true;
    batcher.poke();
    expect(closed).toHaveLength(1);
    clock.advance(200);
    expect(closed.map((b) => b.messages)).toEqual([[1, 1, 1], [1]]);
  });

  it('a due batch closes with the next message once the partition can start it', () => {
    const { closed, batcher, clock, capacity } = setup({
      maxMessages: 10,
      maxBytes: 100,
      maxWaitMs: 200,
    });
    capacity.ready = false;
    batcher.add([1]);
    clock.advance(250);
    capacity.ready = true;
    batcher.add([2]);
    expect(closed.map((b) => b.messages)).toEqual([[1, 2]]);
  });
});
