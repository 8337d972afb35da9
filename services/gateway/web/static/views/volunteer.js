// volunteer.js — a volunteer's pages: offers to accept or decline before their deadline
// (接单), the schedule, activities to sign up for, check-in and check-out (an activity's by
// its QR code or short code, a request's from the offer), hours, points and stars, the inbox.
import { api, field, form, go, h, nextStep, notice, pagedList, session, show, t, when } from '../app.js';

// "4 min 10 s left", redrawn each second while the element is on the page.
function countdown (deadline) {
  const el = h('span', { class: 'countdown' });
  const end = new Date(deadline).getTime();
  function draw () {
    if (!el.isConnected && el.dataset.drawn) return clearInterval(timer);
    el.dataset.drawn = '1';
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    const minutes = Math.floor(left / 60);
    el.textContent = left === 0 ? t('expired') : t('left', { m: minutes, s: left % 60 });
    if (left === 0) clearInterval(timer);
  }
  const timer = setInterval(draw, 1000);
  draw();
  return el;
}

// A button that calls the API and then redraws the page (or says what went wrong beside it).
function action (text, method, path, body, after, kind = 'primary') {
  const button = h('button', { type: 'button', class: kind }, text);
  button.addEventListener('click', async () => {
    button.disabled = true;
    const old = button.parentElement.querySelector('.notice');
    if (old) old.remove();
    try {
      await api(method, path, body);
      after();
    } catch (e) {
      button.parentElement.append(notice(e.message + ' ' + nextStep(e), 'error'));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function offerCard (offer, redraw) {
  const request = offer.request || {};
  const parts = [
    h('h2', {}, offer.title),
    request.category ? h('p', { class: 'meta' }, t('cat_' + request.category) !== 'cat_' + request.category ? t('cat_' + request.category) : request.category) : null,
    request.description ? h('p', { class: 'pre' }, request.description) : null,
    h('p', {}, t('when'), '：', when(offer.earliest_start), ' – ', when(offer.latest_end),
      request.duration_minutes ? ' · ' + t('minutes', { n: request.duration_minutes }) : ''),
    request.address ? h('p', {}, t('where'), '：', request.address) : null
  ];
  if (offer.status === 'pending') {
    parts.push(h('p', { class: 'deadline' }, t('answer_by'), ' ', when(offer.deadline, 'time'), ' · ', countdown(offer.deadline)));
    parts.push(h('div', { class: 'actions' },
      action(t('accept'), 'POST', '/v1/offers/' + offer.id + '/accept', {}, redraw),
      action(t('decline'), 'POST', '/v1/offers/' + offer.id + '/decline', {}, redraw, 'secondary')));
  } else if (offer.status === 'accepted') {
    parts.push(h('p', { class: 'state state-staffed' }, t('offer_accepted')));
    parts.push(h('div', { class: 'actions' },
      action(t('checkin'), 'POST', '/v1/checkins', { request_id: offer.request_id }, redraw),
      action(t('checkout'), 'POST', '/v1/checkouts', { request_id: offer.request_id }, redraw, 'secondary')));
  } else parts.push(h('p', { class: 'state' }, t('offer_' + offer.status)));
  return parts;
}

export async function offers (params) {
  const redraw = () => offers({});
  let page;
  try {
    page = await api('GET', '/v1/offers');
  } catch (e) {
    return show(h('h1', {}, t('offers_title')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  const open = page.items.filter((o) => o.status === 'pending' || o.status === 'accepted');
  const past = page.items.filter((o) => o.status !== 'pending' && o.status !== 'accepted').slice(0, 10);
  show(
    h('h1', {}, t('offers_title')),
    params.welcome ? notice(t('welcome')) : null,
    open.length ? h('ul', { class: 'cards' }, open.map((o) => h('li', { class: 'card offer', 'data-id': o.id }, offerCard(o, redraw)))) : notice(t('no_offers')),
    past.length ? [h('h2', {}, t('past_offers')), h('ul', { class: 'cards compact' }, past.map((o) => h('li', { class: 'card' }, offerCard(o, redraw))))] : null
  );
}

export function schedule () {
  show(
    h('h1', {}, t('schedule_title')),
    pagedList('/v1/me/schedule?limit=20', (item) => [
      h('h2', {}, item.title),
      h('p', {}, t('kind_' + item.kind), ' · ', when(item.starts_at), ' – ', when(item.ends_at, 'time'))
    ], t('no_schedule'))
  );
}

// "About 150 m" or "about 6.6 km".
function distance (metres) {
  return metres < 1000 ? t('distance_m', { n: Math.round(metres / 10) * 10 }) : t('distance_km', { n: (metres / 1000).toFixed(1) });
}

// The activities query of the page's address: its filters, and near me (lat, lon when the
// browser gave a place; near alone when it gave none: the volunteer's own region first).
function activitiesQuery (params) {
  const query = new URLSearchParams();
  if (params.category) query.set('category', params.category);
  if (params.from) query.set('from', params.from);
  if (params.near) query.set('near', '1');
  if (params.near && params.lat && params.lon) {
    query.set('lat', params.lat);
    query.set('lon', params.lon);
  }
  return query;
}

// Asks the browser where the volunteer is (only on a secure origin, and only if they allow
// it), then shows the activities nearest first; without a place, their own region's first.
function nearMe (params) {
  const button = h('button', { type: 'button', class: 'secondary near-me' }, t('near_me'));
  button.addEventListener('click', () => {
    const go_ = (lat, lon) => {
      const query = activitiesQuery({ ...params, near: '1', lat, lon });
      if (lat === undefined) query.set('noplace', '1');
      go('/activities?' + query);
    };
    if (!window.isSecureContext || !navigator.geolocation) return go_();
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => go_(position.coords.latitude.toFixed(5), position.coords.longitude.toFixed(5)),
      () => go_(),
      { timeout: 10000, maximumAge: 300000 });
  });
  return button;
}

export function activities (params) {
  const filters = form([
    field({ name: 'category', label: t('category'), max: 32, value: params.category || '' }),
    field({ name: 'from', label: t('from_date'), type: 'date', value: params.from || '' })
  ], t('filter'), async (v) => {
    const query = activitiesQuery({ ...params, category: v.category, from: v.from });
    go('/activities' + (query.toString() ? '?' + query : ''));
  }, { class: 'filters' });
  const query = new URLSearchParams({ limit: '20' });
  if (params.category) query.set('category', params.category);
  if (params.from) query.set('from', params.from + 'T00:00:00+08:00');
  const near = Boolean(params.near);
  const placed = near && params.lat && params.lon;
  if (placed) {
    query.set('lat', params.lat);
    query.set('lon', params.lon);
  } else if (near) query.set('near', 'true');
  const redraw = () => activities(params);
  show(
    h('h1', {}, t('activities_title')),
    filters,
    h('div', { class: 'actions' }, nearMe(params),
      near ? h('a', { class: 'button secondary', href: '/activities', 'data-link': true }, t('soonest_first')) : null),
    near ? notice(placed ? t('near_sorted') : t(params.noplace ? 'near_no_place' : 'near_by_region')) : null,
    pagedList('/v1/activities?' + query, (a) => [
      h('h2', {}, a.title),
      h('p', {}, when(a.starts_at), ' – ', when(a.ends_at, 'time')),
      a.distance_m !== undefined && a.distance_m !== null ? h('p', { class: 'distance', 'data-distance': Math.round(a.distance_m) }, distance(a.distance_m)) : null,
      h('p', { class: 'meta' }, t('capacity', { n: a.capacity }), ' · ', t('signup_closes'), ' ', when(a.signup_closes_at)),
      a.my_signup ? h('p', { class: 'state' }, t('signup_' + a.my_signup, { n: a.my_position || '' })) : null,
      h('div', { class: 'actions' },
        a.my_signup
          ? action(t('withdraw'), 'DELETE', '/v1/activities/' + a.id + '/signups/me', undefined, redraw, 'secondary')
          : action(t('signup'), 'POST', '/v1/activities/' + a.id + '/signups', {}, redraw))
    ], t('no_activities'))
  );
}

// Reads a QR code from the camera: the browser's BarcodeDetector where it has one, else jsQR
// (vendor/jsQR.js, loaded only here). Calls found(text) once.
async function scanner (video, found) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  video.srcObject = stream;
  await video.play();
  let detect;
  if ('BarcodeDetector' in window) {
    const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
    detect = async () => ((await detector.detect(video))[0] || {}).rawValue;
  } else {
    await new Promise((resolve, reject) => {
      const script = h('script', { src: '/static/vendor/jsQR.js' });
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
    const canvas = document.createElement('canvas');
    const context = canvas.getContext('2d', { willReadFrequently: true });
    detect = async () => {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(image.data, image.width, image.height);
      return code && code.data;
    };
  }
  const stop = () => stream.getTracks().forEach((track) => track.stop());
  async function tick () {
    if (!video.isConnected) return stop();
    const text = video.readyState >= 2 ? await detect() : null;
    if (text) {
      stop();
      return found(text);
    }
    requestAnimationFrame(tick);
  }
  tick();
}

// What a scanned code holds: the check-in page's address with the activity and the code.
function parseScan (text) {
  try {
    const url = new URL(text, location.origin);
    return { activity: url.searchParams.get('activity') || '', code: url.searchParams.get('code') || '' };
  } catch (e) {
    return { activity: '', code: '' };
  }
}

export function checkin (params) {
  const result = h('div', { 'aria-live': 'polite' });
  const done = (text) => result.replaceChildren(notice(text));
  const checkForm = form([
    field({ name: 'activity_id', label: t('activity_id'), required: true, max: 20, value: params.activity || '', attrs: { inputmode: 'numeric' } }),
    field({ name: 'code', label: t('short_code'), required: true, max: 12, value: params.code || '', hint: t('short_code_hint'), attrs: { autocomplete: 'off', autocapitalize: 'characters' } })
  ], t('checkin'), async (v, el, key) => {
    const record = await api('POST', '/v1/checkins', { activity_id: v.activity_id, code: v.code.toUpperCase() }, { key });
    done(t('checked_in', { at: when(record.checkin_at, 'time') }));
  });
  const outButton = h('button', { type: 'button', class: 'secondary' }, t('checkout'));
  outButton.addEventListener('click', async () => {
    const id = checkForm.querySelector('[name=activity_id]').value.trim();
    try {
      const record = await api('POST', '/v1/checkouts', { activity_id: id });
      done(t('checked_out', { hours: ((record.minutes || 0) / 60).toFixed(1) }));
    } catch (e) {
      result.replaceChildren(notice(e.message + ' ' + nextStep(e), 'error'));
    }
  });
  const video = h('video', { class: 'scan', playsinline: true, muted: true, hidden: true, 'aria-label': t('camera') });
  const scanButton = h('button', { type: 'button', class: 'primary' }, t('scan'));
  scanButton.addEventListener('click', async () => {
    video.hidden = false;
    try {
      await scanner(video, (text) => {
        video.hidden = true;
        const scanned = parseScan(text);
        checkForm.querySelector('[name=activity_id]').value = scanned.activity;
        checkForm.querySelector('[name=code]').value = scanned.code;
        checkForm.requestSubmit();
      });
    } catch (e) {
      video.hidden = true;
      result.replaceChildren(notice(t('no_camera'), 'error'));
    }
  });
  show(
    h('h1', {}, t('checkin_title')),
    h('p', {}, t('checkin_intro')),
    window.isSecureContext && navigator.mediaDevices ? h('div', { class: 'actions' }, scanButton) : notice(t('camera_needs_https')),
    video,
    checkForm,
    h('div', { class: 'actions' }, outButton),
    result
  );
  if (params.activity && params.code) checkForm.requestSubmit();
}

export async function points () {
  const id = session.me.volunteer_id;
  let s;
  try {
    s = await api('GET', '/v1/volunteers/' + id + '/points');
  } catch (e) {
    return show(h('h1', {}, t('points_title')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  const hours = s.hours_credit + s.hours_honour;
  const toNext = s.hours_to_next_star;
  show(
    h('h1', {}, t('points_title')),
    h('div', { class: 'figures' },
      h('div', { class: 'figure' }, h('span', { class: 'value', 'data-figure': 'hours' }, hours.toFixed(1)), h('span', {}, t('hours'))),
      h('div', { class: 'figure' }, h('span', { class: 'value', 'data-figure': 'points' }, s.available), h('span', {}, t('points_available'))),
      h('div', { class: 'figure' }, h('span', { class: 'value stars', 'data-figure': 'stars', 'aria-label': t('stars_n', { n: s.stars }) }, s.stars ? '★'.repeat(s.stars) : '☆'), h('span', {}, t('stars')))),
    toNext !== undefined && toNext !== null
      ? h('div', { class: 'progress' },
        h('label', { for: 'star-progress' }, t('to_next_star', { n: toNext.toFixed(1) })),
        h('progress', { id: 'star-progress', max: String(hours + toNext), value: String(hours) }))
      : null,
    s.pending ? h('p', { class: 'meta' }, t('points_pending', { n: s.pending })) : null,
    h('h2', {}, t('journal')),
    pagedList('/v1/volunteers/' + id + '/ledger?unit=points&limit=20', (e) => [
      h('p', {}, h('strong', {}, (e.amount > 0 ? '+' : '') + e.amount), ' · ', e.reason || e.kind || ''),
      h('p', { class: 'meta' }, when(e.at))
    ], t('no_journal'))
  );
}

export function inbox () {
  show(
    h('h1', {}, t('inbox_title')),
    pagedList('/v1/inbox?limit=20', (n) => {
      const parts = [h('p', { class: n.read_at ? '' : 'unread' }, n.urgent ? h('strong', {}, t('urgent') + ' ') : null, n.text),
        h('p', { class: 'meta' }, when(n.delivered_at))];
      if (!n.read_at) {
        const read = h('button', { type: 'button', class: 'link' }, t('mark_read'));
        read.addEventListener('click', async () => {
          try {
            await api('POST', '/v1/inbox/' + n.id + '/read', {});
            read.parentElement.querySelector('.unread').classList.remove('unread');
            read.remove();
          } catch (e) { read.after(notice(e.message, 'error')); }
        });
        parts.push(read);
      }
      return parts;
    }, t('no_notices'))
  );
}
