import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  LOG_DIR,
  openPipeline,
  produceTransfer,
  waitFor,
  type Pipeline,
  type RunningApp,
} from './support/apps';

/** Debian's chromium (.ci/run installs it); never a downloaded browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The stack's Temporal Web UI (scripts/stack/lib.sh: STACK_TEMPORAL_UI_PORT). */
const WEB_UI = (
  process.env.TEMPORAL_WEB_URL ?? `http://127.0.0.1:${process.env.STACK_TEMPORAL_UI_PORT ?? '8233'}`
).replace(/\/+$/, '');
const OPERATOR = `op-${randomBytes(16).toString('hex')}`;

/**
 * What an operator does in the Temporal Web UI, in real headless Chromium against the stack's
 * UI: a transaction settled by the built apps is found by the search attributes its
 * settleBatch workflow carries, and the workflow's page shows its summary.
 */
describe('Temporal Web UI finds a settled batch by search attribute (headless Chromium)', () => {
  let pipeline: Pipeline;
  let admin: RunningApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    mkdirSync(LOG_DIR, { recursive: true });
    pipeline = await openPipeline('webui', {
      partitions: 1,
      extra: { ADMIN_TOKEN: OPERATOR, TEMPORAL_WEB_URL: WEB_UI },
    });
    await pipeline.start('ingest');
    admin = await pipeline.start('admin');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await pipeline?.close();
  });

  it('lists the settleBatch workflow for SettlementTopic and shows its summary on its page', async () => {
    const id = await produceTransfer(pipeline, 'ui');
    const shot = (what: string) => path.join(LOG_DIR, `temporal-ui-${what}-${id}.png`);
    const tx = await waitFor('the transaction to settle', async () => {
      const res = await fetch(`http://127.0.0.1:${admin.port}/admin/transactions/${id}`, {
        headers: { Authorization: `Bearer ${OPERATOR}` },
      });
      const body = (await res.json()) as {
        status?: string;
        workflowId?: string;
        workflowUrl?: string;
        batch?: { status: string };
      };
      return body.status === 'SETTLED' && body.batch?.status === 'SETTLED' ? body : undefined;
    });
    expect(tx.workflowUrl).toBe(
      `${WEB_UI}/namespaces/default/workflows/${encodeURIComponent(tx.workflowId!)}`,
    );

    // The list, filtered by the attributes the worker set: this test's topic, status SETTLED.
    const query = `SettlementTopic = '${pipeline.topics.transactions}' AND SettlementStatus = 'SETTLED'`;
    const list = `${WEB_UI}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
    // Visibility is eventually consistent: reload until the row is there.
    const started = Date.now();
    await waitFor(
      'the workflow in the filtered list',
      async () => {
        await page.goto(list, { waitUntil: 'networkidle' });
        return page
          .getByText(tx.workflowId!, { exact: true })
          .first()
          .isVisible({ timeout: 5_000 })
          .catch(() => false);
      },
      90_000,
      1_000,
    );
    const listedMs = Date.now() - started;
    const listShot = shot('list');
    await page.screenshot({ path: listShot, fullPage: true });
    // Only this test's batch matches its topic.
    await expect(
      page.locator('a', { hasText: /settle-it-transactions-webui-/ }).count(),
    ).resolves.toBe(1);

    // Its page, reached from the list: the summary reads like a sentence.
    await page.getByText(tx.workflowId!, { exact: true }).first().click();
    await page.waitForURL(/\/workflows\/settle-/);
    const summary = `${pipeline.topics.transactions}[0] offset 0: 1 message`;
    // The User Metadata tab shows the summary and the details (Web UI 2.4x), each rendered
    // as markdown in a frame of its own.
    await page.getByText('User Metadata', { exact: true }).first().click();
    await page
      .frameLocator('iframe[src*="render"]')
      .first()
      .getByText(summary)
      .waitFor({ state: 'visible', timeout: 30_000 });
    const pageShot = shot('workflow');
    await page.screenshot({ path: pageShot, fullPage: true });
    process.stdout.write(
      `Temporal Web UI listed ${tx.workflowId} by search attribute after ${listedMs} ms; screenshots: ${listShot} ${pageShot}\n`,
    );
  });
});
