/**
 * `strata lsm` opened in a real headless Chromium (Debian's /usr/bin/chromium, which .ci/run
 * installs), driven by playwright-core: the page loads with no console error and no network
 * request, draws as many table boxes as the manifest has live tables at every step (slider and
 * arrow keys), and shows details on hover. The screenshot is kept in .test-results/cli-lsm.png
 * (and written to docs/lsm.png, the README's picture, with STRATA_UPDATE_SCREENSHOT=1).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifestHistory } from '@strata-db/engine';
import { makeDatabase, strata, tempDir } from './strata.js';

const CHROMIUM = '/usr/bin/chromium';
const { dir, cleanup } = tempDir();
const profile = mkdtempSync(join(tmpdir(), 'strata-cli-chromium-'));
let context: BrowserContext;

beforeAll(async () => {
  await makeDatabase(dir);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1040, height: 700 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  cleanup();
});

describe('strata lsm', () => {
  it('draws one box per live table at every manifest step, with no console error and no network', async () => {
    const out = join(dir, 'lsm.html');
    const r = await strata(['--db', dir, 'lsm', '--out', out]);
    expect(r.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // self-contained

    // What the manifest says, folded here independently of the page.
    const history = readManifestHistory(dir);
    const liveCounts: number[] = [];
    const live = new Set<number>();
    for (const rec of history.records) {
      for (const d of rec.deleted) live.delete(d.fileNumber);
      for (const a of rec.added) live.add(a.file.fileNumber);
      liveCounts.push(live.size);
    }
    expect(history.records.length).toBeGreaterThan(5);

    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.route('**/*', async (route) => {
      if (route.request().url().startsWith('file:')) await route.continue();
      else {
        problems.push(`network: ${route.request().url()}`);
        await route.abort();
      }
    });
    await page.goto(pathToFileURL(out).href);
    const boxes = (): Promise<number> => page.locator('rect.table').count();
    const last = history.records.length - 1;
    expect(await page.inputValue('#step')).toBe(String(last)); // opens at the newest state
    expect(await boxes()).toBe(liveCounts[last]);
    // Every step through the slider…
    for (let i = 0; i <= last; i++) {
      await page.$eval(
        '#step',
        (el, v) => {
          (el as unknown as { value: string }).value = String(v);
          el.dispatchEvent(new Event('input'));
        },
        i,
      );
      expect(await boxes(), `step ${i}`).toBe(liveCounts[i]);
    }
    // …and back with the arrow keys.
    for (let i = last - 1; i >= Math.max(0, last - 5); i--) {
      await page.keyboard.press('ArrowLeft');
      expect(await page.inputValue('#step')).toBe(String(i));
      expect(await boxes(), `step ${i} by keyboard`).toBe(liveCounts[i]);
    }
    await page.keyboard.press('End'); // not bound: nothing changes
    for (let i = Math.max(0, last - 5) + 1; i <= last; i++) await page.keyboard.press('ArrowRight');
    expect(await boxes()).toBe(liveCounts[last]);
    // Details on hover.
    await page.locator('rect.table').last().hover();
    await expect.poll(() => page.locator('#tip').isVisible()).toBe(true);
    expect(await page.locator('#tip').textContent()).toMatch(/^table \d{6}\.sst {2}L\d/);
    await page.mouse.move(2, 2);

    const resultsDir = join(import.meta.dirname, '..', '..', '..', '.test-results');
    mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: join(resultsDir, 'cli-lsm.png'), fullPage: true });
    if (process.env['STRATA_UPDATE_SCREENSHOT'] === '1') await page.screenshot({ path: join(import.meta.dirname, '..', 'docs', 'lsm.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
