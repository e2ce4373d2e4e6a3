import type { Kafka, Producer } from 'kafkajs';
import {
  claimResubmission,
  findPendingBatchOf,
  findTransactionHashes,
  findTransactionOutcome,
  findUnpublishedResubmissions,
  markResubmissionPublished,
  type ClaimedResubmission,
  type Database,
  type DeadLetterSource,
  type RepairMessage,
} from '@settlement/db';
import { offsetsAtTime } from '@settlement/kafka';
import { parseTransactionMessage, parseTransactionRecord } from '@settlement/ledger';
import {
  headersFromText,
  headersToKafka,
  loadHeaders,
  readPartitionRange,
  storeHeaders,
  type HeaderList,
  type StoredHeaders,
} from '@settlement/records';

/** The header a resubmitted message carries: the id of the dead letter it repairs. */
export const DEAD_LETTER_ID_HEADER = 'x-dead-letter-id';

/**
 * A dead letter as the repair path needs it (value: the original bytes, base64; headers as
 * dead_letters keeps them), its id as the decimal text the header carries.
 */
export type DeadLetterSourceRow = Omit<DeadLetterSource, 'id'> & { id: string };

/** What is published to the source topic for a resubmission. */
export interface ResubmissionMessage {
  topic: string;
  key: string | null;
  /** base64 */
  value: string;
  /** [key, value base64] pairs, in order (the records lib's stored form). */
  headers: StoredHeaders;
  /** The transaction id the message carries when it is a valid transaction, else null. */
  transactionId: string | null;
}

/**
 * The message a dead letter is resubmitted as: the original bytes, or the corrected JSON
 * keyed by its debit account (the contract's partitioning), with the producer's headers
 * minus the DLQ's own and plus `x-dead-letter-id`. Goes to the topic the dead letter came from.
 */
export function resubmissionMessage(
  dl: DeadLetterSourceRow,
  corrected?: string | null,
): ResubmissionMessage {
  const headers: HeaderList = headersFromText(dl.headers).filter(
    ([name]) => !name.startsWith('dlq-') && name !== DEAD_LETTER_ID_HEADER,
  );
  headers.push([DEAD_LETTER_ID_HEADER, Buffer.from(dl.id, 'utf8')]);
  const isCorrection = corrected !== undefined && corrected !== null;
  const bytes = isCorrection ? Buffer.from(corrected, 'utf8') : Buffer.from(dl.value, 'base64');
  // A correction is keyed by its debit account, so only its value is checked here.
  const parsed = isCorrection
    ? parseTransactionMessage(bytes)
    : parseTransactionRecord(dl.key, bytes);
  const transactionId = parsed.ok ? parsed.tx.id : null;
  const key = isCorrection && parsed.ok ? parsed.tx.debitAccount : dl.key;
  return {
    topic: dl.topic,
    key,
    value: bytes.toString('base64'),
    headers: storeHeaders(headers),
    transactionId,
  };
}

/** The resubmission message as the repair row keeps it (its own outbox entry). */
export const repairMessage = (m: ResubmissionMessage): RepairMessage => ({
  messageTopic: m.topic,
  messageKey: m.key,
  messageValue: m.value,
  messageHeaders: m.headers,
  transactionId: m.transactionId,
});

/**
 * Why a transaction id cannot be resubmitted: it already has an outcome, or it waits in a
 * staged batch. undefined when it is free. Resubmitting it would be a duplicate (no effect)
 * or a DUPLICATE_CONFLICT, never a settlement, so the repair path refuses it up front.
 */
export async function existingOutcome(
  db: Pick<Database, 'select' | 'execute'>,
  transactionId: string,
): Promise<string | undefined> {
  const r = await findTransactionOutcome(db, transactionId);
  if (r) {
    return `transaction ${transactionId} already has an outcome: ${r.status}${r.reason ? ` ${r.reason}` : ''} (batch ${r.batchId})`;
  }
  const pending = await findPendingBatchOf(db, transactionId);
  return pending ? `transaction ${transactionId} is pending in batch ${pending}` : undefined;
}

