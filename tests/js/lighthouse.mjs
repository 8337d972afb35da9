// lighthouse.mjs — Lighthouse (mobile) on the pages residents and volunteers use, signed in as
// them (the session cookie sent with every request): accessibility and best practices at 95
// or more each, asserted; the performance score printed, not asserted (the machine is noisy).
//
//   node lighthouse.mjs BASE_URL LOGIN:PASSWORD:PATH...
// Exit 0 when every page scores; otherwise each page and score that fell short.
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';

const [base, ...pages] = process.argv.slice(2);
const FLOOR = { accessibility: 95, 'best-practices': 95 };

// The page's cookie session of `login`, as its Cookie header.
async function cookieOf (login, password) {
  if (!login) return null;
  const answer = await fetch(base + '/v1/sessions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login, password, cookie: true })
  });
  if (answer.status !== 201) throw new Error('sign-in as ' + login + ': ' + answer.status + ' ' + await answer.text());
  return answer.headers.get('set-cookie').split(';')[0];
}

const chrome = await chromeLauncher.launch({
  chromePath: '/usr/bin/chromium',
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu']
});
let failed = false;
try {
  for (const spec of pages) {
    const [login, password, path] = spec.split(':');
    const cookie = await cookieOf(login, password);
    const result = await lighthouse(base + path, {
      port: chrome.port,
      output: 'json',
      logLevel: 'error',
      onlyCategories: ['accessibility', 'best-practices', 'performance'],
      extraHeaders: cookie ? { Cookie: cookie } : undefined
    });
    const lhr = result.lhr;
    const scores = Object.fromEntries(Object.entries(lhr.categories).map(([id, c]) => [id, Math.round(c.score * 100)]));
    console.log('lighthouse ' + path + ' (mobile): accessibility ' + scores.accessibility + ', best practices ' +
      scores['best-practices'] + ', performance ' + scores.performance + ' (reported, not asserted)');
    for (const [id, floor] of Object.entries(FLOOR)) {
      if (scores[id] >= floor) continue;
      failed = true;
      const audits = lhr.categories[id].auditRefs.map((ref) => lhr.audits[ref.id])
        .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual')
        .map((a) => a.id + ': ' + a.title);
      console.log('  ' + id + ' ' + scores[id] + ' < ' + floor + ':\n    ' + audits.join('\n    '));
    }
  }
} finally {
  await chrome.kill();
}
process.exit(failed ? 1 : 0);
