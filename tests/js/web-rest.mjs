// web-rest.mjs — the last pages of issue 23 in a real browser against the stack
// tests/web_more_test.c started: an official creates a team and invites a volunteer (an
// unknown volunteer refused beside the field); the volunteer sees the invitation and accepts
// it, then sees their teams; the volunteer's activities nearest first from a fixed position
// the browser grants; the county dashboard's top teams and this month's theme. axe-core on
// every page, each saved at phone and desk sizes.
//
// Environment: STATION_WEB_URL, STATION_WEB_SHOTS, STATION_WEB_VOLUNTEER and
// STATION_WEB_OFFICIAL (login:password), STATION_WEB_VOLUNTEER_ID, STATION_WEB_TEAM (the team
// the fixture made, with the volunteer's back-entered hours), STATION_WEB_NEAR (the titles of
// the activities with a place, nearest first, joined by |).
import { chromium } from 'playwright-core';
import { BASE, DESK, PHONE, account, check, firstLoadBytes, see, signIn, step, textOf, visit } from './web-lib.mjs';

const VOLUNTEER = account('VOLUNTEER');
const OFFICIAL = account('OFFICIAL');
const VOLUNTEER_ID = process.env.STATION_WEB_VOLUNTEER_ID;
const TEAM = process.env.STATION_WEB_TEAM;
const NEAR = process.env.STATION_WEB_NEAR.split('|');
// The hours back-entered this month for the team (2.5, or less in a month's first hours).
const TEAM_HOURS = process.env.STATION_WEB_TEAM_HOURS || '2.5';
const SHOT = 'rest-';
// Where the volunteer stands (the village of the fixture).
const HERE = { latitude: 25.40, longitude: 112.95 };

