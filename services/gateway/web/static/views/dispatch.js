// dispatch.js — the officials' dispatch board (派单): what the last rounds offered, what waits
// for a reply, what stayed unfilled and why, and a manual assignment where the rules allow
// it; and the back-entry (补录) of a past activity from its paper sign-in sheet.
import { ApiError, api, field, form, fromLocalInput, go, h, localInput, notice, pagedList, session, show, t, when } from '../app.js';

function assignForm (request) {
  return h('details', {},
    h('summary', {}, t('assign_manually')),
    form([
      field({ name: 'volunteer_id', label: t('volunteer_id'), required: true, max: 20, attrs: { inputmode: 'numeric' } }),
      field({ name: 'reason', label: t('assign_reason'), required: true, max: 200, attrs: { minlength: 2 } })
    ], t('assign'), async (v, el, key) => {
      await api('POST', '/v1/requests/' + request.request_id + '/assign', { volunteer_id: v.volunteer_id, reason: v.reason }, { key });
      el.replaceWith(notice(t('assigned_done')));
    }, { class: 'inline' }));
}

export function board (params) {
  const region = params.region || session.me.region;
  show(
    h('h1', {}, t('dispatch_title')),
    h('p', {}, t('dispatch_intro')),
    pagedList('/v1/dispatch/rounds?limit=10&region=' + encodeURIComponent(region), (round) => [
      h('h2', {}, t('round_at', { at: when(round.at) })),
      h('p', { class: 'meta' }, t('round_counts', { offered: round.offered, waiting: round.waiting, unfilled: round.unfilled })),
      h('ul', { class: 'plain' }, (round.requests || []).map((r) => h('li', {},
        h('a', { href: '/requests/' + r.request_id, 'data-link': true }, r.title), ' · ',
        h('span', { class: 'state state-' + r.status }, t('state_' + r.status)),
        r.reason ? ' — ' + r.reason : '',
        r.offered ? ' · ' + t('offered_n', { n: r.offered }) : '',
        r.waiting ? ' · ' + t('waiting_reply_n', { n: r.waiting }) : '',
        ['open', 'matching', 'unfilled'].includes(r.status) ? assignForm(r) : null)))
    ], t('no_rounds'))
  );
}

// "12, 2.5" per line: a volunteer's number and the hours they served.
function parseRecords (text) {
  const records = [];
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const [id, hours] = line.split(/[,，\s]+/);
    if (!/^\d+$/.test(id || '') || !(Number(hours) > 0)) {
      throw new ApiError(400, { field: 'records', message: t('records_line_bad', { n: i + 1, line }) });
    }
    records.push({ volunteer_id: id, hours: Number(hours) });
  }
  if (!records.length) throw new ApiError(400, { field: 'records', message: t('records_none') });
  return records;
}

export async function backfill () {
  let categories = [];
  try {
    categories = (await api('GET', '/v1/categories')).items;
  } catch (e) {
    return show(h('h1', {}, t('backfill_title')), notice(e.message, 'error'));
  }
  show(
    h('h1', {}, t('backfill_title')),
    h('p', {}, t('backfill_intro')),
    form([
      field({ name: 'title', label: t('activity_name'), required: true, max: 100 }),
      field({ name: 'category', label: t('category'), type: 'select', required: true, options: categories.map((c) => [c.code, c.name]) }),
      field({ name: 'region', label: t('region_code'), required: true, max: 12, value: session.me.region }),
      field({ name: 'starts_at', label: t('starts_at'), type: 'datetime-local', required: true, value: localInput(-7 * 24 * 60) }),
      field({ name: 'ends_at', label: t('ends_at'), type: 'datetime-local', required: true, value: localInput(-7 * 24 * 60 + 120) }),
      field({ name: 'records', label: t('backfill_records'), type: 'textarea', required: true, max: 20000, hint: t('backfill_records_hint') }),
      field({ name: 'reason', label: t('backfill_reason'), required: true, max: 200, hint: t('backfill_reason_hint'), attrs: { minlength: 2 } })
    ], t('backfill_submit'), async (v, el, key) => {
      const body = {
        title: v.title,
        category: v.category,
        region: v.region,
        starts_at: fromLocalInput(v.starts_at),
        ends_at: fromLocalInput(v.ends_at),
        reason: v.reason,
        records: parseRecords(v.records)
      };
      try {
        const made = await api('POST', '/v1/activities/backfill', body, { key });
        go('/manage/activities/' + made.activity.id);
      } catch (e) {
        if (e.field && e.field.startsWith('records')) e.field = 'records';
        throw e;
      }
    })
  );
}
