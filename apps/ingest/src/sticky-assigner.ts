import { AssignerProtocol, type Assignment, type PartitionAssigner } from 'kafkajs';

/**
 * A sticky partition assigner for kafkajs (which ships only round-robin).
 *
 * kafkajs implements only the eager rebalance protocol: every rebalance still revokes every
 * partition of every member (stop-the-world). What this assigner changes is WHERE the
 * partitions go afterwards: each member announces the partitions it owned (JSON in the
 * MemberMetadata userData) and the leader computes a balanced assignment (floor or ceil of
 * partitions/members each) that keeps as many of those owners as possible. Scaling out by one
 * moves only the partitions the new member needs; scaling in moves only the leaver's.
 *
 * List it first and round-robin second in `partitionAssigners`: the broker picks the first
 * protocol every member supports, so during a rolling deploy from round-robin the group keeps
 * using round-robin and switches to sticky once every member speaks it.
 */

export const STICKY_ASSIGNER_NAME = 'settlement-sticky';
export const STICKY_ASSIGNER_VERSION = 1;

/** Partitions per topic. */
export type TopicPartitions = Record<string, number[]>;

export interface MemberClaims {
  memberId: string;
  /** Partitions the member says it owns now (possibly stale, possibly claimed by others too). */
  owned: TopicPartitions;
}

interface Tp {
  topic: string;
  partition: number;
}

const tpKey = (tp: Tp) => `${tp.topic}\u0000${tp.partition}`;
const compareTp = (a: Tp, b: Tp) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
const compareStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The pure assignment: balanced (every member gets floor(P/N) or ceil(P/N) of the P
 * topic-partitions, counted over all topics together) and sticky (as many partitions as the
 * balance allows stay with the member that claims them). Deterministic: depends only on the
 * sets given, not on their order. Claims on partitions that no longer exist are ignored; a
 * partition claimed by several members (a stale member rejoining) goes to one of them.
 */
export function stickyAssignment(
  members: readonly MemberClaims[],
  partitions: TopicPartitions,
): Record<string, TopicPartitions> {
  const ids = [...new Set(members.map((m) => m.memberId))].sort(compareStr);
  const topics = Object.keys(partitions).sort(compareStr);
  const result: Record<string, TopicPartitions> = {};
  for (const id of ids) {
    result[id] = {};
    for (const t of topics) result[id][t] = [];
  }
  if (ids.length === 0) return result;

  const all: Tp[] = [];
  for (const topic of topics)
    for (const partition of [...new Set(partitions[topic])].sort((a, b) => a - b))
      all.push({ topic, partition });
  const exists = new Set(all.map(tpKey));

  // Valid claims: existing partitions only; each member's claims merged and sorted.
  const claimsOf = new Map<string, Tp[]>(ids.map((id) => [id, []]));
  const claimants = new Map<string, string[]>();
  for (const m of members) {
    for (const [topic, ps] of Object.entries(m.owned ?? {})) {
      if (!Array.isArray(ps)) continue;
      for (const partition of ps) {
        const tp = { topic, partition };
        const key = tpKey(tp);
        if (!Number.isInteger(partition) || !exists.has(key)) continue;
        const list = claimants.get(key) ?? [];
        if (!list.includes(m.memberId)) list.push(m.memberId);
        claimants.set(key, list);
      }
    }
  }
  // Duplicate claims (a member rejoining with a stale view): the partition goes to the
  // claimant that claims the fewest partitions in all (then the smallest member id). The one
  // that claims more would have to give partitions up for balance anyway.
  const claimed = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const list of claimants.values())
    for (const id of list) claimed.set(id, claimed.get(id)! + 1);
  for (const tp of all) {
    const list = claimants.get(tpKey(tp));
    if (!list) continue;
    let best: string | undefined;
    for (const id of [...list].sort(compareStr)) {
      if (best === undefined || claimed.get(id)! < claimed.get(best)!) best = id;
    }
    claimsOf.get(best!)!.push(tp);
  }

  // Quotas: floor(P/N) each, and the P mod N larger shares go to the members that claim the
  // most (ties: smaller member id), which minimises the partitions that must move.
  const base = Math.floor(all.length / ids.length);
  let extra = all.length % ids.length;
  const byClaims = [...ids].sort(
    (a, b) => claimsOf.get(b)!.length - claimsOf.get(a)!.length || compareStr(a, b),
  );
  const quota = new Map<string, number>();
  for (const id of byClaims) quota.set(id, base + (extra-- > 0 ? 1 : 0));

  // Keep claims up to the quota; everything else goes to the pool.
  const taken = new Set<string>();
  const count = new Map<string, number>(ids.map((id) => [id, 0]));
  const give = (id: string, tp: Tp) => {
    result[id][tp.topic].push(tp.partition);
    taken.add(tpKey(tp));
    count.set(id, count.get(id)! + 1);
  };
  for (const id of ids) {
    for (const tp of claimsOf.get(id)!.sort(compareTp).slice(0, quota.get(id))) give(id, tp);
  }
  // Fill: the free partitions in order, each to the member furthest below its quota.
  for (const tp of all) {
    if (taken.has(tpKey(tp))) continue;
    let best: string | undefined;
    let bestDeficit = 0;
    for (const id of ids) {
      const deficit = quota.get(id)! - count.get(id)!;
      if (deficit > bestDeficit) {
        best = id;
        bestDeficit = deficit;
      }
    }
    give(best!, tp);
  }
  for (const id of ids) for (const t of topics) result[id][t].sort((a, b) => a - b);
  return result;
}

