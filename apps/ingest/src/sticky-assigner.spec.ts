import { AssignerProtocol, PartitionAssigners, type Cluster } from 'kafkajs';
import {
  PartitionOwnership,
  STICKY_ASSIGNER_NAME,
  decodeClaims,
  encodeClaims,
  stickyAssigner,
  stickyAssignment,
  type MemberClaims,
  type TopicPartitions,
} from './sticky-assigner';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const ids = (n: number) => range(n).map((i) => `m${String(i).padStart(2, '0')}`);

type Result = Record<string, TopicPartitions>;

/** topic-partition -> owner */
function owners(result: Result): Map<string, string> {
  const out = new Map<string, string>();
  for (const [member, a] of Object.entries(result))
    for (const [topic, ps] of Object.entries(a))
      for (const p of ps) {
        const key = `${topic}:${p}`;
        if (out.has(key)) throw new Error(`${key} assigned twice`);
        out.set(key, member);
      }
  return out;
}

const sizes = (result: Result) =>
  Object.values(result).map((a) => Object.values(a).reduce((n, ps) => n + ps.length, 0));

function expectValid(result: Result, partitions: TopicPartitions, memberIds: string[]): void {
  const o = owners(result);
  const total = Object.values(partitions).reduce((n, ps) => n + ps.length, 0);
  expect(o.size).toBe(total);
  for (const [topic, ps] of Object.entries(partitions))
    for (const p of ps) expect(o.has(`${topic}:${p}`)).toBe(true);
  expect(Object.keys(result).sort()).toEqual([...memberIds].sort());
  const s = sizes(result);
  expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
  expect(Math.min(...s)).toBe(Math.floor(total / memberIds.length));
}

const claimsFrom = (result: Result): MemberClaims[] =>
  Object.entries(result).map(([memberId, owned]) => ({ memberId, owned }));

/** How many partitions changed owner between two assignments (new ones not counted). */
function moved(before: Result, after: Result): number {
  const a = owners(before);
  const b = owners(after);
  let n = 0;
  for (const [key, owner] of a) if (b.has(key) && b.get(key) !== owner) n++;
  return n;
}

