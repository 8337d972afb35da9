// resident.js — a resident's pages: order a service (点单) in under a minute, a small wish
// (微心愿), the requests and their state in words, and the rating afterwards (评单). An
// official can order for a cared-for resident (by the resident's id).
import { ApiError, OFFICIALS, api, field, form, fromLocalInput, go, h, localInput, nextStep, notice, pagedList, session, show, t, when } from '../app.js';

// Each category's mark: its first character on a colour, so the list reads at a glance
// without an icon font.
const COLOURS = ['#b71c1c', '#1565c0', '#2e7d32', '#6a1b9a', '#e65100', '#00695c', '#4e342e', '#283593'];

function categoryName (category) {
  const english = t('cat_' + category.code);
  return english !== 'cat_' + category.code ? english : category.name;
}

function categoryTiles (categories) {
  return h('fieldset', { class: 'tiles' },
    h('legend', {}, t('category'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    categories.map((category, i) => h('label', { class: 'tile' },
      h('input', { type: 'radio', name: 'category', value: category.code, required: true }),
      h('span', { class: 'mark', 'data-colour': i % COLOURS.length, 'aria-hidden': 'true' }, category.name.slice(0, 1)),
      h('span', {}, categoryName(category)))),
    h('small', { id: 'f-category-error', class: 'error', 'aria-live': 'polite' }));
}

export async function order (params) {
  const official = OFFICIALS.includes(session.me.role);
  let categories = [];
  let address = '';
  try {
    categories = (await api('GET', '/v1/categories')).items;
    if (!official && session.me.resident_id) address = (await api('GET', '/v1/residents/' + session.me.resident_id)).address;
  } catch (e) {
    return show(h('h1', {}, t('order_title')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  const windowBox = h('div', { class: 'window', hidden: true },
    field({ name: 'from', label: t('from'), type: 'datetime-local', value: localInput(60) }),
    field({ name: 'to', label: t('to'), type: 'datetime-local', value: localInput(240) }));
  const whenBox = h('fieldset', { class: 'choice' }, h('legend', {}, t('when')),
    h('label', {}, h('input', { type: 'radio', name: 'when', value: 'soon', checked: true }), t('asap')),
    h('label', {}, h('input', { type: 'radio', name: 'when', value: 'window' }), t('in_window')),
    windowBox);
  whenBox.addEventListener('change', () => { windowBox.hidden = whenBox.querySelector('[value=window]').checked === false; });
  const placeBox = h('div', { hidden: !!address }, field({ name: 'place', label: t('place'), max: 200, hint: t('place_hint') }));
  const whereBox = h('fieldset', { class: 'choice' }, h('legend', {}, t('where')),
    address ? h('label', {}, h('input', { type: 'radio', name: 'where', value: 'home', checked: true }), t('at_home'), ' (', address, ')') : null,
    address ? h('label', {}, h('input', { type: 'radio', name: 'where', value: 'other' }), t('elsewhere')) : null,
    placeBox);
  whereBox.addEventListener('change', () => { placeBox.hidden = !!address && whereBox.querySelector('[value=other]').checked === false; });
  show(
    h('h1', {}, official ? t('order_for_title') : t('order_title')),
    params.done ? notice(t('order_done')) : null,
    form([
      official ? field({ name: 'resident_id', label: t('resident_id'), required: true, max: 20, value: params.resident || '', hint: t('resident_id_hint') }) : null,
      categoryTiles(categories),
      field({ name: 'need', label: t('need'), type: 'textarea', required: true, max: 1000, hint: t('need_hint') }),
      whenBox,
      field({
        name: 'duration',
        label: t('duration'),
        type: 'select',
        value: '60',
        options: [['30', t('min_30')], ['60', t('hour_1')], ['120', t('hour_2')], ['240', t('hour_4')]]
      }),
      whereBox,
      h('p', { class: 'hint' }, official ? t('phone_on_record_for') : t('phone_on_record'))
    ], t('order_submit'), async (v, el, key) => {
      const minutes = Number(v.duration);
      const soon = v.when !== 'window';
      const earliest = soon ? new Date(Date.now() + 5 * 60000).toISOString() : fromLocalInput(v.from);
      const latest = soon ? new Date(Date.now() + 24 * 3600000).toISOString() : fromLocalInput(v.to);
      const place = (!address || v.where === 'other') && v.place ? '\n' + t('place') + '：' + v.place : '';
      const body = {
        category: v.category,
        title: v.need.split('\n')[0].slice(0, 40),
        description: v.need + place,
        region: session.me.region,
        earliest_start: earliest,
        latest_end: latest,
        duration_minutes: minutes,
        headcount: 1,
        urgency: 'normal'
      };
      if (official) body.resident_id = v.resident_id;
      if (!soon && (!v.from || !v.to)) throw new ApiError(400, { field: v.from ? 'to' : 'from', message: t('window_needed') });
      try {
        const made = await api('POST', '/v1/requests', body, { key });
        go('/requests/' + made.id + '?new=1');
      } catch (e) {
        // The window's two ends are the page's "from" and "to".
        if (e.field === 'earliest_start') e.field = 'from';
        if (e.field === 'latest_end') e.field = 'to';
        if (e.field === 'description' || e.field === 'title') e.field = 'need';
        throw e;
      }
    })
  );
  for (const mark of document.querySelectorAll('.mark')) mark.style.background = COLOURS[Number(mark.dataset.colour)];
}

export function wish () {
  show(
    h('h1', {}, t('wish_title')),
    h('p', {}, t('wish_intro')),
    form([
      field({ name: 'title', label: t('wish_what'), required: true, max: 100 }),
      field({ name: 'description', label: t('wish_why'), type: 'textarea', required: true, max: 1000 })
    ], t('wish_submit'), async (v, el, key) => {
      await api('POST', '/v1/wishes', { title: v.title, description: v.description, region: session.me.region }, { key });
      el.replaceWith(notice(t('wish_done')));
    })
  );
}

// A request's state in words, with what happens next.
export function stateWords (request) {
  const words = t('state_' + request.status);
  if ((request.status === 'unfilled' || request.status === 'rejected') && request.reason) return words + ' — ' + request.reason;
  return words;
}

export function requests () {
  show(
    h('h1', {}, t('requests_title')),
    h('p', {}, h('a', { href: '/order', 'data-link': true, class: 'button primary' }, t('nav_order'))),
    pagedList('/v1/requests?limit=20', (r) => [
      h('h2', {}, h('a', { href: '/requests/' + r.id, 'data-link': true }, r.title)),
      h('p', { class: 'state state-' + r.status }, stateWords(r)),
      h('p', { class: 'meta' }, t('ordered_at'), ' ', when(r.created_at))
    ], t('no_requests'))
  );
}

export async function request (params) {
  let r;
  try {
    r = await api('GET', '/v1/requests/' + encodeURIComponent(params.id));
  } catch (e) {
    return show(h('h1', {}, t('request_title')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  const coming = (r.assignments || []).filter((a) => a.status === 'accepted');
  const parts = [
    h('h1', {}, r.title),
    params.new ? notice(t('order_received')) : null,
    h('p', { class: 'state state-' + r.status }, stateWords(r)),
    h('dl', {},
      h('dt', {}, t('need')), h('dd', { class: 'pre' }, r.description),
      h('dt', {}, t('when')), h('dd', {}, when(r.earliest_start), ' – ', when(r.latest_end)),
      h('dt', {}, t('ordered_at')), h('dd', {}, when(r.created_at)),
      coming.length ? [h('dt', {}, t('who_comes')), h('dd', {}, coming.map((a) => h('div', {}, a.name, a.phone ? ' · ' + a.phone : '')))] : null,
      r.rating ? [h('dt', {}, t('your_rating')), h('dd', {}, '★'.repeat(r.rating), r.comment ? ' — ' + r.comment : '')] : null)
  ];
  if (r.status === 'completed' && !r.rating && session.me.role === 'resident') {
    parts.push(h('h2', {}, t('rate_title')), form([
      h('fieldset', { class: 'stars' }, h('legend', {}, t('stars')),
        [5, 4, 3, 2, 1].map((n) => h('label', {}, h('input', { type: 'radio', name: 'stars', value: String(n), required: true }), '★'.repeat(n), h('span', { class: 'sr' }, ' ' + n))),
        h('small', { id: 'f-stars-error', class: 'error', 'aria-live': 'polite' })),
      field({ name: 'comment', label: t('comment'), type: 'textarea', max: 500 })
    ], t('rate_submit'), async (v, el, key) => {
      const body = { stars: Number(v.stars) };
      if (v.comment) body.comment = v.comment;
      await api('POST', '/v1/requests/' + r.id + '/rating', body, { key });
      go('/requests/' + r.id, true);
    }));
  }
  if (OFFICIALS.includes(session.me.role) && r.resident_id) {
    parts.push(h('p', {}, h('a', { href: '/residents/' + r.resident_id, 'data-link': true }, t('resident_edit'))));
  }
  if (OFFICIALS.includes(session.me.role) && ['staffed', 'completed'].includes(r.status)) {
    const { recordsTable } = await import('./official.js');
    parts.push(h('h2', {}, t('records')), recordsTable('request_id=' + r.id));
  }
  if (['review', 'open', 'matching', 'staffed'].includes(r.status)) {
    const cancel = h('button', { type: 'button', class: 'secondary' }, t('cancel_request'));
    cancel.addEventListener('click', async () => {
      if (!confirm(t('cancel_confirm'))) return;
      try {
        await api('POST', '/v1/requests/' + r.id + '/cancel', {});
        go('/requests/' + r.id, true);
      } catch (e) {
        cancel.after(notice(e.message + ' ' + nextStep(e), 'error'));
      }
    });
    parts.push(h('div', { class: 'actions' }, cancel));
  }
  show(parts);
}
