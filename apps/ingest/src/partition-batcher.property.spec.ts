import fc from 'fast-check';
import { PartitionBatcher, type BatcherClock, type ClosedBatch } from './partition-batcher';

/**
 * The batcher's close rules on random runs of arrivals, clock steps and explicit closes:
 * nothing is lost, repeated or reordered; no batch is empty or above its caps; a batch closes
 * as soon as it reaches a cap, and no open batch outlives its wait. A failing run shrinks to
 * the shortest list of operations that breaks a rule.
 */

type Op = { op: 'add'; costs: number[] } | { op: 'advance'; ms: number } | { op: 'close' };

const LIMITS = { maxMessages: 4, maxBytes: 10, maxWaitMs: 50 };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('add' as const),
    costs: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 9 }),
  }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 80 }) }),
  fc.constant({ op: 'close' as const }),
);

/** The batcher holds at most one timer; this clock runs it when time passes its due time. */
function steppedClock() {
  let now = 0;
  let timer: { due: number; fire: () => void } | undefined;
  const clock: BatcherClock = {
    now: () => now,
    setTimer: (fire, ms) => (timer = { due: now + ms, fire }),
    clearTimer: (handle) => {
      if (handle === timer) timer = undefined;
    },
  };
  const advance = (ms: number) => {
    now += ms;
    const due = timer;
    if (due && due.due <= now) {
      timer = undefined;
      due.fire();
    }
  };
  return { clock, advance };
}

interface Message {
  seq: number;
  cost: number;
}

function run(ops: Op[]) {
  const { clock, advance } = steppedClock();
  const closed: (ClosedBatch<Message> & { during: Op['op'] })[] = [];
  let current: Op['op'] = 'add';
  const batcher = new PartitionBatcher<Message>(
    LIMITS,
    (m) => m.cost,
    (b) => closed.push({ ...b, during: current }),
    clock,
  );
  const sent: Message[] = [];
  for (const o of ops) {
    current = o.op;
    if (o.op === 'add') {
      const messages = o.costs.map((cost, i) => ({ seq: sent.length + i, cost }));
      sent.push(...messages);
      batcher.add(messages);
    } else if (o.op === 'advance') advance(o.ms);
    else batcher.close();
  }
  return { closed, sent, batcher };
}

const bytes = (b: ClosedBatch<Message>) => b.messages.reduce((n, m) => n + m.cost, 0);

describe('PartitionBatcher close rules (property)', () => {
  it('hands on every message once, in order, in non-empty batches within the caps', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const { closed, sent, batcher } = run(ops);
        const handed = closed.flatMap((b) => b.messages.map((m) => m.seq));
        // What is not handed on yet is exactly the open batch: the tail of what was sent.
        expect([...handed, ...sent.slice(handed.length).map((m) => m.seq)]).toEqual(
          sent.map((m) => m.seq),
        );
        expect(sent.length - handed.length).toBe(batcher.size);
        for (const b of closed) {
          expect(b.messages.length).toBeGreaterThan(0);
          expect(b.messages.length).toBeLessThanOrEqual(LIMITS.maxMessages);
          // Closes as soon as a cap is reached: without its last message it was under both.
          const head = b.messages.slice(0, -1);
          expect(head.length).toBeLessThan(LIMITS.maxMessages);
          expect(head.reduce((n, m) => n + m.cost, 0)).toBeLessThan(LIMITS.maxBytes);
          expect(b.closedAt).toBeGreaterThanOrEqual(b.firstAt);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('closes a batch below both caps only by its wait or an explicit close, never early', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const { closed } = run(ops);
        for (const b of closed) {
          const atCap = b.messages.length >= LIMITS.maxMessages || bytes(b) >= LIMITS.maxBytes;
          if (atCap) expect(b.during).toBe('add');
          else if (b.during === 'advance')
            expect(b.closedAt - b.firstAt).toBeGreaterThanOrEqual(LIMITS.maxWaitMs);
          else expect(b.during).toBe('close');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never keeps a batch open past its wait once time moves on', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 30 }),
        fc.integer({ min: LIMITS.maxWaitMs, max: 500 }),
        (ops, later) => {
          const { batcher } = run([...ops, { op: 'advance', ms: later }]);
          expect(batcher.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
