import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, openPipeline, waitFor, type Pipeline, type RunningApp } from './support/apps';
import { openAccounts, txValue } from './support/fixtures';

/** Debian's chromium (.ci/run installs it); never a downloaded browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ALICE = `alice-${randomBytes(16).toString('hex')}`;
const BOB = `bob-${randomBytes(16).toString('hex')}`;
const AUDITOR = `auditor-${randomBytes(16).toString('hex')}`;
/** UPDATE_SCREENSHOTS=1 writes the docs' screenshots; otherwise they go to a temp folder. */
const SHOTS = process.env.UPDATE_SCREENSHOTS
  ? path.join(ROOT, 'docs/images')
  : path.join(os.tmpdir(), 'settlement-console-shots');

/**
 * The operations console as a person uses it, in real headless Chromium against the built
 * admin, ingest and worker apps on the real stack: a bad message produced to Kafka becomes
 * a dead letter, is corrected by one operator, approved by another, and settles.
 */
describe('operations console in headless Chromium (built apps, real stack)', () => {
  let pipeline: Pipeline;
  let admin: RunningApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  const outside: string[] = [];
  const run = randomBytes(3).toString('hex');
  const acc = (n: string) => `con-${run}-${n}`;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    mkdirSync(SHOTS, { recursive: true });
    pipeline = await openPipeline('console', {
      partitions: 1,
      extra: {
        ADMIN_OPERATOR_TOKENS: `alice:${ALICE},bob:${BOB}`,
        ADMIN_READONLY_TOKENS: `auditor:${AUDITOR}`,
        INGEST_CONTROL_POLL_MS: '500',
      },
    });
    await pipeline.start('ingest');
    admin = await pipeline.start('admin');
    base = `http://127.0.0.1:${admin.port}`;
    await openAccounts(pipeline.db.db, [
      { id: acc('funder'), overdraftLimit: 1_000_000n },
      { id: acc('shop') },
    ]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // No external network: every request the console makes goes to the admin app.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${base}/`)) return route.continue();
      outside.push(url);
      return route.abort();
    });
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await pipeline?.close();
  });

  const produce = (key: string | null, value: string) =>
    pipeline.producer.send({
      topic: pipeline.topics.transactions,
      acks: -1,
      messages: [{ key, value }],
    });

  async function signIn(token: string) {
    if (await page.isVisible('#sign-out')) await page.click('#sign-out');
    await page.fill('#token', token);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
  }

  const tab = (name: string) => page.click(`.tab[data-view="${name}"]`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the admin API
  const api = async (pathname: string): Promise<any> => {
    const res = await fetch(`${base}${pathname}`, {
      headers: { Authorization: `Bearer ${AUDITOR}` },
    });
    return res.json();
  };

  it('serves the console without a token, with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${base}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
    const script = await fetch(`${base}/console/console.js`);
    expect(script.status).toBe(200);
    // The API still needs a token.
    expect((await fetch(`${base}/admin/lag`)).status).toBe(401);
    await page.goto(`${base}/console`);
    await page.fill('#token', 'not-a-valid-token-at-all');
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#sign-in-error:has-text("not valid")');
    expect(await page.isVisible('#app')).toBe(false);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('repairs a dead letter with four eyes and shows a markup payload as text only', async () => {
    await page.goto(`${base}/console`);
    const id = `con-${run}-fix`;
    const xss = '<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>';
    const bad = txValue({
      id,
      debit: acc('funder'),
      credit: acc('shop'),
      amount: '12.50',
      reference: xss,
    });
    await produce(acc('funder'), bad);
    const dl = await waitFor('the dead letter', async () => {
      const list = await api('/admin/dead-letters?status=OPEN');
      return (list.items as { id: string; payload: { text: string } }[]).find((d) =>
        d.payload.text.includes(id),
      );
    });

    await signIn(ALICE);
    await expect(page.textContent('#who-name')).resolves.toBe('alice');
    await tab('dead-letters');
    await page.click(`#dl-rows button:text-is("#${dl.id}")`);
    await page.waitForSelector('#dl-detail:not([hidden])');
    await expect(page.textContent('#dl-field')).resolves.toBe('amount');
    // The markup is shown as text and never becomes an element, nor runs.
    await expect(page.textContent('#dl-payload')).resolves.toContain(xss);
    expect(await page.locator('#dl-detail img').count()).toBe(0);
    await page.waitForTimeout(500);
    expect(await page.evaluate('window.__pwned')).toBe(undefined);
    await page.screenshot({ path: path.join(SHOTS, 'console-dead-letter.png') });

    const corrected = bad.replace('"12.50"', '"1250"');
    await page.fill('#dl-correction', corrected);
    await page.click('#dl-propose');
    await page.waitForSelector('#dl-state:text-is("PROPOSED")');
    // Four eyes: the proposer cannot approve.
    expect(await page.isDisabled('#dl-approve')).toBe(true);
    await expect(page.textContent('#dl-history')).resolves.toContain('proposed by alice');

    await signIn(BOB);
    await tab('dead-letters');
    await page.selectOption('#dl-status', 'PROPOSED');
    await page.click(`#dl-rows button:text-is("#${dl.id}")`);
    await page.waitForSelector('#dl-approve:not([disabled])');
    await page.click('#dl-approve');
    await page.waitForSelector('#dl-state:text-is("RESUBMITTED")');
    await page.waitForSelector(`#dl-history:has-text("Outcome of ${id}: SETTLED")`, {
      timeout: 60_000,
    });
    await expect(page.textContent('#dl-history')).resolves.toContain('Approved by bob');
    await page.selectOption('#dl-status', 'RESUBMITTED');
    await page.waitForSelector(`#dl-rows button:text-is("#${dl.id}")`);
    await page.screenshot({ path: path.join(SHOTS, 'console-dead-letter-settled.png') });
    const tx = await api(`/admin/transactions/${id}`);
    expect(tx).toMatchObject({ status: 'SETTLED', amount: '1250' });
  }, 120_000);

  it('pauses and resumes consumption', async () => {
    await signIn(ALICE);
    await tab('lag');
    await page.fill('#pause-reason', 'console test');
    await page.click('#pause');
    await page.waitForSelector('#lag-state:text-is("PAUSED")');
    expect(await api('/admin/consumers')).toMatchObject({ paused: true, updatedBy: 'alice' });
    await page.screenshot({ path: path.join(SHOTS, 'console-lag.png') });
    await page.click('#resume');
    await page.waitForSelector('#lag-state:text-is("CONSUMING")');
    expect(await api('/admin/consumers')).toMatchObject({ paused: false });
  }, 60_000);

  it('starts a replay and follows it to completion; batches link into the Temporal Web UI', async () => {
    await signIn(ALICE);
    await tab('batches');
    const link = page.locator('#batch-rows a').first();
    await link.waitFor();
    expect(await link.getAttribute('href')).toMatch(
      /^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/settle-/,
    );
    await page.screenshot({ path: path.join(SHOTS, 'console-batches.png') });

    const [end] = await pipeline.admin.fetchTopicOffsets(pipeline.topics.transactions);
    await tab('replays');
    await page.fill('#replay-from', '0');
    await page.fill('#replay-to', end.high);
    await page.click('#replay-form button[type=submit]');
    await page.waitForSelector('#notice:has-text("Replay rpl-")');
    const replayId = /Replay (rpl-[0-9a-f]+)/.exec((await page.textContent('#notice')) ?? '')![1];
    const row = page.locator('#replay-rows tr', { hasText: replayId });
    await row.locator('.badge:text-is("COMPLETED")').waitFor({ timeout: 60_000 });
    await expect(row.locator('td').nth(3).textContent()).resolves.toContain(
      `${end.high}/${end.high}`,
    );
    await page.screenshot({ path: path.join(SHOTS, 'console-replays.png') });
  }, 90_000);

  it('shows everything to a read-only token and offers no change', async () => {
    await signIn(AUDITOR);
    await expect(page.textContent('#who-role')).resolves.toBe('readonly');
    await tab('lag');
    await page.waitForSelector('#lag-state:text-is("CONSUMING")');
    expect(await page.isVisible('#pause')).toBe(false);
    expect(await page.isVisible('#resume')).toBe(false);
    await tab('dead-letters');
    await page.selectOption('#dl-status', '');
    await page.locator('#dl-rows button').first().click();
    await page.waitForSelector('#dl-detail:not([hidden])');
    expect(await page.isVisible('#dl-actions')).toBe(false);
    expect(await page.isVisible('#redrive-run')).toBe(false);
    await tab('replays');
    expect(await page.isVisible('#replay-form')).toBe(false);
    expect(outside).toEqual([]);
  }, 60_000);
});
