// settings.js — what a region decides for itself, on the officials' desk: its earning rules
// (积分规则: points per hour, bonuses, star thresholds, expiry; GET/PUT /v1/ledger/rules), the
// webhook that carries text messages and WeChat notices (GET/PUT /v1/channels), its reminder
// offsets and quiet hours (GET/PUT /v1/notify/settings) and its dispatch settings (GET/PUT
// /v1/dispatch/settings). Each page works on one region, the official's own or one below it,
// and shows beside each field what the region would have without its own value: the value in
// force in the region above it (or the default).
import { OFFICIALS, api, field, form, go, h, markError, nextStep, notice, session, show, t, when } from '../app.js';
import { RESIDENT_KINDS, VOLUNTEER_KINDS, checkList } from './prefs.js';

const PAGES = [['/manage/rules', 'rules_title', 'rules_intro_short'],
  ['/manage/notify', 'notify_settings_title', 'notify_settings_short'],
  ['/manage/dispatch-settings', 'dispatch_settings_title', 'dispatch_settings_short']];

// The region a page works on (?region=, else the official's own), its name, its parent and
// the regions right below it.
async function regionOf (params) {
  const code = params.region || session.me.region;
  let region = { code, name: code, children: [] };
  try {
    region = await api('GET', '/v1/regions/' + encodeURIComponent(code));
  } catch (e) { /* the code alone names it; the page's own call says what is wrong */ }
  return region;
}

// The chooser of the region: this one, the one above (when in scope) and those right below.
function chooser (path, region) {
  const options = [[region.code, region.name + ' (' + region.code + ')']];
  if (region.parent && region.code !== session.me.region) options.unshift([region.parent, t('settings_region_above', { code: region.parent })]);
  for (const child of region.children || []) options.push([child.code, child.name + ' (' + child.code + ')']);
  return form([
    field({ name: 'region', label: t('settings_region'), type: 'select', value: region.code, options })
  ], t('show'), async (v) => go(path + '?region=' + encodeURIComponent(v.region)), { class: 'filters region-chooser' });
}

// What the region above holds (null when it is out of reach: then the defaults apply).
async function above (region, path) {
  if (!region.parent) return null;
  try {
    return await api('GET', path + encodeURIComponent(region.parent));
  } catch (e) {
    return null;
  }
}

function inherited (value) {
  return t('settings_inherited', { v: value === undefined || value === null || value === '' ? t('settings_default') : value });
}

function failed (title, e) {
  show(h('h1', {}, t(title)), notice(e.message + ' ' + nextStep(e), 'error'));
}

function tabs (current, region) {
  return h('nav', { class: 'tabs', 'aria-label': t('settings_title') }, h('ul', {}, PAGES.map(([path, key]) =>
    h('li', {}, h('a', { href: path + '?region=' + encodeURIComponent(region.code), 'data-link': true, 'aria-current': path === current ? 'page' : null }, t(key))))));
}

// The hub: the three pages, for the official's region.
export async function settings (params) {
  const region = await regionOf(params);
  show(
    h('h1', {}, t('settings_title')),
    h('p', {}, t('settings_intro')),
    h('ul', { class: 'cards' }, PAGES.map(([path, key, text]) => h('li', { class: 'card' },
      h('h2', {}, h('a', { href: path + '?region=' + encodeURIComponent(region.code), 'data-link': true }, t(key))),
      h('p', {}, t(text)))),
    h('li', { class: 'card' }, h('h2', {}, h('a', { href: '/manage/residents', 'data-link': true }, t('resident_find_title'))),
      h('p', {}, t('resident_find_short'))))
  );
}

// ---------------------------------------------------------------------------------------
// The earning rules

const RULE_NUMBERS = ['points_per_hour', 'cared_bonus', 'daily_cap', 'multiplier_1', 'multiplier_2', 'multiplier_3',
  'multiplier_4', 'multiplier_5', 'star_1', 'star_2', 'star_3', 'star_4', 'star_5', 'adjust_cap_points', 'adjust_cap_minutes'];
const RULE_LIMITS = {
  points_per_hour: [0, 10000],
  cared_bonus: [0, 10000],
  daily_cap: [0, 1000000],
  adjust_cap_points: [0, 1000000],
  adjust_cap_minutes: [0, 1000000]
};

function ruleLimits (name) {
  if (name.startsWith('multiplier_')) return [0, 500];
  if (name.startsWith('star_')) return [1, 100000];
  return RULE_LIMITS[name];
}

