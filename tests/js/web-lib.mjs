// web-lib.mjs — what the browser journeys share (tests/js/web-*.mjs): the accounts from the
// environment, the step being run and the failure that names it, screenshots at phone and
// desk sizes, axe-core on a page, signing in, and waiting for what a page should show.
//
// Environment: STATION_WEB_URL (the gateway), STATION_WEB_SHOTS (a folder for screenshots),
// STATION_WEB_<WHO> (login:password of each account a journey uses).
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const BASE = process.env.STATION_WEB_URL;
export const SHOTS = process.env.STATION_WEB_SHOTS;
export const PHONE = { width: 360, height: 740 };
export const DESK = { width: 1280, height: 860 };
export const WAIT = 20000;

// STATION_WEB_<WHO> as {login, password}.
export function account (who) {
  const value = process.env['STATION_WEB_' + who] || '';
  const colon = value.indexOf(':');
  return { login: value.slice(0, colon), password: value.slice(colon + 1) };
}

// The step being run, named in any failure.
// Each step's time is printed when the next begins, so a slow journey shows where it waits.
let current = 'start';
let stepStarted = Date.now();
export function step (name) {
  const now = Date.now();
  console.log('step ' + current + ': ' + (now - stepStarted) + ' ms');
  current = name;
  stepStarted = now;
}

export function check (condition, what) {
  if (!condition) throw new Error(current + ': ' + what);
}

// A browser and a context for each of `who` ({name: 'phone' | 'desk'}): their pages, each
// failing the run on an error in the page's script.
export async function launch (who) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const kinds = {
    phone: { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' },
    desk: { viewport: DESK, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' }
  };
  const pages = {};
  for (const [name, kind] of Object.entries(who)) {
    const page = await (await browser.newContext(kinds[kind])).newPage();
    page.on('pageerror', (error) => { console.log('page error on ' + page.url() + ': ' + error.message); process.exitCode = 1; });
    pages[name] = page;
  }
  return { browser, pages };
}

// The page at both sizes, named by `prefix`, a number and the step's name.
let shotCount = 0;
let shotMs = 0;
process.on('exit', () => console.log('screenshots: ' + shotCount + ' pages, ' + shotMs + ' ms'));
export async function shots (page, name, prefix = '') {
  const begun = Date.now();
  const size = page.viewportSize();
  const base = prefix + String(++shotCount).padStart(2, '0') + '-' + name;
  for (const [label, viewport] of [['phone', PHONE], ['desk', DESK]]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(SHOTS, base + '-' + label + '.png'), fullPage: true, scale: 'css' });
  }
  await page.setViewportSize(size);
  shotMs += Date.now() - begun;
}

// axe-core on the page as it stands: no serious or critical violation. (Evaluated through the
// browser's debugging protocol, which the pages' CSP does not govern.) Once per name.
const axeSeen = new Set();
export async function axe (page, name) {
  if (axeSeen.has(name)) return;
  axeSeen.add(name);
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
  check(bad.length === 0, 'axe found on ' + name + ':\n  ' + text.join('\n  '));
  const minor = result.violations.map((v) => v.id + ' (' + v.impact + ')');
  console.log('axe ' + name + ': ' + result.violations.length + ' violations, none serious or critical' + (minor.length ? ': ' + minor.join(', ') : ''));
}

// axe and screenshots of the page once its heading shows.
export async function visit (page, name, prefix = '') {
  await page.waitForSelector('main h1');
  const text = await page.locator('main').innerText();
  const word = /\b(null|undefined|NaN)\b|\[object /.exec(text);
  check(!word, 'the page ' + name + ' shows a program\'s word: …' + (word ? text.slice(Math.max(0, word.index - 150), word.index + 150) : '') + '…');
  await axe(page, name);
  await shots(page, name, prefix);
}

export async function signIn (page, who) {
  await page.goto(BASE + '/signin');
  await page.fill('[name=login]', who.login);
  await page.fill('[name=password]', who.password);
  await page.click('form button[type=submit]');
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: WAIT });
}

// Reloads until `selector` shows (a round, a ledger entry: things that happen after a while).
export async function until (page, selector, what) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    if (await page.locator(selector).count()) return;
    check(Date.now() < deadline, 'waited ' + WAIT / 1000 + ' s for ' + what + '; the page shows: ' + (await page.locator('main').innerText()));
    await page.waitForTimeout(700);
    await page.reload();
    await page.waitForSelector('main h1');
  }
}

// Waits for `locator` on `page`; on a timeout, fails saying what the page showed instead.
export async function see (page, locator, what) {
  try {
    await locator.waitFor({ timeout: WAIT });
  } catch (e) {
    check(false, 'waited for ' + what + '; the page shows: ' + (await page.locator('main').innerText()));
  }
}

export async function textOf (page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

// Shanghai wall-clock time `minutes` from now, as a datetime-local input takes it.
export function local (minutes) {
  return new Date(Date.now() + minutes * 60000 + 8 * 3600000).toISOString().slice(0, 16);
}

// What a page downloads on its first load (a fresh browser), gzip as sent.
export async function firstLoadBytes (browser, url, viewport, signInAs) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  if (signInAs) await signIn(page, signInAs);
  await page.goto('about:blank');
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.clearBrowserCache');
  let bytes = 0;
  let files = 0;
  cdp.on('Network.loadingFinished', (event) => { bytes += event.encodedDataLength; files++; });
  await page.goto(BASE + url, { waitUntil: 'networkidle' });
  await context.close();
  return { bytes, files };
}
