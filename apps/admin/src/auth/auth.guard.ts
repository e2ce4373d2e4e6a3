import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { forbidden, unauthorized } from '../http/errors';
import { TokenRegistry, type Principal } from './tokens';

export const TOKENS = Symbol('TOKENS');
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The parts of Express's request the admin app reads (express types are not a dependency). */
export interface AuthedRequest {
  method: string;
  path: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  route?: { path?: string };
  principal?: Principal;
}

/**
 * Every /admin route: `Authorization: Bearer <token>`. Unknown or missing: 401. Read-only
 * tokens may only read: 403 on any changing method. Health, metrics and /docs stay open.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(@Inject(TOKENS) private readonly tokens: TokenRegistry) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const path = req.path ?? req.url;
    if (!(path === '/admin' || path.startsWith('/admin/'))) return true;
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)\s*$/i.exec(header) : null;
    if (!match) throw unauthorized('missing bearer token (Authorization: Bearer <token>)');
    const principal = this.tokens.authenticate(match[1]);
    if (!principal) throw unauthorized('invalid token');
    req.principal = principal;
    if (principal.role !== 'operator' && !READ_METHODS.has(req.method)) {
      throw forbidden('this token is read-only; changing routes need an operator token');
    }
    return true;
  }
}
