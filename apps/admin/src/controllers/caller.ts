import type { AuthedRequest } from '../auth/auth.guard';
import type { Caller } from '../usecases/context';

/** The authenticated caller (set by AuthGuard) and the audit's name for the request. */
export function callerOf(req: AuthedRequest): Caller {
  if (!req.principal) throw new Error('route reached without a principal');
  return { principal: req.principal, action: `${req.method} ${req.route?.path ?? req.path}` };
}
