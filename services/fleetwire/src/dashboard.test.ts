import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';

import { killChildren, runStart } from './test-support.js';

const DASHBOARD_DIR = fileURLToPath(new URL('../../../packages/dashboard/', import.meta.url));
// The screenshots committed under docs/ (the dashboard's README shows them) are refreshed with
// FLEETWIRE_UPDATE_SCREENSHOTS=1; other runs write to test-output/, so a test run never changes
// tracked files.
const SHOT_DIR = process.env['FLEETWIRE_UPDATE_SCREENSHOTS'] === '1' ? 'docs' : 'test-output';
const OVERVIEW_SHOT = fileURLToPath(
  new URL(`../../../${SHOT_DIR}/dashboard-overview.png`, import.meta.url),
);
const DEVICE_SHOT = fileURLToPath(
  new URL(`../../../${SHOT_DIR}/dashboard-device.png`, import.meta.url),
);
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
async function launch(): Promise<Browser> {
  return chromium.launch({
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
}

/**
 * Waits until `expression` holds in the page. Evaluated from here, not by waitForFunction: that
 * runs the expression through the page's eval, which the dashboard's Content-Security-Policy
 * refuses (as it would an injected script).
 */
async function until(page: Page, expression: string): Promise<void> {
  await expect.poll(() => page.evaluate(expression), { timeout: 30_000, interval: 50 }).toBe(true);
}

// As a new user would: the embedded default with simulated devices, the printed link opened in
// a real Chromium (Debian's, driven by playwright-core).
describe('the dashboard in a real browser', () => {
  it('shows the fleet, draws a device live and over a range, closes a desired-state delta, gets a command acked', async () => {
    const site = buildDashboard();
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const running = runStart(['--data', data, '--simulate', '3'], {
      FLEETWIRE_DASHBOARD_DIR: site,
      FLEETWIRE_LOG_LEVEL: 'info',
    });
    const { port, dashboardToken } = await running.started;
    const base = `http://127.0.0.1:${port}`;

    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    // The page works under its Content-Security-Policy: nothing it does is refused.
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    // Refusals the test provokes on purpose, each expected once; any other 4xx/5xx is a problem.
    const provoked = new Set<string>();
    page.on('response', (response) => {
      if (response.status() < 400) return;
      const seen = `${response.status()} ${response.url()}`;
      if (!provoked.delete(seen)) problems.push(seen);
    });
    const opened = await page.goto(`${base}/?token=${dashboardToken}`);
    expect(opened?.headers()['content-security-policy']).toContain("script-src 'self'");
    // The page names its icon, and the edge serves it (no /favicon.ico 404 in the console).
    const icon = await page.getAttribute('link[rel="icon"]', 'href');
    expect(icon).toBe('/favicon.svg');
    const served = await page.request.get(`${base}${icon}`);
    expect([served.status(), served.headers()['content-type']]).toEqual([200, 'image/svg+xml']);

    await page.waitForSelector('#connection[data-state="connected"]');
    // The token left the address bar once read.
    expect(page.url()).toBe(`${base}/`);
    await until(page, `document.querySelectorAll('#devices li[data-online="true"]').length === 3`);
    expect(await page.locator('#devices li .name').allTextContents()).toEqual([
      'sim-1',
      'sim-2',
      'sim-3',
    ]);

    // The overview: presence counts, the node's rate and ack latency from its own /metrics.
    expect(await page.textContent('#ov-online')).toBe('3');
    expect(await page.textContent('#ov-offline')).toBe('0');
    expect(await page.locator('#ov-edges tbody tr td').allTextContents()).toEqual([
      'embedded',
      '3',
    ]);
    await until(page, `Number(document.querySelector('#ov-rate').textContent) > 0`);
    await until(page, `/ ms$/.test(document.querySelector('#ov-p99').textContent)`);
    expect(await page.textContent('#ov-p50')).toMatch(/^\d+(\.\d+)? ms$/);
    await page.waitForSelector('#ov-chart canvas');

    // Search narrows the list.
    await page.fill('#device-search', 'sim-2');
    await until(page, `document.querySelectorAll('#devices li').length === 1`);
    await page.fill('#device-search', '');
    await until(page, `document.querySelectorAll('#devices li').length === 3`);

    // The device page: live chart, the range picker on the down-sampled series, presence.
    await page.click('#devices li[data-device="sim-1"]');
    await page.waitForSelector('#device-view:not([hidden])');
    expect(page.url()).toBe(`${base}/#/device/sim-1`);
    await page.waitForSelector('#chart canvas');
    const points = async (): Promise<number> =>
      Number((await page.textContent('#chart-status'))?.split(' ')[0] ?? 0);
    const before = await points();
    await until(
      page,
      `Number(document.querySelector('#chart-status')?.textContent?.split(' ')[0]) > ${before}`,
    );
    await page.waitForSelector('#series-status[data-state="ok"]');
    await page.click('#range-picker button[data-range="15m"]');
    await until(page, `/over 15m/.test(document.querySelector('#series-status').textContent)`);
    expect(Number(await page.getAttribute('#series-status', 'data-buckets'))).toBeGreaterThan(0);
    expect(await page.locator('#series-chart .u-legend .u-series').count()).toBe(3); // time + 2
    await page.waitForSelector('#presence-bar span[data-online="true"]');
    expect(await page.textContent('#device-presence')).toBe('online on embedded');

    // The state loop: the simulator reported its LED; set it on screen, the device does it and
    // reports, and the delta closes on screen.
    // The PATCH answer and the live changes travel on different connections: the answer is held
    // back here until the device's report is on screen, as a loaded machine may do, and must not
    // roll the panel back to the delta it opened.
    await page.waitForSelector('#state-table tr[data-key="led"]');
    const shownVersion = `Number(document.querySelector('#state-version').textContent.split(' ')[1])`;
    await page.route('**/v1/devices/sim-1/state', async (route) => {
      if (route.request().method() !== 'PATCH') return route.continue();
      const answer = await route.fetch();
      const { version: answered } = (await answer.json()) as { version: number };
      await until(page, `${shownVersion} > ${answered}`);
      return route.fulfill({ response: answer });
    });
    await page.fill('#desired-key', 'led');
    await page.fill('#desired-value', 'true');
    await page.click('#desired-form button');
    await page.waitForSelector('#state-status[data-state="ok"]', { state: 'attached' });
    await page.unroute('**/v1/devices/sim-1/state');
    expect(
      await page.$eval('#state-table tr[data-key="led"]', (row) => [
        row.getAttribute('data-pending'),
        row.querySelector('td:nth-child(3)')?.textContent,
      ]),
    ).toEqual(['false', 'true']);
    await page.waitForSelector('#state-delta[data-pending="0"]');
    // A key the device does not know stays in the delta: the panel shows what is pending.
    await page.fill('#desired-key', 'colour');
    await page.fill('#desired-value', '"red"');
    await page.click('#desired-form button');
    await page.waitForSelector('#state-delta[data-pending="1"]');
    expect(await page.textContent('#state-delta')).toBe('delta: {"colour":"red"}');

    // An edit racing another one is refused by the HTTP error contract (412), shown in the
    // panel and among the recent errors. The page follows changes live, so the race is made
    // here: the request leaves with the version before the one on screen.
    const version = Number((await page.textContent('#state-version'))?.split(' ')[1]);
    await page.route('**/v1/devices/sim-1/state', (route) =>
      route.request().method() === 'PATCH'
        ? route.continue({
            headers: { ...route.request().headers(), 'if-match': `"${version - 1}"` },
          })
        : route.continue(),
    );
    provoked.add(`412 ${base}/v1/devices/sim-1/state`);
    await page.fill('#desired-key', 'colour');
    await page.fill('#desired-value', '"blue"');
    await page.click('#desired-form button');
    await page.waitForSelector('#state-status[data-state="error"]');
    expect(await page.textContent('#state-status')).toBe(
      `precondition_failed: the state is at version ${version}, not ${version - 1}`,
    );
    // The page's own refusal, listed once (the node's counter of it may be listed beside it).
    expect(
      await page
        .locator('#errors li[data-code="precondition_failed"][data-source="request"]')
        .count(),
    ).toBe(1);
    expect(await page.textContent('#state-delta')).toBe('delta: {"colour":"red"}');
    await page.unroute('**/v1/devices/sim-1/state');

    await page.click('#drive button[data-command="forward"]');
    const acked = page.locator('#command-log li[data-outcome="ack"]');
    await acked.first().waitFor();
    expect(await acked.first().textContent()).toMatch(
      /^forward → sim-\d: ack in \d+ ms \{"done":"forward","at":\d+\}$/,
    );
    mkdirSync(dirname(DEVICE_SHOT), { recursive: true });
    await page.screenshot({ path: DEVICE_SHOT, fullPage: true });

    // Back on the overview, the state changes seen meanwhile are listed, newest first.
    await page.click('#nav-overview');
    await page.waitForSelector('#overview-view:not([hidden])');
    const changes = await page.$$eval('#ov-state-changes li', (items) =>
      items.map((li) => [li.dataset['device'], li.dataset['pending'], li.textContent]),
    );
    expect(changes[0]).toEqual([
      'sim-1',
      '1',
      expect.stringMatching(/ sim-1 v\d+ set by dashboard · pending \{"colour":"red"\}$/),
    ]);
    expect(changes).toContainEqual([
      'sim-1',
      '0',
      expect.stringMatching(/ sim-1 v\d+ reported · in sync$/),
    ]);
    // The picture of the overview, once it has some history, changes and an error to show.
    await until(page, `Number(document.querySelector('#ov-chart').dataset.points) >= 4`);
    mkdirSync(dirname(OVERVIEW_SHOT), { recursive: true });
    await page.screenshot({ path: OVERVIEW_SHOT });
    expect(problems).toEqual([]);
    expect([...provoked]).toEqual([]);
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }, 120_000);

  it('lists thousands of devices in a virtualised list, sub-devices under their gateway', async () => {
    const site = buildDashboard();
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const running = runStart(['--data', data], { FLEETWIRE_DASHBOARD_DIR: site });
    const { port, dashboardToken } = await running.started;
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    // The device list API answers a big fleet; gateways carry sub-devices (the `gateway` field).
    const fleet = [
      ...Array.from({ length: 5000 }, (_, i) => ({
        deviceId: `dev-${String(i).padStart(4, '0')}`,
        online: i % 3 !== 0,
        node: 'embedded',
      })),
      { deviceId: 'gw-1', online: true, node: 'embedded' },
      { deviceId: 'gw-1.a', online: true, node: 'embedded', gateway: 'gw-1' },
      { deviceId: 'gw-1.b', online: false, gateway: 'gw-1' },
    ];
    await page.route('**/api/devices', (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify({ devices: fleet }) }),
    );
    await page.goto(`http://127.0.0.1:${port}/?token=${dashboardToken}`);
    await until(
      page,
      `document.querySelector('#device-summary').textContent.startsWith('5003 of 5003 shown')`,
    );
    // Only what is in view (and a few rows around it) is in the DOM.
    const rendered = await page.locator('#devices li').count();
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(80);
    // Scrolled to the end, the last device is drawn.
    await page.evaluate(`document.querySelector('#device-scroll').scrollTop = 1e7`);
    await page.waitForSelector(
      '#devices li[data-device="dev-9999"], #devices li[data-device="dev-4998"]',
    );
    // A gateway lists its sub-devices under it, indented; a filter matching one keeps its gateway.
    await page.fill('#device-search', 'gw-1.b');
    await until(page, `document.querySelectorAll('#devices li').length === 2`);
    expect(
      await page.$$eval('#devices li', (items) =>
        items.map((li) => [li.dataset['device'], li.dataset['depth'], li.dataset['online']]),
      ),
    ).toEqual([
      ['gw-1', '0', 'true'],
      ['gw-1.b', '1', 'false'],
    ]);
    expect(await page.textContent('#devices li[data-device="gw-1"] .name')).toBe('gw-1 (2)');
    await page.fill('#device-search', '');
    await page.selectOption('#device-status', 'offline');
    await until(
      page,
      `document.querySelector('#device-summary').textContent.startsWith('1669 of 5003 shown')`,
    );
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }, 90_000);
});
