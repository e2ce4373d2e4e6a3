import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { PUBLIC_ROUTE } from '@settlement/observability';
import type { AuthedRequest } from './auth.guard';

/**
 * Rate limit per token (not per address: operators share NAT and proxies): each principal's
 * fingerprint has its own window; over the limit answers 429 with the contract's error body
 * and a Retry-After header. Probes and the scrape target are not limited.
 */
@Injectable()
export class TokenRateLimitGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const principal = (req as unknown as AuthedRequest).principal;
    return principal ? `token:${principal.fingerprint}` : `ip:${String(req.ip)}`;
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }
}
