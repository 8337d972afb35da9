/*  ledger_shop.c — the points store (积分超市): items (an official's, in scope of their region;
    a volunteer sees those of their region and the regions above), redemptions in two phases
    (a reservation holds the points and takes the stock; an official fulfils it, posting the
    hold, or the volunteer or an official cancels it, voiding the hold and putting the stock
    back), how long a region's reservations are held, and the ticker that voids those not
    fulfilled in time. What must never break is in sql/0004_shop.sql: the stock and the
    points available never below zero, a redemption and its hold ending once.  */
#include "ledger.h"
#include "ledger_store.h"
#include "st_checks.h"
#include "st_log.h"
#include "st_rows.h"

#include <stdlib.h>
#include <string.h>

ST_LEDGER_SHOP_OPS (ST_ROUTE_THUNK)

const st_route_t ledger_shop_routes[] = {ST_LEDGER_SHOP_OPS (ST_ROUTE_ROW)};
const size_t ledger_shop_route_count = sizeof ledger_shop_routes / sizeof ledger_shop_routes[0];

const st_option_t ledger_options[] = {
    ST_OPTION_WHOLE ("ledger-store-wait-ms", "STATION_LEDGER_STORE_WAIT_MS", "10000", 10, 600000,
                     "the store's ticker, which voids reservations not fulfilled in time, runs"
                     " at least this often (ms); the next expiry and a new reservation wake it"
                     " sooner"),
};
const size_t ledger_option_count = sizeof ledger_options / sizeof ledger_options[0];

static const char *const s_kinds[] = {"goods", "service", NULL};
static const char *const s_periods[] = {"month", "quarter", "year", NULL};
static const char *const s_item_statuses[] = {"active", "withdrawn", NULL};
static const char *const s_statuses[] = {"reserved", "fulfilled", "cancelled", "expired", NULL};

//  Reservations the ticker voids per transaction.
#define S_EXPIRE_BATCH 100

//  A limit per volunteer: a quantity (0: none) and a period, both or neither.
static int
s_require_limit (st_call_t *call, int64_t quantity, const char *period)
{
    if (quantity > 0 && !period)
        return st_call_fail (call, ST_INVALID_ARGUMENT, "limit_period",
                             "a limit of %lld per volunteer needs its period: month, quarter"
                             " or year",
                             (long long) quantity);
    if (quantity == 0 && period)
        return st_call_fail (call, ST_INVALID_ARGUMENT, "limit_quantity",
                             "a limit period needs a limit_quantity above 0");
    return period ? st_require_one_of (call, "limit_period", period, s_periods) : 0;
}

//  The reply of an item op: item `id` as the store shows it.
static void
s_item_reply (st_call_t *call, int64_t id, msg_item_t *reply)
{
    st_params_t params = {0};
    st_params_int (&params, id);
    st_call_exec_reply (call, "shop_item_get", &params, &msg_item_desc, reply);
}

//  ---------------------------------------------------------------------------------------
//  item.create, item.update — an official's, in scope of the item's region

static void
s_item_create (st_call_t *call, const msg_item_create_t *request, msg_item_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region)
        || st_require_one_of (call, "kind", request->kind, s_kinds))
        return;
    int64_t limit = request->has_limit_quantity ? request->limit_quantity : 0;
    if (s_require_limit (call, limit, request->limit_period))
        return;
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    st_params_t params = {0};
    st_params_text (&params, request->name);
    st_params_text (&params, request->kind);
    st_params_text (&params, request->description);
    st_params_int (&params, request->price_points);
    st_params_int (&params, request->stock);
    st_params_text (&params, request->region);
    st_params_text (&params, prefix);
    st_params_int_or_null (&params, limit > 0, limit);
    st_params_text (&params, limit > 0 ? request->limit_period : NULL);
    st_params_text (&params, actor->account);
    PGresult *res;
    if (st_call_exec (call, "shop_item_insert", &params, &res))
        return;
    int64_t id = st_row_int (res, 0, "id");
    PQclear (res);
    s_item_reply (call, id, reply);
}

