/**
 * The weekly report's HTML in a real browser (Debian's Chromium driven by playwright-core): it makes
 * no request of any kind, logs no error, every chart is drawn at a readable size on a desktop and the
 * page fits a phone without sideways scrolling, axe-core finds no WCAG 2 A/AA violation (table
 * headers, names, colour contrast), and screenshots of both are written to test/artifacts/.
 * Without a Chromium (CHROMIUM_PATH, else /usr/bin/chromium) the test is skipped and says why.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AxeResults } from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../shared/reports/render-html.ts';
import { sampleReport } from '../helpers/sample-report.ts';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browserFound = existsSync(executablePath);
if (!browserFound) console.warn(`browser test skipped: no Chromium at ${executablePath} (apt-get install chromium)`);

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const DESKTOP = { width: 1200, height: 900 };
const PHONE = { width: 390, height: 844 };

interface Opened {
  readonly page: Page;
  /** Every request the page tried to make (all of them are aborted). */
  readonly requests: string[];
  /** Console errors and uncaught page errors. */
  readonly errors: string[];
}

describe.skipIf(!browserFound)('the weekly report in Chromium', () => {
  let browser: Browser;
  const html = renderHtml(sampleReport());

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    await mkdir(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(viewport: { width: number; height: number }, options: { isMobile?: boolean; deviceScaleFactor?: number } = {}): Promise<Opened> {
    const context = await browser.newContext({ viewport, ...options });
    const page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    await page.route('**/*', async (route) => {
      requests.push(route.request().url());
      await route.abort();
    });
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.setContent(html, { waitUntil: 'load' });
    return { page, requests, errors };
  }

  it('on a desktop: draws every chart, loads nothing, logs no error, passes axe (WCAG 2 A/AA)', async () => {
    const { page, requests, errors } = await open(DESKTOP);
    try {
      const charts = page.locator('figure svg');
      const count = await charts.count();
      expect(count).toBeGreaterThanOrEqual(7);
      for (let i = 0; i < count; i++) {
        const chart = charts.nth(i);
        const name = await chart.getAttribute('aria-label');
        expect(await chart.isVisible(), `chart ${i} visible: ${name}`).toBe(true);
        const box = await chart.boundingBox();
        expect(box?.width ?? 0, `chart ${i} width: ${name}`).toBeGreaterThan(200);
        expect(box?.height ?? 0, `chart ${i} height: ${name}`).toBeGreaterThan(100);
      }
      expect(await page.title()).toContain('Weekly report');

      const axeSource = await readFile(join(dirname(createRequire(import.meta.url).resolve('axe-core')), 'axe.min.js'), 'utf8');
      await page.addScriptTag({ content: axeSource });
      const results = await page.evaluate<AxeResults>("axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] })");
      const violations = results.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
      expect(violations).toEqual([]);
      expect(results.passes.map((p) => p.id)).toEqual(expect.arrayContaining(['color-contrast', 'svg-img-alt']));

      await page.screenshot({ path: join(ARTIFACTS, 'weekly-report.png'), fullPage: true });
      expect(requests).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it('on a phone (390 × 844): fits the width, every chart scaled to fit', async () => {
    const { page, requests, errors } = await open(PHONE, { isMobile: true, deviceScaleFactor: 2 });
    try {
      const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
      const innerWidth = await page.evaluate<number>('innerWidth');
      expect(innerWidth).toBe(PHONE.width);
      expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
      const charts = page.locator('figure svg');
      for (let i = 0; i < (await charts.count()); i++) {
        const box = await charts.nth(i).boundingBox();
        expect(box?.x ?? -1).toBeGreaterThanOrEqual(0);
        expect((box?.x ?? 0) + (box?.width ?? Infinity)).toBeLessThanOrEqual(PHONE.width);
        expect(box?.height ?? 0).toBeGreaterThan(50);
      }
      await page.screenshot({ path: join(ARTIFACTS, 'weekly-report-phone.png'), fullPage: true });
      expect(requests).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});
