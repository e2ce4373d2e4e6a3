import type { ZodType } from 'zod';
import { badRequest } from './errors';

/**
 * Validates a request body or query with a zod schema; the 400 names the first offending
 * field (dotted path), e.g. `field 'from.offset': expected a decimal string`.
 */
export function parseOrBadRequest<T>(schema: ZodType<T>, input: unknown, what = 'body'): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length ? issue.path.map(String).join('.') : what;
  throw badRequest(`field '${field}': ${issue.message}`);
}
