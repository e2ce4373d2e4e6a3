import express from 'express';
import { HttpStatus } from '@nestjs/common';
import { ApiError, badRequest } from './errors';

/** Admin bodies are small commands; anything larger is refused before it is buffered. */
export const MAX_BODY_BYTES = 100 * 1024;
const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const JSON_TYPES = ['application/json', 'application/*+json'];

interface BodyRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  is(types: string[]): string | false | null;
}
type Next = (err?: unknown) => void;

/** A request carries a body when it announces a length above zero or a chunked transfer. */
const hasBody = (req: BodyRequest) =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** body-parser's failures (http-errors with a `type`) as the contract's 4xx answers. */
function bodyError(err: { type?: string; status?: number; message?: string }): ApiError {
  switch (err.type) {
    case 'entity.too.large':
      return new ApiError(
        HttpStatus.PAYLOAD_TOO_LARGE,
        'PAYLOAD_TOO_LARGE',
        `field 'body': larger than ${MAX_BODY_BYTES} bytes`,
      );
    case 'entity.parse.failed':
      return badRequest(`field 'body': malformed JSON`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'UNSUPPORTED_MEDIA_TYPE',
        `field 'body': ${err.message ?? 'unsupported encoding'}`,
      );
    default:
      return badRequest(`field 'body': ${err.type ?? 'unreadable'} (the body could not be read)`);
  }
}

/**
 * The admin app's only body parser (Nest's own, which also reads form-encoded bodies, is
 * off): changing requests with a body must send JSON (415 otherwise, so a browser form can
 * never drive a change), at most MAX_BODY_BYTES (413), well formed (400). Runs after
 * authentication, so only an identified caller's body is ever read, and its errors reach the
 * error filter, which audits them.
 */
export function jsonBody() {
  const parse = express.json({ limit: MAX_BODY_BYTES, type: JSON_TYPES, strict: true });
  return (req: BodyRequest, res: unknown, next: Next): void => {
    if (!hasBody(req)) return next();
    if (CHANGING.has(req.method) && !req.is(JSON_TYPES)) {
      return next(
        new ApiError(
          HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          'UNSUPPORTED_MEDIA_TYPE',
          "field 'body': send JSON (Content-Type: application/json)",
        ),
      );
    }
    parse(req as never, res as never, (err?: unknown) =>
      next(err ? bodyError(err as { type?: string }) : undefined),
    );
  };
}
