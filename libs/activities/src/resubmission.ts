import { sql } from 'drizzle-orm';
import type { Kafka, Producer } from 'kafkajs';
import { findPendingBatchOf, pgArray, type Database } from '@settlement/db';
import { offsetsAtTime } from '@settlement/kafka';
import { parseTransactionMessage, parseTransactionRecord } from '@settlement/ledger';
import {
  headersToKafka,
  loadHeaders,
  readPartitionRange,
  storeHeaders,
  type HeaderList,
  type StoredHeaders,
} from '@settlement/records';

/** The header a resubmitted message carries: the id of the dead letter it repairs. */
export const DEAD_LETTER_ID_HEADER = 'x-dead-letter-id';

/** A dead letter as the repair path needs it (value: the original bytes, base64). */
export type DeadLetterSourceRow = {
  id: string;
  topic: string;
  key: string | null;
  value: string;
  /** As dead_letters keeps them: UTF-8 text per key, a repeated key as an array. */
  headers: Record<string, string | string[]> | null;
};

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
  const headers: HeaderList = [];
  for (const name of Object.keys(dl.headers ?? {})) {
    if (name.startsWith('dlq-') || name === DEAD_LETTER_ID_HEADER) continue;
    const value = dl.headers![name];
    for (const one of Array.isArray(value) ? value : [value]) {
      headers.push([name, Buffer.from(one, 'utf8')]);
    }
  }
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

/**
 * Why a transaction id cannot be resubmitted: it already has an outcome, or it waits in a
 * staged batch. undefined when it is free. Resubmitting it would be a duplicate (no effect)
 * or a DUPLICATE_CONFLICT, never a settlement, so the repair path refuses it up front.
 */
export async function existingOutcome(
  db: Pick<Database, 'execute'>,
  transactionId: string,
): Promise<string | undefined> {
  const rows = await db.execute<{ status: string; reason: string | null; batch_id: string }>(
    sql`select status, reason, batch_id from transactions where id = ${transactionId}`,
  );
  const r = rows[0];
  if (r) {
    return `transaction ${transactionId} already has an outcome: ${r.status}${r.reason ? ` ${r.reason}` : ''} (batch ${r.batch_id})`;
  }
  const pending = await findPendingBatchOf(db as Database, transactionId);
  return pending ? `transaction ${transactionId} is pending in batch ${pending}` : undefined;
}

/** The ids among `ids` that have an outcome already (one query for a whole chunk). */
export async function idsWithOutcome(
  db: Pick<Database, 'execute'>,
  ids: readonly string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.execute<{ id: string }>(
    sql`select id from transactions where id = any(${pgArray(ids)}::text[])`,
  );
  return new Set(rows.map((r) => r.id));
}

export interface PublishDeps {
  db: Database;
  kafka: Kafka;
  producer: Producer;
}

/** A publisher's lease on a row; long enough for kafkajs to finish or give up its retries. */
const CLAIM = sql`interval '5 minutes'`;
/** Clock skew allowance when looking for an earlier attempt by message time. */
const SKEW_MS = 5 * 60_000;

type ClaimedRow = {
  publish_attempts: number;
  message_topic: string;
  message_key: string | null;
  message_value: string;
  message_headers: StoredHeaders;
  resubmitted_at_ms: string;
};

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
  const claimed = await deps.db.execute<ClaimedRow>(sql`
    update dead_letter_repairs set publish_attempts = publish_attempts + 1,
      claimed_until = now() + ${CLAIM}, updated_at = now()
    where dead_letter_id = ${deadLetterId}::bigint and status = 'RESUBMITTED' and published_at is null
      and (claimed_until is null or claimed_until < now())
    returning publish_attempts, message_topic, message_key, message_value, message_headers,
      (extract(epoch from resubmitted_at) * 1000)::bigint::text as resubmitted_at_ms`);
  const row = claimed[0];
  if (!row) return 'not-claimed';
  const value = Buffer.from(row.message_value, 'base64');
  if (row.publish_attempts > 1) {
    const earlier = await findPublished(deps.kafka, deadLetterId, row, value);
    if (earlier) {
      await markPublished(deps.db, deadLetterId, earlier.partition, earlier.offset);
      return 'found-earlier-attempt';
    }
  }
  const [meta] = await deps.producer.send({
    topic: row.message_topic,
    acks: -1,
    messages: [
      { key: row.message_key, value, headers: headersToKafka(loadHeaders(row.message_headers)) },
    ],
  });
  await markPublished(deps.db, deadLetterId, meta.partition, meta.baseOffset ?? meta.offset ?? '');
  return 'published';
}

async function markPublished(
  db: Database,
  deadLetterId: string,
  partition: number,
  offset: string,
): Promise<void> {
  await db.execute(sql`
    update dead_letter_repairs set published_at = now(), published_partition = ${partition},
      published_offset = ${/^[0-9]+$/.test(offset) ? offset : null}::bigint, claimed_until = null,
      updated_at = now()
    where dead_letter_id = ${deadLetterId}::bigint`);
}

/** An earlier attempt's message on the topic: same header, same key and bytes. */
async function findPublished(
  kafka: Kafka,
  deadLetterId: string,
  row: ClaimedRow,
  value: Buffer,
): Promise<{ partition: number; offset: string } | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const since = Number(row.resubmitted_at_ms) - SKEW_MS;
    const [starts, ends] = await Promise.all([
      offsetsAtTime(admin, row.message_topic, since),
      admin.fetchTopicOffsets(row.message_topic),
    ]);
    for (const end of ends) {
      const start = starts.find((s) => s.partition === end.partition);
      const from = start && start.offset !== '-1' ? BigInt(start.offset) : BigInt(end.high);
      const messages = await readPartitionRange(
        kafka,
        row.message_topic,
        end.partition,
        from,
        BigInt(end.high),
      );
      const hit = messages.find(
        (m) =>
          m.headers.some(
            ([k, v]) => k === DEAD_LETTER_ID_HEADER && v.toString() === deadLetterId,
          ) &&
          (m.key ? m.key.toString('utf8') : null) === row.message_key &&
          m.value !== null &&
          m.value.equals(value),
      );
      if (hit) return { partition: end.partition, offset: hit.offset };
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
  const rows = await deps.db.execute<{ id: string }>(sql`
    select dead_letter_id::text as id from dead_letter_repairs
    where status = 'RESUBMITTED' and published_at is null
      and ${opts.redriveId ? sql`redrive_id = ${opts.redriveId}` : sql`true`}
      and ${opts.olderThanMs !== undefined ? sql`resubmitted_at < now() - make_interval(secs => ${opts.olderThanMs / 1000})` : sql`true`}
      and (claimed_until is null or claimed_until < now())
    order by dead_letter_id limit ${opts.limit ?? 1000}`);
  let published = 0;
  for (const r of rows) {
    if ((await publishResubmission(deps, r.id)) !== 'not-claimed') published++;
  }
  return published;
}
