import type { KafkaMessage } from 'kafkajs';
import {
  PartitionBatcher,
  systemClock,
  type BatchLimits,
  type ClosedBatch,
} from './partition-batcher';

/** A closed batch with the assignment epoch it was read in. */
export interface EpochBatch extends ClosedBatch<KafkaMessage> {
  epoch: number;
}

/** Everything this instance knows about one partition; survives rebalances (epoch changes). */
export interface PartitionState {
  partition: number;
  /** Bumped on every (re)assignment: work formed in an older epoch is handed over. */
  epoch: number;
  assigned: boolean;
  batcher: PartitionBatcher<KafkaMessage>;
  /** Closed batches waiting for dispatch, in offset order. */
  queue: EpochBatch[];
  /** Serialises dispatch per partition, so batches start and commit in offset order. */
  chain: Promise<void>;
  /** Where the next batch starts; undefined until the first dispatch of an epoch. */
  nextOffset?: bigint;
  /** Batches started in Temporal and not settled yet. */
  inFlight: number;
}

/** True when the partition moved on (rebalanced or revoked) since `epoch`. */
export const isStale = (s: PartitionState, epoch: number): boolean =>
  s.epoch !== epoch || !s.assigned;

/** The partitions this instance has seen, each with its batcher. */
export class Partitions extends Map<number, PartitionState> {
  constructor(
    private readonly limits: BatchLimits,
    private readonly cost: (m: KafkaMessage) => number,
    private readonly onClose: (s: PartitionState, closed: EpochBatch) => void,
    /** Whether the partition could start a batch now (see PartitionBatcher's `ready`). */
    private readonly canStart: (s: PartitionState) => boolean = () => true,
  ) {
    super();
  }

  of(partition: number): PartitionState {
    const known = this.get(partition);
    if (known) return known;
    const s: PartitionState = {
      partition,
      epoch: 0,
      assigned: false,
      queue: [],
      chain: Promise.resolve(),
      inFlight: 0,
      batcher: new PartitionBatcher<KafkaMessage>(
        this.limits,
        this.cost,
        (closed) => this.onClose(s, { ...closed, epoch: s.epoch }),
        systemClock,
        () => this.canStart(s),
      ),
    };
    this.set(partition, s);
    return s;
  }

  assigned(): PartitionState[] {
    return [...this.values()].filter((s) => s.assigned);
  }

  /** A new assignment: every partition gets a new epoch and drops what it read unstarted. */
  reassign(mine: ReadonlySet<number>): void {
    for (const p of mine) this.of(p);
    for (const s of this.values()) {
      s.epoch++;
      s.assigned = mine.has(s.partition);
      s.batcher.clear();
      s.queue = [];
      s.nextOffset = undefined;
    }
  }
}
