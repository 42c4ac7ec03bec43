import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';

import { killChildren, runStart } from './test-support.js';

const DASHBOARD_DIR = fileURLToPath(new URL('../../../packages/dashboard/', import.meta.url));
const SCREENSHOT = fileURLToPath(new URL('../../../test-output/dashboard.png', import.meta.url));
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
  killChildren();
});

/** Builds the dashboard into a fresh dir with the package's own Vite, as `npm start` does. */
function buildDashboard(): string {
  const out = mkdtempSync(join(tmpdir(), 'fleetwire-dashboard-'));
  const vitePackage = createRequire(join(DASHBOARD_DIR, 'package.json')).resolve(
    'vite/package.json',
  );
  const vite = join(dirname(vitePackage), 'bin', 'vite.js');
  const result = spawnSync(
    process.execPath,
    [vite, 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'],
    {
      cwd: DASHBOARD_DIR,
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`dashboard build failed: ${result.stderr}`);
  return out;
}

// As a new user would: the embedded default with simulated devices, the printed link opened in
// a real Chromium (Debian's, driven by playwright-core).
describe('the dashboard in a real browser', () => {
  it('lists the devices, draws their telemetry live, and gets a command acked', async () => {
    const site = buildDashboard();
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const running = runStart(['--data', data, '--simulate', '3'], {
      FLEETWIRE_DASHBOARD_DIR: site,
      FLEETWIRE_LOG_LEVEL: 'info',
    });
    const { port, dashboardToken } = await running.started;

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`http://127.0.0.1:${port}/?token=${dashboardToken}`);
    // The page names its icon, and the edge serves it (no /favicon.ico 404 in the console).
    const icon = await page.getAttribute('link[rel="icon"]', 'href');
    expect(icon).toBe('/favicon.svg');
    const served = await page.request.get(`http://127.0.0.1:${port}${icon}`);
    expect([served.status(), served.headers()['content-type']]).toEqual([200, 'image/svg+xml']);

    await page.waitForSelector('#connection[data-state="connected"]');
    // The token left the address bar once read.
    expect(page.url()).toBe(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(
      `document.querySelectorAll('#devices li[data-online="true"]').length === 3`,
    );
    expect(await page.locator('#devices li .name').allTextContents()).toEqual([
      'sim-1',
      'sim-2',
      'sim-3',
    ]);

    // The chart of the selected device grows with live telemetry.
    await page.waitForSelector('#chart canvas');
    const points = async (): Promise<number> =>
      Number((await page.textContent('#chart-status'))?.split(' ')[0] ?? 0);
    const before = await points();
    await page.waitForFunction(
      `Number(document.querySelector('#chart-status')?.textContent?.split(' ')[0]) > ${before}`,
    );

    await page.click('#drive button[data-command="forward"]');
    const acked = page.locator('#command-log li[data-outcome="ack"]');
    await acked.first().waitFor();
    expect(await acked.first().textContent()).toMatch(
      /^forward → sim-\d: ack in \d+ ms \{"done":"forward","at":\d+\}$/,
    );

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(problems).toEqual([]);
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }, 90_000);
});
