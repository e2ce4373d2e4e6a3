import { appDatabaseUrl, APP_LOGINS } from './app-logins';

describe('appDatabaseUrl', () => {
  it("puts the app's login role in place of the owner, keeping host, database and options", () => {
    const owner = 'postgres://postgres@127.0.0.1:5432/settlement?sslmode=require';
    expect(appDatabaseUrl(owner, 'admin')).toBe(
      'postgres://settlement_admin_app@127.0.0.1:5432/settlement?sslmode=require',
    );
  });

  it("drops the owner's password and sets the app's own, URL-encoded", () => {
    const owner = 'postgres://owner:owner-secret@db.internal:5432/ledger';
    const url = new URL(appDatabaseUrl(owner, 'ingest', 'p@ss:w/rd'));
    expect(url.username).toBe(APP_LOGINS.ingest.user);
    expect(decodeURIComponent(url.password)).toBe('p@ss:w/rd');
    expect(url.toString()).not.toContain('owner-secret');
  });
});