/** What this member owns now, as the last GROUP_JOIN told it; read by `protocol()`. */
export class PartitionOwnership {
  private owned: TopicPartitions = {};

  /** Call with `GROUP_JOIN`'s `payload.memberAssignment`. */
  update(assignment: Assignment | TopicPartitions): void {
    const copy: TopicPartitions = {};
    for (const [topic, ps] of Object.entries(assignment ?? {})) copy[topic] = [...ps];
    this.owned = copy;
  }

  clear(): void {
    this.owned = {};
  }

  current(): TopicPartitions {
    return this.owned;
  }
}

export function encodeClaims(topics: string[], owned: TopicPartitions): Buffer {
  return AssignerProtocol.MemberMetadata.encode({
    version: STICKY_ASSIGNER_VERSION,
    topics,
    userData: Buffer.from(JSON.stringify({ owned })),
  });
}

/** A member's claims from its metadata; garbage or foreign userData counts as no claims. */
export function decodeClaims(metadata: Buffer): TopicPartitions {
  try {
    const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
    if (!decoded?.userData?.length) return {};
    const parsed = JSON.parse(decoded.userData.toString('utf8')) as { owned?: unknown };
    const owned = parsed?.owned;
    if (!owned || typeof owned !== 'object' || Array.isArray(owned)) return {};
    const out: TopicPartitions = {};
    for (const [topic, ps] of Object.entries(owned as Record<string, unknown>)) {
      if (Array.isArray(ps)) out[topic] = ps.filter((p): p is number => Number.isInteger(p));
    }
    return out;
  } catch {
    return {};
  }
}

/**
 * The kafkajs `PartitionAssigner`. `ownership` is updated by the consumer on every GROUP_JOIN
 * (kafkajs tells assigners nothing about the member's own assignment).
 */
export function stickyAssigner(ownership: PartitionOwnership): PartitionAssigner {
  return ({ cluster }) => ({
    name: STICKY_ASSIGNER_NAME,
    version: STICKY_ASSIGNER_VERSION,
    async assign({ members, topics }) {
      const partitions: TopicPartitions = {};
      for (const topic of topics)
        partitions[topic] = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
      const claims = members.map((m) => ({
        memberId: m.memberId,
        owned: decodeClaims(m.memberMetadata),
      }));
      const assignment = stickyAssignment(claims, partitions);
      // Every member gets an answer; topics with no partitions for it are left out.
      return Object.entries(assignment).map(([memberId, a]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: STICKY_ASSIGNER_VERSION,
          assignment: Object.fromEntries(Object.entries(a).filter(([, ps]) => ps.length > 0)),
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return { name: STICKY_ASSIGNER_NAME, metadata: encodeClaims(topics, ownership.current()) };
    },
  });
}
