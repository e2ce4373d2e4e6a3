import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { badRequest } from './errors';

/** Path ids and query values are names, numbers and cursors: never control characters. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
export const MAX_PARAM_LENGTH = 256;

function check(field: string, value: unknown): void {
  if (Array.isArray(value)) return value.forEach((v) => check(field, v));
  if (typeof value !== 'string') return;
  if (CONTROL_CHARACTERS.test(value)) {
    throw badRequest(`field '${field}': must not contain control characters`);
  }
  if (value.length > MAX_PARAM_LENGTH) {
    throw badRequest(`field '${field}': longer than ${MAX_PARAM_LENGTH} characters`);
  }
}

/**
 * Global pipe: every path parameter and query value of every route, present and future, is
 * refused with 400 when it holds a control character (PostgreSQL rejects a NUL in text, and
 * ids never contain one) or is absurdly long. Each route's own schema then checks the format.
 */
@Injectable()
export class SafeInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'param' && metadata.type !== 'query') return value;
    if (metadata.data) check(metadata.data, value);
    else for (const [field, v] of Object.entries((value ?? {}) as object)) check(field, v);
    return value;
  }
}