static void
s_item_update (st_call_t *call, const msg_item_update_t *request, msg_item_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_id (call, "id", "item", request->id, &id))
        return;
    if ((request->kind && st_require_one_of (call, "kind", request->kind, s_kinds))
        || (request->status
            && st_require_one_of (call, "status", request->status, s_item_statuses)))
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "shop_item_lock", &params, &res))
        return;
    bool found = PQntuples (res) == 1;
    bool allowed = found
                   && (st_actor_is_system (actor)
                       || st_actor_in_scope (actor, st_row_text (res, 0, "region")));
    int64_t limit = found ? st_row_int (res, 0, "limit_quantity") : 0;
    char period[16];
    snprintf (period, sizeof period, "%s", found ? st_row_text (res, 0, "limit_period") : "");
    PQclear (res);
    if (!allowed) {
        st_call_fail (call, ST_NOT_FOUND, "id", "no item has id \"%s\"", request->id);
        return;
    }
    //  The limit as it will stand: a quantity of 0 removes it with its period.
    if (request->has_limit_quantity)
        limit = request->limit_quantity;
    const char *merged = request->limit_period ? request->limit_period : *period ? period : NULL;
    if (limit == 0 && !request->limit_period)
        merged = NULL;
    if (s_require_limit (call, limit, merged))
        return;
    st_params_int (&params, id);
    st_params_text (&params, request->name);
    st_params_text (&params, request->kind);
    st_params_int_or_null (&params, request->has_price_points, request->price_points);
    st_params_int_or_null (&params, request->has_stock, request->stock);
    st_params_text (&params, request->description);
    st_params_int_or_null (&params, limit > 0, limit);
    st_params_text (&params, limit > 0 ? merged : NULL);
    st_params_text (&params, request->status);
    if (st_call_exec (call, "shop_item_update", &params, NULL))
        return;
    s_item_reply (call, id, reply);
}

//  ---------------------------------------------------------------------------------------
//  item.list

//  Volunteer `volunteer_id` as the ledger knows them: their region into `region`. Fails the
//  call, naming `field`, for one it does not know.
static int
s_volunteer_region (st_call_t *call, const char *field, const char *volunteer_id,
                    char region[ST_REGION_SIZE])
{
    int64_t id;
    if (st_require_id (call, field, "volunteer", volunteer_id, &id))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "ledger_volunteer_known", &params, &res))
        return -1;
    snprintf (region, ST_REGION_SIZE, "%s", st_row_text (res, 0, "region"));
    PQclear (res);
    if (!*region)
        return st_call_fail (call, ST_FAILED_PRECONDITION, field,
                             "the ledger does not know where volunteer \"%s\" belongs yet",
                             volunteer_id);
    return 0;
}

static void
s_item_list (st_call_t *call, const msg_item_query_t *request, msg_item_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t cursor = 0;
    if (st_require_actor (call, &actor) || st_require_code (call, "region", request->region))
        return;
    if (request->cursor && !st_parse_id (request->cursor, &cursor)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "cursor", "cursor \"%s\" is not one we gave",
                      request->cursor);
        return;
    }
    bool below = request->has_below && request->below;
    bool official = !st_actor_is_volunteer (actor, actor->volunteer_id);
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    if (official) {
        if (st_require_official (call, actor)
            || st_require_scope (call, actor, "region", request->region))
            return;
    } else {
        //  A volunteer shops where they belong: their region, or one above it.
        char region[ST_REGION_SIZE];
        if (s_volunteer_region (call, "actor.volunteer_id", actor->volunteer_id, region))
            return;
        if (below) {
            st_call_fail (call, ST_PERMISSION_DENIED, "below",
                          "only officials list the items of a subtree");
            return;
        }
        if (!st_region_within (prefix, region)) {
            st_call_fail (call, ST_PERMISSION_DENIED, "region",
                          "a volunteer of %s sees the store of their region and those above it,"
                          " not of %s",
                          region, request->region);
            return;
        }
    }
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_text (&params, below ? prefix : request->region);
    st_params_bool (&params, official);
    st_params_int_or_null (&params, request->cursor != NULL, cursor);
    st_params_int (&params, limit);
    PGresult *res;
    if (st_call_exec (call, below ? "shop_item_list_below" : "shop_item_list", &params, &res))
        return;
    st_rows_to_list (res, &msg_item_desc, (st_list_t *) &reply->items, &reply->has_items);
    int rows = PQntuples (res);
    if (rows == limit)
        reply->next_cursor = strdup (st_row_text (res, rows - 1, "id"));
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  Redemptions