function ruleField (name, rule, up) {
  const [min, max] = ruleLimits(name);
  const label = name.startsWith('multiplier_')
    ? t('rule_multiplier', { n: name.slice(-1) })
    : name.startsWith('star_') ? t('rule_star', { n: name.slice(-1) }) : t('rule_' + name);
  return field({
    name,
    label,
    type: 'number',
    required: true,
    value: rule[name] === undefined ? '' : String(rule[name]),
    hint: up ? inherited(up[name]) : null,
    attrs: { min, max, step: 1, inputmode: 'numeric' }
  });
}

function ruleVersion (rule, region) {
  const from = rule.from_region && rule.from_region !== region.code
    ? t('rule_from_above', { code: rule.from_region || t('settings_national') })
    : rule.from_region ? t('rule_own') : t('rule_national');
  return h('p', { class: 'version', 'data-version': rule.version || 0 },
    rule.version ? t('rule_version', { n: rule.version, at: when(rule.effective_from) }) : t('rule_no_version'), ' ', from);
}

export async function rules (params) {
  const region = await regionOf(params);
  let rule;
  try {
    rule = await api('GET', '/v1/ledger/rules/' + encodeURIComponent(region.code));
  } catch (e) {
    return failed('rules_title', e);
  }
  const up = await above(region, '/v1/ledger/rules/');
  const version = h('div', { 'aria-live': 'polite' }, ruleVersion(rule, region));
  const saved = h('div', { 'aria-live': 'polite' });
  const expiry = field({
    name: 'expiry',
    label: t('rule_expiry'),
    type: 'select',
    value: rule.expiry || 'none',
    options: [['none', t('expiry_none')], ['fixed', t('expiry_fixed')], ['months', t('expiry_months')]]
  });
  const day = field({ name: 'expiry_day', label: t('rule_expiry_day'), value: rule.expiry_day || '', max: 5, hint: t('rule_expiry_day_hint'), attrs: { pattern: '[0-1][0-9]-[0-3][0-9]', placeholder: '12-31' } });
  const months = field({ name: 'expiry_months', label: t('rule_expiry_months'), type: 'number', value: rule.expiry_months ? String(rule.expiry_months) : '', attrs: { min: 1, max: 120, step: 1 } });
  // Only the part the kind of expiry needs is shown (and sent).
  function shape () {
    const kind = expiry.querySelector('select').value;
    for (const [box, want] of [[day, 'fixed'], [months, 'months']]) {
      const input = box.querySelector('input');
      box.hidden = kind !== want;
      input.disabled = kind !== want;
      input.required = kind === want;
    }
  }
  expiry.querySelector('select').addEventListener('change', shape);
  const rulesForm = form([
    h('fieldset', {}, h('legend', {}, t('rule_points')),
      ['points_per_hour', 'cared_bonus', 'daily_cap'].map((name) => ruleField(name, rule, up))),
    h('fieldset', {}, h('legend', {}, t('rule_multipliers')), h('p', { class: 'hint' }, t('rule_multipliers_hint')),
      [1, 2, 3, 4, 5].map((n) => ruleField('multiplier_' + n, rule, up))),
    h('fieldset', {}, h('legend', {}, t('rule_stars')), h('p', { class: 'hint' }, t('rule_stars_hint')),
      [1, 2, 3, 4, 5].map((n) => ruleField('star_' + n, rule, up))),
    h('fieldset', {}, h('legend', {}, t('rule_expiry_title')), expiry, day, months),
    h('fieldset', {}, h('legend', {}, t('rule_adjust')),
      ['adjust_cap_points', 'adjust_cap_minutes'].map((name) => ruleField(name, rule, up)))
  ], t('rule_save'), async (v, el, key) => {
    const body = { expiry: v.expiry };
    for (const name of RULE_NUMBERS) body[name] = Number(v[name]);
    if (v.expiry === 'fixed') body.expiry_day = v.expiry_day;
    if (v.expiry === 'months') body.expiry_months = Number(v.expiry_months);
    saved.replaceChildren();
    const now = await api('PUT', '/v1/ledger/rules/' + encodeURIComponent(region.code), body, { key });
    version.replaceChildren(ruleVersion(now, region));
    saved.replaceChildren(notice(t('rule_saved', { n: now.version })));
  }, { class: 'rules' });
  shape();
  show(
    h('h1', {}, t('rules_title')),
    tabs('/manage/rules', region),
    chooser('/manage/rules', region),
    h('h2', {}, region.name),
    version,
    notice(t('rule_from_now')),
    rulesForm,
    saved
  );
}

// ---------------------------------------------------------------------------------------
// Notices: the webhook, the reminders and the quiet hours

// A new Standard Webhooks secret: "whsec_" and the base64 of 32 random bytes.
function newSecret () {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return 'whsec_' + btoa(String.fromCharCode(...bytes));
}

