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

async function main () {
  const { browser, pages } = await launch({ volunteer: 'phone', official: 'desk' });
  const { volunteer: vPage, official: oPage } = pages;

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
