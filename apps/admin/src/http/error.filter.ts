import { ArgumentsHost, Catch, HttpException, Inject, type ExceptionFilter } from '@nestjs/common';
import type { DatabaseHandle } from '@settlement/db';
import { DATABASE, LOGGER, type Logger } from '@settlement/platform';
import type { AuthedRequest } from '../auth/auth.guard';
import { recordAudit } from '../audit';

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

/**
 * Every error leaves as `{"error", "message"}` (plus any extra fields the thrower gave, such
 * as readiness `checks`). Failed changing requests of an identified caller are audited with
 * outcome FAILURE (their change, if any, was rolled back); 5xx are logged without the request's
 * headers, so tokens never reach the logs.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<{ status(code: number): { json(body: unknown): void } }>();
    const req = ctx.getRequest<AuthedRequest>();
    let status = 500;
    let body: Record<string, unknown> = { error: 'INTERNAL', message: 'internal error' };
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const r = exception.getResponse();
      const code = CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
      if (
        typeof r === 'object' &&
        r !== null &&
        'error' in r &&
        typeof (r as { error: unknown }).error === 'string' &&
        /^[A-Z_]+$/.test((r as { error: string }).error)
      ) {
        body = r as Record<string, unknown>;
      } else if (typeof r === 'object' && r !== null) {
        const m = (r as { message?: unknown }).message;
        body = {
          error: code,
          message: Array.isArray(m) ? m.join('; ') : String(m ?? exception.message),
        };
      } else {
        body = { error: code, message: String(r) };
      }
      // Body-parser errors (malformed JSON) arrive as HttpException 400 with their own text.
      if (status === 400 && body.error === 'BAD_REQUEST' && /JSON/i.test(String(body.message))) {
        body = {
          error: 'BAD_REQUEST',
          message: `field 'body': malformed JSON (${String(body.message)})`,
        };
      }
    } else {
      const err = exception as { type?: string; status?: number; message?: string };
      if (err?.type === 'entity.parse.failed') {
        status = 400;
        body = { error: 'BAD_REQUEST', message: `field 'body': malformed JSON` };
      } else {
        this.logger.error(
          { err: exception, method: req.method, path: req.path },
          'admin request failed',
        );
      }
    }
    if (req.principal && CHANGING.has(req.method) && status !== 401) {
      try {
        await recordAudit(this.database.db, {
          principal: req.principal,
          action: `${req.method} ${req.route?.path ?? req.path}`,
          target: req.path,
          details: null,
          outcome: 'FAILURE',
          statusCode: status,
          error: String(body.message ?? body.error),
        });
      } catch (err) {
        this.logger.error({ err }, 'could not write the audit row of a failed request');
      }
    }
    res.status(status).json(body);
  }
}