/** The ids among `ids` that have an outcome already (one query for a whole chunk). */
export async function idsWithOutcome(
  db: Pick<Database, 'select'>,
  ids: readonly string[],
): Promise<Set<string>> {
  return new Set((await findTransactionHashes(db, ids)).keys());
}

export interface PublishDeps {
  db: Database;
  kafka: Kafka;
  producer: Producer;
}

/** Clock skew allowance when looking for an earlier attempt by message time. */
const SKEW_MS = 5 * 60_000;

export type PublishResult = 'published' | 'found-earlier-attempt' | 'not-claimed';

/**
 * Publishes one resubmission exactly once. The row is claimed with a lease (so two admin
 * instances, or the relay and a request, never send it concurrently) and its attempt counted
 * BEFORE sending. A later attempt means an earlier one may have reached Kafka before its
 * process died: it first looks for a message with this dead letter's header and the same
 * bytes since the resubmission, and only sends when there is none. The partition and offset
 * written are the message's: the dead letter links to what it produced.
 */
export async function publishResubmission(
  deps: PublishDeps,
  deadLetterId: string,
): Promise<PublishResult> {
  const id = BigInt(deadLetterId);
  const claimed = await claimResubmission(deps.db, id);
  if (!claimed) return 'not-claimed';
  const value = Buffer.from(claimed.value, 'base64');
  if (claimed.publishAttempts > 1) {
    const earlier = await findPublished(deps.kafka, deadLetterId, claimed, value);
    if (earlier) {
      await markResubmissionPublished(deps.db, id, earlier);
      return 'found-earlier-attempt';
    }
  }
  const [meta] = await deps.producer.send({
    topic: claimed.topic,
    acks: -1,
    messages: [{ key: claimed.key, value, headers: headersToKafka(loadHeaders(claimed.headers)) }],
  });
  const offset = meta.baseOffset ?? meta.offset ?? '';
  await markResubmissionPublished(deps.db, id, {
    partition: meta.partition,
    offset: /^[0-9]+$/.test(offset) ? BigInt(offset) : null,
  });
  return 'published';
}

/** An earlier attempt's message on the topic: same header, same key and bytes. */
async function findPublished(
  kafka: Kafka,
  deadLetterId: string,
  claimed: ClaimedResubmission,
  value: Buffer,
): Promise<{ partition: number; offset: bigint } | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const since = claimed.resubmittedAt.getTime() - SKEW_MS;
    const [starts, ends] = await Promise.all([
      offsetsAtTime(admin, claimed.topic, since),
      admin.fetchTopicOffsets(claimed.topic),
    ]);
    for (const end of ends) {
      const start = starts.find((s) => s.partition === end.partition);
      const from = start && start.offset !== '-1' ? BigInt(start.offset) : BigInt(end.high);
      const messages = await readPartitionRange(
        kafka,
        claimed.topic,
        end.partition,
        from,
        BigInt(end.high),
      );
      const hit = messages.find(
        (m) =>
          m.headers.some(
            ([k, v]) => k === DEAD_LETTER_ID_HEADER && v.toString() === deadLetterId,
          ) &&
          (m.key ? m.key.toString('utf8') : null) === claimed.key &&
          m.value !== null &&
          m.value.equals(value),
      );
      if (hit) return { partition: end.partition, offset: BigInt(hit.offset) };
    }
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Publishes the resubmissions still unpublished: those of one re-drive, or (the admin app's
 * relay) any resubmitted at least `olderThanMs` ago - what a crash between the state change
 * and the send left behind. Returns how many it published.
 */
export async function publishPendingResubmissions(
  deps: PublishDeps,
  opts: { redriveId?: string; olderThanMs?: number; limit?: number },
): Promise<number> {
  const ids = await findUnpublishedResubmissions(deps.db, opts, opts.limit ?? 1000);
  let published = 0;
  for (const id of ids) {
    if ((await publishResubmission(deps, id.toString())) !== 'not-claimed') published++;
  }
  return published;
}
