// web-more.mjs — more pages of issue 23 in a real browser (Debian's chromium driven by
// playwright-core) against a stack tests/web_more_test.c started: the points store (a
// reservation refused in words for too few points and too little stock, then made, its code
// shown large, cancelled; the official hands one over by its code and adds an item), the
// notification preferences saved and read back, the officials' volunteers desk (the masked
// list, a reveal with a reason), a CSV import with bad rows (the preview lists them by line
// and field and saves nothing; the import creates the good rows) and the transfer requests
// (one accepted, one declined with a reason). axe-core runs on every page; each page is saved
// at phone and desk sizes.
//
// Environment: STATION_WEB_URL, STATION_WEB_SHOTS, STATION_WEB_VOLUNTEER and
// STATION_WEB_OFFICIAL (login:password; the official is the county's region admin),
// STATION_WEB_CSV (the file to import), STATION_WEB_IMPORTED (a name the file's good rows
// hold), STATION_WEB_PHONE (the volunteer's phone, unmasked). Exit 0 when every step did what
// it should; otherwise the step, what was expected and what the page showed.
import { BASE, DESK, PHONE, account, check, firstLoadBytes, launch, see, signIn, step, textOf, until, visit } from './web-lib.mjs';

const VOLUNTEER = account('VOLUNTEER');
const OFFICIAL = account('OFFICIAL');
const CSV = process.env.STATION_WEB_CSV;
const IMPORTED = process.env.STATION_WEB_IMPORTED;
const VOLUNTEER_PHONE = process.env.STATION_WEB_PHONE;
const RESIDENT = account('RESIDENT');
const RESIDENT_ID = process.env.STATION_WEB_RESIDENT_ID;
const ACTIVITY = process.env.STATION_WEB_ACTIVITY;
const VOLUNTEER_ID = process.env.STATION_WEB_VOLUNTEER_ID;
const SHOT = 'more-';

// axe and screenshots, and nothing of the page's making shown as text: no "null" or
// "undefined" for a part left out, no "more" button when one page holds the list.
async function look (page, name) {
  await visit(page, name, SHOT);
  const text = await page.locator('main').innerText();
  check(!/\bnull\b|\bundefined\b/.test(text), name + ' shows a part left out as text: ' + text);
  check(await page.locator('main .paged > button:visible').count() === 0, name + ' offers more of a list that has no more');
}

// The count of volunteers named `q` the official's session sees (through the API, as the page).
async function countNamed (page, q) {
  return page.evaluate(async (name) => {
    const answer = await fetch('/v1/volunteers?q=' + encodeURIComponent(name) + '&limit=500');
    return (await answer.json()).items.length;
  }, q);
}

// Reserves `quantity` of the item card named `item` on the store page.
async function reserve (page, item, quantity) {
  const card = page.locator('.card', { hasText: item });
  await card.getByRole('button', { name: '预约兑换', exact: true }).click();
  await card.locator('[name=quantity]').fill(String(quantity));
  await card.getByRole('button', { name: '确认预约', exact: true }).click();
}

