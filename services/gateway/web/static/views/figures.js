// figures.js — the officials' figures: the quarterly report (信息报送) on screen, the very
// CSV the download gives, and the county dashboard (数据大屏) for a wall screen, refreshed
// every minute, every number from GET /v1/reports/summary and saying the period it covers.
// ECharts (vendor/echarts.common.min.js) is fetched by the dashboard only.
import { api, field, form, go, h, nextStep, notice, session, show, t, when } from '../app.js';

// Today in Shanghai as YYYY-MM-DD, and the parts of it.
function today () {
  return new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10);
}

function quarterOf (day) {
  return day.slice(0, 4) + 'Q' + (Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1);
}

// A CSV text (RFC 4180, as the gateway writes it) as rows of cells.
function parseCsv (text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

export async function reports (params) {
  const region = params.region || session.me.region;
  const quarter = params.quarter || quarterOf(today());
  const query = 'region=' + encodeURIComponent(region) + '&quarter=' + encodeURIComponent(quarter);
  const choose = form([
    field({ name: 'region', label: t('region_code'), required: true, max: 12, value: region }),
    field({ name: 'quarter', label: t('quarter'), required: true, max: 7, value: quarter, hint: t('quarter_hint') })
  ], t('show'), async (v) => go('/reports?region=' + encodeURIComponent(v.region) + '&quarter=' + encodeURIComponent(v.quarter)), { class: 'filters' });
  // A wide table scrolls inside its box, which the keyboard can reach.
  const table = h('div', { class: 'report', tabindex: '0', role: 'region', 'aria-label': t('reports_title') }, notice(t('working')));
  show(
    h('h1', {}, t('reports_title')),
    choose,
    h('p', { class: 'actions' },
      h('a', { class: 'button secondary', href: '/v1/reports/quarterly?' + query, download: '' }, t('download_csv')),
      h('a', { class: 'button secondary', href: '/dashboard', 'data-link': true }, t('nav_dashboard'))),
    table
  );
  try {
    const rows = parseCsv(await api('GET', '/v1/reports/quarterly?' + query));
    const [head, ...body] = rows;
    table.replaceChildren(h('table', { class: 'wide' },
      h('caption', {}, t('report_caption', { q: quarter })),
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, body.map((r) => h('tr', {}, r.map((c, i) => i === 1 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))));
  } catch (e) {
    table.replaceChildren(notice(e.message + ' ' + nextStep(e), 'error'));
  }
}

// ECharts, loaded once.
let echartsReady = null;
function loadEcharts () {
  if (!echartsReady) {
    echartsReady = new Promise((resolve, reject) => {
      const script = h('script', { src: '/static/vendor/echarts.common.min.js' });
      script.onload = () => resolve(window.echarts);
      script.onerror = reject;
      document.head.append(script);
    });
  }
  return echartsReady;
}

function summary (region, from, to) {
  return api('GET', '/v1/reports/summary?region=' + region + '&from=' + from + '&to=' + to);
}

// The last day of month `m` (1-12) of `year`, or today when that month is this one.
function monthEnd (year, m, last) {
  const end = new Date(Date.UTC(year, m, 0)).toISOString().slice(0, 10);
  return end > last ? last : end;
}

const INK = '#f5e6c8';

// A name as a wall screen shows it: the first character, then *.
function masked (name) {
  return name ? name.slice(0, 1) + '*'.repeat(Math.max(1, [...name].length - 1)) : '';
}

// The ten volunteers with the most hours this quarter (GET /v1/rankings), names masked, the
// hours officials entered by hand said so.
async function topVolunteers (region, last, list, periodEl) {
  const quarter = last.slice(0, 4) + '-Q' + (Math.floor((Number(last.slice(5, 7)) - 1) / 3) + 1);
  const page = await api('GET', '/v1/rankings?region=' + region + '&period=' + quarter + '&by=hours&limit=10');
  const names = await Promise.all(page.items.map((e) => api('GET', '/v1/volunteers/' + e.volunteer_id).then((v) => masked(v.name), () => '#' + e.volunteer_id)));
  periodEl.textContent = t('top_period', { from: page.from, to: page.to });
  list.replaceChildren(...(page.items.length
    ? page.items.map((e, i) => h('li', { 'data-volunteer': e.volunteer_id, 'data-minutes': e.amount },
      h('span', { class: 'rank' }, String(e.rank)), ' ', h('span', { class: 'name' }, names[i]), ' ',
      h('span', { class: 'value' }, t('hours_n', { n: (e.amount / 60).toFixed(1) })),
      e.manual ? h('small', {}, ' ' + t('top_manual', { n: (e.manual / 60).toFixed(1) })) : null))
    : [h('li', { class: 'none' }, t('top_none'))]));
}

// The teams with the most hours confirmed this quarter (GET /v1/stats/teams: match ranks them
// by their current members' records), with the period they cover.
async function topTeams (region, list, periodEl) {
  const page = await api('GET', '/v1/stats/teams?region=' + region + '&limit=10');
  periodEl.textContent = t('top_period', { from: when(page.from, 'date'), to: when(page.to, 'date') });
  list.replaceChildren(...(page.items.length
    ? page.items.map((e) => h('li', { 'data-team': e.team_id, 'data-hours': e.hours },
      h('span', { class: 'rank' }, String(e.rank)), ' ', h('span', { class: 'name' }, e.name), ' ',
      h('span', { class: 'value' }, t('hours_n', { n: e.hours.toFixed(1) })),
      h('small', {}, ' ' + t('team_members_n', { n: e.members }))))
    : [h('li', { class: 'none' }, t('top_teams_none'))]));
}

// This month's theme (主题): the theme of the most activities starting this month (Shanghai),
// its activities and hours confirmed, and the month's other themes (GET /v1/stats/themes).
async function monthTheme (region, last, box, periodEl) {
  const year = Number(last.slice(0, 4));
  const month = Number(last.slice(5, 7));
  const from = last.slice(0, 7) + '-01T00:00:00+08:00';
  const next = (month === 12 ? (year + 1) + '-01' : year + '-' + String(month + 1).padStart(2, '0')) + '-01T00:00:00+08:00';
  const page = await api('GET', '/v1/stats/themes?region=' + region + '&from=' + encodeURIComponent(from) + '&to=' + encodeURIComponent(next));
  periodEl.textContent = t('theme_period', { y: year, m: month });
  if (!page.items.length) return box.replaceChildren(h('p', { class: 'none' }, t('theme_none')));
  const [first, ...others] = page.items;
  // (replaceChildren writes a null as the text "null": the list of others only when there are.)
  box.replaceChildren(...[
    h('p', { class: 'theme-name', 'data-theme': first.theme }, first.theme),
    h('p', { class: 'theme-figures', 'data-activities': first.activities, 'data-hours': first.hours },
      t('theme_figures', { a: first.activities, p: first.person_times, h: first.hours.toFixed(1) })),
    ...(others.length ? [h('ul', { class: 'theme-others' }, others.slice(0, 4).map((x) => h('li', {}, x.theme, ' · ', t('theme_figures', { a: x.activities, p: x.person_times, h: x.hours.toFixed(1) }))))] : [])]);
}

export async function dashboard (params) {
  const region = params.region || session.me.region;
  document.body.classList.add('screen');
  const figures = h('div', { class: 'big-figures' });
  const period = h('p', { class: 'period' });
  const top = h('ol', { class: 'top-volunteers' });
  const topPeriod = h('p', { class: 'top-period' });
  const teams = h('ol', { class: 'top-teams' });
  const teamsPeriod = h('p', { class: 'top-period' });
  const theme = h('div', { class: 'month-theme' });
  const themePeriod = h('p', { class: 'top-period' });
  const charts = { months: h('div', { class: 'chart', role: 'img' }), towns: h('div', { class: 'chart', role: 'img' }), requests: h('div', { class: 'chart', role: 'img' }) };
  show(
    h('h1', {}, t('dashboard_title')),
    period,
    figures,
    h('div', { class: 'charts' },
      h('section', {}, h('h2', {}, t('by_month')), charts.months),
      h('section', {}, h('h2', {}, t('by_town')), charts.towns),
      h('section', {}, h('h2', {}, t('requests_by_status')), charts.requests),
      h('section', { class: 'top' }, h('h2', {}, t('top_volunteers')), topPeriod, top),
      h('section', { class: 'top' }, h('h2', {}, t('top_teams')), teamsPeriod, teams),
      h('section', { class: 'top theme' }, h('h2', {}, t('month_theme')), themePeriod, theme))
  );
  const echarts = await loadEcharts();
  const drawn = Object.fromEntries(Object.entries(charts).map(([k, el]) => [k, echarts.init(el, null, { renderer: 'canvas' })]));
  window.addEventListener('resize', () => Object.values(drawn).forEach((c) => c.resize()));

  async function refresh () {
    if (!figures.isConnected) {
      document.body.classList.remove('screen');
      Object.values(drawn).forEach((c) => c.dispose());
      return;
    }
    const last = today();
    const year = Number(last.slice(0, 4));
    const from = year + '-01-01';
    try {
      const [whole, place] = await Promise.all([summary(region, from, last), api('GET', '/v1/regions/' + region)]);
      const months = await Promise.all(Array.from({ length: Number(last.slice(5, 7)) }, (_, i) =>
        summary(region, year + '-' + String(i + 1).padStart(2, '0') + '-01', monthEnd(year, i + 1, last))));
      const towns = await Promise.all((place.children || []).map((child) => summary(child.code, from, last).then((s) => ({ name: child.name, s }))));
      const now = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', timeStyle: 'short' }).format(new Date());
      period.textContent = t('period_shown', { name: place.name, from, to: last, at: now });
      const big = [
        ['volunteers_registered', whole.volunteers_registered],
        ['volunteers_active', whole.volunteers_active],
        ['activities', whole.activities],
        ['person_times', whole.person_times],
        ['service_hours', Math.round(whole.service_hours)],
        ['fill_rate', whole.fill_rate === null || whole.fill_rate === undefined ? '—' : Math.round(whole.fill_rate * 100) + '%']
      ];
      figures.replaceChildren(...big.map(([key, value]) => h('div', { class: 'big', 'data-figure': key }, h('span', { class: 'value' }, String(value)), h('span', { class: 'label' }, t('fig_' + key)))));
      const axis = { axisLabel: { color: INK, fontSize: 16 }, axisLine: { lineStyle: { color: INK } } };
      drawn.months.setOption({
        textStyle: { color: INK, fontSize: 16 },
        legend: { textStyle: { color: INK, fontSize: 16 } },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'category', data: months.map((_, i) => (i + 1) + t('month_suffix')), ...axis },
        yAxis: [{ type: 'value', name: t('fig_activities'), ...axis }, { type: 'value', name: t('fig_service_hours'), ...axis }],
        series: [
          { name: t('fig_activities'), type: 'bar', data: months.map((m) => m.activities), itemStyle: { color: '#e53935' } },
          { name: t('fig_service_hours'), type: 'line', yAxisIndex: 1, data: months.map((m) => Math.round(m.service_hours)), itemStyle: { color: '#ffd54f' } }
        ]
      }, true);
      charts.months.setAttribute('aria-label', t('by_month') + ': ' + months.map((m, i) => (i + 1) + t('month_suffix') + ' ' + m.activities + ' / ' + Math.round(m.service_hours)).join('; '));
      const ranked = towns.sort((a, b) => b.s.service_hours - a.s.service_hours);
      drawn.towns.setOption({
        textStyle: { color: INK, fontSize: 16 },
        tooltip: { trigger: 'axis' },
        grid: { left: 110 },
        xAxis: { type: 'value', ...axis },
        yAxis: { type: 'category', inverse: true, data: ranked.map((x) => x.name), ...axis },
        series: [{ name: t('fig_service_hours'), type: 'bar', data: ranked.map((x) => Math.round(x.s.service_hours)), itemStyle: { color: '#ffb300' }, label: { show: true, color: INK } }]
      }, true);
      charts.towns.setAttribute('aria-label', t('by_town') + ': ' + ranked.map((x) => x.name + ' ' + Math.round(x.s.service_hours)).join('; '));
      const statuses = Object.entries(whole.requests_by_status || {}).filter(([, n]) => n > 0);
      drawn.requests.setOption({
        textStyle: { color: INK, fontSize: 16 },
        tooltip: { trigger: 'item' },
        legend: { bottom: 0, textStyle: { color: INK, fontSize: 14 } },
        series: [{ type: 'pie', radius: ['35%', '65%'], label: { color: INK, fontSize: 16 }, data: statuses.map(([k, n]) => ({ name: t('state_' + k), value: n })) }]
      }, true);
      charts.requests.setAttribute('aria-label', t('requests_by_status') + ': ' + statuses.map(([k, n]) => t('state_' + k) + ' ' + n).join('; '));
      await Promise.all([
        topVolunteers(region, last, top, topPeriod).catch((e) => top.replaceChildren(h('li', { class: 'none' }, e.message + ' ' + nextStep(e)))),
        topTeams(region, teams, teamsPeriod).catch((e) => teams.replaceChildren(h('li', { class: 'none' }, e.message + ' ' + nextStep(e)))),
        monthTheme(region, last, theme, themePeriod).catch((e) => theme.replaceChildren(h('p', { class: 'none' }, e.message + ' ' + nextStep(e))))]);
    } catch (e) {
      period.replaceChildren(notice(e.message + ' ' + nextStep(e), 'error'));
    }
    setTimeout(refresh, 60000);
  }
  refresh();
}