function hours (seconds) {
  const n = Number(seconds) / 3600;
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '');
}

function channelState (channel, region) {
  if (!channel.url) return h('p', { class: 'channel-state' }, t('channel_none'));
  return h('p', { class: 'channel-state', 'data-from': channel.from },
    channel.from === region.code ? t('channel_own', { at: when(channel.updated_at) }) : t('channel_from_above', { code: channel.from }),
    ' ', t('channel_secret_mask', { mask: channel.secret || '—' }));
}

export async function notify (params) {
  const region = await regionOf(params);
  let channel, settings;
  try {
    [channel, settings] = await Promise.all([
      api('GET', '/v1/channels/' + encodeURIComponent(region.code)),
      api('GET', '/v1/notify/settings/' + encodeURIComponent(region.code))
    ]);
  } catch (e) {
    return failed('notify_settings_title', e);
  }
  const up = await above(region, '/v1/notify/settings/');
  const state = h('div', { 'aria-live': 'polite' }, channelState(channel, region));
  const channelSaved = h('div', { 'aria-live': 'polite' });
  const shownOnce = h('div', { 'aria-live': 'polite' });
  const own = channel.from === region.code;
  const kinds = [...VOLUNTEER_KINDS, ...RESIDENT_KINDS];
  const secret = field({
    name: 'secret',
    label: t('channel_secret'),
    type: 'password',
    max: 200,
    required: !own,
    hint: own ? t('channel_secret_keep') : t('channel_secret_first'),
    attrs: { autocomplete: 'off', spellcheck: 'false' }
  });
  const generate = h('button', { type: 'button', class: 'secondary' }, t('channel_secret_new'));
  generate.addEventListener('click', () => {
    const made = newSecret();
    secret.querySelector('input').value = made;
    // Shown once, here, to copy to the receiving end; after saving only its mask is shown.
    shownOnce.replaceChildren(h('p', { class: 'notice info secret-once' }, t('channel_secret_once'), ' ', h('code', { 'data-secret': true }, made)));
  });
  const channelForm = form([
    field({ name: 'url', label: t('channel_url'), type: 'url', required: true, max: 2000, value: own ? channel.url : '', hint: own || !channel.url ? t('channel_url_hint') : inherited(channel.url), attrs: { placeholder: 'https://' } }),
    secret,
    h('div', { class: 'actions' }, generate),
    shownOnce,
    checkList('kinds', t('channel_kinds'), t('channel_kinds_hint'), kinds.map((k) => [k, t('kind_' + k.replace('.', '_'))]), own ? channel.kinds || [] : [])
  ], t('channel_save'), async (v, el, key) => {
    const body = { url: v.url, kinds: v.kinds || [] };
    if (v.secret) body.secret = v.secret;
    channelSaved.replaceChildren();
    const now = await api('PUT', '/v1/channels/' + encodeURIComponent(region.code), body, { key });
    el.querySelector('[name=secret]').value = '';
    shownOnce.replaceChildren();
    state.replaceChildren(channelState(now, region));
    channelSaved.replaceChildren(notice(t('channel_saved')));
  }, { class: 'channel' });

  const offsets = (settings.reminder_offsets_s || []).map(hours).join(', ');
  const upOffsets = up && up.reminder_offsets_s ? up.reminder_offsets_s.map(hours).join(', ') : null;
  const remindersSaved = h('div', { 'aria-live': 'polite' });
  const remindersForm = form([
    field({ name: 'reminder_offsets_s', label: t('reminder_offsets'), required: true, max: 60, value: offsets, hint: t('reminder_offsets_hint') + ' ' + inherited(upOffsets), attrs: { inputmode: 'decimal' } }),
    h('fieldset', { class: 'quiet' }, h('legend', {}, t('prefs_quiet')),
      h('p', { class: 'hint' }, t('region_quiet_hint'), ' ', inherited(up ? (up.quiet_from || '').slice(0, 5) + '–' + (up.quiet_to || '').slice(0, 5) : null)),
      field({ name: 'quiet_from', label: t('prefs_quiet_from'), type: 'time', required: true, value: (settings.quiet_from || '22:00').slice(0, 5) }),
      field({ name: 'quiet_to', label: t('prefs_quiet_to'), type: 'time', required: true, value: (settings.quiet_to || '07:00').slice(0, 5) }))
  ], t('reminders_save'), async (v, el, key) => {
    const list = v.reminder_offsets_s.split(/[,，\s]+/).filter(Boolean);
    const seconds = list.map((x) => Math.round(Number(x) * 3600));
    if (!list.length || list.length > 8 || seconds.some((s) => !Number.isFinite(s) || s < 60)) {
      markError(el, 'reminder_offsets_s', t('reminder_offsets_bad'));
      return;
    }
    remindersSaved.replaceChildren();
    // Only what changed becomes the region's own; what was left as read stays inherited.
    const body = {};
    if (seconds.map(String).join(',') !== (settings.reminder_offsets_s || []).join(',')) body.reminder_offsets_s = seconds.map(String);
    if (v.quiet_from !== (settings.quiet_from || '22:00').slice(0, 5)) body.quiet_from = v.quiet_from;
    if (v.quiet_to !== (settings.quiet_to || '07:00').slice(0, 5)) body.quiet_to = v.quiet_to;
    settings = await api('PUT', '/v1/notify/settings/' + encodeURIComponent(region.code), body, { key });
    el.querySelector('[name=reminder_offsets_s]').value = (settings.reminder_offsets_s || []).map(hours).join(', ');
    remindersSaved.replaceChildren(notice(t('reminders_saved')));
  }, { class: 'reminders' });

  show(
    h('h1', {}, t('notify_settings_title')),
    tabs('/manage/notify', region),
    chooser('/manage/notify', region),
    h('h2', {}, t('channel_title'), ' · ', region.name),
    h('p', {}, t('channel_intro')),
    state,
    channelForm,
    channelSaved,
    h('h2', {}, t('reminders_title')),
    remindersForm,
    remindersSaved
  );
}

