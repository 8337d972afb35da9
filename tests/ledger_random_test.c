/*  ledger_random_test.c — a seeded randomized run of the ledger (issue 20) against a simple
    model in the test: at least 10,000 operations mixing match's completions (with and
    without a request, a group cared for first, the daily cap), ratings before and after their
    completions (multipliers below 100 % cut points), officials' adjustments of points and
    honour hours (corrections refused when they would go below zero), expiries (a
    volunteer's lots up to a day made due, the ledger's worker expiring them oldest first),
    and the points store: reservations (refused for a withdrawn item, past the per-volunteer
    limit, past the points available or the stock), fulfils, cancels (by the volunteer or an
    official, of reservations still held or already ended) and timeouts (reservations made
    due at once, as if their time had passed, the ledger's ticker left to void them; a fulfil
    then is refused, a cancel races the ticker), restocks and withdrawals.

    The run goes in rounds: a round's events are written into match's outbox at once and the
    ledger read them all; then its adjustments, each reply checked against the model (every
    step); then the store's operations (each reply checked against the model); then perhaps
    an expiry. After every round (about 145 operations) the invariants are checked: every
    volunteer's balances and points held (pending) equal the model's, every item's stock and
    every redemption's status too, each ended redemption published once, every unit sums to
    zero, no balance is negative nor below what it holds, ledger.audit finds no difference
    (balances against the journal, pending against the open holds), the lots hold the
    balances.

    STATION_LEDGER_SEED=N repeats a run (the seed is printed); STATION_LEDGER_OPS sets how
    many operations (default 10,000).

    The model of the store: a volunteer's pending beside their balance (available = balance -
    pending: what a reservation, a correction or a rating's cut may take); a reservation holds
    its points and takes its stock; a fulfil spends the points (the oldest lots first) and is
    final; a cancel or a timeout gives points and stock back, once.  */
#include "fixture.h"
#include "st_log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define S_VOLUNTEERS  16
#define S_DAYS        40   //  completions are checked out up to this many days ago
#define S_LOTS        4096 //  lots per volunteer the model holds at most
#define S_REQUESTS    8192
#define S_RECORDS     12000
#define S_ITEMS       4
#define S_REDEMPTIONS 8192

static msg_actor_t TOWN = {.account = "town", .role = "region_admin", .region = "431022100000"};
static const char *VILLAGE = "431022100201";
static const int MULTIPLIERS[5] = {50, 80, 100, 110, 120};

//  ---------------------------------------------------------------------------------------
//  The model

typedef struct {
    int ago; //  the day it was earned, in days before today
    int64_t remaining;
} s_lot_t;

typedef struct {
    int64_t points, credit, honour, expired;
    int64_t pending;    //  points held by reservations
    int taken[S_ITEMS]; //  of each item, reserved and fulfilled (its limit counts these)
    s_lot_t lots[S_LOTS];
    int lot_count;
    int64_t earned[S_DAYS + 1]; //  points for hours earned per day (the daily cap)
} s_volunteer_t;

typedef struct {
    int volunteer, ago;
    int64_t points; //  after the cap
    int request;    //  index, -1 none
} s_record_t;

typedef struct {
    int stars;      //  0: not rated yet
    int records[4]; //  its completions, in record order
    int record_count;
} s_request_t;

//  An item of the store, as the model keeps it.
typedef struct {
    char id[24];
    int64_t price, stock;
    int limit; //  per volunteer a year, 0 none
    bool withdrawn;
} s_item_t;

typedef enum { S_RESERVED, S_FULFILLED, S_CANCELLED, S_EXPIRED } s_status_t;
static const char *const S_STATUS[] = {"reserved", "fulfilled", "cancelled", "expired"};

typedef struct {
    char id[24];
    int volunteer, item, quantity;
    int64_t points;
    s_status_t status;
} s_redemption_t;

static s_volunteer_t s_v[S_VOLUNTEERS];
static s_item_t s_items[S_ITEMS];
static s_redemption_t s_redemptions[S_REDEMPTIONS];
static int s_redemption_count;
static int s_ended[4]; //  redemptions ended by status (the events the ledger must publish)
static int64_t s_store_ms, s_check_ms; //  time the store's operations and the checks took
static s_record_t s_records[S_RECORDS];
static int s_record_count;
static s_request_t s_requests[S_REQUESTS];
static int s_request_count;
static char s_ids[S_VOLUNTEERS][16];
static char s_dates[S_DAYS + 1][16]; //  YYYY-MM-DD of each day ago, Asia/Shanghai
static uint64_t s_rng;