// The region settings of issue 23 (settings.js), as the county's admin: the earning rules
// saved as a new version (a star threshold not above the one before refused beside its field,
// what was typed kept), the webhook with a secret made in the page and shown once, then only
// masked; the reminder offsets (a bad list refused beside the field) and quiet hours; a
// township's dispatch settings chosen through the region list, with the county's reminders
// shown as what the township inherits. tests/web_more_test.c checks what the services hold.
const TOWNSHIP = '431022100000';
async function regionSettings (oPage) {
  step('the official opens the region settings');
  await oPage.goto(BASE + '/manage/settings');
  await see(oPage, oPage.locator('main a[href^="/manage/rules"]'), 'the link to the earning rules');
  check(await oPage.locator('nav a[href="/manage/settings"]').count() === 1, 'the official\'s menu has the region settings');
  await look(oPage, 'settings');

  step('the earning rules: the version in force, a bad star refused beside its field');
  await oPage.locator('main a[href^="/manage/rules"]').first().click();
  await oPage.waitForSelector('form.rules');
  await look(oPage, 'rules');
  const before = Number(await oPage.locator('.version').getAttribute('data-version'));
  check(before >= 1, 'the county has a rule version in force (set by the fixture), not ' + before);
  check((await textOf(oPage, 'main')).includes('之前已记的时长和积分不会重算'), 'the page says a change applies from now on');
  await oPage.fill('form.rules [name=points_per_hour]', '12');
  await oPage.fill('form.rules [name=cared_bonus]', '5');
  const star1 = await oPage.inputValue('form.rules [name=star_1]');
  await oPage.fill('form.rules [name=star_2]', star1);
  await oPage.click('form.rules button[type=submit]');
  await see(oPage, oPage.locator('#f-star_2-error:not(:empty)'), 'a second star no higher than the first refused beside its field');
  check(await oPage.inputValue('form.rules [name=points_per_hour]') === '12', 'what was typed stays after a refusal');
  check(Number(await oPage.locator('.version').getAttribute('data-version')) === before, 'a refusal makes no new version');

  step('the earning rules saved as a new version');
  await oPage.fill('form.rules [name=star_2]', '120');
  await oPage.selectOption('form.rules [name=expiry]', 'months');
  await oPage.fill('form.rules [name=expiry_months]', '24');
  await oPage.click('form.rules button[type=submit]');
  await see(oPage, oPage.locator('.notice', { hasText: '第 ' + (before + 1) + ' 版从现在起生效' }), 'the new version said');
  check(Number(await oPage.locator('.version').getAttribute('data-version')) === before + 1, 'the version shown moves to ' + (before + 1));
  await oPage.reload();
  await oPage.waitForSelector('form.rules');
  check(await oPage.inputValue('form.rules [name=points_per_hour]') === '12', 'points per hour read back as 12');
  check(await oPage.inputValue('form.rules [name=expiry]') === 'months', 'the expiry reads back as months');
  console.log('rules: version ' + before + ' -> ' + (before + 1));

  step('the notice channel: a secret made in the page, shown once, then masked');
  await oPage.click('nav.tabs a[href^="/manage/notify"]');
  await oPage.waitForSelector('form.channel');
  await see(oPage, oPage.locator('.channel-state', { hasText: '还没有回调地址' }), 'no webhook yet said in words');
  await look(oPage, 'notify-settings');
  await oPage.fill('form.channel [name=url]', 'https://hooks.example.cn/station');
  await oPage.getByRole('button', { name: '生成新密钥', exact: true }).click();
  const secret = await textOf(oPage, '[data-secret]');
  check(/^whsec_[A-Za-z0-9+/]{40,}={0,2}$/.test(secret), 'the page makes a whsec_ secret, not ' + secret);
  check(await oPage.inputValue('form.channel [name=secret]') === secret, 'the secret made fills the field');
  await oPage.check('form.channel input[name=kinds][value="offer.made"]');
  await oPage.check('form.channel input[name=kinds][value="reminder.before"]');
  await oPage.click('form.channel button[type=submit]');
  await see(oPage, oPage.locator('.notice', { hasText: '通知渠道已保存' }), 'the channel saved');
  check(await oPage.locator('[data-secret]').count() === 0, 'once saved, the secret leaves the screen');
  const state = await textOf(oPage, '.channel-state');
  check(state.includes(secret.slice(-4)) && !state.includes(secret.slice(6, 20)), 'the secret shows masked, its last four kept: ' + state);
  await oPage.reload();
  await oPage.waitForSelector('form.channel');
  check(await oPage.inputValue('form.channel [name=url]') === 'https://hooks.example.cn/station', 'the URL reads back');
  check(await oPage.inputValue('form.channel [name=secret]') === '', 'the secret is never read back into the page');
  check(await oPage.isChecked('form.channel input[name=kinds][value="offer.made"]'), 'offers read back as sent this way');

  step('the reminders: a bad list refused beside the field, then saved with the quiet hours');
  await oPage.fill('form.reminders [name=reminder_offsets_s]', '48, soon');
  await oPage.click('form.reminders button[type=submit]');
  await see(oPage, oPage.locator('#f-reminder_offsets_s-error:not(:empty)'), 'a bad list of hours refused beside the field');
  await oPage.fill('form.reminders [name=reminder_offsets_s]', '48, 2');
  await oPage.fill('form.reminders [name=quiet_from]', '21:00');
  await oPage.fill('form.reminders [name=quiet_to]', '06:30');
  await oPage.click('form.reminders button[type=submit]');
  await see(oPage, oPage.locator('.notice', { hasText: '提醒设置已保存' }), 'the reminders saved');

  step('a township chosen from the list inherits the county\'s reminders and webhook');
  await oPage.selectOption('form.region-chooser [name=region]', TOWNSHIP);
  await oPage.click('form.region-chooser button[type=submit]');
  await oPage.waitForURL(/region=431022100000/);
  await see(oPage, oPage.locator('.channel-state', { hasText: '431022000000' }), 'the county\'s webhook in use in the township');
  await see(oPage, oPage.locator('#f-reminder_offsets_s-hint', { hasText: '48, 2' }), 'the county\'s reminders shown as what the township inherits');

  step('the township\'s dispatch settings');
  await oPage.click('nav.tabs a[href^="/manage/dispatch-settings"]');
  await oPage.waitForSelector('form.dispatch-settings');
  check(oPage.url().includes('region=' + TOWNSHIP), 'the tab keeps the township');
  await look(oPage, 'dispatch-settings');
  const county = await oPage.inputValue('form.dispatch-settings [name=widen_county_s]');
  await oPage.selectOption('form.dispatch-settings [name=review_required]', 'yes');
  await oPage.fill('form.dispatch-settings [name=daily_limit]', '3');
  await oPage.fill('form.dispatch-settings [name=widen_township_s]', String(Number(county) + 10));
  await oPage.click('form.dispatch-settings button[type=submit]');
  await see(oPage, oPage.locator('#f-widen_township_s-error:not(:empty)'), 'a township widening after the county\'s refused beside its field');
  check(await oPage.inputValue('form.dispatch-settings [name=daily_limit]') === '3', 'what was typed stays after a refusal');
  await oPage.fill('form.dispatch-settings [name=widen_township_s]', '3');
  await oPage.click('form.dispatch-settings button[type=submit]');
  await see(oPage, oPage.locator('.notice', { hasText: '派单设置已保存' }), 'the dispatch settings saved');
  await oPage.reload();
  await oPage.waitForSelector('form.dispatch-settings');
  check(await oPage.inputValue('form.dispatch-settings [name=widen_township_s]') === '3', 'the widening reads back as 3 minutes');
  check(await oPage.inputValue('form.dispatch-settings [name=widen_county_s]') === county, 'the county\'s widening still in force, ' + county + ' minutes');
  check(await oPage.inputValue('form.dispatch-settings [name=daily_limit]') === '3', 'the daily limit reads back as 3');

  step('the English switch on the settings');
  await oPage.click('#lang');
  await oPage.waitForSelector('main h1:text-is("Dispatch settings")');
  check((await textOf(oPage, 'main')).includes('Without its own'), 'the inherited values said in English');
  await oPage.click('#lang');
  await oPage.waitForSelector('main h1:text-is("派单设置")');
}