// ---------------------------------------------------------------------------------------
// Dispatch settings

const DISPATCH_FIELDS = ['review_required', 'daily_limit', 'widen_township_s', 'widen_county_s', 'checkin_radius_m'];
const DISPATCH_LABELS = {
  review_required: 'ds_review_required',
  daily_limit: 'ds_daily_limit',
  widen_township_s: 'ds_widen_township',
  widen_county_s: 'ds_widen_county',
  checkin_radius_m: 'ds_checkin_radius'
};

function minutes (seconds) {
  return seconds === undefined || seconds === null ? '' : String(Math.round(seconds / 60));
}

function shownSetting (name, value) {
  if (value === undefined || value === null) return null;
  if (name === 'review_required') return value ? t('yes') : t('no');
  if (name.startsWith('widen_')) return t('n_minutes', { n: minutes(value) });
  return String(value);
}

export async function dispatchSettings (params) {
  const region = await regionOf(params);
  let now;
  try {
    now = await api('GET', '/v1/dispatch/settings/' + encodeURIComponent(region.code));
  } catch (e) {
    return failed('dispatch_settings_title', e);
  }
  const up = await above(region, '/v1/dispatch/settings/');
  const hint = (name) => inherited(up ? shownSetting(name, up[name]) : null);
  const saved = h('div', { 'aria-live': 'polite' });
  const settingsForm = form([
    field({ name: 'review_required', label: t('ds_review_required'), type: 'select', value: now.review_required === undefined ? '' : now.review_required ? 'yes' : 'no', options: [['', t('ds_unset')], ['yes', t('yes')], ['no', t('no')]], hint: t('ds_review_hint') + ' ' + hint('review_required') }),
    field({ name: 'daily_limit', label: t('ds_daily_limit'), type: 'number', value: now.daily_limit === undefined ? '' : String(now.daily_limit), hint: hint('daily_limit'), attrs: { min: 1, max: 50, step: 1 } }),
    field({ name: 'widen_township_s', label: t('ds_widen_township'), type: 'number', value: minutes(now.widen_township_s), hint: hint('widen_township_s'), attrs: { min: 0, max: 43200, step: 1 } }),
    field({ name: 'widen_county_s', label: t('ds_widen_county'), type: 'number', value: minutes(now.widen_county_s), hint: hint('widen_county_s'), attrs: { min: 0, max: 43200, step: 1 } }),
    field({ name: 'checkin_radius_m', label: t('ds_checkin_radius'), type: 'number', value: now.checkin_radius_m === undefined ? '' : String(now.checkin_radius_m), hint: hint('checkin_radius_m'), attrs: { min: 10, max: 100000, step: 1 } }),
    checkList('clear', t('ds_clear'), t('ds_clear_hint'), DISPATCH_FIELDS.map((name) => [name, t(DISPATCH_LABELS[name])]), [])
  ], t('ds_save'), async (v, el, key) => {
    // Only what the official changed becomes the region's own: a value left as read stays
    // inherited (or own) as it was.
    const clear = v.clear || [];
    const body = {};
    if (clear.length) body.clear = clear;
    const typed = {
      review_required: v.review_required === '' ? undefined : v.review_required === 'yes',
      daily_limit: v.daily_limit === '' ? undefined : Number(v.daily_limit),
      widen_township_s: v.widen_township_s === '' ? undefined : Math.round(Number(v.widen_township_s) * 60),
      widen_county_s: v.widen_county_s === '' ? undefined : Math.round(Number(v.widen_county_s) * 60),
      checkin_radius_m: v.checkin_radius_m === '' ? undefined : Number(v.checkin_radius_m)
    };
    for (const name of DISPATCH_FIELDS) {
      const read = name.startsWith('widen_') && now[name] !== undefined ? Math.round(now[name] / 60) * 60 : now[name];
      if (typed[name] !== undefined && typed[name] !== read && !clear.includes(name)) body[name] = typed[name];
    }
    saved.replaceChildren();
    now = await api('PUT', '/v1/dispatch/settings/' + encodeURIComponent(region.code), body, { key });
    saved.replaceChildren(notice(t('ds_saved')));
  }, { class: 'dispatch-settings' });
  show(
    h('h1', {}, t('dispatch_settings_title')),
    tabs('/manage/dispatch-settings', region),
    chooser('/manage/dispatch-settings', region),
    h('h2', {}, region.name),
    h('p', {}, t('ds_intro')),
    settingsForm,
    saved
  );
}

