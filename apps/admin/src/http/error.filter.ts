import { ArgumentsHost, Catch, HttpException, Inject, type ExceptionFilter } from '@nestjs/common';
import type { DatabaseHandle } from '@settlement/db';
import { DATABASE, LOGGER, type Logger } from '@settlement/platform';
import type { AuthedRequest } from '../auth/auth.guard';
import { recordAudit } from '../audit';
import { CONTROL_CHARACTERS } from './safe-input.pipe';

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};
const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const AUDIT_TEXT_MAX = 500;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const codeOf = (status: number) => CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');

function fromHttpException(exception: HttpException): Answer {
  const status = exception.getStatus();
  const r = exception.getResponse();
  if (
    typeof r === 'object' &&
    r !== null &&
    typeof (r as { error?: unknown }).error === 'string' &&
    /^[A-Z_]+$/.test((r as { error: string }).error)
  ) {
    return { status, body: r as Record<string, unknown> };
  }
  if (typeof r === 'object' && r !== null) {
    const m = (r as { message?: unknown }).message;
    const message = Array.isArray(m) ? m.join('; ') : String(m ?? exception.message);
    return { status, body: { error: codeOf(status), message } };
  }
  return { status, body: { error: codeOf(status), message: String(r) } };
}

/** An http-errors client error raised by Express or a middleware (it says it may be shown). */
function clientError(e: unknown): Answer | undefined {
  const err = e as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (!err || typeof err.status !== 'number' || err.status < 400 || err.status >= 500) return;
  if (err.expose !== true) return;
  return {
    status: err.status,
    body: { error: codeOf(err.status), message: String(err.message ?? codeOf(err.status)) },
  };
}

/**
 * PostgreSQL refused a value the request carried (SQLSTATE class 22: out of range, bad
 * encoding, invalid date): the request is wrong, not the server. Validation should catch these
 * first; this is the net for the ones it misses.
 */
function dataException(e: unknown): Answer | undefined {
  for (let err = e as { code?: unknown; cause?: unknown } | undefined; err;) {
    if (typeof err.code === 'string' && /^22[0-9A-Z]{3}$/.test(err.code)) {
      return {
        status: 400,
        body: {
          error: 'BAD_REQUEST',
          message: 'a value in the request is out of range or malformed',
        },
      };
    }
    err = err.cause as typeof err;
  }
  return undefined;
}

/** Audit columns are text: no NUL or control characters, and bounded. */
const auditText = (s: string) =>
  s.replace(new RegExp(CONTROL_CHARACTERS.source, 'g'), '\ufffd').slice(0, AUDIT_TEXT_MAX);

/**
 * Every error leaves as `{"error", "message"}` (plus any extra fields the thrower gave, such
 * as readiness `checks`) with a 4xx code for anything the request did wrong. Failed changing
 * requests of an identified caller are audited with outcome FAILURE (their change, if any,
 * was rolled back); 5xx are logged without the request's headers or SQL parameters.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<{
      headersSent?: boolean;
      status(code: number): { json(body: unknown): void };
    }>();
    const req = ctx.getRequest<AuthedRequest>();
    const { status, body } = this.answer(exception, req);
    if (req.principal && CHANGING.has(req.method) && status !== 401) {
      try {
        await recordAudit(this.database.db, {
          principal: req.principal,
          action: auditText(`${req.method} ${req.route?.path ?? req.path}`),
          target: auditText(req.path),
          details: null,
          outcome: 'FAILURE',
          statusCode: status,
          error: auditText(String(body.message ?? body.error)),
        });
      } catch (err) {
        this.logger.error({ err }, 'could not write the audit row of a failed request');
      }
    }
    if (!res.headersSent) res.status(status).json(body);
  }

  private answer(exception: unknown, req: AuthedRequest): Answer {
    if (exception instanceof HttpException) return fromHttpException(exception);
    const known = clientError(exception) ?? dataException(exception);
    if (known) {
      this.logger.warn(
        { err: exception, method: req.method, route: req.route?.path, status: known.status },
        'admin request refused',
      );
      return known;
    }
    this.logger.error(
      { err: exception, method: req.method, route: req.route?.path },
      'admin request failed',
    );
    return { status: 500, body: { error: 'INTERNAL', message: 'internal error' } };
  }
}
