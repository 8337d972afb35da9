// web-journey.mjs — the pages of issue 23 in a real browser (Debian's chromium driven by
// playwright-core) against a running stack that tests/web_test.c started: a resident orders,
// a station admin reviews, the round offers, the volunteer accepts, checks in and out, the
// admin confirms the hours, the dispatch board shows the round, the resident rates; an
// activity's check-in by its QR code (the served image decoded with jsQR and the address it
// holds opened); a past activity back-entered; the volunteer's points and star progress; the
// county dashboard against the report. axe-core runs on every page; each step saves screenshots at phone and
// desk sizes; the bytes each page downloads on first load are printed.
//
// Environment: STATION_WEB_URL, STATION_WEB_SHOTS (a folder), STATION_WEB_RESIDENT,
// STATION_WEB_VOLUNTEER, STATION_WEB_ADMIN (each login:password). Exit 0 when every step did
// what it should; otherwise the step, what was expected and what the page showed.
import { chromium } from 'playwright-core';
import jsQR from 'jsqr';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.STATION_WEB_URL;
const SHOTS = process.env.STATION_WEB_SHOTS;
const [RESIDENT, VOLUNTEER, ADMIN, COUNTY] = ['RESIDENT', 'VOLUNTEER', 'ADMIN', 'COUNTY'].map((who) => {
  const value = process.env['STATION_WEB_' + who] || '';
  const colon = value.indexOf(':');
  return { login: value.slice(0, colon), password: value.slice(colon + 1) };
});
const PHONE = { width: 360, height: 740 };
const DESK = { width: 1280, height: 860 };
const WAIT = 20000;

let step = 'start';
function check (condition, what) {
  if (!condition) throw new Error(step + ': ' + what);
}

// The page at both sizes, named by the step.
let shotCount = 0;
async function shots (page, name) {
  const size = page.viewportSize();
  const base = String(++shotCount).padStart(2, '0') + '-' + name;
  for (const [label, viewport] of [['phone', PHONE], ['desk', DESK]]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(SHOTS, base + '-' + label + '.png'), fullPage: true });
  }
  await page.setViewportSize(size);
}

// axe-core on the page as it stands: no serious or critical violation. (Evaluated through the
// browser's debugging protocol, which the pages' CSP does not govern.)
const axeSeen = new Set();
async function axe (page, name) {
  const key = name;
  if (axeSeen.has(key)) return;
  axeSeen.add(key);
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
  check(bad.length === 0, 'axe found on ' + name + ':\n  ' + text.join('\n  '));
  console.log('axe ' + name + ': ' + result.violations.length + ' violations, none serious or critical');
}

async function visit (page, name) {
  await page.waitForSelector('main h1');
  const text = await page.locator('main').innerText();
  check(!/\b(null|undefined|NaN)\b|\[object /.test(text), 'the page ' + name + ' shows a program\'s word: ' + text.slice(0, 300));
  await axe(page, name);
  await shots(page, name);
}

async function signIn (page, who) {
  await page.goto(BASE + '/signin');
  await page.fill('[name=login]', who.login);
  await page.fill('[name=password]', who.password);
  await page.click('form button[type=submit]');
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: WAIT });
}