//  Redemption `id` as reply, and its event `topic` when not NULL.
static void
s_redemption_reply (st_call_t *call, int64_t id, const char *topic, msg_redemption_t *reply)
{
    st_params_t params = {0};
    st_params_int (&params, id);
    if (st_call_exec_reply (call, "shop_redemption_get", &params, &msg_redemption_desc, reply)
        || !topic)
        return;
    msg_redemption_event_t event = {.id = reply->id,
                                    .volunteer_id = reply->volunteer_id,
                                    .item_id = reply->item_id,
                                    .item_name = reply->item_name,
                                    .kind = reply->kind,
                                    .quantity = reply->quantity,
                                    .has_quantity = true,
                                    .points = reply->points,
                                    .has_points = true,
                                    .region = reply->region};
    st_call_emit (call, topic, &msg_redemption_event_desc, &event);
}

static void
s_redemption_reserve (st_call_t *call, const msg_redemption_reserve_t *request,
                      msg_redemption_t *reply)
{
    const msg_actor_t *actor;
    int64_t item;
    char region[ST_REGION_SIZE];
    if (st_require_actor (call, &actor))
        return;
    if (!st_actor_is_volunteer (actor, actor->volunteer_id)) {
        st_call_fail (call, ST_PERMISSION_DENIED, "actor.role",
                      "a volunteer reserves for themself");
        return;
    }
    if (request->quantity <= 0) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "quantity", "\"quantity\" must be at least 1");
        return;
    }
    if (st_require_id (call, "item_id", "item", request->item_id, &item)
        || s_volunteer_region (call, "actor.volunteer_id", actor->volunteer_id, region))
        return;
    int64_t volunteer = atoll (actor->volunteer_id);
    char source[64];
    snprintf (source, sizeof source, "rpc/%s", st_call_id (call));
    st_params_t params = {0};
    st_params_int (&params, item);
    st_params_int (&params, volunteer);
    st_params_text (&params, region);
    st_params_int (&params, request->quantity);
    st_params_text (&params, source);
    PGresult *res;
    if (st_call_exec (call, "shop_reserve", &params, &res))
        return;
    const char *outcome = st_row_text (res, 0, "outcome");
    long long price = st_row_int (res, 0, "price"), stock = st_row_int (res, 0, "stock");
    long long available = st_row_int (res, 0, "available"), used = st_row_int (res, 0, "used");
    long long limit = st_row_int (res, 0, "lim"), quantity = request->quantity;
    char period[16];
    snprintf (period, sizeof period, "%s", st_row_text (res, 0, "period"));
    int64_t id = st_row_int (res, 0, "redemption_id");
    bool reserved = strcmp (outcome, "reserved") == 0;
    //  Every refusal but an unknown item is failed_precondition: the item withdrawn names
    //  item_id; what the volunteer could ask less of (over the limit, too few points, too
    //  little stock) names quantity.
    if (strcmp (outcome, "no_item") == 0)
        st_call_fail (call, ST_NOT_FOUND, "item_id", "no item has id \"%s\" in the store of %s",
                      request->item_id, region);
    else if (strcmp (outcome, "withdrawn") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "item_id", "item \"%s\" was withdrawn",
                      request->item_id);
    else if (strcmp (outcome, "limit") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "quantity",
                      "at most %lld of item \"%s\" per volunteer a %s: %lld taken this %s, %lld"
                      " more asked",
                      limit, request->item_id, period, used, period, quantity);
    else if (strcmp (outcome, "points") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "quantity",
                      "%lld of item \"%s\" cost %lld points, and %lld are available", quantity,
                      request->item_id, quantity * price, available);
    else if (strcmp (outcome, "stock") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "quantity",
                      "%lld of item \"%s\" asked, %lld left in stock", quantity, request->item_id,
                      stock);
    else if (!reserved)
        st_call_fail (call, ST_INTERNAL, NULL, "reservation outcome \"%s\"", outcome);
    PQclear (res);
    if (reserved)
        s_redemption_reply (call, id, "redemption.reserved", reply);
}

