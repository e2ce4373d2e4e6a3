import { z } from 'zod';
import { badRequest } from './errors';

/**
 * Keyset pagination: `cursor` is an opaque token (base64url JSON of the last row's sort key),
 * `limit` at most 500. Each page is one index range scan, as fast on page 10 000 as on page 1.
 */
export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 100;

export const limitSchema = z.coerce
  .number({ message: 'limit must be an integer from 1 to 500' })
  .int('limit must be an integer from 1 to 500')
  .min(1, 'limit must be an integer from 1 to 500')
  .max(MAX_LIMIT, 'limit must be an integer from 1 to 500')
  .default(DEFAULT_LIMIT);

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  throw badRequest("field 'cursor': not a cursor returned by this endpoint");
}