static uint64_t
s_random (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

//  A number in [0, n).
static int
s_pick (int n)
{
    return (int) (s_random () % (uint64_t) n);
}

static void
s_lot_add (s_volunteer_t *v, int ago, int64_t amount)
{
    if (v->lot_count == S_LOTS)
        fail_msg ("the model holds too many lots");
    v->lots[v->lot_count++] = (s_lot_t){ago, amount};
    v->points += amount;
}

//  Takes `amount` from the oldest lots (the day earned, then the order posted).
static void
s_lot_take (s_volunteer_t *v, int64_t amount)
{
    v->points -= amount;
    for (int ago = S_DAYS; ago >= 0 && amount > 0; ago--)
        for (int i = 0; i < v->lot_count && amount > 0; i++)
            if (v->lots[i].ago == ago && v->lots[i].remaining > 0) {
                int64_t take = v->lots[i].remaining < amount ? v->lots[i].remaining : amount;
                v->lots[i].remaining -= take;
                amount -= take;
            }
    assert_int_equal (amount, 0);
}

//  A rating's adjustment of one record, as rate_record prices it.
static void
s_model_rate (int record)
{
    s_record_t *r = &s_records[record];
    int stars = s_requests[r->request].stars;
    s_volunteer_t *v = &s_v[r->volunteer];
    int64_t adj = (r->points * MULTIPLIERS[stars - 1] + 50) / 100 - r->points;
    //  A cut takes no more than is available: points held for a redemption are not theirs
    //  to lose.
    if (adj < 0 && -adj > v->points - v->pending)
        adj = -(v->points - v->pending);
    if (adj > 0)
        s_lot_add (v, r->ago, adj);
    else if (adj < 0)
        s_lot_take (v, -adj);
}

static void
s_model_complete (int record, int minutes, bool cared)
{
    s_record_t *r = &s_records[record];
    s_volunteer_t *v = &s_v[r->volunteer];
    int64_t base = (int64_t) minutes * 10 / 60 + (cared ? 5 : 0);
    int64_t room = 100 - v->earned[r->ago];
    r->points = base < room ? base : (room > 0 ? room : 0);
    v->earned[r->ago] += r->points;
    v->credit += minutes;
    if (r->points > 0)
        s_lot_add (v, r->ago, r->points);
    if (r->request >= 0) {
        s_request_t *q = &s_requests[r->request];
        q->records[q->record_count++] = record;
        if (q->stars)
            s_model_rate (record);
    }
}

//  ---------------------------------------------------------------------------------------
//  The ledger

static void
s_caught_up (void)
{
    for (int waited = 0; waited < 4 * FX_WAIT_MS; waited += 2) {
        if (fx_count ("SELECT ((SELECT count (*) FROM match.outbox WHERE seq IS NULL) = 0"
                      " AND (SELECT seq FROM ledger.consumer_cursors WHERE publisher = 'match')"
                      " >= (SELECT last_seq FROM match.outbox_state))::int")
            == 1)
            return;
        fx_sleep_ms (2);
    }
    fail_msg ("the ledger never caught up with match's events");
}

static void
s_publish_completed (int record, int minutes, bool cared)
{
    const s_record_t *r = &s_records[record];
    char id[24], request[24], checkout[40];
    snprintf (id, sizeof id, "%d", 7000000 + record);
    snprintf (request, sizeof request, "%d", 6000000 + r->request);
    snprintf (checkout, sizeof checkout, "%sT10:00:00+08:00", s_dates[r->ago]);
    msg_service_completed_t body = {.record_id = id,
                                    .volunteer_id = s_ids[r->volunteer],
                                    .region = (char *) VILLAGE,
                                    .category = "elderly",
                                    .hours = minutes / 60.0,
                                    .has_hours = true,
                                    .checkin_at = checkout,
                                    .checkout_at = checkout,
                                    .request_id = r->request >= 0 ? request : NULL,
                                    .cared = cared,
                                    .has_cared = true,
                                    .minutes = minutes,
                                    .has_minutes = true};
    fx_publish ("match", "service.completed", &body);
}

static void
s_publish_rated (int request, int stars)
{
    char id[24];
    snprintf (id, sizeof id, "%d", 6000000 + request);
    msg_service_rated_t body = {.request_id = id,
                                .region = (char *) VILLAGE,
                                .category = "elderly",
                                .stars = stars,
                                .has_stars = true,
                                .has_volunteer_ids = true};
    fx_publish ("match", "service.rated", &body);
}

//  An official's adjustment, checked against the model at once.
static void
s_adjust (int volunteer, bool hours, int amount)
{
    s_volunteer_t *v = &s_v[volunteer];
    char body[256];
    snprintf (body, sizeof body,
              "{\"volunteer_id\": \"%s\", \"unit\": \"%s\", \"amount\": %d, \"reason\": \"随机\"}",
              s_ids[volunteer], hours ? "hours" : "points", amount);
    json_t *reply = NULL;
    st_error_t err;
    st_status_t rc = fx_call ("ledger", &TOWN, "ledger.adjust", body, &reply, &err);
    int64_t held = hours ? v->honour : v->points - v->pending;
    if (amount < 0 && -amount > held) {
        fx_expect (body, rc, &err, ST_FAILED_PRECONDITION, "amount");
        return;
    }
    if (rc != ST_OK)
        fail_msg ("%s: %s", body, err.message);
    if (hours)
        v->honour += amount;
    else if (amount > 0)
        s_lot_add (v, 0, amount);
    else
        s_lot_take (v, -amount);
    assert_int_equal (fx_int (reply, "balance_after"), hours ? v->honour : v->points);
    json_decref (reply);
}

//  Volunteer `volunteer`'s lots earned `ago` days ago or before made due at once (as if their
//  last day had passed), the worker left to expire them; the model expires them too.
static void
s_expire (int volunteer, int ago)
{
    fx_sql ("UPDATE ledger.lots SET expires_on = earned_on WHERE volunteer_id = %s"
            " AND remaining > 0 AND earned_on <= '%s'",
            s_ids[volunteer], s_dates[ago]);
    for (int waited = 0;; waited += 5) {
        if (fx_count ("SELECT count (*) FROM ledger.lots WHERE remaining > 0"
                      " AND expires_on < (now () AT TIME ZONE 'Asia/Shanghai')::date")
            == 0)
            break;
        if (waited > 4 * FX_WAIT_MS)
            fail_msg ("the expiry worker never expired the lots due");
        fx_sleep_ms (5);
    }
    s_volunteer_t *v = &s_v[volunteer];
    for (int i = 0; i < v->lot_count; i++)
        if (v->lots[i].ago >= ago && v->lots[i].remaining > 0) {
            v->expired += v->lots[i].remaining;
            v->points -= v->lots[i].remaining;
            v->lots[i].remaining = 0;
        }
}

//  ---------------------------------------------------------------------------------------
//  The points store

//  The store's items (the town's, which the village's volunteers see), as if made long ago.
static void
s_store_open (void)
{
    const struct {
        const char *name;
        int price, stock, limit;
    } items[S_ITEMS] = {
        {"大米", 30, 40, 0}, {"理发", 80, 10, 2}, {"鸡蛋", 12, 60, 0}, {"电饭煲", 500, 5, 0}};
    for (int i = 0; i < S_ITEMS; i++) {
        char body[256], limit[96] = "";
        if (items[i].limit)
            snprintf (limit, sizeof limit, ", \"limit_quantity\": %d, \"limit_period\": \"year\"",
                      items[i].limit);
        snprintf (body, sizeof body,
                  "{\"name\": \"%s\", \"kind\": \"goods\", \"price_points\": %d, \"stock\": %d,"
                  " \"region\": \"431022100000\"%s}",
                  items[i].name, items[i].price, items[i].stock, limit);
        json_t *item = fx_call_ok ("ledger", &TOWN, "item.create", body);
        s_items[i] =
            (s_item_t){.price = items[i].price, .stock = items[i].stock, .limit = items[i].limit};
        snprintf (s_items[i].id, sizeof s_items[i].id, "%s", fx_str (item, "id"));
        json_decref (item);
    }
}

//  Volunteer `volunteer` reserves `quantity` of item `item`, the reply checked against the
//  model at once.
static void
s_reserve (int volunteer, int item, int quantity)
{
    s_volunteer_t *v = &s_v[volunteer];
    s_item_t *it = &s_items[item];
    char body[128];
    snprintf (body, sizeof body, "{\"item_id\": \"%s\", \"quantity\": %d}", it->id, quantity);
    msg_actor_t self = fx_volunteer (s_ids[volunteer]);
    json_t *reply = NULL;
    st_error_t err;
    st_status_t rc = fx_call ("ledger", &self, "redemption.reserve", body, &reply, &err);
    int64_t total = it->price * quantity;
    if (it->withdrawn) {
        fx_expect (body, rc, &err, ST_FAILED_PRECONDITION, "item_id");
        return;
    }
    if ((it->limit && v->taken[item] + quantity > it->limit) || total > v->points - v->pending
        || quantity > it->stock) {
        fx_expect (body, rc, &err, ST_FAILED_PRECONDITION, "quantity");
        return;
    }
    if (rc != ST_OK)
        fail_msg ("%s by %s (available %lld, stock %lld): %s", body, s_ids[volunteer],
                  (long long) (v->points - v->pending), (long long) it->stock, err.message);
    if (s_redemption_count == S_REDEMPTIONS)
        fail_msg ("the model holds too many redemptions");
    s_redemption_t *r = &s_redemptions[s_redemption_count++];
    *r = (s_redemption_t){.volunteer = volunteer,
                          .item = item,
                          .quantity = quantity,
                          .points = total,
                          .status = S_RESERVED};
    snprintf (r->id, sizeof r->id, "%s", fx_str (reply, "id"));
    assert_string_equal (fx_str (reply, "status"), "reserved");
    assert_int_equal (fx_int (reply, "points"), total);
    json_decref (reply);
    v->pending += total;
    v->taken[item] += quantity;
    it->stock -= quantity;
}

//  Redemption `r` ends as `status`: fulfilled spends its points (the oldest lots first);
//  cancelled and expired give points and stock back.
static void
s_model_end (s_redemption_t *r, s_status_t status)
{
    s_volunteer_t *v = &s_v[r->volunteer];
    assert_int_equal (r->status, S_RESERVED);
    r->status = status;
    v->pending -= r->points;
    if (status == S_FULFILLED)
        s_lot_take (v, r->points);
    else {
        s_items[r->item].stock += r->quantity;
        v->taken[r->item] -= r->quantity;
    }
    s_ended[status]++;
}

//  A redemption to end: mostly one still reserved (from a random place on), else any.
static s_redemption_t *
s_redemption_pick (void)
{
    if (s_redemption_count == 0)
        return NULL;
    int from = s_pick (s_redemption_count);
    if (s_pick (4) > 0)
        for (int k = 0; k < s_redemption_count; k++) {
            s_redemption_t *r = &s_redemptions[(from + k) % s_redemption_count];
            if (r->status == S_RESERVED)
                return r;
        }
    return &s_redemptions[from];
}

//  An official fulfils, or the volunteer or an official cancels, redemption `r`; the reply
//  checked against the model: only a reservation still held ends (fulfilled is final).
static void
s_end (s_redemption_t *r, bool fulfil)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", r->id);
    msg_actor_t self = fx_volunteer (s_ids[r->volunteer]);
    const msg_actor_t *actor = fulfil || s_pick (2) ? &TOWN : &self;
    json_t *reply = NULL;
    st_error_t err;
    st_status_t rc = fx_call ("ledger", actor, fulfil ? "redemption.fulfil" : "redemption.cancel",
                              body, &reply, &err);
    if (r->status != S_RESERVED) {
        fx_expect (body, rc, &err, ST_CONFLICT, "id");
        return;
    }
    if (rc != ST_OK)
        fail_msg ("%s %s: %s", fulfil ? "fulfil" : "cancel", body, err.message);
    s_model_end (r, fulfil ? S_FULFILLED : S_CANCELLED);
    assert_string_equal (fx_str (reply, "status"), S_STATUS[r->status]);
    json_decref (reply);
}