//  Redemption `text` locked for its end, into *id: not found, naming id, unless the actor may
//  end it (an official in scope of the item's region, with `volunteer` also the volunteer
//  themself and an official in scope of theirs); conflict unless it is still reserved; when
//  `in_time`, conflict past its time too.
static int
s_redemption_lock (st_call_t *call, const msg_actor_t *actor, const char *text, bool volunteer,
                   bool in_time, int64_t *id)
{
    if (st_require_id (call, "id", "redemption", text, id))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, *id);
    PGresult *res;
    if (st_call_exec (call, "shop_redemption_lock", &params, &res))
        return -1;
    bool found = PQntuples (res) == 1;
    bool allowed =
        found
        && (st_actor_is_system (actor)
            || (st_actor_is_official (actor)
                && (st_actor_in_scope (actor, st_row_text (res, 0, "region"))
                    || (volunteer
                        && st_actor_in_scope (actor, st_row_text (res, 0, "volunteer_region")))))
            || (volunteer && st_actor_is_volunteer (actor, st_row_text (res, 0, "volunteer_id"))));
    int rc = 0;
    if (!allowed)
        rc = st_call_fail (call, ST_NOT_FOUND, "id", "no redemption has id \"%s\"", text);
    else if (strcmp (st_row_text (res, 0, "status"), "reserved") != 0)
        rc = st_call_fail (call, ST_CONFLICT, "id", "redemption \"%s\" is %s already", text,
                           st_row_text (res, 0, "status"));
    else if (in_time && st_row_bool (res, 0, "past"))
        rc = st_call_fail (call, ST_CONFLICT, "id",
                           "redemption \"%s\" expired at %s and is being voided", text,
                           st_row_text (res, 0, "expires_at"));
    PQclear (res);
    return rc;
}

//  Ends locked redemption `id` as `status`, by the actor, with its event.
static void
s_redemption_end (st_call_t *call, const msg_actor_t *actor, int64_t id, const char *status,
                  const char *topic, msg_redemption_t *reply)
{
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, status);
    st_params_text (&params, actor->account);
    if (st_call_exec (call, "shop_redemption_end", &params, NULL) == 0)
        s_redemption_reply (call, id, topic, reply);
}

static void
s_redemption_fulfil (st_call_t *call, const msg_redemption_ref_t *request, msg_redemption_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || s_redemption_lock (call, actor, request->id, false, true, &id))
        return;
    s_redemption_end (call, actor, id, "fulfilled", "redemption.fulfilled", reply);
}

static void
s_redemption_cancel (st_call_t *call, const msg_redemption_ref_t *request, msg_redemption_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    if (st_require_actor (call, &actor)
        || s_redemption_lock (call, actor, request->id, true, false, &id))
        return;
    s_redemption_end (call, actor, id, "cancelled", "redemption.cancelled", reply);
}

static void
s_redemption_list (st_call_t *call, const msg_redemption_query_t *request,
                   msg_redemption_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t cursor = 0, volunteer = 0;
    if (st_require_actor (call, &actor)
        || (request->status && st_require_one_of (call, "status", request->status, s_statuses)))
        return;
    if (request->cursor && !st_parse_id (request->cursor, &cursor)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "cursor", "cursor \"%s\" is not one we gave",
                      request->cursor);
        return;
    }
    char prefix[ST_REGION_SIZE] = "";
    if (st_actor_is_volunteer (actor, actor->volunteer_id)) {
        //  A volunteer's own, and no one else's.
        if (request->volunteer_id && strcmp (request->volunteer_id, actor->volunteer_id) != 0) {
            st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"",
                          request->volunteer_id);
            return;
        }
        if (st_require_id (call, "actor.volunteer_id", "volunteer", actor->volunteer_id,
                           &volunteer))
            return;
    } else {
        if (st_require_official (call, actor))
            return;
        if (request->volunteer_id
            && st_require_id (call, "volunteer_id", "volunteer", request->volunteer_id, &volunteer))
            return;
        if (!st_actor_is_system (actor))
            st_region_prefix (actor->region ? actor->region : "", prefix);
    }
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_int_or_null (&params, volunteer != 0, volunteer);
    st_params_text (&params, request->status);
    st_params_int_or_null (&params, request->cursor != NULL, cursor);
    st_params_text (&params, *prefix ? prefix : NULL);
    st_params_int (&params, limit);
    PGresult *res;
    if (st_call_exec (call, "shop_redemption_list", &params, &res))
        return;
    st_rows_to_list (res, &msg_redemption_desc, (st_list_t *) &reply->items, &reply->has_items);
    int rows = PQntuples (res);
    if (rows == limit)
        reply->next_cursor = strdup (st_row_text (res, rows - 1, "id"));
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  store.settings.set, store.settings.get — a region's, by an official in scope

