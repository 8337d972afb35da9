// official.js — the desk of station, township and county officials and team leaders:
// reviewing requests (审单) one click each, activities (create, the check-in QR code on a
// screen, the records and the confirmation of hours in bulk).
import { api, field, form, fromLocalInput, go, h, localInput, nextStep, notice, pagedList, session, show, t, when } from '../app.js';

export function review () {
  show(
    h('h1', {}, t('review_title')),
    h('p', {}, t('review_intro')),
    pagedList('/v1/requests?status=review&limit=20', (r) => {
      const card = [
        h('h2', {}, r.title),
        h('p', { class: 'pre' }, r.description),
        h('p', { class: 'meta' }, t('when'), '：', when(r.earliest_start), ' – ', when(r.latest_end), ' · ', t('ordered_at'), ' ', when(r.created_at))
      ];
      const approve = h('button', { type: 'button', class: 'primary' }, t('approve'));
      const reject = form([
        field({ name: 'reason', label: t('reject_reason'), required: true, max: 500, attrs: { minlength: 2 } })
      ], t('reject'), async (v, el, key) => {
        await api('POST', '/v1/requests/' + r.id + '/review', { approve: false, reason: v.reason }, { key });
        el.closest('.card').replaceChildren(h('h2', {}, r.title), notice(t('rejected_done')));
      }, { class: 'inline reject' });
      approve.addEventListener('click', async () => {
        approve.disabled = true;
        try {
          await api('POST', '/v1/requests/' + r.id + '/review', { approve: true });
          approve.closest('.card').replaceChildren(h('h2', {}, r.title), notice(t('approved_done')));
        } catch (e) {
          approve.disabled = false;
          approve.after(notice(e.message + ' ' + nextStep(e), 'error'));
        }
      });
      card.push(h('div', { class: 'actions' }, approve), h('details', {}, h('summary', {}, t('reject_with_reason')), reject));
      return card;
    }, t('no_review'))
  );
}

export function activities () {
  show(
    h('h1', {}, t('manage_activities_title')),
    h('p', { class: 'actions' },
      h('a', { href: '/manage/activities/new', 'data-link': true, class: 'button primary' }, t('activity_new')),
      h('a', { href: '/manage/backfill', 'data-link': true, class: 'button secondary' }, t('backfill_title'))),
    pagedList('/v1/activities?limit=20', (a) => [
      h('h2', {}, h('a', { href: '/manage/activities/' + a.id, 'data-link': true }, a.title)),
      h('p', {}, when(a.starts_at), ' – ', when(a.ends_at, 'time')),
      h('p', { class: 'meta' }, t('signed_up', { n: a.confirmed, c: a.capacity }), a.waitlisted ? ' · ' + t('waiting', { n: a.waitlisted }) : '')
    ], t('no_activities'))
  );
}

