// prefs.js — everyone's notification preferences (GET/PUT /v1/me/notifications): the
// language of notices, the channels besides the inbox, the quiet hours non-urgent notices wait
// out, and the kinds of notice wanted (those not ticked are muted; an urgent one comes anyway).
import { ApiError, OFFICIALS, api, field, form, h, markError, nextStep, notice, session, show, t } from '../app.js';

export const RESIDENT_KINDS = ['request.submitted', 'request.published', 'request.rejected', 'request.staffed', 'request.unfilled',
  'request.cancelled', 'request.completed'];
export const VOLUNTEER_KINDS = ['offer.made', 'offer.accepted', 'offer.withdrawn', 'offer.expired', 'offer.warning',
  'signup.confirmed', 'signup.waitlisted', 'signup.promoted', 'signup.cancelled', 'signup.skipped',
  'activity.cancelled', 'activity.changed', 'reminder.before', 'reminder.after', 'service.completed',
  'invitation.created', 'points.awarded', 'star.reached', 'redemption.reserved', 'redemption.fulfilled',
  'redemption.cancelled', 'redemption.expired'];
const CHANNELS = ['email', 'sms', 'wechat'];

function kindsOf (role) {
  if (role === 'resident') return RESIDENT_KINDS;
  if (role === 'volunteer') return VOLUNTEER_KINDS;
  return OFFICIALS.includes(role) ? [...VOLUNTEER_KINDS, ...RESIDENT_KINDS] : [];
}

// A fieldset of checkboxes sent as a list under `name`; its error line is #f-NAME-error.
export function checkList (name, legend, hint, options, checked) {
  const hintId = 'f-' + name + '-hint';
  return h('fieldset', { class: 'choice checklist', 'aria-describedby': hint ? hintId + ' f-' + name + '-error' : 'f-' + name + '-error' },
    h('legend', {}, legend),
    hint ? h('small', { id: hintId, class: 'hint' }, hint) : null,
    options.map(([value, text]) => h('label', {},
      h('input', { type: 'checkbox', name, value, 'data-list': true, checked: checked.includes(value) }), text)),
    h('small', { id: 'f-' + name + '-error', class: 'error', 'aria-live': 'polite' }));
}

function clock (value) {
  return value ? String(value).slice(0, 5) : '';
}

export async function preferences () {
  let prefs;
  try {
    prefs = await api('GET', '/v1/me/notifications');
  } catch (e) {
    return show(h('h1', {}, t('prefs_title')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  const saved = h('div', { 'aria-live': 'polite' });
  const kinds = kindsOf(session.me.role);
  const wantedBefore = prefs.kinds || [];
  const prefsForm = form([
    field({ name: 'language', label: t('prefs_language'), type: 'select', value: prefs.language || 'zh', options: [['zh', '中文'], ['en', 'English']] }),
    checkList('channels', t('prefs_channels'), t('prefs_channels_hint'), CHANNELS.map((c) => [c, t('channel_' + c)]), prefs.channels || []),
    h('fieldset', { class: 'quiet' }, h('legend', {}, t('prefs_quiet')),
      h('p', { class: 'hint' }, t('prefs_quiet_hint')),
      field({ name: 'quiet_from', label: t('prefs_quiet_from'), type: 'time', value: clock(prefs.quiet_hours && prefs.quiet_hours.from) }),
      field({ name: 'quiet_to', label: t('prefs_quiet_to'), type: 'time', value: clock(prefs.quiet_hours && prefs.quiet_hours.to) })),
    kinds.length
      ? checkList('kinds', t('prefs_kinds'), t('prefs_kinds_hint'), kinds.map((k) => [k, t('kind_' + k.replace('.', '_'))]), kinds.filter((k) => wantedBefore.includes(k)))
      : null
  ], t('prefs_save'), async (v, el, key) => {
    const body = { language: v.language, channels: v.channels || [] };
    if (v.quiet_from && v.quiet_to) body.quiet_hours = { from: v.quiet_from, to: v.quiet_to };
    if (kinds.length) {
      // The kinds ticked, and those this page does not show as they were.
      body.kinds = [...(v.kinds || []), ...wantedBefore.filter((k) => !kinds.includes(k))];
    }
    try {
      await api('PUT', '/v1/me/notifications', body, { key });
    } catch (e) {
      // The service names a kind or a quiet-hours end; the page shows it beside the field.
      if (e instanceof ApiError && e.field === 'kinds' && markError(el, 'kinds', e.message)) return;
      if (e instanceof ApiError && e.field && e.field.startsWith('quiet_hours.') &&
        markError(el, 'quiet_' + e.field.slice(12), e.message)) return;
      throw e;
    }
    saved.replaceChildren(notice(t('prefs_saved')));
  }, { class: 'prefs' });
  show(
    h('h1', {}, t('prefs_title')),
    h('p', {}, t('prefs_intro')),
    prefsForm,
    saved
  );
}
