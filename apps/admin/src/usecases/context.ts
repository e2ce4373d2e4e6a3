import type { Principal } from '../auth/tokens';

/** Who asks, and how the audit names the request (method and route). */
export interface Caller {
  principal: Principal;
  action: string;
}
