// app.js — the pages' frame: the session, calls to the API, the router, the layout and the
// small helpers every page uses. Each page lives in views/*.js and is fetched only when it is
// first shown, so a resident's phone downloads the order page and not the officials' desk.
import { t, lang, setLang } from './i18n.js';

export { t, lang };

// Who is signed in ({id, role, region, volunteer_id?, resident_id?}), and the CSRF token the
// session's writes carry. Nothing of it is stored by the browser: the cookie is HttpOnly.
export const session = { me: null, csrf: null };

export const OFFICIALS = ['region_admin', 'station_admin', 'team_leader'];

// ---------------------------------------------------------------------------------------
// Building the page

// h('p', {class: 'x', onclick: f}, 'text', child…): an element. Text is always text, never
// HTML, so nothing a person typed can become markup.
export function h (tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// Replaces the page's content and moves focus to its heading (screen readers hear it).
export function show (...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  const heading = main.querySelector('h1');
  if (heading) {
    document.title = heading.textContent + ' · ' + t('brand');
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

// A message in a box that says what to do next; role=alert for errors.
export function notice (text, kind = 'info') {
  return h('p', { class: 'notice ' + kind, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// Times are Asia/Shanghai wherever the browser is.
const ZONE = 'Asia/Shanghai';
export function when (iso, style = 'full') {
  if (!iso) return '';
  const options = style === 'date'
    ? { dateStyle: 'medium' }
    : style === 'time' ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' };
  return new Intl.DateTimeFormat(lang() === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: ZONE, ...options })
    .format(new Date(iso));
}

// A <input type=datetime-local> value read as Shanghai time, as RFC 3339.
export function fromLocalInput (value) {
  return value ? value + (value.length === 16 ? ':00' : '') + '+08:00' : '';
}

// Now plus `minutes`, as a datetime-local value in Shanghai time.
export function localInput (minutes = 0) {
  const shanghai = new Date(Date.now() + minutes * 60000 + 8 * 3600000);
  return shanghai.toISOString().slice(0, 16);
}

// ---------------------------------------------------------------------------------------
// The API

let busyCount = 0;
let busyTimer = null;

// Any wait longer than half a second shows progress.
function busy (on) {
  const box = document.getElementById('busy');
  busyCount += on ? 1 : -1;
  clearTimeout(busyTimer);
  if (busyCount > 0) {
    busyTimer = setTimeout(() => { box.textContent = t('working'); box.hidden = false; }, 500);
  } else {
    box.hidden = true;
    box.textContent = '';
  }
}

export class ApiError extends Error {
  constructor (status, error) {
    super(error.message || ('HTTP ' + status));
    this.status = status;
    this.code = error.code;
    this.field = error.field;
  }
}

// Calls the API; resolves to the JSON answer (null for 204), rejects with an ApiError. A POST
// carries an Idempotency-Key (`key`): a form keeps its key until it succeeds, so a retry after
// a lost answer changes nothing twice.
export async function api (method, path, body, { key, raw } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
  if (raw) headers['Content-Type'] = raw;
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  if (method === 'POST') headers['Idempotency-Key'] = key || newKey();
  busy(true);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store'
    });
  } catch (e) {
    throw new ApiError(0, { code: 'unavailable', message: t('offline') });
  } finally {
    busy(false);
  }
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const data = type.startsWith('application/json') ? await response.json() : await response.text();
  if (!response.ok) {
    const error = new ApiError(response.status, (data && data.error) || {});
    if (response.status === 401 && path !== '/v1/sessions') {
      session.me = null;
      session.csrf = null;
      go('/signin?next=' + encodeURIComponent(location.pathname + location.search));
    }
    throw error;
  }
  return data;
}

export function newKey () {
  return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
}

// ---------------------------------------------------------------------------------------
// Forms: labelled fields, each bad field named beside itself, nothing typed lost on failure.

// field({name, label, type, required, options: [[value, text]], hint, value, attrs}).
export function field (spec) {
  const id = 'f-' + spec.name;
  let input;
  if (spec.type === 'select') {
    input = h('select', { id, name: spec.name, required: spec.required },
      spec.options.map(([value, text]) => h('option', { value, selected: value === spec.value }, text)));
  } else if (spec.type === 'textarea') {
    input = h('textarea', { id, name: spec.name, required: spec.required, rows: 3, maxlength: spec.max }, spec.value || '');
  } else {
    input = h('input', {
      id,
      name: spec.name,
      type: spec.type || 'text',
      required: spec.required,
      value: spec.value,
      maxlength: spec.max,
      ...spec.attrs
    });
  }
  const hint = spec.hint ? h('small', { id: id + '-hint', class: 'hint' }, spec.hint) : null;
  if (hint) input.setAttribute('aria-describedby', id + '-hint ' + id + '-error');
  else input.setAttribute('aria-describedby', id + '-error');
  return h('div', { class: 'field' },
    h('label', { for: id }, spec.label, spec.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    input, hint,
    h('small', { id: id + '-error', class: 'error', 'aria-live': 'polite' }));
}

// form(children, submitText, onsubmit(values, form)): onsubmit returns a promise; an ApiError
// naming a field is shown beside that field, any other beside the button. The form keeps its
// Idempotency-Key until a try succeeds.
export function form (children, submitText, onsubmit, attrs = {}) {
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, submitText);
  const el = h('form', { novalidate: true, ...attrs }, children, h('div', { class: 'actions' }, button), status);
  let key = newKey();
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(el);
    status.replaceChildren();
    if (!el.checkValidity()) {
      for (const input of el.querySelectorAll(':invalid')) markError(el, input.name, input.validationMessage);
      el.querySelector(':invalid').focus();
      return;
    }
    button.disabled = true;
    try {
      await onsubmit(values(el), el, key);
      key = newKey();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (!e.field || !markError(el, e.field, e.message)) status.replaceChildren(notice(e.message + ' ' + nextStep(e), 'error'));
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

// What to do about an error, in words.
export function nextStep (e) {
  if (e.status === 0 || e.status === 503) return t('retry_later');
  if (e.status === 429) return t('wait_retry');
  if (e.status === 409) return t('reload');
  if (e.status === 403 || e.status === 404) return t('ask_station');
  return '';
}

function values (el) {
  const out = {};
  for (const input of el.elements) {
    if (!input.name || input.disabled) continue;
    if (input.type === 'checkbox') {
      if (input.dataset.list !== undefined) (out[input.name] = out[input.name] || []).push(...(input.checked ? [input.value] : []));
      else out[input.name] = input.checked;
    } else if (input.type === 'radio') {
      if (input.checked) out[input.name] = input.value;
    } else out[input.name] = input.value.trim();
  }
  return out;
}

function clearErrors (el) {
  for (const error of el.querySelectorAll('.error')) error.textContent = '';
  for (const input of el.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

// Shows `message` beside the field named `name`; false when the form has no such field.
export function markError (el, name, message) {
  const input = el.querySelector('[name="' + CSS.escape(name) + '"]');
  const error = el.querySelector('#f-' + CSS.escape(name) + '-error');
  if (!input || !error) return false;
  input.setAttribute('aria-invalid', 'true');
  error.textContent = message;
  input.focus();
  return true;
}

// A paged list: shows the first page and a "more" button while next_cursor says more follow.
export function pagedList (path, renderItem, empty) {
  const list = h('ul', { class: 'cards' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  const box = h('div', { class: 'paged' }, list, more);
  let cursor = null;
  async function load () {
    const sep = path.includes('?') ? '&' : '?';
    try {
      const page = await api('GET', path + (cursor ? sep + 'cursor=' + encodeURIComponent(cursor) : ''));
      for (const item of page.items) list.append(h('li', { class: 'card' }, renderItem(item)));
      if (!list.children.length) list.replaceWith(notice(empty));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      box.append(notice(e.message + ' ' + nextStep(e), 'error'));
    }
  }
  more.addEventListener('click', load);
  load();
  return box;
}

// opener(text, makeForm): a button that shows the form makeForm() returns in its place. One
// such form is open at a time on a page (opening one closes the other), so that a page of
// cards, each with its form, keeps its field ids unique.
let openForm = null;
export function opener (text, makeForm, kind = 'secondary') {
  const box = h('div', { class: 'opener' });
  const button = h('button', { type: 'button', class: kind }, text);
  button.addEventListener('click', () => {
    if (openForm && openForm.isConnected) openForm.dispatchEvent(new Event('close'));
    const made = makeForm();
    const shut = h('button', { type: 'button', class: 'link' }, t('close'));
    function close () {
      made.remove();
      shut.remove();
      button.hidden = false;
      if (openForm === made) openForm = null;
    }
    made.addEventListener('close', close);
    shut.addEventListener('click', () => { close(); button.focus(); });
    button.hidden = true;
    box.append(made, shut);
    openForm = made;
    const first = made.querySelector('input, select, textarea');
    if (first) first.focus();
  });
  box.append(button);
  return box;
}

// ---------------------------------------------------------------------------------------
// The router: a page per path, drawn by a function of a view module.

const pages = [
  // path, module, function, who may see it (null: anyone)
  ['/signin', 'signin', 'signin', null],
  ['/register', 'signin', 'register', null],
  ['/register/resident', 'signin', 'registerResident', null],
  ['/order', 'resident', 'order', ['resident', ...OFFICIALS]],
  ['/wish', 'resident', 'wish', ['resident']],
  ['/requests', 'resident', 'requests', ['resident']],
  ['/requests/:id', 'resident', 'request', ['resident', ...OFFICIALS]],
  ['/offers', 'volunteer', 'offers', ['volunteer']],
  ['/schedule', 'volunteer', 'schedule', ['volunteer']],
  ['/activities', 'volunteer', 'activities', ['volunteer']],
  ['/checkin', 'volunteer', 'checkin', ['volunteer']],
  ['/points', 'volunteer', 'points', ['volunteer']],
  ['/inbox', 'volunteer', 'inbox', null],
  ['/review', 'official', 'review', OFFICIALS],
  ['/manage/activities', 'official', 'activities', OFFICIALS],
  ['/manage/activities/new', 'official', 'activityNew', OFFICIALS],
  ['/manage/activities/:id', 'official', 'activity', OFFICIALS],
  ['/dispatch', 'dispatch', 'board', OFFICIALS],
  ['/manage/backfill', 'dispatch', 'backfill', OFFICIALS],
  ['/reports', 'figures', 'reports', OFFICIALS],
  ['/dashboard', 'figures', 'dashboard', OFFICIALS],
  ['/store', 'store', 'store', ['volunteer']],
  ['/settings/notifications', 'prefs', 'preferences', ['resident', 'volunteer', ...OFFICIALS]],
  ['/manage/volunteers', 'people', 'volunteers', OFFICIALS],
  ['/manage/volunteers/import', 'people', 'importPage', OFFICIALS],
  ['/manage/transfers', 'people', 'transfers', OFFICIALS],
  ['/manage/store', 'store', 'storeDesk', OFFICIALS],
  ['/manage/settings', 'settings', 'settings', OFFICIALS],
  ['/manage/rules', 'settings', 'rules', OFFICIALS],
  ['/manage/notify', 'settings', 'notify', OFFICIALS],
  ['/manage/dispatch-settings', 'settings', 'dispatchSettings', OFFICIALS],
  ['/manage/residents', 'settings', 'residentFind', OFFICIALS],
  ['/residents/:id', 'settings', 'resident', ['resident', ...OFFICIALS]],
  ['/me/profile', 'settings', 'resident', ['resident']],
  ['/manage/teams', 'teams', 'teams', OFFICIALS],
  ['/manage/teams/:id', 'teams', 'team', OFFICIALS],
  ['/teams', 'teams', 'myTeams', ['volunteer']],
  ['/teams/:id', 'teams', 'team', ['volunteer']]
];

// The menu of each role.
const menus = {
  resident: [['/order', 'nav_order'], ['/requests', 'nav_requests'], ['/wish', 'nav_wish'], ['/inbox', 'nav_inbox'],
    ['/settings/notifications', 'nav_prefs'], ['/me/profile', 'nav_profile']],
  volunteer: [['/offers', 'nav_offers'], ['/schedule', 'nav_schedule'], ['/activities', 'nav_activities'],
    ['/checkin', 'nav_checkin'], ['/points', 'nav_points'], ['/teams', 'nav_teams'], ['/store', 'nav_store'], ['/inbox', 'nav_inbox'],
    ['/settings/notifications', 'nav_prefs']],
  official: [['/review', 'nav_review'], ['/dispatch', 'nav_dispatch'], ['/manage/activities', 'nav_manage_activities'],
    ['/manage/volunteers', 'nav_volunteers'], ['/manage/teams', 'nav_teams_desk'], ['/manage/store', 'nav_store_desk'], ['/order', 'nav_order_for'],
    ['/register/resident', 'nav_resident_new'], ['/reports', 'nav_reports'], ['/dashboard', 'nav_dashboard'],
    ['/manage/settings', 'nav_settings'], ['/inbox', 'nav_inbox'], ['/settings/notifications', 'nav_prefs']]
};

function home () {
  const role = session.me && session.me.role;
  if (!role) return '/signin';
  if (role === 'resident') return '/order';
  if (role === 'volunteer') return '/offers';
  return '/review';
}

export function go (path, replace = false) {
  history[replace ? 'replaceState' : 'pushState'](null, '', path);
  route();
}

function drawBar () {
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  document.getElementById('brand-name').textContent = t('brand');
  document.querySelector('.skip').textContent = t('skip');
  document.getElementById('nav').setAttribute('aria-label', t('menu'));
  const langButton = document.getElementById('lang');
  langButton.textContent = lang() === 'zh' ? 'English' : '中文';
  langButton.setAttribute('lang', lang() === 'zh' ? 'en' : 'zh-CN');
  const out = document.getElementById('signout');
  out.textContent = t('signout');
  out.hidden = !session.me;
  const role = session.me && session.me.role;
  const menu = !role ? [] : menus[OFFICIALS.includes(role) ? 'official' : role] || [];
  document.getElementById('nav').replaceChildren(h('ul', {}, menu.map(([path, key]) =>
    h('li', {}, h('a', { href: path, 'data-link': true, 'aria-current': location.pathname === path ? 'page' : null }, t(key))))));
}

async function route () {
  let path = location.pathname;
  if (path === '/') {
    path = home();
    history.replaceState(null, '', path);
  }
  drawBar();
  for (const [pattern, module, fn, roles] of pages) {
    const names = [];
    const regex = new RegExp('^' + pattern.replace(/:(\w+)/g, (_, name) => { names.push(name); return '([^/]+)'; }) + '$');
    const found = regex.exec(path);
    if (!found) continue;
    if (roles && !session.me) return go('/signin?next=' + encodeURIComponent(path + location.search), true);
    if (roles && !roles.includes(session.me.role)) return show(h('h1', {}, t('not_yours')), notice(t('not_yours_text')));
    const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
    for (const [key, value] of new URLSearchParams(location.search)) params[key] = value;
    const view = await import('./views/' + module + '.js');
    return view[fn](params);
  }
  show(h('h1', {}, t('no_page')), h('p', {}, h('a', { href: '/', 'data-link': true }, t('home'))));
}

// Same-origin links move without reloading.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-link]');
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  go(link.getAttribute('href'));
});
window.addEventListener('popstate', route);

// Signs in (the pages' cookie) and remembers who.
export async function signIn (login, password, key) {
  const answer = await api('POST', '/v1/sessions', { login, password, cookie: true }, { key });
  session.me = answer.account;
  session.csrf = answer.csrf;
  return answer.account;
}

export function homePath () {
  return home();
}

async function start () {
  document.getElementById('lang').addEventListener('click', () => { setLang(lang() === 'zh' ? 'en' : 'zh'); route(); });
  document.getElementById('signout').addEventListener('click', async () => {
    try { await api('DELETE', '/v1/sessions/current'); } catch (e) { /* signed out already */ }
    session.me = null;
    session.csrf = null;
    go('/signin', true);
  });
  try {
    const current = await fetch('/v1/sessions/current', { credentials: 'same-origin', cache: 'no-store' });
    if (current.ok) {
      const answer = await current.json();
      session.me = answer.account;
      session.csrf = answer.csrf || null;
    }
  } catch (e) { /* offline: the sign-in page says so when used */ }
  route();
}

start();
