import { HEALTH_PATHS } from '@settlement/observability';
import { CONSOLE_PATH } from '../console';
import type { AuthedRequest } from './auth.guard';
import type { TokenRegistry } from './tokens';

/**
 * Reachable without a token: probes, the scrape target, the OpenAPI document, and the
 * operations console's static files (it holds no data; it signs in and calls /admin with a token).
 */
const PUBLIC_PATHS: ReadonlySet<string> = new Set(HEALTH_PATHS);
const DOCS_PREFIX = '/docs';
const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
const isPublic = (method: string, path: string) =>
  PUBLIC_PATHS.has(path) ||
  under(path, DOCS_PREFIX) ||
  ((method === 'GET' || method === 'HEAD') && under(path, CONSOLE_PATH));

interface Response {
  status(code: number): Response;
  setHeader(name: string, value: string): void;
  json(body: unknown): void;
}

/** The principal of `Authorization: Bearer <token>`, or undefined for none or an unknown one. */
export function principalOf(tokens: TokenRegistry, req: Pick<AuthedRequest, 'headers'>) {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([^\s]+)\s*$/i.exec(header) : null;
  return match ? tokens.authenticate(match[1]) : undefined;
}

/**
 * The first thing every request meets, before body parsing and routing: a request without a
 * valid token gets 401 unless its path is exactly a public one (case-sensitive, no trailing
 * slash). An attacker therefore learns nothing from the router - no 404 that tells which
 * routes exist, no body-parser error - and cannot reach a route by changing the path's case
 * or encoding. AuthGuard still decides per route (deny unless `@Public()`) and checks roles.
 */
export function authenticate(tokens: TokenRegistry) {
  return (req: AuthedRequest, res: Response, next: () => void): void => {
    const principal = principalOf(tokens, req);
    if (principal) {
      req.principal = principal;
      return next();
    }
    const path = req.path;
    if (isPublic(req.method, path)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(401).json({
      error: 'UNAUTHORIZED',
      message: req.headers.authorization
        ? 'invalid token'
        : 'missing bearer token (Authorization: Bearer <token>)',
    });
  };
}