describe('stickyAssignment', () => {
  const one = (n: number): TopicPartitions => ({ t: range(n) });

  it('balances a fresh group (no claims): floor or ceil each, every partition once', () => {
    for (let p = 0; p <= 24; p++)
      for (let n = 1; n <= 9; n++) {
        const members = ids(n).map((memberId) => ({ memberId, owned: {} }));
        expectValid(stickyAssignment(members, one(p)), one(p), ids(n));
      }
  });

  it('is deterministic: the order of members and claims does not matter', () => {
    const members: MemberClaims[] = [
      { memberId: 'b', owned: { t: [3, 1] } },
      { memberId: 'a', owned: { t: [0, 2, 1] } },
      { memberId: 'c', owned: {} },
    ];
    const r1 = stickyAssignment(members, { t: range(8) });
    const r2 = stickyAssignment(
      [...members].reverse().map((m) => ({ ...m, owned: { t: [...(m.owned.t ?? [])].reverse() } })),
      { t: range(8).reverse() },
    );
    expect(r2).toEqual(r1);
  });

  it('keeps a balanced assignment exactly as it is', () => {
    for (let p = 1; p <= 16; p++)
      for (let n = 1; n <= 6; n++) {
        const first = stickyAssignment(
          ids(n).map((memberId) => ({ memberId, owned: {} })),
          one(p),
        );
        expect(stickyAssignment(claimsFrom(first), one(p))).toEqual(first);
      }
  });

  it('scale out: adding a member moves only the partitions the new member gets (≤ ceil(P/N))', () => {
    for (let p = 1; p <= 24; p++)
      for (let n = 1; n <= 8; n++) {
        const before = stickyAssignment(
          ids(n).map((memberId) => ({ memberId, owned: {} })),
          one(p),
        );
        const newcomer = 'z-new';
        const after = stickyAssignment(
          [...claimsFrom(before), { memberId: newcomer, owned: {} }],
          one(p),
        );
        expectValid(after, one(p), [...ids(n), newcomer]);
        const gained = after[newcomer].t.length;
        expect(gained).toBeLessThanOrEqual(Math.ceil(p / (n + 1)));
        expect(moved(before, after)).toBe(gained);
        // The old members keep a subset of what they had.
        for (const id of ids(n)) {
          for (const q of after[id].t) expect(before[id].t).toContain(q);
        }
      }
  });

  it('8 partitions, 1 -> 2 -> 1 members: 4 move out, then 4 move back', () => {
    const a = stickyAssignment([{ memberId: 'a', owned: {} }], one(8));
    expect(a.a.t).toEqual(range(8));
    const ab = stickyAssignment([...claimsFrom(a), { memberId: 'b', owned: {} }], one(8));
    expect(ab.a.t).toEqual([0, 1, 2, 3]);
    expect(ab.b.t).toEqual([4, 5, 6, 7]);
    const b = stickyAssignment([{ memberId: 'b', owned: ab.b }], one(8));
    expect(b.b.t).toEqual(range(8));
  });

  it('scale in: removing a member moves only its partitions', () => {
    for (let p = 1; p <= 24; p++)
      for (let n = 2; n <= 8; n++) {
        const before = stickyAssignment(
          ids(n).map((memberId) => ({ memberId, owned: {} })),
          one(p),
        );
        for (const leaver of [ids(n)[0], ids(n)[n - 1]]) {
          const rest = claimsFrom(before).filter((m) => m.memberId !== leaver);
          const after = stickyAssignment(rest, one(p));
          expectValid(
            after,
            one(p),
            rest.map((m) => m.memberId),
          );
          for (const m of rest)
            for (const q of before[m.memberId].t) expect(after[m.memberId].t).toContain(q);
          expect(moved(before, after)).toBe(before[leaver].t.length);
        }
      }
  });

  it('members with no prior claims get only partitions nobody keeps', () => {
    const r = stickyAssignment(
      [
        { memberId: 'a', owned: { t: [0, 1, 2] } },
        { memberId: 'b', owned: { t: [3, 4, 5] } },
        { memberId: 'c', owned: {} },
      ],
      one(6),
    );
    expect(r).toEqual({ a: { t: [0, 1] }, b: { t: [3, 4] }, c: { t: [2, 5] } });
  });

  it('gives the larger shares to the members that claim most (fewest moves)', () => {
    // 7 partitions over 3 members: quotas 3, 2, 2. b claims 3, so b keeps all of its own.
    const r = stickyAssignment(
      [
        { memberId: 'a', owned: { t: [0, 1] } },
        { memberId: 'b', owned: { t: [2, 3, 4] } },
        { memberId: 'c', owned: { t: [5] } },
      ],
      one(7),
    );
    expect(r).toEqual({ a: { t: [0, 1] }, b: { t: [2, 3, 4] }, c: { t: [5, 6] } });
  });

  it('ignores stale claims on partitions or topics that do not exist', () => {
    const r = stickyAssignment(
      [
        { memberId: 'a', owned: { t: [0, 9, 42], gone: [0, 1] } },
        { memberId: 'b', owned: { t: [1] } },
      ],
      one(4),
    );
    expectValid(r, one(4), ['a', 'b']);
    expect(r.a.t).toContain(0);
    expect(r.b.t).toContain(1);
    expect(r.a.gone).toBeUndefined();
  });

  it('duplicate claims (a stale member rejoining): each partition goes to one claimant', () => {
    const r = stickyAssignment(
      [
        { memberId: 'old', owned: { t: [0, 1, 2, 3] } },
        { memberId: 'new', owned: { t: [0, 1, 2, 3, 4, 5, 6, 7] } },
      ],
      one(8),
    );
    expectValid(r, one(8), ['old', 'new']);
    // Every partition stays with one of its claimants; the contested ones are shared.
    expect(r).toEqual({ new: { t: [4, 5, 6, 7] }, old: { t: [0, 1, 2, 3] } });
  });

  it('a member listed twice counts once', () => {
    const r = stickyAssignment(
      [
        { memberId: 'a', owned: { t: [0] } },
        { memberId: 'a', owned: { t: [1] } },
        { memberId: 'b', owned: {} },
      ],
      one(4),
    );
    expect(Object.keys(r).sort()).toEqual(['a', 'b']);
    expectValid(r, one(4), ['a', 'b']);
    expect(r.a.t).toEqual([0, 1]);
  });

  it('more members than partitions: some members get nothing, owners keep theirs', () => {
    const r = stickyAssignment(
      [
        { memberId: 'a', owned: {} },
        { memberId: 'b', owned: { t: [1] } },
        { memberId: 'c', owned: {} },
        { memberId: 'd', owned: { t: [0] } },
        { memberId: 'e', owned: {} },
      ],
      one(3),
    );
    expectValid(r, one(3), ['a', 'b', 'c', 'd', 'e']);
    expect(r.b.t).toEqual([1]);
    expect(r.d.t).toEqual([0]);
    expect(sizes(r).filter((s) => s === 0)).toHaveLength(2);
  });

  it('no members, no partitions', () => {
    expect(stickyAssignment([], one(4))).toEqual({});
    expect(stickyAssignment([{ memberId: 'a', owned: { t: [0] } }], {})).toEqual({ a: {} });
  });

  it('multiple topics: balanced over all topic-partitions, sticky per topic', () => {
    const parts: TopicPartitions = { x: range(5), y: range(3) };
    const first = stickyAssignment(
      ['a', 'b'].map((memberId) => ({ memberId, owned: {} })),
      parts,
    );
    expectValid(first, parts, ['a', 'b']);
    const second = stickyAssignment([...claimsFrom(first), { memberId: 'c', owned: {} }], parts);
    expectValid(second, parts, ['a', 'b', 'c']);
    expect(moved(first, second)).toBe(sizes({ c: second.c })[0]);
    for (const id of ['a', 'b'])
      for (const topic of ['x', 'y'])
        for (const q of second[id][topic]) expect(first[id][topic]).toContain(q);
    // A topic with more partitions: its new partitions are spread, old ones stay.
    const grown: TopicPartitions = { x: range(8), y: range(3) };
    const third = stickyAssignment(claimsFrom(second), grown);
    expectValid(third, grown, ['a', 'b', 'c']);
    expect(moved(second, third)).toBe(0);
  });

  it('repeated joins and leaves stay balanced and move the minimum each time', () => {
    let current: Result = {};
    let members: string[] = [];
    const steps = ['+a', '+b', '+c', '-b', '+d', '+e', '-a', '-e', '+f', '-c'];
    for (const step of steps) {
      const id = step.slice(1);
      const claims = claimsFrom(current).filter((m) => m.memberId !== id);
      members = step[0] === '+' ? [...members, id] : members.filter((m) => m !== id);
      const next = stickyAssignment(
        [...claims, ...(step[0] === '+' ? [{ memberId: id, owned: {} }] : [])],
        one(12),
      );
      expectValid(next, one(12), members);
      const before = owners(current);
      if (step[0] === '+')
        expect(moved(current, next)).toBe(next[id].t.filter((q) => before.has(`t:${q}`)).length);
      else expect(moved(current, next)).toBe(current[id].t.length);
      current = next;
    }
  });
});