//  Timeouts: up to three reservations still held made due at once (as if their time had
//  passed; a reservation's row refuses any change but its end, so the superuser's change
//  goes past the ledger's triggers), the ledgers' ticker woken. A fulfil of the first is
//  refused at once (it is past its time); a cancel of the second races the ticker, and
//  whichever ends it, it ends once. The model gives points and stock back as each ended.
static int
s_timeouts (void)
{
    s_redemption_t *due[3];
    int count = 0;
    for (int k = 0; k < s_redemption_count && count < 3; k++) {
        s_redemption_t *r = &s_redemptions[s_redemption_count - 1 - k];
        if (r->status == S_RESERVED && s_pick (2) == 0)
            due[count++] = r;
    }
    if (count == 0)
        return 0;
    char ids[80] = "";
    for (int i = 0; i < count; i++)
        snprintf (ids + strlen (ids), sizeof ids - strlen (ids), "%s%s", i ? "," : "", due[i]->id);
    fx_sql ("BEGIN; SET LOCAL session_replication_role = replica;"
            " UPDATE ledger.redemptions SET expires_at = now () WHERE id IN (%s);"
            " SELECT pg_notify ('ledger.redemptions', ''); COMMIT",
            ids);
    int ops = count;
    char body[64];
    st_error_t err;
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", due[0]->id);
    fx_expect ("a fulfil past its time",
               fx_call ("ledger", &TOWN, "redemption.fulfil", body, NULL, &err), &err, ST_CONFLICT,
               "id");
    ops++;
    bool cancelled = false;
    if (count > 1) {
        snprintf (body, sizeof body, "{\"id\": \"%s\"}", due[1]->id);
        st_status_t rc = fx_call ("ledger", &TOWN, "redemption.cancel", body, NULL, &err);
        if (rc == ST_OK)
            cancelled = true;
        else
            fx_expect ("a cancel racing the ticker", rc, &err, ST_CONFLICT, "id");
        ops++;
    }
    fx_wait_for (0,
                 "SELECT count (*) FROM ledger.redemptions WHERE id IN (%s)"
                 " AND status = 'reserved'",
                 ids);
    for (int i = 0; i < count; i++)
        s_model_end (due[i], i == 1 && cancelled ? S_CANCELLED : S_EXPIRED);
    return ops;
}

