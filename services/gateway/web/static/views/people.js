// people.js — the officials' volunteers desk: search and filter the masked list, reveal one
// person's ID number and phone with a reason (audited), import a spreadsheet (CSV) with a
// preview first (every bad row by line, field and reason, nothing saved) and then the import
// itself, and the transfer requests (转移接续) to accept or decline.
import { ApiError, api, field, form, go, h, markError, newKey, nextStep, notice, opener, pagedList, session, show, t, when } from '../app.js';

const STATUSES = ['active', 'suspended', 'left'];

// The unmasked details a reveal answered, with the word that it is on the record.
function revealed (pii) {
  return h('div', { class: 'revealed', role: 'status' },
    h('dl', {},
      h('dt', {}, t('id_number')), h('dd', { 'data-pii': 'id_number' }, pii.id_number),
      h('dt', {}, t('phone')), h('dd', { 'data-pii': 'phone' }, pii.phone),
      pii.email ? [h('dt', {}, t('email')), h('dd', { 'data-pii': 'email' }, pii.email)] : null),
    notice(t('pii_audited')));
}

function volunteerCard (v) {
  const card = [
    h('h2', {}, v.name),
    h('p', {}, t('id_number'), '：', h('span', { class: 'masked' }, v.id_number), ' · ', t('phone'), '：', h('span', { class: 'masked' }, v.phone)),
    h('p', { class: 'meta' }, t('region_code'), ' ', v.region,
      v.birth_decade ? ' · ' + t('born_in', { d: v.birth_decade }) : '',
      ' · ', t('vstatus_' + v.status)),
    v.skills && v.skills.length ? h('p', {}, t('skills'), '：', v.skills.join('，')) : null
  ];
  card.push(opener(t('pii_reveal'), () => {
    // Closed again, the details go from the screen with the form.
    const box = h('div', { class: 'reveal-box' });
    box.append(form([
      field({ name: 'reason', label: t('pii_reason'), required: true, max: 200, hint: t('pii_reason_hint'), attrs: { minlength: 2 } })
    ], t('pii_show'), async (values, el, key) => {
      const pii = await api('POST', '/v1/volunteers/' + v.id + '/pii', { reason: values.reason }, { key });
      box.replaceChildren(revealed(pii));
    }, { class: 'inline reveal' }));
    return box;
  }));
  return card;
}

export function volunteers (params) {
  const region = params.region || session.me.region || '';
  const filters = form([
    field({ name: 'region', label: t('region_code'), max: 15, value: region, hint: t('region_code_hint') }),
    field({ name: 'q', label: t('people_name'), max: 50, value: params.q || '', hint: t('people_name_hint') }),
    field({ name: 'skill', label: t('people_skill'), max: 32, value: params.skill || '' }),
    field({ name: 'status', label: t('people_status'), type: 'select', value: params.status || '', options: [['', t('people_any')], ...STATUSES.map((s) => [s, t('vstatus_' + s)])] })
  ], t('filter'), async (v) => {
    const query = new URLSearchParams();
    for (const name of ['region', 'q', 'skill', 'status']) if (v[name]) query.set(name, v[name]);
    go('/manage/volunteers' + (query.toString() ? '?' + query : ''));
  }, { class: 'filters people-filters' });
  const query = new URLSearchParams({ limit: '20' });
  if (region) query.set('region', region);
  for (const name of ['q', 'skill', 'status']) if (params[name]) query.set(name, params[name]);
  show(
    h('h1', {}, t('people_title')),
    h('p', { class: 'actions' },
      h('a', { href: '/manage/volunteers/import', 'data-link': true, class: 'button secondary' }, t('import_title')),
      h('a', { href: '/manage/transfers', 'data-link': true, class: 'button secondary' }, t('transfers_title'))),
    filters,
    h('p', { class: 'meta' }, t('people_masked')),
    pagedList('/v1/volunteers?' + query, volunteerCard, t('people_none'))
  );
}

// ---------------------------------------------------------------------------------------
// Import from a spreadsheet

// A column of the spreadsheet in words (the service names the field).
const COLUMNS = { name: 'real_name', id_number: 'id_number', phone: 'phone', region: 'region_code', email: 'email', skills: 'skills' };
function fieldName (name) {
  if (!name) return '—';
  return COLUMNS[name] ? t(COLUMNS[name]) + ' (' + name + ')' : name;
}

