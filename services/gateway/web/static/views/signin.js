// signin.js — signing in (a phone, or an official's login) and a volunteer's real-name
// registration (实名注册), the region chosen from the tree.
import { OFFICIALS, api, field, form, go, h, homePath, notice, session, show, signIn, t } from '../app.js';

export function signin (params) {
  const next = params.next && params.next.startsWith('/') && !params.next.startsWith('//') ? params.next : null;
  show(
    h('h1', {}, t('signin_title')),
    form([
      field({ name: 'login', label: t('login'), required: true, max: 64, hint: t('login_hint'), attrs: { autocomplete: 'username' } }),
      field({ name: 'password', label: t('password'), type: 'password', required: true, max: 72, attrs: { autocomplete: 'current-password' } })
    ], t('signin'), async (v, el, key) => {
      await signIn(v.login, v.password, key);
      go(next || homePath(), true);
    }),
    h('p', {}, t('no_account'), ' ', h('a', { href: '/register', 'data-link': true }, t('register_volunteer')),
      ' · ', h('a', { href: '/register/resident', 'data-link': true }, t('register_resident')))
  );
}

// The region tree, one select per level, from the root the gateway names down to a village.
function regionPicker (root) {
  const box = h('div', { class: 'field' },
    h('span', { class: 'label', id: 'region-label' }, t('region'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    h('div', { class: 'region-levels' }),
    h('input', { type: 'hidden', name: 'region', id: 'f-region' }),
    h('small', { id: 'f-region-error', class: 'error', 'aria-live': 'polite' }));
  const levels = box.querySelector('.region-levels');
  const hidden = box.querySelector('input');
  async function add (code, depth) {
    let region;
    try {
      region = await api('GET', '/v1/regions/' + encodeURIComponent(code));
    } catch (e) {
      return;
    }
    hidden.value = region.code;
    while (levels.children.length > depth) levels.lastChild.remove();
    if (!region.children || !region.children.length) return;
    const select = h('select', { 'aria-labelledby': 'region-label', 'aria-describedby': 'f-region-error' },
      h('option', { value: '' }, depth === 0 ? region.name + ' — ' + t('choose') : t('choose')),
      region.children.map((child) => h('option', { value: child.code }, child.name)));
    select.addEventListener('change', () => {
      if (select.value) add(select.value, depth + 1);
      else {
        hidden.value = region.code;
        while (levels.children.length > depth + 1) levels.lastChild.remove();
      }
    });
    levels.append(select);
  }
  if (root) add(root, 0);
  return box;
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const PARTS = ['am', 'pm', 'ev'];

function availability () {
  return h('fieldset', { class: 'availability' },
    h('legend', {}, t('availability')),
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'sr' }, t('day'))),
        PARTS.map((p) => h('th', { scope: 'col' }, t('part_' + p))))),
      h('tbody', {}, DAYS.map((d) => h('tr', {}, h('th', { scope: 'row' }, t('day_' + d)),
        PARTS.map((p) => h('td', {}, h('input', {
          type: 'checkbox', name: 'availability', value: d + '_' + p, 'data-list': true, 'aria-label': t('day_' + d) + ' ' + t('part_' + p)
        }))))))));
}

export async function register (params) {
  let root = params.region;
  if (!root) {
    try {
      root = (await api('GET', '/v1/config')).root_region;
    } catch (e) { /* the picker stays empty; the error says so on submit */ }
  }
  show(
    h('h1', {}, t('register_title')),
    h('p', {}, t('register_intro')),
    form([
      field({ name: 'name', label: t('real_name'), required: true, max: 50, attrs: { autocomplete: 'name' } }),
      field({ name: 'id_number', label: t('id_number'), required: true, max: 18, hint: t('id_number_hint'), attrs: { autocomplete: 'off', inputmode: 'text' } }),
      field({ name: 'phone', label: t('phone'), type: 'tel', required: true, max: 11, hint: t('phone_hint'), attrs: { autocomplete: 'tel', inputmode: 'numeric' } }),
      field({ name: 'password', label: t('new_password'), type: 'password', required: true, max: 72, hint: t('password_hint'), attrs: { autocomplete: 'new-password', minlength: 8 } }),
      regionPicker(root),
      field({ name: 'skills', label: t('skills'), max: 300, hint: t('skills_hint') }),
      availability()
    ], t('register'), async (v, el, key) => {
      const body = {
        name: v.name,
        id_number: v.id_number,
        phone: v.phone,
        password: v.password,
        region: v.region,
        skills: v.skills ? v.skills.split(/[,，、\s]+/).filter(Boolean) : [],
        availability: v.availability || []
      };
      await api('POST', '/v1/volunteers', body, { key });
      await signIn(v.phone, v.password);
      go('/offers?welcome=1', true);
    }),
    notice(t('privacy_note'))
  );
}

export const CARE = ['empty_nest_elderly', 'left_behind_child', 'child_in_difficulty', 'disabled', 'poor_household'];

// A resident's registration: by themself (then signed in), or by a grid worker or station
// official for someone cared for first (重点关爱群体), who may have no password and no phone
// of their own to sign in with.
export async function registerResident (params) {
  const official = session.me && OFFICIALS.includes(session.me.role);
  let root = params.region || (official ? session.me.region : null);
  if (!root) {
    try {
      root = (await api('GET', '/v1/config')).root_region;
    } catch (e) { /* the picker stays empty; the error says so on submit */ }
  }
  show(
    h('h1', {}, official ? t('register_resident_for') : t('register_resident_title')),
    form([
      field({ name: 'name', label: t('real_name'), required: true, max: 50, attrs: { autocomplete: official ? 'off' : 'name' } }),
      field({ name: 'phone', label: t('phone'), type: 'tel', required: true, max: 11, hint: official ? t('phone_contact_hint') : t('phone_hint'), attrs: { autocomplete: official ? 'off' : 'tel', inputmode: 'numeric' } }),
      official ? null : field({ name: 'password', label: t('new_password'), type: 'password', required: true, max: 72, hint: t('password_hint'), attrs: { autocomplete: 'new-password', minlength: 8 } }),
      regionPicker(root),
      field({ name: 'address', label: t('address'), required: true, max: 200, hint: t('address_hint') }),
      h('fieldset', { class: 'choice' }, h('legend', {}, t('care_tags')),
        CARE.map((tag) => h('label', {}, h('input', { type: 'checkbox', name: 'care_tags', value: tag, 'data-list': true }), t('care_' + tag))))
    ], t('register'), async (v, el, key) => {
      const body = { name: v.name, phone: v.phone, region: v.region, address: v.address, care_tags: v.care_tags || [] };
      if (v.password) body.password = v.password;
      const made = await api('POST', '/v1/residents', body, { key });
      if (official) {
        el.replaceWith(notice(t('resident_made', { id: made.id })), h('p', { class: 'actions' }, h('a', { href: '/order?resident=' + made.id, 'data-link': true, class: 'button primary' }, t('nav_order_for')),
          h('a', { href: '/residents/' + made.id, 'data-link': true, class: 'button secondary' }, t('resident_edit'))));
        return;
      }
      await signIn(v.phone, v.password);
      go('/order', true);
    })
  );
}