//  The store's part of a round: reservations, fulfils, cancels, now and then a restock or an
//  item withdrawn or put back, perhaps timeouts. Returns how many operations it made.
static int
s_store_round (void)
{
    int ops = 0;
    for (int i = 0; i < 20; i++, ops++) {
        int what = s_pick (100);
        if (what < 55) {
            int item = s_pick (S_ITEMS);
            int quantity = s_pick (10) == 0 ? 1 + s_pick (40) : 1 + s_pick (3);
            s_reserve (s_pick (S_VOLUNTEERS), item, quantity);
        } else if (what < 85) {
            s_redemption_t *r = s_redemption_pick ();
            if (r)
                s_end (r, what < 70);
        } else if (what < 94) {
            int item = s_pick (S_ITEMS);
            int64_t stock = 5 + s_pick (50);
            char body[96];
            snprintf (body, sizeof body, "{\"id\": \"%s\", \"stock\": %lld}", s_items[item].id,
                      (long long) stock);
            json_t *reply = fx_call_ok ("ledger", &TOWN, "item.update", body);
            assert_int_equal (fx_int (reply, "stock"), stock);
            json_decref (reply);
            s_items[item].stock = stock;
        } else {
            s_item_t *it = &s_items[s_pick (S_ITEMS)];
            char body[96];
            snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"%s\"}", it->id,
                      it->withdrawn ? "active" : "withdrawn");
            json_t *reply = fx_call_ok ("ledger", &TOWN, "item.update", body);
            it->withdrawn = !it->withdrawn;
            assert_string_equal (fx_str (reply, "status"), it->withdrawn ? "withdrawn" : "active");
            json_decref (reply);
        }
    }
    if (s_pick (2) == 0)
        ops += s_timeouts ();
    return ops;
}

