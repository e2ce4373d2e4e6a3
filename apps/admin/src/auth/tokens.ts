import { createHash, timingSafeEqual } from 'node:crypto';

export type Role = 'operator' | 'readonly';

export interface Principal {
  /** Who holds the token (`name:token` in the configuration): the audit log names people. */
  name: string;
  role: Role;
  /** First 8 hex of sha256(token): tells two tokens of one person apart, never the token. */
  fingerprint: string;
}

/** A configured token with the name of the person or system holding it. */
export interface NamedToken {
  name: string;
  token: string;
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export function fingerprintOf(token: string): string {
  return digest(token).toString('hex').slice(0, 8);
}

const PRINCIPAL_NAME = /^[A-Za-z][A-Za-z0-9._@-]{0,63}$/;

/**
 * One entry of ADMIN_OPERATOR_TOKENS / ADMIN_READONLY_TOKENS: `name:token`. A bare token (the
 * older form) still works and is named after its fingerprint, `token-<fingerprint>`.
 */
export function parseNamedToken(entry: string): NamedToken {
  const colon = entry.indexOf(':');
  const name = colon > 0 ? entry.slice(0, colon) : '';
  if (colon > 0 && PRINCIPAL_NAME.test(name)) return { name, token: entry.slice(colon + 1) };
  return { name: `token-${fingerprintOf(entry)}`, token: entry };
}

export interface ConfiguredTokens {
  operator: readonly NamedToken[];
  readonly: readonly NamedToken[];
}

export interface TokenConfig {
  ADMIN_TOKEN?: string;
  ADMIN_OPERATOR_TOKENS: readonly string[];
  ADMIN_READONLY_TOKENS: readonly string[];
}

/** The environment's tokens plus those of the tokens file (if any). */
export function configuredTokens(config: TokenConfig, file?: ConfiguredTokens): ConfiguredTokens {
  return {
    operator: [
      // CONTRACT.md: ADMIN_TOKEN is the operator named `admin`.
      ...(config.ADMIN_TOKEN ? [{ name: 'admin', token: config.ADMIN_TOKEN }] : []),
      ...config.ADMIN_OPERATOR_TOKENS.map(parseNamedToken),
      ...(file?.operator ?? []),
    ],
    readonly: [...config.ADMIN_READONLY_TOKENS.map(parseNamedToken), ...(file?.readonly ?? [])],
  };
}

export const MIN_TOKEN_LENGTH = 16;

/**
 * The tokens file (ADMIN_TOKENS_FILE, typically a mounted Secret): one `operator name:token`
 * or `readonly name:token` per line; blank lines and `#` comments are ignored. Throws on any
 * bad line (naming the line, never the token), so a half-written file is never half applied.
 */
export function parseTokensFile(text: string): ConfiguredTokens {
  const out: { operator: NamedToken[]; readonly: NamedToken[] } = { operator: [], readonly: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(operator|readonly)\s+(\S+)$/.exec(line);
    const named = match ? parseNamedToken(match[2]) : undefined;
    if (!match || !named || named.token.length < MIN_TOKEN_LENGTH) {
      throw new Error(
        `tokens file line ${i + 1}: expected 'operator name:token' or 'readonly name:token' with a token of at least ${MIN_TOKEN_LENGTH} characters`,
      );
    }
    out[match[1] as Role].push(named);
  });
  return out;
}

/**
 * The configured bearer tokens, kept only as sha256 digests. A presented token is hashed
 * and compared with every digest in constant time (timingSafeEqual over equal-length
 * digests, no early exit), so neither the match nor its position leaks through timing.
 */
export class TokenRegistry {
  private entries: { digest: Buffer; principal: Principal }[] = [];

  constructor(tokens: ConfiguredTokens) {
    this.replace(tokens);
  }

  /**
   * Swaps in a new set of tokens in one assignment (rotation without a restart): a request
   * sees either the old set or the new one, never a mix.
   */
  replace(tokens: ConfiguredTokens): void {
    const entries: typeof this.entries = [];
    const add = ({ name, token }: NamedToken, role: Role) => {
      if (token.length === 0) return;
      entries.push({
        digest: digest(token),
        principal: { name, role, fingerprint: fingerprintOf(token) },
      });
    };
    // Operator wins when the same token is listed twice.
    for (const t of tokens.operator) add(t, 'operator');
    for (const t of tokens.readonly) add(t, 'readonly');
    this.entries = entries;
  }

  static fromConfig(config: TokenConfig, file?: ConfiguredTokens): TokenRegistry {
    return new TokenRegistry(configuredTokens(config, file));
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
