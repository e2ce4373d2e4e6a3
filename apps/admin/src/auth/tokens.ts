import { createHash, timingSafeEqual } from 'node:crypto';

export type Role = 'operator' | 'readonly';

export interface Principal {
  role: Role;
  /** First 8 hex of sha256(token): names the token in audit rows and logs, never the token. */
  fingerprint: string;
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export function fingerprintOf(token: string): string {
  return digest(token).toString('hex').slice(0, 8);
}

/**
 * The configured bearer tokens, kept only as sha256 digests. A presented token is hashed
 * and compared with every digest in constant time (timingSafeEqual over equal-length
 * digests, no early exit), so neither the match nor its position leaks through timing.
 */
export class TokenRegistry {
  private readonly entries: { digest: Buffer; principal: Principal }[] = [];

  constructor(tokens: { operator: readonly string[]; readonly: readonly string[] }) {
    const add = (token: string, role: Role) => {
      if (token.length === 0) return;
      this.entries.push({
        digest: digest(token),
        principal: { role, fingerprint: fingerprintOf(token) },
      });
    };
    // Operator wins when the same token is listed twice.
    for (const t of tokens.operator) add(t, 'operator');
    for (const t of tokens.readonly) add(t, 'readonly');
  }

  static fromConfig(config: {
    ADMIN_TOKEN?: string;
    ADMIN_OPERATOR_TOKENS: readonly string[];
    ADMIN_READONLY_TOKENS: readonly string[];
  }): TokenRegistry {
    return new TokenRegistry({
      operator: [
        ...(config.ADMIN_TOKEN ? [config.ADMIN_TOKEN] : []),
        ...config.ADMIN_OPERATOR_TOKENS,
      ],
      readonly: config.ADMIN_READONLY_TOKENS,
    });
  }

  get size(): number {
    return this.entries.length;
  }

  authenticate(token: string): Principal | undefined {
    const presented = digest(token);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(presented, entry.digest) && found === undefined) found = entry.principal;
    }
    return found;
  }
}
