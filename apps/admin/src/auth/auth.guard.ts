import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PUBLIC_ROUTE } from '@settlement/observability';
import { forbidden, unauthorized } from '../http/errors';
import { principalOf } from './authenticate.middleware';
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
 * Deny by default: every route needs `Authorization: Bearer <token>` unless its handler or
 * controller is marked `@Public()` (health, metrics). The decision never looks at the request
 * path, so case, encoding or a trailing slash cannot route around it. Unknown or missing
 * token: 401. Read-only tokens may only read: 403 on any changing method.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(TOKENS) private readonly tokens: TokenRegistry,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    // Set by the authenticate middleware; checked again so no route depends on it alone.
    const principal = req.principal ?? principalOf(this.tokens, req);
    if (!principal) {
      throw unauthorized(
        req.headers.authorization
          ? 'invalid token'
          : 'missing bearer token (Authorization: Bearer <token>)',
      );
    }
    req.principal = principal;
    if (principal.role !== 'operator' && !READ_METHODS.has(req.method)) {
      throw forbidden('this token is read-only; changing routes need an operator token');
    }
    return true;
  }
}