function errorTable (result) {
  if (!result.errors.length) return null;
  return h('table', { class: 'import-errors' },
    h('caption', {}, t('import_errors_caption', { n: result.error_count })),
    h('thead', {}, h('tr', {}, [t('import_line'), t('import_field'), t('import_reason')].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, result.errors.map((e) => h('tr', {},
      h('td', { 'data-line': e.line }, e.line),
      h('td', { 'data-field': e.field || '' }, fieldName(e.field)),
      h('td', {}, e.message || e.code)))));
}

function summary (result, dryRun) {
  return h('p', { class: 'import-summary', 'data-created': result.created, 'data-skipped': result.skipped, 'data-errors': result.error_count },
    t(dryRun ? 'import_would' : 'import_did', { created: result.created, skipped: result.skipped, errors: result.error_count }));
}

export function importPage () {
  const preview = h('div', { class: 'import-preview', 'aria-live': 'polite' });
  let file = null;
  let text = null;
  let importKey = newKey();
  const importButton = h('button', { type: 'button', class: 'primary', hidden: true }, t('import_do'));
  const previewForm = form([
    field({ name: 'csv', label: t('import_file'), type: 'file', required: true, hint: t('import_file_hint'), attrs: { accept: '.csv,text/csv' } })
  ], t('import_preview'), async (v, el, key) => {
    file = el.querySelector('[name=csv]').files[0];
    importButton.hidden = true;
    preview.replaceChildren();
    if (!file) return;
    text = await file.text();
    const result = await api('POST', '/v1/volunteers/import?dry_run=true', text, { key, raw: 'text/csv' });
    importKey = newKey();
    preview.replaceChildren(h('div', {},
      h('h2', {}, t('import_preview_title', { name: file.name })),
      summary(result, true),
      errorTable(result),
      result.error_count > result.errors.length ? notice(t('import_more_errors', { n: result.errors.length })) : null,
      result.error_count ? h('p', {}, t('import_fix_hint')) : null));
    importButton.hidden = result.created === 0;
    if (!importButton.hidden) preview.append(h('div', { class: 'actions' }, importButton));
  }, { class: 'import' });
  const csvInput = previewForm.querySelector('[name=csv]');
  // Another file needs another preview.
  csvInput.addEventListener('change', () => {
    importButton.hidden = true;
    preview.replaceChildren();
  });
  importButton.addEventListener('click', async () => {
    importButton.disabled = true;
    try {
      const result = await api('POST', '/v1/volunteers/import', text, { key: importKey, raw: 'text/csv' });
      importKey = newKey();
      preview.replaceChildren(h('div', {},
        h('h2', {}, t('import_done_title', { name: file.name })),
        summary(result, false),
        errorTable(result),
        h('p', {}, h('a', { href: '/manage/volunteers', 'data-link': true }, t('people_title')))));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (!e.field || !markError(previewForm, e.field, e.message)) importButton.after(notice(e.message + ' ' + nextStep(e), 'error'));
    } finally {
      importButton.disabled = false;
    }
  });
  show(
    h('h1', {}, t('import_title')),
    h('p', {}, t('import_intro')),
    previewForm,
    preview
  );
}

// ---------------------------------------------------------------------------------------
// Transfer requests (转移接续)

export function transfers () {
  show(
    h('h1', {}, t('transfers_title')),
    h('p', {}, t('transfers_intro')),
    pagedList('/v1/transfer-requests?status=pending&limit=20', (r) => {
      const done = (text) => (el) => el.closest('.card').replaceChildren(h('h2', {}, r.volunteer.name), notice(text));
      const accept = h('button', { type: 'button', class: 'primary' }, t('transfer_accept'));
      accept.addEventListener('click', async () => {
        accept.disabled = true;
        try {
          await api('POST', '/v1/volunteers/' + r.volunteer.id + '/transfer', { region: r.to_region });
          done(t('transfer_accepted'))(accept);
        } catch (e) {
          accept.disabled = false;
          accept.after(notice(e.message + ' ' + nextStep(e), 'error'));
        }
      });
      return [
        h('h2', {}, r.volunteer.name),
        h('p', {}, t('transfer_from_to', { from: r.volunteer.region, to: r.to_region })),
        r.reason ? h('p', { class: 'pre' }, t('transfer_reason'), '：', r.reason) : null,
        h('p', { class: 'meta' }, t('transfer_asked'), ' ', when(r.at)),
        h('div', { class: 'actions' }, accept),
        opener(t('transfer_decline'), () => form([
          field({ name: 'reason', label: t('transfer_decline_reason'), required: true, max: 200, attrs: { minlength: 2 } })
        ], t('transfer_decline'), async (v, el, key) => {
          await api('POST', '/v1/transfer-requests/' + r.id + '/decline', { reason: v.reason }, { key });
          done(t('transfer_declined'))(el);
        }, { class: 'inline decline' }))
      ];
    }, t('transfers_none'))
  );
}