// An activity's roster with each sign-up's check-in state and its CSV (names masked); a
// resident's own details edited by her (a bad e-mail named beside the field, nothing typed
// lost), then by the official (the groups cared for first); the dashboard's top volunteers
// this quarter. tests/web_more_test.c checks the resident's record.
async function rosterResidentDashboard (oPage, rPage) {
  step('the activity\'s roster shows who checked in');
  await oPage.goto(BASE + '/manage/activities/' + ACTIVITY);
  const signedUp = oPage.locator('.paged .card', { hasText: '李**' });
  await see(oPage, signedUp, 'the volunteer on the roster, masked');
  check(await signedUp.locator('[data-state]').getAttribute('data-state') === 'rstate_in', 'the roster says checked in, not ' + await signedUp.locator('[data-state]').innerText());
  check(!(await textOf(oPage, 'main')).includes('李明华'), 'the roster shows no full name');
  await look(oPage, 'activity-roster');

  step('the roster\'s CSV: a byte-order mark, names masked');
  const csv = await oPage.evaluate(async (id) => {
    const answer = await fetch('/v1/exports/activities/' + id);
    const bytes = new Uint8Array(await answer.arrayBuffer());
    return { status: answer.status, type: answer.headers.get('Content-Type'), bom: bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, text: new TextDecoder().decode(bytes) };
  }, ACTIVITY);
  check(csv.status === 200 && csv.type.startsWith('text/csv') && csv.bom, 'the roster downloads as CSV with a BOM: ' + csv.status + ' ' + csv.type);
  const lines = csv.text.trim().split('\r\n');
  check(lines.length === 2 && lines[1].startsWith(VOLUNTEER_ID + ',李**,confirmed'), 'the CSV holds the one sign-up, masked: ' + JSON.stringify(lines));
  check(await oPage.locator('a[href="/v1/exports/activities/' + ACTIVITY + '"][download]').count() === 1, 'the page links the CSV');

  step('a resident edits her own details');
  await signIn(rPage, RESIDENT);
  check(await rPage.locator('nav a[href="/me/profile"]').count() === 1, 'the resident\'s menu has her details');
  await rPage.goto(BASE + '/me/profile');
  await rPage.waitForSelector('form.resident-edit');
  await look(rPage, 'profile');
  check(await rPage.locator('form.resident-edit [name=care_tags]').count() === 0, 'a resident does not set her own care groups');
  await rPage.fill('form.resident-edit [name=address]', '一组5号（新房）');
  await rPage.fill('form.resident-edit [name=email]', 'zhou.guiying');
  await rPage.click('form.resident-edit button[type=submit]');
  await see(rPage, rPage.locator('#f-email-error:not(:empty)'), 'a bad e-mail named beside the field');
  check(await rPage.inputValue('form.resident-edit [name=address]') === '一组5号（新房）', 'the address typed stays');
  await rPage.fill('form.resident-edit [name=email]', 'zhou.guiying@example.cn');
  await rPage.click('form.resident-edit button[type=submit]');
  await see(rPage, rPage.locator('.notice', { hasText: '资料已保存' }), 'her details saved');

  step('the official finds the resident by number and marks her cared for first');
  await oPage.goto(BASE + '/manage/residents');
  await oPage.fill('form.resident-find [name=id]', RESIDENT_ID);
  await oPage.click('form.resident-find button[type=submit]');
  await oPage.waitForSelector('form.resident-edit');
  check(await oPage.inputValue('form.resident-edit [name=address]') === '一组5号（新房）', 'the official reads the address she saved');
  await look(oPage, 'resident-edit');
  await oPage.check('form.resident-edit input[name=care_tags][value=empty_nest_elderly]');
  await oPage.click('form.resident-edit button[type=submit]');
  await see(oPage, oPage.locator('.notice', { hasText: '资料已保存' }), 'the resident\'s record saved');

  step('the dashboard lists the top volunteers of the quarter');
  await oPage.goto(BASE + '/dashboard');
  const top = oPage.locator('.top-volunteers li[data-volunteer="' + VOLUNTEER_ID + '"]');
  await see(oPage, top, 'the volunteer among the top of the quarter');
  check(await top.getAttribute('data-minutes') === '180', 'the three hours entered by hand count, not ' + await top.getAttribute('data-minutes') + ' minutes');
  const line = await top.innerText();
  check(line.includes('李**') && line.includes('3.0') && line.includes('补录'), 'the top list shows the masked name, the hours and that they were entered by hand: ' + line);
  await look(oPage, 'dashboard-top');
}