describe('claims in the member metadata', () => {
  it('round-trips through the kafkajs MemberMetadata encoding', () => {
    const buf = encodeClaims(['t'], { t: [1, 3] });
    const decoded = AssignerProtocol.MemberMetadata.decode(buf)!;
    expect(decoded.topics).toEqual(['t']);
    expect(decodeClaims(buf)).toEqual({ t: [1, 3] });
  });

  it('treats foreign or broken userData as no claims', () => {
    const md = (userData: Buffer) =>
      AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['t'], userData });
    expect(decodeClaims(md(Buffer.alloc(0)))).toEqual({});
    expect(decodeClaims(md(Buffer.from('not json')))).toEqual({});
    expect(decodeClaims(md(Buffer.from('{"owned":[1,2]}')))).toEqual({});
    expect(decodeClaims(md(Buffer.from('{"owned":{"t":[1,"x",2.5,3]}}')))).toEqual({ t: [1, 3] });
    expect(decodeClaims(Buffer.from([1]))).toEqual({});
  });
});

describe('stickyAssigner (kafkajs PartitionAssigner)', () => {
  const cluster = {
    findTopicPartitionMetadata: (topic: string) =>
      range(topic === 't' ? 8 : 2).map((partitionId) => ({ partitionId })),
  } as unknown as Cluster;
  const logger = {} as never;

  it('announces what the member owns and assigns from the members’ claims', async () => {
    const own1 = new PartitionOwnership();
    const own2 = new PartitionOwnership();
    const a1 = stickyAssigner(own1)({ cluster, groupId: 'g', logger });
    const a2 = stickyAssigner(own2)({ cluster, groupId: 'g', logger });
    expect(a1.name).toBe(STICKY_ASSIGNER_NAME);

    own1.update({ t: range(8) });
    const members = [
      { memberId: 'm1', memberMetadata: a1.protocol({ topics: ['t'] }).metadata },
      { memberId: 'm2', memberMetadata: a2.protocol({ topics: ['t'] }).metadata },
    ];
    const out = await a1.assign({ members, topics: ['t'] });
    const decoded = Object.fromEntries(
      out.map((o) => [
        o.memberId,
        AssignerProtocol.MemberAssignment.decode(o.memberAssignment)!.assignment,
      ]),
    );
    expect(decoded).toEqual({ m1: { t: [0, 1, 2, 3] }, m2: { t: [4, 5, 6, 7] } });
  });

  it('answers every member, even one with nothing to do', async () => {
    const a = stickyAssigner(new PartitionOwnership())({ cluster, groupId: 'g', logger });
    const members = range(3).map((i) => ({
      memberId: `m${i}`,
      memberMetadata: a.protocol({ topics: ['u'] }).metadata,
    }));
    const out = await a.assign({ members, topics: ['u'] });
    expect(out.map((o) => o.memberId).sort()).toEqual(['m0', 'm1', 'm2']);
    const empty = out.filter(
      (o) =>
        Object.keys(AssignerProtocol.MemberAssignment.decode(o.memberAssignment)!.assignment)
          .length === 0,
    );
    expect(empty).toHaveLength(1);
  });

  it('round-robin metadata (a member of the previous version) counts as no claims', async () => {
    const rr = PartitionAssigners.roundRobin({ cluster, groupId: 'g', logger });
    const own = new PartitionOwnership();
    own.update({ t: [0, 1, 2, 3, 4, 5, 6, 7] });
    const sticky = stickyAssigner(own)({ cluster, groupId: 'g', logger });
    const out = await sticky.assign({
      members: [
        { memberId: 'old', memberMetadata: rr.protocol({ topics: ['t'] }).metadata },
        { memberId: 'new', memberMetadata: sticky.protocol({ topics: ['t'] }).metadata },
      ],
      topics: ['t'],
    });
    const decoded = Object.fromEntries(
      out.map((o) => [
        o.memberId,
        AssignerProtocol.MemberAssignment.decode(o.memberAssignment)!.assignment.t,
      ]),
    );
    expect(decoded).toEqual({ new: [0, 1, 2, 3], old: [4, 5, 6, 7] });
  });
});