//  The store against the model: each item's stock and status, each redemption's status,
//  each ended one published once.
static void
s_check_store (int ops)
{
    PGresult *res = fx_query ("SELECT id, stock, status FROM ledger.items ORDER BY id");
    assert_int_equal (PQntuples (res), S_ITEMS);
    for (int i = 0; i < S_ITEMS; i++) {
        const s_item_t *it = &s_items[i];
        if (strcmp (PQgetvalue (res, i, 0), it->id) != 0
            || atoll (PQgetvalue (res, i, 1)) != it->stock
            || strcmp (PQgetvalue (res, i, 2), it->withdrawn ? "withdrawn" : "active") != 0)
            fail_msg ("after %d operations, item %s: stock %s (model %lld), %s", ops, it->id,
                      PQgetvalue (res, i, 1), (long long) it->stock, PQgetvalue (res, i, 2));
    }
    PQclear (res);
    res = fx_query ("SELECT id, status, points FROM ledger.redemptions ORDER BY id");
    assert_int_equal (PQntuples (res), s_redemption_count);
    for (int i = 0; i < s_redemption_count; i++) {
        const s_redemption_t *r = &s_redemptions[i];
        if (strcmp (PQgetvalue (res, i, 0), r->id) != 0
            || strcmp (PQgetvalue (res, i, 1), S_STATUS[r->status]) != 0
            || atoll (PQgetvalue (res, i, 2)) != r->points)
            fail_msg ("after %d operations, redemption %s: %s (model %s)", ops, r->id,
                      PQgetvalue (res, i, 1), S_STATUS[r->status]);
    }
    PQclear (res);
    res = fx_query ("SELECT count (*) FILTER (WHERE topic = 'redemption.reserved'),"
                    " count (*) FILTER (WHERE topic = 'redemption.fulfilled'),"
                    " count (*) FILTER (WHERE topic = 'redemption.cancelled'),"
                    " count (*) FILTER (WHERE topic = 'redemption.expired') FROM ledger.outbox"
                    " WHERE topic LIKE 'redemption.%%'");
    for (int s = 0; s < 4; s++) {
        long published = atol (PQgetvalue (res, 0, s));
        long model = s == S_RESERVED ? s_redemption_count : s_ended[s];
        if (published != model)
            fail_msg ("after %d operations, %ld redemption.%s published (model %ld)", ops,
                      published, s == S_RESERVED ? "reserved" : S_STATUS[s], model);
    }
    PQclear (res);
    //  Every reservation still held holds its points by one hold with no end; every other
    //  hold ended once, posted exactly when fulfilled.
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.redemptions r"
                                " JOIN ledger.holds h ON h.id = r.hold_id"
                                " LEFT JOIN ledger.hold_ends e ON e.hold_id = h.id"
                                " WHERE (r.status = 'reserved') <> (e.hold_id IS NULL)"
                                " OR (r.status = 'fulfilled') <> (e.outcome IS NOT DISTINCT"
                                " FROM 'posted') OR h.amount <> r.points"),
                      0);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.holds"), s_redemption_count);
}