async function main () {
  const { browser, pages } = await launch({ volunteer: 'phone', official: 'desk', resident: 'phone' });
  const { volunteer: vPage, official: oPage, resident: rPage } = pages;

  step('the volunteer opens the points store');
  await signIn(vPage, VOLUNTEER);
  await vPage.goto(BASE + '/store');
  await see(vPage, vPage.locator('.card', { hasText: '大米 5 kg' }), 'the county\'s rice in the store');
  check(await textOf(vPage, '[data-figure=available]') === '300', 'the store shows 300 points to spend, not ' + await textOf(vPage, '[data-figure=available]'));
  check(await vPage.locator('nav a[href="/store"]').count() === 1, 'the volunteer\'s menu has the store');
  await look(vPage, 'store');

  step('too few points is said in words, beside the quantity, and the quantity stays');
  await reserve(vPage, '大米 5 kg', 2);
  await see(vPage, vPage.locator('#f-quantity-error', { hasText: '可用积分不够' }), 'the words for too few points beside the quantity');
  check(await vPage.inputValue('[name=quantity]') === '2', 'the quantity typed stays after a refusal');
  await look(vPage, 'store-too-few-points');

  step('too little stock is said in words');
  await reserve(vPage, '理发', 2);
  await see(vPage, vPage.locator('#f-quantity-error', { hasText: '库存不够' }), 'the words for too little stock beside the quantity');

  step('a reservation shows its code large');
  await reserve(vPage, '大米 5 kg', 1);
  await see(vPage, vPage.locator('.redeem-code .code'), 'the code to show the merchant');
  const code = await textOf(vPage, '.redeem-code .code');
  check(/^\d+$/.test(code), 'the code is the redemption\'s number, not ' + code);
  check(await textOf(vPage, '[data-figure=available]') === '100', 'points to spend go down to 100, not ' + await textOf(vPage, '[data-figure=available]'));
  await see(vPage, vPage.locator('.card', { hasText: '大米 5 kg × 1' }).locator('.state', { hasText: '待领取' }), 'the reservation among mine, to collect');
  await look(vPage, 'store-reserved');

  step('a reservation cancelled gives the points back');
  await reserve(vPage, '理发', 1);
  await see(vPage, vPage.locator('.redeem-code .code:not([data-code="' + code + '"])'), 'the second code');
  const second = await textOf(vPage, '.redeem-code .code');
  check(await textOf(vPage, '[data-figure=available]') === '50', 'points to spend 50 after the haircut, not ' + await textOf(vPage, '[data-figure=available]'));
  await vPage.locator('.card:has([data-code="' + second + '"])').getByRole('button', { name: '取消预约', exact: true }).click();
  await see(vPage, vPage.locator('.notice', { hasText: '已取消「理发」的预约' }), 'the cancellation said');
  check(await textOf(vPage, '[data-figure=available]') === '100', 'points back to 100 after the cancel, not ' + await textOf(vPage, '[data-figure=available]'));
  await see(vPage, vPage.locator('.card:has([data-code="' + second + '"])').locator('.state', { hasText: '已取消' }), 'the cancelled reservation marked so');

  step('the official hands the rice over by its code');
  await signIn(oPage, OFFICIAL);
  await oPage.goto(BASE + '/manage/store');
  await see(oPage, oPage.locator('.card:has([data-code="' + code + '"])'), 'the reservation among those to collect');
  await look(oPage, 'store-desk');
  await oPage.fill('form.fulfil [name=id]', '999999');
  await oPage.click('form.fulfil button[type=submit]');
  await see(oPage, oPage.locator('#f-id-error:not(:empty)'), 'an unknown code refused beside the field');
  await oPage.fill('form.fulfil [name=id]', code);
  await oPage.click('form.fulfil button[type=submit]');
  await see(oPage, oPage.locator('.notice', { hasText: '已发放：「大米 5 kg」× 1，扣除 200 积分' }), 'the hand-over confirmed');
  await oPage.fill('form.fulfil [name=id]', code);
  await oPage.click('form.fulfil button[type=submit]');
  await see(oPage, oPage.locator('#f-id-error:not(:empty)'), 'a code handed over already refused beside the field');

  step('the official adds an item to the store');
  await oPage.click('details.new-item summary');
  await oPage.fill('form.create-item [name=name]', '毛巾');
  await oPage.fill('form.create-item [name=price_points]', '30');
  await oPage.fill('form.create-item [name=stock]', '10');
  await oPage.fill('form.create-item [name=description]', '纯棉毛巾一条');
  await look(oPage, 'store-new-item');
  await oPage.click('form.create-item button[type=submit]');
  await see(oPage, oPage.locator('.notice', { hasText: '「毛巾」已上架' }), 'the item added');

  step('the volunteer sees the points spent and the new item');
  await vPage.goto(BASE + '/store');
  await until(vPage, '.card:has-text("毛巾")', 'the new item on the shelf');
  await see(vPage, vPage.locator('.card:has([data-code="' + code + '"])').locator('.state', { hasText: '已领取' }), 'the rice collected');
  check(await textOf(vPage, '[data-figure=available]') === '100', 'points to spend stay 100 once spent, not ' + await textOf(vPage, '[data-figure=available]'));

  step('the volunteer saves notification preferences');
  await vPage.goto(BASE + '/settings/notifications');
  await vPage.waitForSelector('form.prefs');
  await look(vPage, 'prefs');
  await vPage.selectOption('[name=language]', 'en');
  await vPage.check('input[name=channels][value=email]');
  await vPage.fill('[name=quiet_from]', '21:30');
  await vPage.fill('[name=quiet_to]', '06:30');
  await vPage.uncheck('input[name=kinds][value="points.awarded"]');
  await vPage.click('form.prefs button[type=submit]');
  await see(vPage, vPage.locator('.notice', { hasText: '设置已保存' }), 'the preferences saved');

  step('the preferences read back');
  await vPage.reload();
  await vPage.waitForSelector('form.prefs');
  check(await vPage.inputValue('[name=language]') === 'en', 'the language reads back as en');
  check(await vPage.isChecked('input[name=channels][value=email]'), 'e-mail reads back ticked');
  check(!await vPage.isChecked('input[name=channels][value=sms]'), 'text messages read back unticked');
  check(await vPage.inputValue('[name=quiet_from]') === '21:30', 'quiet hours read back from 21:30, not ' + await vPage.inputValue('[name=quiet_from]'));
  check(await vPage.inputValue('[name=quiet_to]') === '06:30', 'quiet hours read back to 06:30');
  check(!await vPage.isChecked('input[name=kinds][value="points.awarded"]'), 'points notices read back muted');
  check(await vPage.isChecked('input[name=kinds][value="offer.made"]'), 'offers read back wanted');

  step('the official searches the volunteers: the masked list');
  await oPage.goto(BASE + '/manage/volunteers');
  await oPage.waitForSelector('form.people-filters');
  await oPage.fill('form.people-filters [name=q]', '李明华');
  await oPage.click('form.people-filters button[type=submit]');
  await oPage.waitForURL(/q=/);
  const person = oPage.locator('.card', { hasText: '李明华' });
  await see(oPage, person, 'the volunteer found by name');
  const masked = await person.locator('.masked').nth(1).innerText();
  check(masked.includes('*') && masked !== VOLUNTEER_PHONE, 'the list shows the phone masked, not ' + masked);
  await look(oPage, 'volunteers');

  step('a reveal needs a reason, and shows what came back with the word that it is audited');
  await person.getByRole('button', { name: '查看完整信息', exact: true }).click();
  await person.locator('form.reveal button[type=submit]').click();
  await see(oPage, person.locator('#f-reason-error:not(:empty)'), 'a reveal without a reason refused beside the field');
  await person.locator('[name=reason]').fill('核实保险信息');
  await person.locator('form.reveal button[type=submit]').click();
  await see(oPage, person.locator('[data-pii=phone]'), 'the unmasked phone');
  check(await textOf(oPage, '[data-pii=phone]') === VOLUNTEER_PHONE, 'the reveal shows the phone ' + VOLUNTEER_PHONE);
  check((await person.innerText()).includes('审计'), 'the page says the reveal is audited');
  await look(oPage, 'volunteer-revealed');
  await person.getByRole('button', { name: '收起', exact: true }).click();
  check(await oPage.locator('[data-pii]').count() === 0, 'closed, the unmasked details leave the screen');

  step('a CSV preview lists the bad rows by line and field and saves nothing');
  await oPage.goto(BASE + '/manage/volunteers/import');
  await oPage.waitForSelector('form.import');
  await look(oPage, 'import');
  await oPage.setInputFiles('[name=csv]', CSV);
  await oPage.click('form.import button[type=submit]');
  await see(oPage, oPage.locator('.import-summary'), 'the preview\'s summary');
  const preview = oPage.locator('.import-summary');
  check(await preview.getAttribute('data-created') === '3', 'the preview would create 3, not ' + await preview.getAttribute('data-created'));
  check(await preview.getAttribute('data-errors') === '2', 'the preview finds 2 bad rows, not ' + await preview.getAttribute('data-errors'));
  const rows = await oPage.locator('table.import-errors tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].dataset.field, tr.cells[2].textContent]));
  check(rows.length === 2, 'the table lists 2 bad rows, not ' + JSON.stringify(rows));
  check(rows[0][0] === '3' && rows[0][1] === 'id_number' && rows[0][2].length > 0, 'line 3 is refused for its ID number with a reason: ' + JSON.stringify(rows[0]));
  check(rows[1][0] === '5' && rows[1][1] === 'phone' && rows[1][2].length > 0, 'line 5 is refused for its phone with a reason: ' + JSON.stringify(rows[1]));
  check(await countNamed(oPage, IMPORTED) === 0, 'a preview saves nobody');
  await look(oPage, 'import-preview');

  step('the import creates the good rows');
  await oPage.getByRole('button', { name: '导入', exact: true }).click();
  await see(oPage, oPage.locator('.import-summary[data-skipped]', { hasText: '已新建' }), 'the import\'s result');
  const result = oPage.locator('.import-summary');
  check(await result.getAttribute('data-created') === '3', 'the import created 3, not ' + await result.getAttribute('data-created'));
  check(await result.getAttribute('data-errors') === '2', 'the import reports the 2 bad rows');
  check(await countNamed(oPage, IMPORTED) === 1, 'the imported volunteer is in the list');
  await look(oPage, 'import-done');

  step('the transfer requests: one accepted, one declined with a reason');
  await oPage.goto(BASE + '/manage/transfers');
  const moving = oPage.locator('.card', { hasText: '王建国' });
  const staying = oPage.locator('.card', { hasText: '赵红梅' });
  await see(oPage, staying, 'the second request');
  await see(oPage, moving, 'the first request');
  await look(oPage, 'transfers');
  await moving.getByRole('button', { name: '接收', exact: true }).click();
  await see(oPage, oPage.locator('.card', { hasText: '已接收' }), 'the transfer accepted');
  await staying.getByRole('button', { name: '拒绝', exact: true }).click();
  await staying.locator('[name=reason]').fill('本村名额已满，请联系镇实践所');
  await staying.locator('form.decline button[type=submit]').click();
  await see(oPage, oPage.locator('.card', { hasText: '已拒绝' }), 'the transfer declined');

  await regionSettings(oPage);
  await rosterResidentDashboard(oPage, rPage);

  step('the English switch on the new pages');
  await vPage.goto(BASE + '/store');
  await vPage.click('#lang');
  await vPage.waitForSelector('main h1:text-is("Points store")');
  await vPage.click('#lang');

  step('the bytes of a first load');
  for (const [name, url, viewport, who] of [['store', '/store', PHONE, VOLUNTEER], ['volunteers', '/manage/volunteers', DESK, OFFICIAL]]) {
    const { bytes, files } = await firstLoadBytes(browser, url, viewport, who);
    console.log('first load of ' + name + ': ' + (bytes / 1024).toFixed(1) + ' KB in ' + files + ' responses (as sent, gzip)');
  }
  await browser.close();
  console.log('journey done: redemption ' + code + ' fulfilled, ' + second + ' cancelled');
}

main().catch((error) => {
  console.error('FAILED ' + error.message);
  process.exit(1);
});