export async function activityNew () {
  let categories = [];
  try {
    categories = (await api('GET', '/v1/categories')).items;
  } catch (e) {
    return show(h('h1', {}, t('activity_new')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  show(
    h('h1', {}, t('activity_new')),
    form([
      field({ name: 'title', label: t('activity_name'), required: true, max: 100 }),
      field({ name: 'category', label: t('category'), type: 'select', required: true, options: categories.map((c) => [c.code, c.name]) }),
      field({ name: 'theme', label: t('theme'), max: 100, hint: t('theme_hint') }),
      field({ name: 'region', label: t('region_code'), required: true, max: 12, value: session.me.region, hint: t('region_code_hint') }),
      field({ name: 'starts_at', label: t('starts_at'), type: 'datetime-local', required: true, value: localInput(24 * 60) }),
      field({ name: 'ends_at', label: t('ends_at'), type: 'datetime-local', required: true, value: localInput(24 * 60 + 120) }),
      field({ name: 'signup_closes_at', label: t('signup_closes'), type: 'datetime-local', required: true, value: localInput(23 * 60) }),
      field({ name: 'capacity', label: t('capacity_label'), type: 'number', required: true, value: '20', attrs: { min: 1, max: 10000 } })
    ], t('publish'), async (v, el, key) => {
      const body = {
        title: v.title,
        category: v.category,
        region: v.region,
        starts_at: fromLocalInput(v.starts_at),
        ends_at: fromLocalInput(v.ends_at),
        signup_closes_at: fromLocalInput(v.signup_closes_at),
        capacity: Number(v.capacity)
      };
      if (v.theme) body.theme = v.theme;
      const made = await api('POST', '/v1/activities', body, { key });
      go('/manage/activities/' + made.id);
    })
  );
}

// The check-in code on the organiser's screen: the QR image and the short code, fetched again
// before it expires.
function checkinCode (id) {
  const image = h('img', { class: 'qr', alt: t('qr_alt'), width: 264, height: 264 });
  const code = h('p', { class: 'code', 'aria-live': 'polite' });
  const expires = h('p', { class: 'meta' });
  const box = h('section', { class: 'checkin-code', 'aria-labelledby': 'code-title' }, h('h2', { id: 'code-title' }, t('checkin_code')), image, code, expires);
  async function refresh () {
    if (box.dataset.shown && !box.isConnected) return;
    box.dataset.shown = '1';
    try {
      const answer = await api('GET', '/v1/activities/' + id + '/checkin-code');
      code.textContent = answer.code;
      expires.textContent = t('code_until', { at: when(answer.expires_at, 'time') });
      // The image is fetched with the session's cookie; a new URL each time so no cache holds an old code.
      image.src = '/v1/activities/' + id + '/checkin-code.png?at=' + Date.now();
      const wait = Math.max(5000, new Date(answer.expires_at).getTime() - Date.now() - 15000);
      setTimeout(refresh, Math.min(wait, 60000));
    } catch (e) {
      box.append(notice(e.message + ' ' + nextStep(e), 'error'));
    }
  }
  refresh();
  return box;
}

// The service records of an activity or a request (`query`), the hours of each to confirm
// (时长认定): what was measured, which the official may correct before confirming them all.
export function recordsTable (query) {
  const box = h('div', { class: 'records' });
  async function draw () {
    let page;
    try {
      page = await api('GET', '/v1/service-records?' + query);
    } catch (e) {
      return box.replaceChildren(notice(e.message + ' ' + nextStep(e), 'error'));
    }
    const toConfirm = page.items.filter((r) => r.status === 'closed');
    const measured = (r) => (r.hours !== undefined ? r.hours : (r.minutes || 0) / 60).toFixed(1);
    const all = h('button', { type: 'button', class: 'primary', disabled: !toConfirm.length }, t('confirm_all', { n: toConfirm.length }));
    all.addEventListener('click', async () => {
      all.disabled = true;
      const failed = [];
      for (const r of toConfirm) {
        const hours = Number(box.querySelector('[data-record="' + r.id + '"]').value);
        try {
          await api('POST', '/v1/service-records/' + r.id + '/confirm', { hours });
        } catch (e) {
          failed.push(r.volunteer_id + ': ' + e.message);
        }
      }
      await draw();
      if (failed.length) box.append(notice(failed.join('; '), 'error'));
    });
    box.replaceChildren(
      h('table', {},
        h('caption', {}, t('records_caption', { n: page.items.length })),
        h('thead', {}, h('tr', {}, [t('volunteer'), t('checkin_at'), t('checkout_at'), t('hours'), t('record_state')].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, page.items.map((r) => h('tr', {},
          h('td', {}, r.volunteer_id),
          h('td', {}, when(r.checkin_at, 'time')),
          h('td', {}, r.checkout_at ? when(r.checkout_at, 'time') : '—'),
          h('td', {}, r.status === 'closed'
            ? h('input', { type: 'number', min: 0, max: 24, step: 0.5, value: measured(r), 'data-record': r.id, 'aria-label': t('hours_of', { v: r.volunteer_id }), class: 'hours' })
            : r.status === 'confirmed' ? measured(r) : '—'),
          h('td', {}, t('record_' + r.status)))))),
      h('div', { class: 'actions' }, all));
  }
  draw();
  return box;
}

// The roster (报名名单): each sign-up, masked, with where it stands on the day — not come,
// checked in, checked out, hours confirmed — a page at a time.
function roster (id) {
  return pagedList('/v1/activities/' + id + '/signups?limit=50', (s) => {
    let state = 'rstate_not_in';
    if (s.record_status === 'open') state = 'rstate_in';
    else if (s.record_status === 'closed') state = 'rstate_out';
    else if (s.record_status === 'confirmed') state = 'rstate_confirmed';
    const times = [];
    if (s.checkin_at) times.push(t('checkin_at') + ' ' + when(s.checkin_at, 'time'));
    if (s.checkout_at) times.push(t('checkout_at') + ' ' + when(s.checkout_at, 'time'));
    if (s.hours !== undefined) times.push(t('hours_n', { n: s.hours }));
    return [
      h('h3', {}, s.name, ' ', h('span', { class: 'meta' }, '#' + s.volunteer_id)),
      h('p', {}, s.status === 'waitlisted' ? t('roster_waitlisted', { n: s.position }) : t('roster_' + s.status),
        ' · ', h('strong', { class: 'state', 'data-state': state }, t(state)), s.manual ? ' · ' + t('roster_manual') : ''),
      times.length ? h('p', { class: 'meta' }, times.join(' · ')) : null
    ];
  }, t('roster_empty'));
}

export async function activity (params) {
  let a;
  try {
    a = await api('GET', '/v1/activities/' + encodeURIComponent(params.id));
  } catch (e) {
    return show(h('h1', {}, t('activity')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  show(
    h('h1', {}, a.title),
    h('p', {}, when(a.starts_at), ' – ', when(a.ends_at, 'time'), ' · ', t('signed_up', { n: a.confirmed, c: a.capacity })),
    a.status === 'cancelled' ? notice(t('activity_cancelled') + (a.cancel_reason ? ' — ' + a.cancel_reason : ''), 'error') : checkinCode(a.id),
    h('h2', {}, t('roster_title')),
    h('p', { class: 'actions' }, h('a', { class: 'button secondary', href: '/v1/exports/activities/' + a.id, download: '' }, t('roster_download'))),
    roster(a.id),
    h('h2', {}, t('records')),
    recordsTable('activity_id=' + a.id)
  );
}