//  Every invariant, against the model.
static void
s_check (int ops)
{
    PGresult *res = fx_query (
        "SELECT v.id, coalesce ((SELECT balance FROM ledger.accounts WHERE volunteer_id = v.id"
        " AND kind = 'volunteer' AND unit = 'points'), 0),"
        " coalesce ((SELECT balance FROM ledger.accounts WHERE volunteer_id = v.id"
        " AND kind = 'volunteer' AND unit = 'hours'), 0),"
        " coalesce ((SELECT balance FROM ledger.accounts WHERE volunteer_id = v.id"
        " AND kind = 'honour'), 0),"
        " (SELECT coalesce (sum (amount), 0) FROM ledger.transfers WHERE volunteer_id = v.id"
        " AND kind = 'expire'),"
        " (SELECT coalesce (sum (remaining), 0) FROM ledger.lots WHERE volunteer_id = v.id),"
        " coalesce ((SELECT pending FROM ledger.accounts WHERE volunteer_id = v.id"
        " AND kind = 'volunteer' AND unit = 'points'), 0)"
        " FROM ledger.volunteers v ORDER BY v.id");
    assert_int_equal (PQntuples (res), S_VOLUNTEERS);
    for (int i = 0; i < S_VOLUNTEERS; i++) {
        const s_volunteer_t *v = &s_v[i];
        int64_t got[6];
        for (int c = 0; c < 6; c++)
            got[c] = atoll (PQgetvalue (res, i, c + 1));
        if (strcmp (PQgetvalue (res, i, 0), s_ids[i]) != 0 || got[0] != v->points
            || got[1] != v->credit || got[2] != v->honour || got[3] != v->expired
            || got[4] != v->points || got[5] != v->pending)
            fail_msg ("after %d operations, volunteer %s: points %lld (model %lld), credit %lld"
                      " (%lld), honour %lld (%lld), expired %lld (%lld), lots %lld, pending %lld"
                      " (%lld)",
                      ops, s_ids[i], (long long) got[0], (long long) v->points, (long long) got[1],
                      (long long) v->credit, (long long) got[2], (long long) v->honour,
                      (long long) got[3], (long long) v->expired, (long long) got[4],
                      (long long) got[5], (long long) v->pending);
    }
    PQclear (res);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.accounts WHERE (balance < 0"
                                " OR balance < pending) AND volunteer_id IS NOT NULL"),
                      0);
    s_check_store (ops);
    assert_int_equal (fx_count ("SELECT count (*) FROM (SELECT unit FROM ledger.accounts"
                                " GROUP BY unit HAVING sum (balance) <> 0) x"),
                      0);
    char what[48];
    snprintf (what, sizeof what, "after %d operations", ops);
    json_decref (fx_ledger_audit (what));
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters"), 0);
}

