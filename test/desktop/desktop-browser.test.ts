/**
 * "Open desktop" end to end in headless Chromium with a real KVM guest: tom (acme) opens the workspace's
 * desktop from the dashboard and noVNC's canvas shows the guest's SeaBIOS screen; ESC pressed in the
 * browser reaches the guest (its VGA text memory then shows SeaBIOS's boot menu) and the canvas changes;
 * `virsh reset` changes the screen again; after a hub restart the page reconnects on its own with a new
 * ticket; with the VM stopped the page gives up after a few tries and says so. Screenshots go to
 * test-output/screenshots/desktop-*.png.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describeIf, commandWorks } from '../support/requires.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { spawnSync } from 'node:child_process';
import { libvirtAvailable, LIBVIRT_HOW, URI } from '../libvirt/helpers.js';
import { startDeskFleet, type DeskFleet } from './desk-fleet.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(PACKAGE_ROOT, 'test-output', 'screenshots');
const available = libvirtAvailable && existsSync(CHROMIUM) && commandWorks(CHROMIUM, ['--version']);

let f: DeskFleet;
let browser: Browser;
let page: Page;
const errors: string[] = [];

/** The canvas as one character per pixel: '1' lit (not black), '0' black. */
async function canvasBits(): Promise<string> {
  // A string expression: the test's TypeScript has no DOM types.
  return page.evaluate(`(() => {
    const c = document.querySelector('[data-testid="desktop-screen"] canvas');
    if (c === null || c.width === 0) return '';
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2] > 60 ? '1' : '0';
    return s;
  })()`);
}

const lit = (bits: string): number => bits.split('').filter((b) => b === '1').length;
const diff = (a: string, b: string): number => {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
};

describeIf(available, 'libvirt and chromium', `${LIBVIRT_HOW}; apt-get install -y chromium`)('Open desktop in headless chromium with a real KVM guest', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    f = await startDeskFleet();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const [name, value] = f.tom.cookie.split('=') as [string, string];
    await ctx.addCookies([{ name, value, url: f.url }]);
    page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await f?.close();
  });

  it('shows the guest\'s screen after "Open desktop" on the workspaces page', async () => {
    await page.goto(`${f.url}/ui/#/workspaces`);
    await page.getByRole('link', { name: `Open desktop ${f.workspace}` }).click();
    const screen = page.getByTestId('desktop-screen');
    await expect.poll(() => screen.getAttribute('data-state'), { timeout: 20_000 }).toBe('connected');
    expect(await page.getByTestId('desktop-status').textContent()).toBe(`Connected to ${f.workspace} on ${f.node}.`);
    // SeaBIOS prints its banner and the boot menu prompt (the guest's own text memory says so) ...
    await expect.poll(() => f.guest.screenText(), { timeout: 20_000 }).toContain('Press ESC for boot menu');
    // ... and the canvas shows text: not all black.
    await expect.poll(async () => lit(await canvasBits()), { timeout: 10_000 }).toBeGreaterThan(500);
    await page.screenshot({ path: join(SHOTS, 'desktop-1-seabios.png') });
  }, 60_000);

  it('sends a key press to the guest: ESC opens SeaBIOS\'s boot menu, and the canvas changes', async () => {
    const before = await canvasBits();
    expect(f.guest.screenText()).not.toContain('Select boot device');
    await page.getByTestId('desktop-screen').locator('canvas').click();
    await page.keyboard.press('Escape');
    await expect.poll(() => f.guest.screenText(), { timeout: 10_000 }).toContain('Select boot device');
    // More than a blinking cursor: lines of new text.
    await expect.poll(async () => diff(before, await canvasBits()), { timeout: 10_000 }).toBeGreaterThan(300);
    await page.screenshot({ path: join(SHOTS, 'desktop-2-boot-menu.png') });
  }, 30_000);

  it('follows the guest\'s screen when libvirt resets it', async () => {
    const menu = await canvasBits();
    f.guest.reset();
    await expect.poll(() => f.guest.screenText(), { timeout: 15_000 }).not.toContain('Select boot device');
    await expect.poll(async () => diff(menu, await canvasBits()), { timeout: 15_000 }).toBeGreaterThan(300);
    await expect.poll(() => f.guest.screenText(), { timeout: 15_000 }).toContain('Press ESC for boot menu');
    await page.screenshot({ path: join(SHOTS, 'desktop-3-after-reset.png') });
  }, 40_000);

  it('reconnects on its own after a hub restart (a new ticket with the still-valid session)', async () => {
    const screen = page.getByTestId('desktop-screen');
    expect(await screen.getAttribute('data-connections')).toBe('1');
    await f.restartHub();
    await expect.poll(() => screen.getAttribute('data-connections'), { timeout: 30_000 }).toBe('2');
    expect(await screen.getAttribute('data-state')).toBe('connected');
    await expect.poll(async () => lit(await canvasBits()), { timeout: 10_000 }).toBeGreaterThan(500);
    // The new connection carries keys too.
    const before = await canvasBits();
    await page.getByTestId('desktop-screen').locator('canvas').click();
    await page.keyboard.press('Escape');
    await expect.poll(() => f.guest.screenText(), { timeout: 10_000 }).toContain('Select boot device');
    await expect.poll(async () => diff(before, await canvasBits()), { timeout: 10_000 }).toBeGreaterThan(300);
    await page.screenshot({ path: join(SHOTS, 'desktop-4-after-hub-restart.png') });
    expect(errors).toEqual([]);
  }, 60_000);

  it('stops asking and says so when the VM does not run (the node closes every console at once)', async () => {
    spawnSync('virsh', ['-q', '-c', URI, 'destroy', f.guest.domain]);
    await page.reload();
    const screen = page.getByTestId('desktop-screen');
    await expect.poll(() => screen.getAttribute('data-state'), { timeout: 30_000 }).toBe('failed');
    expect(await page.getByTestId('desktop-status').textContent()).toBe('The desktop does not answer.');
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'desktop-5-vm-not-running.png') });
    expect(errors).toEqual([]);
  }, 45_000);
});
