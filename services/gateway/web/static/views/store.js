// store.js — the points store (积分超市): a volunteer's shelf of the region's items, a
// reservation whose code (the redemption's number) is shown large for the merchant, and their
// reservations with cancel; the officials' store desk: the items, a new item, the reservations
// waiting, and handing one over by its code (fulfil).
import { ApiError, api, field, form, h, nextStep, notice, opener, pagedList, session, show, t, when } from '../app.js';

// The region's 12-digit code the store is kept by.
function storeRegion () {
  return String(session.me.region || '').slice(0, 12);
}

// A refusal of a reservation in words: too few points, too little stock, over the limit.
function reserveWords (e) {
  if (!(e instanceof ApiError) || e.status !== 422) return e;
  const text = e.message || '';
  if (/are available/.test(text)) e.message = t('store_too_few_points');
  else if (/left in stock/.test(text)) e.message = t('store_no_stock');
  else if (/per volunteer/.test(text)) e.message = t('store_over_limit');
  else if (/withdrawn/.test(text)) e.message = t('store_withdrawn');
  return e;
}

function kindText (kind) {
  return kind === 'service' ? t('store_kind_service') : t('store_kind_goods');
}

// The code to show the merchant, large.
function codeBox (r) {
  return h('section', { class: 'redeem-code', role: 'status', 'aria-labelledby': 'redeem-code-title' },
    h('h2', { id: 'redeem-code-title' }, t('store_reserved_title')),
    h('p', {}, r.item_name, ' × ', r.quantity, ' · ', t('store_points_n', { n: r.points })),
    h('p', { class: 'code', 'data-code': r.id, 'aria-label': t('store_code') + ' ' + r.id }, r.id),
    h('p', {}, t('store_show_merchant')),
    h('p', { class: 'meta' }, t('store_until', { at: when(r.expires_at) })));
}

function redemptionState (r) {
  return h('p', { class: 'state redemption-' + r.status }, t('redemption_' + r.status));
}

