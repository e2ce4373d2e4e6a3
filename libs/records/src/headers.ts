import type { IHeaders } from 'kafkajs';

/**
 * A record's headers as Kafka carries them: ordered, a key may repeat, values are bytes.
 * Kept as a list, never as a plain object: a plain object drops a `__proto__` header (the
 * assignment sets the prototype instead) and keeps one value per key.
 */
export type HeaderList = [string, Buffer][];

/** Headers as stored in JSON (staged batches, the outbox): [key, value base64] pairs. */
export type StoredHeaders = [string, string][];

/** kafkajs' decoded headers (own keys, `__proto__` included; repeats as arrays) as a list. */
export function headersFromKafka(headers: IHeaders | undefined): HeaderList {
  const out: HeaderList = [];
  if (!headers) return out;
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one === undefined || one === null) continue;
      out.push([key, Buffer.isBuffer(one) ? one : Buffer.from(String(one), 'utf8')]);
    }
  }
  return out;
}

/**
 * The list as kafkajs sends it: an object without a prototype (so `__proto__` is an own
 * key), a repeated key as an array of its values in order.
 */
export function headersToKafka(list: HeaderList): IHeaders {
  const out = Object.create(null) as Record<string, Buffer | Buffer[]>;
  for (const [key, value] of list) {
    const seen = out[key];
    if (seen === undefined) out[key] = value;
    else out[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

export function storeHeaders(list: HeaderList): StoredHeaders {
  return list.map(([k, v]) => [k, v.toString('base64')]);
}

/**
 * Reads stored headers back. Rows written before the list form hold an object of UTF-8
 * strings; both forms are accepted.
 */
export function loadHeaders(
  stored: StoredHeaders | Record<string, string> | null | undefined,
): HeaderList {
  if (!stored) return [];
  if (Array.isArray(stored)) return stored.map(([k, v]) => [k, Buffer.from(v, 'base64')]);
  return Object.keys(stored).map((k) => [k, Buffer.from(stored[k], 'utf8')]);
}

/**
 * The readable view kept in `dead_letters.headers` for the admin API: key to UTF-8 text, a
 * repeated key to the array of its values. Built without a prototype, so `__proto__` stays.
 */
export function headersAsText(list: HeaderList): Record<string, string | string[]> | null {
  if (list.length === 0) return null;
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of list) {
    const text = value.toString('utf8');
    const seen = out[key];
    if (seen === undefined) out[key] = text;
    else out[key] = Array.isArray(seen) ? [...seen, text] : [seen, text];
  }
  return out;
}

/** The readable view read back as a list (each value's UTF-8 bytes), in its key order. */
export function headersFromText(
  text: Record<string, string | string[]> | null | undefined,
): HeaderList {
  const out: HeaderList = [];
  if (!text) return out;
  for (const key of Object.keys(text)) {
    const value = text[key];
    for (const one of Array.isArray(value) ? value : [value]) {
      out.push([key, Buffer.from(one, 'utf8')]);
    }
  }
  return out;
}

/** Total bytes of keys and values, as the broker counts them (framing aside). */
export function headersSize(list: HeaderList): number {
  let n = 0;
  for (const [k, v] of list) n += Buffer.byteLength(k, 'utf8') + v.length;
  return n;
}