async function main () {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const context = (options) => browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...options });
  const vPage = await (await context({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, geolocation: HERE, permissions: ['geolocation'] })).newPage();
  const oPage = await (await context({ viewport: DESK })).newPage();
  for (const page of [vPage, oPage]) {
    page.on('pageerror', (error) => { console.log('page error on ' + page.url() + ': ' + error.message); process.exitCode = 1; });
  }

  step('the official lists the teams and creates one');
  await signIn(oPage, OFFICIAL);
  check(await oPage.locator('nav a[href="/manage/teams"]').count() === 1, 'the official\'s menu has the teams');
  await oPage.goto(BASE + '/manage/teams');
  await see(oPage, oPage.locator('.card', { hasText: '玉溪镇助老小队' }), 'the fixture\'s team in the county\'s list');
  check(await oPage.locator('.card:has-text("玉溪镇助老小队") [data-members]').getAttribute('data-members') === '1', 'the team counts its one member');
  await visit(oPage, 'teams', SHOT);
  await oPage.click('details.new-team summary');
  await oPage.fill('form.team-create [name=name]', '白石渡应急小队');
  await oPage.selectOption('form.team-create [name=level]', 'squad');
  await oPage.selectOption('form.team-create [name=category]', 'elderly');
  await oPage.click('form.team-create button[type=submit]');
  await oPage.waitForURL(/\/manage\/teams\/\d+/);
  await see(oPage, oPage.locator('.notice', { hasText: '队伍已建立' }), 'the team made');
  const made = oPage.url().match(/\/manage\/teams\/(\d+)/)[1];
  await visit(oPage, 'team', SHOT);

  step('an unknown volunteer refused beside the field, then the volunteer invited');
  await oPage.fill('form.team-invite [name=volunteer_id]', '999999');
  await oPage.click('form.team-invite button[type=submit]');
  await see(oPage, oPage.locator('#f-volunteer_id-error:not(:empty)'), 'an unknown volunteer refused beside the field');
  check(await oPage.inputValue('form.team-invite [name=volunteer_id]') === '999999', 'what was typed stays after a refusal');
  await oPage.fill('form.team-invite [name=volunteer_id]', VOLUNTEER_ID);
  await oPage.click('form.team-invite button[type=submit]');
  await see(oPage, oPage.locator('.notice', { hasText: '已向志愿者 ' + VOLUNTEER_ID + ' 发出邀请' }), 'the invitation sent');

  step('the volunteer sees the invitation and accepts it');
  await signIn(vPage, VOLUNTEER);
  check(await vPage.locator('nav a[href="/teams"]').count() === 1, 'the volunteer\'s menu has the teams');
  await vPage.goto(BASE + '/teams');
  const invitation = vPage.locator('.invitation[data-team="' + made + '"]');
  await see(vPage, invitation, 'the invitation to the new team');
  await visit(vPage, 'my-teams-invited', SHOT);
  await invitation.getByRole('button', { name: '接受', exact: true }).click();
  await see(vPage, vPage.locator('.notice', { hasText: '已加入「白石渡应急小队」' }), 'the joining said');
  check(await vPage.locator('.invitation').count() === 0, 'no invitation left to answer');
  await see(vPage, vPage.locator('.card', { hasText: '白石渡应急小队' }).locator('[data-members]', { hasText: '队员' }), 'the new team among mine, as a member');
  await see(vPage, vPage.locator('.card', { hasText: '玉溪镇助老小队' }), 'the fixture\'s team among mine');
  await visit(vPage, 'my-teams', SHOT);
  await vPage.locator('.card a', { hasText: '白石渡应急小队' }).click();
  await see(vPage, vPage.locator('.members [data-volunteer="' + VOLUNTEER_ID + '"]', { hasText: '李明华' }), 'the volunteer among the members, their own name whole');
  await visit(vPage, 'my-team', SHOT);

  step('the official sees the member');
  await oPage.reload();
  await see(oPage, oPage.locator('.members [data-volunteer="' + VOLUNTEER_ID + '"]'), 'the volunteer among the team\'s members');

  step('the volunteer\'s activities nearest first');
  await vPage.goto(BASE + '/activities');
  await see(vPage, vPage.locator('.paged .card').first(), 'the activities open to sign up');
  await vPage.click('button.near-me');
  await vPage.waitForURL(/lat=25\.4/);
  await see(vPage, vPage.locator('.paged .card .distance').first(), 'the distances');
  const distances = await vPage.locator('.paged .card .distance').evaluateAll((els) => els.map((el) => Number(el.dataset.distance)));
  check(distances.length === NEAR.length, 'every activity with a place shows its distance: ' + distances.join(', '));
  check(distances.every((d, i) => i === 0 || d >= distances[i - 1]), 'distances grow down the list: ' + distances.join(', '));
  const titles = await vPage.locator('.paged .card h2').allInnerTexts();
  check(titles.slice(0, NEAR.length).join('|') === NEAR.join('|'), 'nearest first: ' + titles.join(', '));
  check(titles.length > NEAR.length, 'an activity with no place follows: ' + titles.join(', '));
  check((await textOf(vPage, '.paged .card .distance')).startsWith('约'), 'the distance said in words');
  await visit(vPage, 'activities-near', SHOT);

  step('the dashboard shows the top teams and this month\'s theme');
  await oPage.goto(BASE + '/dashboard');
  const top = oPage.locator('.top-teams li[data-team="' + TEAM + '"]');
  await see(oPage, top, 'the fixture\'s team among the top teams');
  check(Number(await top.getAttribute('data-hours')) === Number(TEAM_HOURS), 'the team\'s ' + TEAM_HOURS + ' hours, not ' + await top.getAttribute('data-hours'));
  check((await top.innerText()).includes(TEAM_HOURS), 'the hours shown: ' + await top.innerText());
  const theme = oPage.locator('.month-theme [data-theme]');
  await see(oPage, theme, 'the month\'s theme');
  check(await theme.getAttribute('data-theme') === '敬老月', 'the theme 敬老月, not ' + await theme.getAttribute('data-theme'));
  const figures = oPage.locator('.month-theme .theme-figures');
  check(await figures.getAttribute('data-activities') === '1' && Number(await figures.getAttribute('data-hours')) === Number(TEAM_HOURS), 'one activity of ' + TEAM_HOURS + ' hours: ' + await figures.innerText());
  await visit(oPage, 'dashboard-teams-theme', SHOT);

  step('the new routes are in the OpenAPI document');
  const paths = await oPage.evaluate(async () => Object.keys((await (await fetch('/v1/openapi.json')).json()).paths));
  for (const p of ['/v1/teams', '/v1/teams/{id}', '/v1/stats/teams', '/v1/stats/themes']) check(paths.includes(p), 'the document has ' + p);

  step('the English switch on the teams');
  await vPage.goto(BASE + '/teams');
  await vPage.click('#lang');
  await vPage.waitForSelector('main h1:text-is("My teams")');
  await vPage.click('#lang');

  step('the bytes of a first load');
  for (const [name, url, viewport, who] of [['activities', '/activities', PHONE, VOLUNTEER], ['teams', '/teams', PHONE, VOLUNTEER],
    ['manage-teams', '/manage/teams', DESK, OFFICIAL], ['dashboard', '/dashboard', DESK, OFFICIAL]]) {
    const { bytes, files } = await firstLoadBytes(browser, url, viewport, who);
    console.log('first load of ' + name + ': ' + (bytes / 1024).toFixed(1) + ' KB in ' + files + ' responses (as sent, gzip)');
  }
  await browser.close();
  console.log('journey done: team ' + made + ' made and joined');
}

main().catch((error) => {
  console.error('FAILED ' + error.message);
  process.exit(1);
});