static void
s_store_settings_set (st_call_t *call, const msg_store_settings_t *request,
                      msg_store_settings_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    if (!request->has_hold_s) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "hold_s",
                      "give \"hold_s\", how long a reservation is held (seconds)");
        return;
    }
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    st_params_t params = {0};
    st_params_text (&params, request->region);
    st_params_text (&params, prefix);
    st_params_int (&params, request->hold_s);
    st_params_text (&params, actor->account);
    if (st_call_exec (call, "shop_settings_set", &params, NULL))
        return;
    st_params_text (&params, request->region);
    st_call_exec_reply (call, "shop_settings_get", &params, &msg_store_settings_desc, reply);
}

static void
s_store_settings_get (st_call_t *call, const msg_ledger_region_t *request,
                      msg_store_settings_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->region);
    st_call_exec_reply (call, "shop_settings_get", &params, &msg_store_settings_desc, reply);
}

//  ---------------------------------------------------------------------------------------
//  The ticker

//  One batch of reservations past their time, claimed FOR UPDATE SKIP LOCKED (another ledger
//  process takes others, or waits for none), each voided with its event, in one transaction.
//  Returns how many, or -1.
static int
s_expire_batch (st_db_t *db, int batch)
{
    st_error_t err = {0};
    if (st_db_run (db, "BEGIN", &err) != ST_OK)
        return -1;
    st_params_t params = {0};
    st_params_int (&params, batch);
    PGresult *claimed = NULL;
    st_status_t rc = st_db_exec (db, "shop_expire_claim", &params, &claimed, &err);
    st_params_clear (&params);
    int count = rc == ST_OK ? PQntuples (claimed) : 0;
    for (int i = 0; i < count && rc == ST_OK; i++) {
        int64_t id = st_row_int (claimed, i, "id");
        st_params_int (&params, id);
        st_params_text (&params, "expired");
        st_params_text (&params, "ledger");
        rc = st_db_exec (db, "shop_redemption_end", &params, NULL, &err);
        st_params_clear (&params);
        PGresult *res = NULL;
        if (rc == ST_OK) {
            st_params_int (&params, id);
            rc = st_db_exec (db, "shop_redemption_event", &params, &res, &err);
            st_params_clear (&params);
        }
        if (rc == ST_OK) {
            msg_redemption_event_t event = {0};
            st_row_to_msg (res, 0, &msg_redemption_event_desc, &event);
            rc = st_outbox_append (db, "redemption.expired", &msg_redemption_event_desc, &event,
                                   &err);
            st_msg_clear (&msg_redemption_event_desc, &event);
        }
        PQclear (res);
    }
    PQclear (claimed);
    if (st_db_finish (db, rc, &err, "expired reservations"))
        return -1;
    if (count)
        st_info ("%d reservation(s) past their time voided", count);
    return count;
}

int64_t
ledger_shop_tick (st_db_t *db, void *state)
{
    (void) state;
    ledger_store_prepare (db); //  the ticker's own connection (registering again is a no-op)
    int voided;
    do
        voided = s_expire_batch (db, S_EXPIRE_BATCH);
    while (voided == S_EXPIRE_BATCH);
    if (voided < 0)
        return 1000; //  the database is away: try again in a second
    st_error_t err;
    PGresult *res;
    if (st_db_exec (db, "shop_next_due", NULL, &res, &err) != ST_OK)
        return 1000;
    int64_t wait = PQgetisnull (res, 0, 0) ? -1 : atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    return wait;
}