// Reloads until `selector` shows (a round, a ledger entry: things that happen after a while).
async function until (page, selector, what) {
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
async function see (page, locator, what) {
  try {
    await locator.waitFor({ timeout: WAIT });
  } catch (e) {
    check(false, 'waited for ' + what + '; the page shows: ' + (await page.locator('main').innerText()));
  }
}

async function textOf (page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

// Shanghai wall-clock time `minutes` from now, as a datetime-local input takes it.
function local (minutes) {
  return new Date(Date.now() + minutes * 60000 + 8 * 3600000).toISOString().slice(0, 16);
}

// What a page downloads on its first load (a fresh browser), gzip as sent.
async function firstLoadBytes (browser, url, viewport, signInAs) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  if (signInAs) await signIn(page, signInAs);
  await page.goto('about:blank');
  // A fresh cache: only the session survives.
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

async function main () {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const phone = { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };
  const desk = { viewport: DESK, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };
  const residentPage = await (await browser.newContext(phone)).newPage();
  const volunteerPage = await (await browser.newContext(phone)).newPage();
  const adminPage = await (await browser.newContext(desk)).newPage();
  for (const page of [residentPage, volunteerPage, adminPage]) {
    page.on('pageerror', (error) => { console.log('page error on ' + page.url() + ': ' + error.message); process.exitCode = 1; });
  }

  step = 'the sign-in page';
  await residentPage.goto(BASE + '/');
  await residentPage.waitForURL(/\/signin/);
  await visit(residentPage, 'signin');
  step = 'a wrong password';
  await residentPage.fill('[name=login]', RESIDENT.login);
  await residentPage.fill('[name=password]', 'not-the-password');
  await residentPage.click('form button[type=submit]');
  await residentPage.waitForSelector('.form-status .notice.error, .error:not(:empty)');
  check(residentPage.url().includes('/signin'), 'a wrong password must not sign in');
  check(await residentPage.inputValue('[name=login]') === RESIDENT.login, 'the login typed must stay after a failure');

  step = 'the resident orders (点单)';
  await signIn(residentPage, RESIDENT);
  check(new URL(residentPage.url()).pathname === '/order', 'a resident lands on the order page, not ' + residentPage.url());
  await visit(residentPage, 'order');
  await residentPage.click('label.tile:has(input[value=elderly])');
  const title = '修理漏水的水龙头 ' + Date.now() % 100000;
  await residentPage.fill('[name=need]', title + '\n厨房的水龙头一直滴水，需要换阀芯');
  await residentPage.click('form button[type=submit]');
  await residentPage.waitForURL(/\/requests\/\d+/, { timeout: WAIT });
  const requestId = new URL(residentPage.url()).pathname.split('/').pop();
  await residentPage.waitForSelector('.state');
  check((await textOf(residentPage, '.state')).includes('审核'), 'the new request says it waits for review, not: ' + await textOf(residentPage, '.state'));
  await visit(residentPage, 'request-received');

  step = 'the station admin reviews (审单)';
  await signIn(adminPage, ADMIN);
  check(new URL(adminPage.url()).pathname === '/review', 'an official lands on the review page, not ' + adminPage.url());
  const card = adminPage.locator('.card', { hasText: title });
  await card.waitFor({ timeout: WAIT });
  await visit(adminPage, 'review');
  await card.getByRole('button', { name: '通过', exact: true }).click();
  await see(adminPage, adminPage.locator('.card', { hasText: '已通过' }), 'the request approved');

  step = 'the round offers it, the volunteer accepts (接单)';
  await signIn(volunteerPage, VOLUNTEER);
  check(new URL(volunteerPage.url()).pathname === '/offers', 'a volunteer lands on the offers page, not ' + volunteerPage.url());
  await until(volunteerPage, '.card.offer:has-text("' + title + '") button.primary', 'the offer of the request');
  const offer = volunteerPage.locator('.card.offer', { hasText: title });
  check(/还剩 \d+ 分 \d+ 秒/.test(await offer.locator('.countdown').innerText()), 'the offer shows a countdown to its deadline');
  await visit(volunteerPage, 'offers');
  await offer.getByRole('button', { name: '接单', exact: true }).click();
  await see(volunteerPage, volunteerPage.locator('.card.offer', { hasText: '您已接单' }), 'the offer accepted');

  step = 'the volunteer checks in and out from the offer';
  await volunteerPage.locator('.card.offer', { hasText: title }).getByRole('button', { name: '签到', exact: true }).click();
  await volunteerPage.waitForTimeout(1500);
  check(await volunteerPage.locator('.card.offer .notice.error').count() === 0, 'check-in failed: ' + await volunteerPage.locator('main').innerText());
  await volunteerPage.locator('.card.offer', { hasText: title }).getByRole('button', { name: '签退', exact: true }).click();
  await volunteerPage.waitForTimeout(1000);
  check(await volunteerPage.locator('.card.offer .notice.error').count() === 0, 'check-out failed: ' + await volunteerPage.locator('main').innerText());

  step = 'the admin confirms the hours of the request';
  await adminPage.goto(BASE + '/requests/' + requestId);
  await adminPage.waitForSelector('input.hours', { timeout: WAIT });
  await adminPage.fill('input.hours', '1.5');
  const volunteerId = await textOf(adminPage, '.records tbody td');
  await visit(adminPage, 'request-records');
  await adminPage.click('.records button.primary');
  await see(adminPage, adminPage.locator('.records td', { hasText: '已确认' }), 'the hours confirmed');

  step = 'the dispatch board shows the round that offered it';
  await adminPage.goto(BASE + '/dispatch');
  await see(adminPage, adminPage.locator('.card', { hasText: title }), 'a round with the request');
  await visit(adminPage, 'dispatch');

  step = 'the resident rates (评单)';
  await until(residentPage, '.state-completed', 'the request to read as done');
  await residentPage.click('.stars label:has(input[value="5"])');
  await residentPage.fill('[name=comment]', '师傅很专业，谢谢！');
  await visit(residentPage, 'rate');
  await residentPage.click('form button[type=submit]');
  await see(residentPage, residentPage.locator('dd', { hasText: '★★★★★' }), 'the rating shown');

  step = 'the admin publishes an activity';
  await adminPage.goto(BASE + '/manage/activities/new');
  await adminPage.waitForSelector('[name=title]');
  const activityTitle = '敬老院义务理发 ' + Date.now() % 100000;
  await adminPage.fill('[name=title]', activityTitle);
  await adminPage.selectOption('[name=category]', 'elderly');
  await adminPage.fill('[name=starts_at]', local(30));
  await adminPage.fill('[name=ends_at]', local(150));
  await adminPage.fill('[name=signup_closes_at]', local(20));
  await adminPage.fill('[name=capacity]', '5');
  await visit(adminPage, 'activity-new');
  await adminPage.click('form button[type=submit]');
  await adminPage.waitForURL(/\/manage\/activities\/\d+/, { timeout: WAIT });
  const activityId = new URL(adminPage.url()).pathname.split('/').pop();

  step = 'the volunteer signs up';
  await volunteerPage.goto(BASE + '/activities');
  const activityCard = volunteerPage.locator('.card', { hasText: activityTitle });
  await see(volunteerPage, activityCard, 'the activity in the list');
  await visit(volunteerPage, 'activities');
  await activityCard.getByRole('button', { name: '报名', exact: true }).click();
  await see(volunteerPage, volunteerPage.locator('.card', { hasText: activityTitle }).locator('.state', { hasText: '已报名' }), 'the sign-up confirmed');

  step = 'the organiser shows the check-in QR code, the volunteer scans it';
  await adminPage.reload();
  await adminPage.waitForFunction(() => { const img = document.querySelector('img.qr'); return img && img.complete && img.naturalWidth > 0; }, null, { timeout: WAIT });
  await visit(adminPage, 'activity-qr');
  const shortCode = await textOf(adminPage, '.checkin-code .code');
  const pixels = await adminPage.evaluate(() => {
    const img = document.querySelector('img.qr');
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height);
    return { width: data.width, height: data.height, data: Array.from(data.data) };
  });
  const decoded = jsQR(Uint8ClampedArray.from(pixels.data), pixels.width, pixels.height);
  check(decoded, 'the served QR image decodes');
  const scanned = new URL(decoded.data);
  check(scanned.pathname === '/checkin' && scanned.searchParams.get('activity') === activityId, 'the QR code holds the check-in page of the activity, not ' + decoded.data);
  check(scanned.searchParams.get('code') === shortCode, 'the QR code holds the code shown beside it (' + shortCode + '), not ' + decoded.data);
  await volunteerPage.goto(BASE + scanned.pathname + scanned.search);
  await see(volunteerPage, volunteerPage.locator('.notice', { hasText: '签到成功' }), 'the check-in confirmed');
  await visit(volunteerPage, 'checkin');
  await volunteerPage.waitForTimeout(1100);
  await volunteerPage.click('button.secondary:has-text("签退")');
  await see(volunteerPage, volunteerPage.locator('.notice', { hasText: '签退成功' }), 'the check-out confirmed');

  step = 'a wrong code is refused, naming the field';
  await volunteerPage.goto(BASE + '/checkin');
  await volunteerPage.fill('[name=activity_id]', activityId);
  await volunteerPage.fill('[name=code]', 'ZZZZZZ');
  await volunteerPage.click('form button[type=submit]');
  await volunteerPage.waitForSelector('#f-code-error:not(:empty), .form-status .notice.error', { timeout: WAIT });

  step = 'the organiser confirms the activity\'s hours in bulk';
  await adminPage.reload();
  await adminPage.waitForSelector('input.hours', { timeout: WAIT });
  await adminPage.fill('input.hours', '2');
  await adminPage.click('.records button.primary');
  await see(adminPage, adminPage.locator('.records td', { hasText: '已确认' }), 'the hours confirmed');

  step = 'the county office back-enters a past activity (补录) from its paper sheet';
  const countyPage = await (await browser.newContext(desk)).newPage();
  countyPage.on('pageerror', (error) => { console.log('page error on ' + countyPage.url() + ': ' + error.message); process.exitCode = 1; });
  await signIn(countyPage, COUNTY);
  await countyPage.goto(BASE + '/manage/backfill');
  await countyPage.waitForSelector('[name=records]');
  await countyPage.fill('[name=title]', '村史馆讲解（补录）');
  await countyPage.selectOption('[name=category]', 'culture');
  await countyPage.fill('[name=starts_at]', local(-3 * 24 * 60));
  await countyPage.fill('[name=ends_at]', local(-3 * 24 * 60 + 90));
  await countyPage.fill('[name=records]', volunteerId + ', 一小时');
  await countyPage.fill('[name=reason]', '纸质签到表补录');
  await visit(countyPage, 'backfill');
  await countyPage.click('form button[type=submit]');
  await see(countyPage, countyPage.locator('#f-records-error:not(:empty)'), 'a bad line named beside the field');
  check(new URL(countyPage.url()).pathname === '/manage/backfill', 'a bad line saves nothing');
  await countyPage.fill('[name=records]', volunteerId + ', 1');
  await countyPage.click('form button[type=submit]');
  await countyPage.waitForURL(/\/manage\/activities\/\d+/, { timeout: WAIT });

  step = 'the volunteer sees the hours, the points and the star progress';
  await volunteerPage.goto(BASE + '/points');
  await until(volunteerPage, '[data-figure=hours]:text-is("4.5")', '4.5 hours (1.5 + 2 + 1 back-entered) on the points page');
  const points = Number(await textOf(volunteerPage, '[data-figure=points]'));
  check(points > 0, 'confirmed hours earn points, the page shows ' + points);
  if (process.env.STATION_WEB_RESULT) fs.writeFileSync(process.env.STATION_WEB_RESULT, JSON.stringify({ points, hours: 4.5 }));
  check(await volunteerPage.locator('progress#star-progress').count() === 1, 'the progress to the next star is shown');
  await visit(volunteerPage, 'points');

  step = 'the county dashboard shows the report\'s numbers';
  await countyPage.goto(BASE + '/dashboard');
  await see(countyPage, countyPage.locator('.big[data-figure=service_hours] .value'), 'the dashboard\'s figures');
  await countyPage.waitForTimeout(1000); // the charts' animation, for the screenshot
  const shown = Object.fromEntries(await countyPage.locator('.big').evaluateAll((els) => els.map((el) => [el.dataset.figure, el.querySelector('.value').textContent])));
  const year = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 4);
  const day = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10);
  const report = await countyPage.evaluate(async (q) => (await fetch('/v1/reports/summary?' + q)).json(), 'from=' + year + '-01-01&to=' + day);
  check(shown.volunteers_registered === String(report.volunteers_registered), 'registered volunteers: the dashboard shows ' + shown.volunteers_registered + ', the report ' + report.volunteers_registered);
  check(shown.activities === String(report.activities), 'activities: the dashboard shows ' + shown.activities + ', the report ' + report.activities);
  check(shown.service_hours === String(Math.round(report.service_hours)), 'hours: the dashboard shows ' + shown.service_hours + ', the report ' + report.service_hours);
  check(report.service_hours >= 4.5, 'the report counts the 4.5 confirmed hours, it says ' + report.service_hours);
  check((await textOf(countyPage, '.period')).includes(year + '-01-01'), 'the dashboard says the period it shows');
  await visit(countyPage, 'dashboard');
  await countyPage.goto(BASE + '/reports');
  await see(countyPage, countyPage.locator('.report table tbody tr').first(), 'the quarterly report table');
  check(await countyPage.locator('a[href^="/v1/reports/quarterly"]').count() === 1, 'the report offers its CSV');
  await visit(countyPage, 'reports');

  step = 'a county official registers a resident cared for first and orders for her';
  await countyPage.goto(BASE + '/register/resident');
  await countyPage.waitForSelector('[name=address]');
  await countyPage.fill('[name=name]', '王桂英');
  await countyPage.fill('[name=phone]', '13907350099');
  await countyPage.selectOption('.region-levels select >> nth=0', { index: 1 });
  await countyPage.waitForSelector('.region-levels select >> nth=1');
  await countyPage.selectOption('.region-levels select >> nth=1', { index: 1 });
  await countyPage.fill('[name=address]', '玉溪镇第一村五组 3 号');
  await countyPage.click('label:has(input[value=empty_nest_elderly])');
  await visit(countyPage, 'resident-new');
  await countyPage.click('form button[type=submit]');
  await see(countyPage, countyPage.locator('.notice', { hasText: '已建档' }), 'the resident registered');
  await countyPage.click('a[href^="/order?resident="]');
  await countyPage.waitForSelector('[name=resident_id]');
  check(/^\d+$/.test(await countyPage.inputValue('[name=resident_id]')), 'the order form knows the new resident');

  step = 'the English switch';
  await volunteerPage.click('#lang');
  await volunteerPage.waitForSelector('main h1:text-is("My points")');
  check(await volunteerPage.getAttribute('html', 'lang') === 'en', 'the page says it is English');
  await volunteerPage.click('#lang');

  step = 'signing out leaves nothing signed in';
  await volunteerPage.click('#signout');
  await volunteerPage.waitForURL(/\/signin/);
  const after = await volunteerPage.evaluate(async () => (await fetch('/v1/sessions/current')).json());
  check(after.account === null, 'after signing out the session is gone, got ' + JSON.stringify(after));
  const stale = await volunteerPage.evaluate(async () => (await fetch('/v1/offers')).status);
  check(stale === 401, 'after signing out the API refuses the browser, got ' + stale);

  step = 'the bytes of a first load';
  for (const [name, url, viewport, who] of [['signin', '/signin', PHONE, null], ['order', '/order', PHONE, RESIDENT],
    ['offers', '/offers', PHONE, VOLUNTEER], ['review', '/review', DESK, ADMIN]]) {
    const { bytes, files } = await firstLoadBytes(browser, url, viewport, who);
    console.log('first load of ' + name + ': ' + (bytes / 1024).toFixed(1) + ' KB in ' + files + ' responses (as sent, gzip)');
  }
  await browser.close();
  console.log('journey done: request ' + requestId + ', activity ' + activityId);
}

main().catch((error) => {
  console.error('FAILED ' + error.message);
  process.exit(1);
});
