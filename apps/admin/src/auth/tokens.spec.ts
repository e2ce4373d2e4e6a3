import { fingerprintOf, parseNamedToken, TokenRegistry } from './tokens';

describe('admin tokens', () => {
  const token = 'a'.repeat(32);

  it('reads `name:token` entries and names a bare token after its fingerprint', () => {
    expect(parseNamedToken(`alice:${token}`)).toEqual({ name: 'alice', token });
    expect(parseNamedToken(token)).toEqual({ name: `token-${fingerprintOf(token)}`, token });
    // A colon that does not follow a valid name is part of the token.
    expect(parseNamedToken(`:${token}`)).toEqual({ name: expect.any(String), token: `:${token}` });
    expect(parseNamedToken(`9lives:${token}`).token).toBe(`9lives:${token}`);
  });

  it('authenticates each configured token with its name and role, ADMIN_TOKEN as `admin`', () => {
    const registry = TokenRegistry.fromConfig({
      ADMIN_TOKEN: 'b'.repeat(32),
      ADMIN_OPERATOR_TOKENS: [`alice:${token}`],
      ADMIN_READONLY_TOKENS: [`auditor:${'c'.repeat(32)}`],
    });
    expect(registry.authenticate('b'.repeat(32))).toMatchObject({
      name: 'admin',
      role: 'operator',
    });
    expect(registry.authenticate(token)).toMatchObject({ name: 'alice', role: 'operator' });
    expect(registry.authenticate('c'.repeat(32))).toMatchObject({
      name: 'auditor',
      role: 'readonly',
    });
    expect(registry.authenticate(`alice:${token}`)).toBeUndefined();
    expect(registry.authenticate('d'.repeat(32))).toBeUndefined();
  });
});