//  One round: events (completions, ratings), the ledger caught up, adjustments, perhaps an
//  expiry. Returns how many operations it made.
static int
s_round (void)
{
    int ops = 0;
    for (int i = 0; i < 100 && s_record_count < S_RECORDS; i++, ops++) {
        int what = s_pick (100);
        if (what < 75) {
            //  A completion: of no request, a new request, or one with a completion or a
            //  rating already.
            s_record_t *r = &s_records[s_record_count];
            r->volunteer = s_pick (S_VOLUNTEERS);
            r->ago = 1 + s_pick (S_DAYS);
            int kind = s_pick (10);
            if (kind < 2 || s_request_count == S_REQUESTS)
                r->request = -1;
            else if (kind < 6 || s_request_count == 0)
                r->request = s_request_count++;
            else {
                r->request =
                    s_request_count - 1 - s_pick (s_request_count < 20 ? s_request_count : 20);
                if (s_requests[r->request].record_count == 4)
                    r->request = s_request_count++;
            }
            int minutes = 1 + s_pick (300);
            bool cared = s_pick (3) == 0;
            s_publish_completed (s_record_count, minutes, cared);
            s_model_complete (s_record_count++, minutes, cared);
        } else if (s_request_count < S_REQUESTS) {
            //  A rating: of a request not rated yet, served already or not (served later).
            int q = s_request_count > 0 && s_pick (3) > 0
                        ? s_request_count - 1 - s_pick (s_request_count < 30 ? s_request_count : 30)
                        : s_request_count++;
            if (s_requests[q].stars)
                q = s_request_count++;
            if (q >= S_REQUESTS)
                continue;
            int stars = 1 + s_pick (5);
            s_publish_rated (q, stars);
            s_requests[q].stars = stars;
            for (int k = 0; k < s_requests[q].record_count; k++)
                s_model_rate (s_requests[q].records[k]);
        }
    }
    s_caught_up ();
    for (int i = 0; i < 25; i++, ops++) {
        int volunteer = s_pick (S_VOLUNTEERS);
        bool hours = s_pick (4) == 0;
        int amount = 1 + s_pick (60);
        if (s_pick (2) == 0)
            amount = -amount;
        s_adjust (volunteer, hours, amount);
    }
    int64_t started = zclock_mono ();
    ops += s_store_round ();
    s_store_ms += zclock_mono () - started;
    //  An expiry, of a volunteer holding no points for a reservation: the worker expires no
    //  more than is available, and what stays due it expires when the hold ends, on its own
    //  time, which the model could not follow.
    if (s_pick (4) == 0) {
        int volunteer = s_pick (S_VOLUNTEERS), ago = 1 + s_pick (S_DAYS);
        for (int k = 0; k < S_VOLUNTEERS; k++)
            if (s_v[(volunteer + k) % S_VOLUNTEERS].pending == 0) {
                s_expire ((volunteer + k) % S_VOLUNTEERS, ago);
                ops++;
                break;
            }
    }
    return ops;
}