// ---------------------------------------------------------------------------------------
// A resident's record (PATCH /v1/residents/{id}): the resident their phone, address and
// e-mail; an official in scope also the name and the groups cared for first.

// An official finds a resident's record by its number (on the request, or given at 建档).
export function residentFind () {
  show(
    h('h1', {}, t('resident_find_title')),
    form([
      field({ name: 'id', label: t('resident_id'), required: true, max: 20, attrs: { inputmode: 'numeric', pattern: '[0-9]+' } })
    ], t('show'), async (v) => go('/residents/' + encodeURIComponent(v.id)), { class: 'resident-find' })
  );
}

export async function resident (params) {
  const official = OFFICIALS.includes(session.me.role);
  const id = params.id || session.me.resident_id;
  if (!official && id !== session.me.resident_id) return show(h('h1', {}, t('not_yours')), notice(t('not_yours_text')));
  let r;
  try {
    r = await api('GET', '/v1/residents/' + encodeURIComponent(id));
  } catch (e) {
    return failed('resident_edit_title', e);
  }
  const { CARE } = await import('./signin.js');
  const saved = h('div', { 'aria-live': 'polite' });
  const tags = r.care_tags || [];
  const residentForm = form([
    official ? field({ name: 'name', label: t('real_name'), required: true, max: 50, value: r.name, attrs: { autocomplete: 'off' } }) : null,
    field({ name: 'phone', label: t('phone'), type: 'tel', required: true, max: 11, value: r.phone, hint: String(r.phone).includes('*') ? t('resident_phone_masked') : official ? t('phone_contact_hint') : t('resident_phone_hint'), attrs: { autocomplete: official ? 'off' : 'tel', inputmode: 'numeric' } }),
    field({ name: 'address', label: t('address'), required: true, max: 200, value: r.address, hint: t('address_hint') }),
    field({ name: 'email', label: t('email'), type: 'email', max: 254, value: r.email || '', hint: String(r.email || '').includes('*') ? t('resident_email_masked') : t('resident_email_hint'), attrs: { autocomplete: official ? 'off' : 'email' } }),
    official
      ? h('fieldset', { class: 'choice' }, h('legend', {}, t('care_tags')),
        CARE.map((tag) => h('label', {}, h('input', { type: 'checkbox', name: 'care_tags', value: tag, 'data-list': true, checked: tags.includes(tag) }), t('care_' + tag))))
      : null
  ], t('resident_save'), async (v, el, key) => {
    // Only what changed is sent: the record as read is the rest.
    const body = { address: v.address };
    if (v.phone !== r.phone) body.phone = v.phone;
    if (v.email !== (r.email || '')) body.email = v.email;
    if (official) {
      if (v.name !== r.name) body.name = v.name;
      body.care_tags = v.care_tags || [];
    }
    saved.replaceChildren();
    r = await api('PATCH', '/v1/residents/' + encodeURIComponent(id), body, { key });
    saved.replaceChildren(notice(t('resident_saved')));
  }, { class: 'resident-edit' });
  show(
    h('h1', {}, official ? t('resident_edit_title_of', { name: r.name }) : t('resident_edit_title')),
    h('p', { class: 'meta' }, t('resident_number', { id: r.id }), ' · ', r.region),
    residentForm,
    saved
  );
}