// The volunteer's store: items of their region and those above it, and their reservations.
export async function store (params = {}) {
  const id = session.me.volunteer_id;
  const redraw = (extra) => store(extra || {});
  let statement = null;
  try {
    statement = await api('GET', '/v1/volunteers/' + id + '/points');
  } catch (e) {
    return show(h('h1', {}, t('store_title')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  const items = pagedList('/v1/store/items?region=' + storeRegion() + '&limit=20', (item) => [
    h('h2', {}, item.name),
    h('p', { class: 'meta' }, kindText(item.kind), item.status === 'withdrawn' ? ' · ' + t('store_withdrawn') : ''),
    item.description ? h('p', { class: 'pre' }, item.description) : null,
    h('p', {}, h('strong', { class: 'price' }, t('store_points_n', { n: item.price_points })), ' · ',
      item.stock > 0 ? t('store_stock', { n: item.stock }) : t('store_none_left')),
    item.limit_quantity ? h('p', { class: 'meta' }, t('store_limit', { n: item.limit_quantity, period: t('period_' + item.limit_period) })) : null,
    item.status === 'active' && item.stock > 0
      ? opener(t('store_reserve'), () => form([
        field({ name: 'quantity', label: t('store_quantity'), type: 'number', required: true, value: '1', attrs: { min: 1, max: 1000, inputmode: 'numeric' } })
      ], t('store_reserve_confirm'), async (v, el, key) => {
        try {
          const r = await api('POST', '/v1/redemptions', { item_id: item.id, quantity: Number(v.quantity) }, { key });
          redraw({ reserved: r });
        } catch (e) {
          throw reserveWords(e);
        }
      }, { class: 'inline reserve' }))
      : null
  ], t('store_empty'));
  const mine = pagedList('/v1/redemptions?volunteer_id=' + encodeURIComponent(id) + '&limit=20', (r) => {
    const parts = [
      h('h3', {}, r.item_name, ' × ', r.quantity),
      redemptionState(r),
      h('p', {}, t('store_code'), '：', h('strong', { class: 'code-inline', 'data-code': r.id }, r.id), ' · ', t('store_points_n', { n: r.points })),
      h('p', { class: 'meta' }, t('store_reserved_at'), ' ', when(r.created_at),
        r.status === 'reserved' ? ' · ' + t('store_until', { at: when(r.expires_at) }) : '')
    ];
    if (r.status === 'reserved') {
      const cancel = h('button', { type: 'button', class: 'secondary' }, t('store_cancel'));
      cancel.addEventListener('click', async () => {
        cancel.disabled = true;
        try {
          await api('POST', '/v1/redemptions/' + r.id + '/cancel', {});
          redraw({ cancelled: r });
        } catch (e) {
          cancel.disabled = false;
          cancel.after(notice(e.message + ' ' + nextStep(e), 'error'));
        }
      });
      parts.push(h('div', { class: 'actions' }, cancel));
    }
    return parts;
  }, t('store_no_reservations'));
  show(
    h('h1', {}, t('store_title')),
    params.reserved ? codeBox(params.reserved) : null,
    params.cancelled ? notice(t('store_cancelled', { name: params.cancelled.item_name })) : null,
    h('div', { class: 'figures' },
      h('div', { class: 'figure' }, h('span', { class: 'value', 'data-figure': 'available' }, statement.available), h('span', {}, t('points_available')))),
    h('h2', {}, t('store_items')),
    items,
    h('h2', { class: 'mine' }, t('store_mine')),
    mine
  );
}

// ---------------------------------------------------------------------------------------
// The officials' store desk

function fulfilled (r) {
  return notice(t('store_fulfilled', { name: r.item_name, n: r.quantity, points: r.points, v: r.volunteer_id }));
}

export function storeDesk () {
  const result = h('div', { 'aria-live': 'polite' });
  const byCode = form([
    field({ name: 'id', label: t('store_code'), required: true, max: 20, hint: t('store_code_hint'), attrs: { inputmode: 'numeric', autocomplete: 'off', pattern: '[0-9]+' } })
  ], t('store_fulfil'), async (v, el, key) => {
    const r = await api('POST', '/v1/redemptions/' + encodeURIComponent(v.id) + '/fulfil', {}, { key });
    result.replaceChildren(fulfilled(r));
    el.reset();
  }, { class: 'fulfil' });

  const items = pagedList('/v1/store/items?region=' + storeRegion() + '&below=true&limit=20', (item) => [
    h('h3', {}, item.name),
    h('p', {}, kindText(item.kind), ' · ', t('store_points_n', { n: item.price_points }), ' · ', t('store_stock', { n: item.stock }),
      item.status === 'withdrawn' ? ' · ' + t('store_withdrawn') : ''),
    h('p', { class: 'meta' }, t('region_code'), ' ', item.region)
  ], t('store_empty'));

  const waiting = pagedList('/v1/redemptions?status=reserved&limit=20', (r) => {
    const button = h('button', { type: 'button', class: 'primary' }, t('store_fulfil'));
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const done = await api('POST', '/v1/redemptions/' + r.id + '/fulfil', {});
        button.closest('.card').replaceChildren(h('h3', {}, r.item_name, ' × ', r.quantity), fulfilled(done));
      } catch (e) {
        button.disabled = false;
        button.after(notice(e.message + ' ' + nextStep(e), 'error'));
      }
    });
    return [
      h('h3', {}, r.item_name, ' × ', r.quantity),
      h('p', {}, t('store_code'), '：', h('strong', { class: 'code-inline', 'data-code': r.id }, r.id), ' · ', t('volunteer'), ' ', r.volunteer_id, ' · ', t('store_points_n', { n: r.points })),
      h('p', { class: 'meta' }, t('store_until', { at: when(r.expires_at) })),
      h('div', { class: 'actions' }, button)
    ];
  }, t('store_none_waiting'));

  const create = form([
    field({ name: 'name', label: t('store_item_name'), required: true, max: 100 }),
    field({ name: 'kind', label: t('store_kind'), type: 'select', required: true, value: 'goods', options: [['goods', t('store_kind_goods')], ['service', t('store_kind_service')]] }),
    field({ name: 'price_points', label: t('store_price'), type: 'number', required: true, attrs: { min: 1, max: 1000000, inputmode: 'numeric' } }),
    field({ name: 'stock', label: t('store_stock_label'), type: 'number', required: true, attrs: { min: 0, max: 1000000, inputmode: 'numeric' } }),
    field({ name: 'region', label: t('region_code'), required: true, max: 12, value: storeRegion(), hint: t('region_code_hint') }),
    field({ name: 'description', label: t('store_description'), type: 'textarea', max: 500 }),
    field({ name: 'limit_quantity', label: t('store_limit_quantity'), type: 'number', hint: t('store_limit_hint'), attrs: { min: 0, max: 1000 } }),
    field({ name: 'limit_period', label: t('store_limit_period'), type: 'select', value: 'month', options: [['month', t('period_month')], ['quarter', t('period_quarter')], ['year', t('period_year')]] })
  ], t('store_create'), async (v, el, key) => {
    const body = { name: v.name, kind: v.kind, price_points: Number(v.price_points), stock: Number(v.stock), region: v.region };
    if (v.description) body.description = v.description;
    if (v.limit_quantity && Number(v.limit_quantity) > 0) {
      body.limit_quantity = Number(v.limit_quantity);
      body.limit_period = v.limit_period;
    }
    const item = await api('POST', '/v1/store/items', body, { key });
    el.reset();
    el.querySelector('[name=region]').value = storeRegion();
    created.replaceChildren(notice(t('store_item_created', { name: item.name })));
  }, { class: 'create-item' });
  const created = h('div', { 'aria-live': 'polite' });

  show(
    h('h1', {}, t('store_desk_title')),
    h('h2', {}, t('store_fulfil_title')),
    h('p', {}, t('store_fulfil_intro')),
    byCode,
    result,
    h('h2', {}, t('store_waiting')),
    waiting,
    h('h2', {}, t('store_items')),
    items,
    h('details', { class: 'new-item' }, h('summary', {}, t('store_new_item')), create, created)
  );
}