//  ---------------------------------------------------------------------------------------

static int
s_setup (void **state)
{
    (void) state;
    setenv ("STATION_LEDGER_EXPIRY_MS", "20", 1);
    fx_new ("ledger_random", FX_REGISTRY | FX_MATCH | FX_LEDGER);
    return 0;
}

static void
test_random_run (void **state)
{
    (void) state;
    const char *seed_text = getenv ("STATION_LEDGER_SEED");
    uint64_t seed = seed_text ? strtoull (seed_text, NULL, 10) : (uint64_t) time (NULL);
    const char *ops_text = getenv ("STATION_LEDGER_OPS");
    int target = ops_text ? atoi (ops_text) : 10000;
    fprintf (stderr, "ledger_random_test: STATION_LEDGER_SEED=%llu STATION_LEDGER_OPS=%d\n",
             (unsigned long long) seed, target);
    s_rng = seed * 2654435761u + 88172645463325252ull;

    //  The village's rule: ratings below 3 stars cut points, points never expire by
    //  themselves (the run makes lots due), adjustments not capped; as if set long ago.
    json_decref (fx_call_ok ("ledger", &TOWN, "rules.set",
                             "{\"region\": \"431022100000\", \"multiplier_1\": 50,"
                             " \"multiplier_2\": 80, \"multiplier_3\": 100, \"multiplier_4\": 110,"
                             " \"multiplier_5\": 120, \"points_per_hour\": 10, \"cared_bonus\": 5,"
                             " \"daily_cap\": 100, \"adjust_cap_points\": 1000000,"
                             " \"adjust_cap_minutes\": 1000000, \"expiry\": \"months\","
                             " \"expiry_months\": 120}"));
    fx_sql ("UPDATE ledger.rules SET effective_from = '2000-01-01' WHERE region = '431022100000'");
    PGresult *res = fx_query ("SELECT ((now () AT TIME ZONE 'Asia/Shanghai')::date - i)::text"
                              " FROM generate_series (0, %d) i ORDER BY i",
                              S_DAYS);
    for (int i = 0; i <= S_DAYS; i++)
        snprintf (s_dates[i], sizeof s_dates[i], "%s", PQgetvalue (res, i, 0));
    PQclear (res);
    //  The volunteers, as registry tells of them.
    for (int i = 0; i < S_VOLUNTEERS; i++) {
        snprintf (s_ids[i], sizeof s_ids[i], "%d", 8000001 + i);
        msg_volunteer_registered_t body = {.id = s_ids[i],
                                           .name = "随机",
                                           .region = (char *) VILLAGE,
                                           .has_skills = true,
                                           .status = "active"};
        fx_publish ("registry", "volunteer.registered", &body);
    }
    fx_wait_for (S_VOLUNTEERS, "SELECT count (*) FROM ledger.volunteers");
    s_store_open ();

    int ops = 0, rounds = 0;
    int64_t started = zclock_mono ();
    while (ops < target && s_record_count < S_RECORDS) {
        ops += s_round ();
        rounds++;
        int64_t checking = zclock_mono ();
        s_check (ops);
        s_check_ms += zclock_mono () - checking;
    }
    long transfers = fx_count ("SELECT count (*) FROM ledger.transfers");
    fprintf (stderr,
             "ledger_random_test: %d operations in %d rounds (%d records, %d requests,"
             " %ld transfers, %ld expiries; %d reservations: %d fulfilled, %d cancelled, %d"
             " timed out) in %.1f s (the store's operations %.1f s, the checks %.1f s), checked"
             " after every round\n",
             ops, rounds, s_record_count, s_request_count, transfers,
             fx_count ("SELECT count (*) FROM ledger.transfers WHERE kind = 'expire'"),
             s_redemption_count, s_ended[S_FULFILLED], s_ended[S_CANCELLED], s_ended[S_EXPIRED],
             (zclock_mono () - started) / 1000.0, s_store_ms / 1000.0, s_check_ms / 1000.0);
    assert_true (ops >= target);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_random_run)};
    return cmocka_run_group_tests_name ("ledger_random", tests, s_setup, fx_teardown);
}
