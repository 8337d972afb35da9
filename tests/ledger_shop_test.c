/*  ledger_shop_test.c — the points store (积分超市, issue 20) against live registry and TWO
    ledger processes on one database: items in scope, a volunteer's store (their region and
    those above), reservations that hold points and take stock, fulfilled (the points spent)
    or cancelled (points and stock back), voided by the ticker when not fulfilled in time and
    published once; refusals naming their field and changing nothing; 200 reservations at once
    from 200 rpc clients split between the two processes for 10 units of stock. The audit,
    which recomputes the points held too, finds no difference after every test.  */
#include "fixture.h"
#include "st_log.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define COUNTY   "431022000000"
#define TOWN     "431022100000"
#define VILLAGE  "431022100201"
#define OTHER    "431022101000" //  another township
#define RUSH     200            //  clients at once
#define RUSH_ID  900001         //  the first of the rush's volunteers
#define RUSH_BOX 10             //  the stock they rush for

static char s_replica[HARNESS_ENDPOINT]; //  the second ledger's rpc endpoint
static msg_actor_t COUNTY_ADMIN = {.account = "county", .role = "region_admin", .region = COUNTY};
static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = TOWN};
static msg_actor_t TOWN_B = {.account = "town-b", .role = "region_admin", .region = OTHER};
static int s_people;

//  What a refused op must leave as it was: the journal, the holds and their ends, every
//  balance and hold, the stock, the redemptions and the events.
static const char *const S_DIGEST =
    "SELECT format ('%s/%s/%s/%s/%s/%s/%s', (SELECT count (*) FROM ledger.transfers),"
    " (SELECT count (*) FROM ledger.holds), (SELECT count (*) FROM ledger.hold_ends),"
    " (SELECT string_agg (id || ':' || balance || ':' || pending, ',' ORDER BY id)"
    " FROM ledger.accounts), (SELECT string_agg (id || ':' || stock || ':' || status, ','"
    " ORDER BY id) FROM ledger.items), (SELECT string_agg (id || ':' || status, ',' ORDER BY id)"
    " FROM ledger.redemptions), (SELECT count (*) FROM ledger.outbox))";

static char *
s_digest (void)
{
    return strdup (fx_value ("%s", S_DIGEST));
}

//  A new volunteer of `region` known to the ledger, with `points` given by an official; their
//  id into `id`.
static void
s_volunteer (const char *region, int points, char id[32])
{
    char name[32];
    snprintf (name, sizeof name, "兑换%d", ++s_people);
    fx_volunteer_add (name, region, "[]", "[]", 25.40, 112.95, "", id);
    fx_ledger_wait_volunteer (id);
    if (points > 0)
        fx_ledger_adjust (&FX_SYSTEM, id, "points", points, "积分超市测试");
}

//  An item made by `actor`: `extra` more JSON members or ""; its id into `id`.
static void
s_item (const msg_actor_t *actor, const char *region, const char *name, int price, int stock,
        const char *extra, char id[32])
{
    char body[512];
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"kind\": \"goods\", \"price_points\": %d, \"stock\": %d,"
              " \"region\": \"%s\"%s}",
              name, price, stock, region, extra);
    json_t *item = fx_call_ok ("ledger", actor, "item.create", body);
    snprintf (id, 32, "%s", fx_str (item, "id"));
    assert_string_equal (fx_str (item, "status"), "active");
    json_decref (item);
}

//  Item `id` of `region` as the system sees it in item.list (the caller decrefs).
static json_t *
s_item_get (const char *region, const char *id)
{
    char body[128];
    snprintf (body, sizeof body, "{\"region\": \"%s\", \"below\": true, \"limit\": 500}", region);
    json_t *page = fx_call_ok ("ledger", &FX_SYSTEM, "item.list", body);
    json_t *items = json_object_get (page, "items"), *found = NULL;
    for (size_t i = 0; i < json_array_size (items) && !found; i++)
        if (strcmp (fx_str (json_array_get (items, i), "id"), id) == 0)
            found = json_incref (json_array_get (items, i));
    json_decref (page);
    if (!found)
        fail_msg ("item %s is not in the store of %s", id, region);
    return found;
}

static long long
s_stock (const char *region, const char *id)
{
    json_t *item = s_item_get (region, id);
    long long stock = fx_int (item, "stock");
    json_decref (item);
    return stock;
}

//  Volunteer `volunteer` reserves `quantity` of item `item`; the reply into *reply when not
//  NULL (the caller decrefs), its id into `id` when not NULL. Returns the status.
static st_status_t
s_reserve (const char *volunteer, const char *item, int quantity, json_t **reply, char id[32],
           st_error_t *err)
{
    char body[128];
    snprintf (body, sizeof body, "{\"item_id\": \"%s\", \"quantity\": %d}", item, quantity);
    msg_actor_t self = fx_volunteer (volunteer);
    json_t *json = NULL;
    st_status_t rc = fx_call ("ledger", &self, "redemption.reserve", body, &json, err);
    if (rc == ST_OK && id)
        snprintf (id, 32, "%s", fx_str (json, "id"));
    if (reply)
        *reply = json;
    else
        json_decref (json);
    return rc;
}

//  Redemption op `op` on redemption `id` as `actor`.
static st_status_t
s_end (const char *op, const msg_actor_t *actor, const char *id, json_t **reply, st_error_t *err)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    return fx_call ("ledger", actor, op, body, reply, err);
}

//  A volunteer's points as their statement shows them: balance, available, pending.
static void
s_points (const char *volunteer, long long *balance, long long *available, long long *pending)
{
    msg_actor_t self = fx_volunteer (volunteer);
    json_t *s = fx_ledger_statement (&self, volunteer);
    *balance = fx_int (s, "balance");
    *available = fx_int (s, "available");
    *pending = fx_int (s, "pending");
    json_decref (s);
}

static void
s_assert_points (const char *volunteer, long long balance, long long available)
{
    long long b, a, p;
    s_points (volunteer, &b, &a, &p);
    if (b != balance || a != available || p != balance - available)
        fail_msg ("volunteer %s: balance %lld, available %lld, pending %lld; expected %lld, %lld,"
                  " %lld",
                  volunteer, b, a, p, balance, available, balance - available);
}

//  ledger.audit finds the books balanced: every balance what its journal says, every hold
//  what the open holds say, no volunteer below zero or holding more than they have.
static void
s_audit_ok (void)
{
    json_t *audit = fx_ledger_audit (NULL);
    assert_int_equal (fx_int (audit, "negative"), 0);
    json_decref (audit);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters"), 0);
    //  Every redemption still reserved holds its points by a hold with no end, and no other
    //  hold is open.
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.redemptions r"
                                " JOIN ledger.holds h ON h.id = r.hold_id"
                                " LEFT JOIN ledger.hold_ends e ON e.hold_id = h.id"
                                " WHERE (r.status = 'reserved') <> (e.hold_id IS NULL)"
                                " OR (r.status = 'fulfilled') <> (e.outcome IS NOT DISTINCT"
                                " FROM 'posted') OR h.amount <> r.points"),
                      0);
}

static int
s_setup (void **state)
{
    (void) state;
    fx_new ("ledger_shop", FX_REGISTRY | FX_LEDGER);
    fx_county_add ();
    harness_start_replica (fx_harness (), "ledger", s_replica);
    return 0;
}

//  ---------------------------------------------------------------------------------------

//  Officials make and change items in their scope only; a volunteer's store is their region
//  and those above it; every refusal names its field and changes nothing.
static void
test_item_scope (void **state)
{
    (void) state;
    char v[32], rice[32], cut[32], far[32], body[512];
    s_volunteer (VILLAGE, 0, v);
    msg_actor_t self = fx_volunteer (v);
    s_item (&COUNTY_ADMIN, COUNTY, "大米 5 kg", 200, 40, "", rice);
    s_item (&TOWN_A, TOWN, "理发", 50, 20,
            ", \"limit_quantity\": 1, \"limit_period\": \"month\", \"description\": \"周一至周五\"",
            cut);
    s_item (&TOWN_B, OTHER, "修自行车", 30, 5, "", far);
    json_t *item = s_item_get (TOWN, cut);
    assert_int_equal (fx_int (item, "limit_quantity"), 1);
    assert_string_equal (fx_str (item, "limit_period"), "month");
    json_decref (item);

    char *before = s_digest ();
    st_error_t err;
    const struct {
        const msg_actor_t *actor;
        const char *op;
        const char *body;
        st_status_t code;
        const char *field;
    } cases[] = {
        {&TOWN_A, "item.create",
         "{\"name\": \"油\", \"kind\": \"goods\", \"price_points\": 80, \"stock\": 3,"
         " \"region\": \"" COUNTY "\"}",
         ST_PERMISSION_DENIED, "region"},
        {&TOWN_A, "item.create",
         "{\"name\": \"油\", \"kind\": \"goods\", \"price_points\": 80, \"stock\": 3,"
         " \"region\": \"" OTHER "\"}",
         ST_PERMISSION_DENIED, "region"},
        {&self, "item.create",
         "{\"name\": \"油\", \"kind\": \"goods\", \"price_points\": 80, \"stock\": 3,"
         " \"region\": \"" VILLAGE "\"}",
         ST_PERMISSION_DENIED, "actor.role"},
        {&TOWN_A, "item.create",
         "{\"name\": \"油\", \"kind\": \"food\", \"price_points\": 80, \"stock\": 3,"
         " \"region\": \"" TOWN "\"}",
         ST_INVALID_ARGUMENT, "kind"},
        {&TOWN_A, "item.create",
         "{\"name\": \"油\", \"kind\": \"goods\", \"price_points\": 80, \"stock\": 3,"
         " \"region\": \"" TOWN "\", \"limit_quantity\": 2}",
         ST_INVALID_ARGUMENT, "limit_period"},
        {&TOWN_A, "item.create",
         "{\"name\": \"油\", \"kind\": \"goods\", \"price_points\": 80, \"stock\": 3,"
         " \"region\": \"" TOWN "\", \"limit_quantity\": 2, \"limit_period\": \"week\"}",
         ST_INVALID_ARGUMENT, "limit_period"},
        {&TOWN_B, "item.update", "{\"id\": \"%s\", \"stock\": 100}", ST_NOT_FOUND, "id"},
        {&TOWN_A, "item.update", "{\"id\": \"%s\", \"status\": \"gone\"}", ST_INVALID_ARGUMENT,
         "status"},
        {&TOWN_A, "item.update",
         "{\"id\": \"%s\", \"limit_quantity\": 0, \"limit_period\": \"year\"}", ST_INVALID_ARGUMENT,
         "limit_quantity"},
        {&TOWN_A, "item.update", "{\"id\": \"999999\", \"stock\": 1}", ST_NOT_FOUND, "id"},
        {&self, "item.list", "{\"region\": \"" OTHER "\"}", ST_PERMISSION_DENIED, "region"},
        {&self, "item.list", "{\"region\": \"" VILLAGE "\", \"below\": true}", ST_PERMISSION_DENIED,
         "below"},
        {&TOWN_A, "item.list", "{\"region\": \"" COUNTY "\"}", ST_PERMISSION_DENIED, "region"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf (body, sizeof body, cases[i].body, cut);
        fx_expect (body, fx_call ("ledger", cases[i].actor, cases[i].op, body, NULL, &err), &err,
                   cases[i].code, cases[i].field);
    }
    fx_expect ("a price of 0",
               fx_call_raw ("ledger", &TOWN_A, "item.create",
                            "{\"name\": \"油\", \"kind\": \"goods\", \"price_points\": 0,"
                            " \"stock\": 3, \"region\": \"" TOWN "\"}",
                            NULL, &err),
               &err, ST_INVALID_ARGUMENT, "price_points");
    fx_unchanged (before, s_digest (), "a refused item op");

    //  The volunteer of the village sees the county's and their township's items, not the
    //  other township's; so does their township's official, who also sees withdrawn ones.
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"withdrawn\", \"stock\": 19}", cut);
    json_t *updated = fx_call_ok ("ledger", &TOWN_A, "item.update", body);
    assert_string_equal (fx_str (updated, "status"), "withdrawn");
    assert_int_equal (fx_int (updated, "stock"), 19);
    assert_int_equal (fx_int (updated, "limit_quantity"), 1); //  what it did not name stays
    json_decref (updated);
    json_t *page = fx_call_ok ("ledger", &self, "item.list", "{\"region\": \"" VILLAGE "\"}");
    json_t *items = json_object_get (page, "items");
    bool saw_rice = false, saw_cut = false, saw_far = false;
    for (size_t i = 0; i < json_array_size (items); i++) {
        const char *id = fx_str (json_array_get (items, i), "id");
        saw_rice |= strcmp (id, rice) == 0;
        saw_cut |= strcmp (id, cut) == 0;
        saw_far |= strcmp (id, far) == 0;
    }
    assert_true (saw_rice && !saw_cut && !saw_far);
    json_decref (page);
    page = fx_call_ok ("ledger", &TOWN_A, "item.list", "{\"region\": \"" TOWN "\"}");
    items = json_object_get (page, "items");
    saw_rice = saw_cut = saw_far = false;
    for (size_t i = 0; i < json_array_size (items); i++) {
        const char *id = fx_str (json_array_get (items, i), "id");
        saw_rice |= strcmp (id, rice) == 0;
        saw_cut |= strcmp (id, cut) == 0;
        saw_far |= strcmp (id, far) == 0;
    }
    assert_true (saw_rice && saw_cut && !saw_far);
    json_decref (page);
    //  A page at a time.
    page = fx_call_ok ("ledger", &FX_SYSTEM, "item.list",
                       "{\"region\": \"" COUNTY "\", \"below\": true, \"limit\": 1}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    snprintf (body, sizeof body,
              "{\"region\": \"" COUNTY "\", \"below\": true, \"limit\": 1, \"cursor\": \"%s\"}",
              fx_str (page, "next_cursor"));
    json_decref (page);
    page = fx_call_ok ("ledger", &FX_SYSTEM, "item.list", body);
    assert_string_not_equal (fx_str (json_array_get (json_object_get (page, "items"), 0), "id"),
                             rice);
    json_decref (page);
    s_audit_ok ();
}

//  Reserve → fulfil: the points held, then spent into the county's redemption account; the
//  journal shows it; a fulfilled one is neither fulfilled nor cancelled again.
static void
test_reserve_fulfil (void **state)
{
    (void) state;
    char v[32], item[32], id[32];
    s_volunteer (VILLAGE, 120, v);
    s_item (&COUNTY_ADMIN, COUNTY, "食用油", 50, 3, "", item);
    json_t *reply;
    st_error_t err;
    assert_int_equal (s_reserve (v, item, 2, &reply, id, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "reserved");
    assert_int_equal (fx_int (reply, "points"), 100);
    assert_int_equal (fx_int (reply, "quantity"), 2);
    assert_true (*fx_str (reply, "expires_at"));
    //  Seven days by default.
    assert_int_equal (fx_count ("SELECT round (extract (epoch FROM expires_at - created_at))"
                                " FROM ledger.redemptions WHERE id = %s",
                                id),
                      7 * 86400);
    json_decref (reply);
    s_assert_points (v, 120, 20);
    assert_int_equal (s_stock (COUNTY, item), 1);
    assert_int_equal (fx_events ("redemption.reserved", id), 1);
    s_audit_ok ();

    //  20 available do not buy one more; nothing changes.
    char *before = s_digest ();
    fx_expect ("too few points", s_reserve (v, item, 1, NULL, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "quantity");
    //  The held points are not the official's to take back either.
    char body[256];
    snprintf (body, sizeof body,
              "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": -30,"
              " \"reason\": \"更正\"}",
              v);
    fx_expect ("a correction of held points",
               fx_call ("ledger", &COUNTY_ADMIN, "ledger.adjust", body, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "amount");
    //  The township's official is not the county store's; the volunteer does not fulfil.
    msg_actor_t self = fx_volunteer (v);
    fx_expect ("another store's fulfil", s_end ("redemption.fulfil", &TOWN_A, id, NULL, &err), &err,
               ST_NOT_FOUND, "id");
    fx_expect ("a volunteer's fulfil", s_end ("redemption.fulfil", &self, id, NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
    fx_unchanged (before, s_digest (), "a refused reservation");

    assert_int_equal (s_end ("redemption.fulfil", &COUNTY_ADMIN, id, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "fulfilled");
    assert_string_equal (fx_str (reply, "ended_by"), "county");
    json_decref (reply);
    s_assert_points (v, 20, 20);
    assert_int_equal (s_stock (COUNTY, item), 1);
    assert_int_equal (fx_events ("redemption.fulfilled", id), 1);
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\", \"unit\": \"points\"}", v);
    json_t *page = fx_call_ok ("ledger", &self, "ledger.journal", body);
    json_t *entry = json_array_get (json_object_get (page, "entries"), 0);
    assert_string_equal (fx_str (entry, "kind"), "redeem");
    assert_int_equal (fx_int (entry, "amount"), -100);
    assert_int_equal (fx_int (entry, "balance_after"), 20);
    json_decref (page);
    assert_int_equal (fx_count ("SELECT balance FROM ledger.accounts WHERE kind = 'redemption'"
                                " AND region = '" COUNTY "'"),
                      100);

    before = s_digest ();
    fx_expect ("a second fulfil", s_end ("redemption.fulfil", &COUNTY_ADMIN, id, NULL, &err), &err,
               ST_CONFLICT, "id");
    fx_expect ("a cancel of a fulfilled one", s_end ("redemption.cancel", &self, id, NULL, &err),
               &err, ST_CONFLICT, "id");
    fx_unchanged (before, s_digest (), "a second end");
    s_audit_ok ();
}

//  Reserve → cancel: points and stock back; a cancelled one is not fulfilled; another
//  volunteer neither sees nor cancels it.
static void
test_reserve_cancel (void **state)
{
    (void) state;
    char v[32], w[32], item[32], id[32], body[128];
    s_volunteer (VILLAGE, 100, v);
    s_volunteer (VILLAGE, 100, w);
    s_item (&TOWN_A, TOWN, "洗衣液", 40, 5, "", item);
    st_error_t err;
    assert_int_equal (s_reserve (v, item, 2, NULL, id, &err), ST_OK);
    s_assert_points (v, 100, 20);
    assert_int_equal (s_stock (TOWN, item), 3);

    msg_actor_t self = fx_volunteer (v), other = fx_volunteer (w);
    char *before = s_digest ();
    fx_expect ("another volunteer's cancel", s_end ("redemption.cancel", &other, id, NULL, &err),
               &err, ST_NOT_FOUND, "id");
    fx_expect ("another township's cancel", s_end ("redemption.cancel", &TOWN_B, id, NULL, &err),
               &err, ST_NOT_FOUND, "id");
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\"}", v);
    fx_expect ("another volunteer's redemptions",
               fx_call ("ledger", &other, "redemption.list", body, NULL, &err), &err, ST_NOT_FOUND,
               "volunteer_id");
    fx_unchanged (before, s_digest (), "a refused cancel");
    json_t *page = fx_call_ok ("ledger", &other, "redemption.list", "{}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 0);
    json_decref (page);
    //  An official with no valid region sees nothing, rather than everything.
    msg_actor_t nowhere = {.account = "nowhere", .role = "region_admin", .region = ""};
    fx_expect ("an official of no region",
               fx_call ("ledger", &nowhere, "redemption.list", "{}", NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor.region");
    page = fx_call_ok ("ledger", &TOWN_B, "redemption.list", "{\"status\": \"reserved\"}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 0);
    json_decref (page);
    page = fx_call_ok ("ledger", &self, "redemption.list", "{}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    assert_string_equal (fx_str (json_array_get (json_object_get (page, "items"), 0), "id"), id);
    json_decref (page);

    json_t *reply;
    assert_int_equal (s_end ("redemption.cancel", &self, id, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "cancelled");
    json_decref (reply);
    s_assert_points (v, 100, 100);
    assert_int_equal (s_stock (TOWN, item), 5);
    assert_int_equal (fx_events ("redemption.cancelled", id), 1);
    before = s_digest ();
    fx_expect ("a fulfil of a cancelled one", s_end ("redemption.fulfil", &TOWN_A, id, NULL, &err),
               &err, ST_CONFLICT, "id");
    fx_expect ("a second cancel", s_end ("redemption.cancel", &TOWN_A, id, NULL, &err), &err,
               ST_CONFLICT, "id");
    fx_unchanged (before, s_digest (), "an end of a cancelled one");
    //  An official cancels too: the township's, for a volunteer of theirs.
    assert_int_equal (s_reserve (w, item, 1, NULL, id, &err), ST_OK);
    assert_int_equal (s_end ("redemption.cancel", &TOWN_A, id, NULL, &err), ST_OK);
    s_assert_points (w, 100, 100);
    s_audit_ok ();
}

//  Every bad reservation is refused naming its field and changes nothing.
static void
test_reserve_refusals (void **state)
{
    (void) state;
    char v[32], poor[32], limited[32], gone[32], scarce[32], far[32], id[32], body[128];
    s_volunteer (VILLAGE, 200, v);
    s_volunteer (VILLAGE, 0, poor);
    s_item (&TOWN_A, TOWN, "理发 (限购)", 10, 50,
            ", \"limit_quantity\": 2, \"limit_period\": \"quarter\"", limited);
    s_item (&TOWN_A, TOWN, "下架商品", 10, 50, "", gone);
    s_item (&TOWN_A, TOWN, "紧俏商品", 10, 1, "", scarce);
    s_item (&TOWN_B, OTHER, "别镇商品", 10, 50, "", far);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"withdrawn\"}", gone);
    json_decref (fx_call_ok ("ledger", &TOWN_A, "item.update", body));
    st_error_t err;
    assert_int_equal (s_reserve (v, limited, 2, NULL, id, &err), ST_OK);

    char *before = s_digest ();
    fx_expect ("over the limit", s_reserve (v, limited, 1, NULL, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "quantity");
    //  One who never had a point (no points account yet) is refused for want of them.
    fx_expect ("no points ever", s_reserve (poor, limited, 1, NULL, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "quantity");
    fx_expect ("a withdrawn item", s_reserve (v, gone, 1, NULL, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "item_id");
    fx_expect ("out of stock", s_reserve (v, scarce, 2, NULL, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "quantity");
    fx_expect ("another township's item", s_reserve (v, far, 1, NULL, NULL, &err), &err,
               ST_NOT_FOUND, "item_id");
    fx_expect ("no such item", s_reserve (v, "999999", 1, NULL, NULL, &err), &err, ST_NOT_FOUND,
               "item_id");
    fx_expect ("a malformed item", s_reserve (v, "x1", 1, NULL, NULL, &err), &err, ST_NOT_FOUND,
               "item_id");
    msg_actor_t self = fx_volunteer (v);
    const char *quantities[] = {"0", "-1", "1001"};
    for (size_t i = 0; i < 3; i++) {
        snprintf (body, sizeof body, "{\"item_id\": \"%s\", \"quantity\": %s}", scarce,
                  quantities[i]);
        fx_expect (body, fx_call_raw ("ledger", &self, "redemption.reserve", body, NULL, &err),
                   &err, ST_INVALID_ARGUMENT, "quantity");
    }
    snprintf (body, sizeof body, "{\"item_id\": \"%s\", \"quantity\": 1}", scarce);
    fx_expect ("an official's reservation",
               fx_call ("ledger", &TOWN_A, "redemption.reserve", body, NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
    fx_unchanged (before, s_digest (), "a refused reservation");

    //  A cancelled reservation gives its place under the limit back.
    assert_int_equal (s_end ("redemption.cancel", &self, id, NULL, &err), ST_OK);
    assert_int_equal (s_reserve (v, limited, 2, NULL, NULL, &err), ST_OK);
    s_audit_ok ();
}

//  A reservation not fulfilled in its region's time is voided by one of the two ledgers'
//  tickers, once: points and stock back, redemption.expired published once.
static void
test_expiry (void **state)
{
    (void) state;
    char v[32], item[32], id[32], keep[32];
    s_volunteer (VILLAGE, 100, v);
    json_t *settings = fx_call_ok ("ledger", &TOWN_A, "store.settings.set",
                                   "{\"region\": \"" TOWN "\", \"hold_s\": 1}");
    assert_int_equal (fx_int (settings, "hold_s"), 1);
    json_decref (settings);
    //  Inherited below, not above.
    settings =
        fx_call_ok ("ledger", &TOWN_A, "store.settings.get", "{\"region\": \"" VILLAGE "\"}");
    assert_int_equal (fx_int (settings, "hold_s"), 1);
    assert_string_equal (fx_str (settings, "from_region"), TOWN);
    json_decref (settings);
    settings =
        fx_call_ok ("ledger", &COUNTY_ADMIN, "store.settings.get", "{\"region\": \"" COUNTY "\"}");
    assert_int_equal (fx_int (settings, "hold_s"), 7 * 86400);
    json_decref (settings);
    st_error_t err;
    fx_expect ("another township's setting",
               fx_call ("ledger", &TOWN_B, "store.settings.set",
                        "{\"region\": \"" TOWN "\", \"hold_s\": 5}", NULL, &err),
               &err, ST_PERMISSION_DENIED, "region");

    s_item (&TOWN_A, TOWN, "鸡蛋", 30, 4, "", item);
    char county_item[32];
    s_item (&COUNTY_ADMIN, COUNTY, "毛巾", 10, 4, "", county_item);
    assert_int_equal (s_reserve (v, item, 2, NULL, id, &err), ST_OK);
    assert_int_equal (s_reserve (v, county_item, 1, NULL, keep, &err), ST_OK); //  7 days
    s_assert_points (v, 100, 30);
    fx_wait_for (1, "SELECT count (*) FROM ledger.redemptions WHERE id = %s AND status = 'expired'",
                 id);
    s_assert_points (v, 100, 90);
    assert_int_equal (s_stock (TOWN, item), 4);
    fx_expect ("a fulfil of an expired one", s_end ("redemption.fulfil", &TOWN_A, id, NULL, &err),
               &err, ST_CONFLICT, "id");
    //  Both tickers had their turn since: still one event, and the other reservation holds.
    fx_sleep_ms (1500);
    fx_wait_for (0, "SELECT count (*) FROM ledger.outbox WHERE seq IS NULL");
    assert_int_equal (fx_events ("redemption.expired", id), 1);
    assert_int_equal (fx_events ("redemption.expired", NULL), 1);
    msg_actor_t self = fx_volunteer (v);
    char body[64];
    snprintf (body, sizeof body, "{\"status\": \"expired\"}");
    json_t *page = fx_call_ok ("ledger", &self, "redemption.list", body);
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    assert_string_equal (fx_str (json_array_get (json_object_get (page, "items"), 0), "ended_by"),
                         "ledger");
    json_decref (page);
    assert_int_equal (s_end ("redemption.cancel", &self, keep, NULL, &err), ST_OK);
    json_decref (fx_call_ok ("ledger", &TOWN_A, "store.settings.set",
                             "{\"region\": \"" TOWN "\", \"hold_s\": 604800}"));
    s_audit_ok ();
}

//  The audit recomputes what each account holds from the open holds: a pending that
//  disagrees is a difference.
static void
test_audit_holds (void **state)
{
    (void) state;
    char v[32], item[32], id[32];
    s_volunteer (VILLAGE, 100, v);
    s_item (&COUNTY_ADMIN, COUNTY, "肥皂", 10, 10, "", item);
    st_error_t err;
    assert_int_equal (s_reserve (v, item, 3, NULL, id, &err), ST_OK);
    s_audit_ok ();
    //  Behind the ledger's back: one point more held than any hold says.
    const char *account = "(SELECT id FROM ledger.accounts WHERE volunteer_id = %s"
                          " AND kind = 'volunteer' AND unit = 'points')";
    char sql[256];
    snprintf (sql, sizeof sql, account, v);
    fx_sql ("UPDATE ledger.accounts SET pending = pending + 1 WHERE id = %s", sql);
    json_t *audit = fx_call_ok ("ledger", &FX_SYSTEM, "ledger.audit", "{}");
    assert_true (json_is_false (json_object_get (audit, "ok")));
    json_t *differences = json_object_get (audit, "differences");
    assert_int_equal (json_array_size (differences), 1);
    assert_int_equal (fx_int (json_array_get (differences, 0), "pending"), 31);
    assert_int_equal (fx_int (json_array_get (differences, 0), "held"), 30);
    json_decref (audit);
    fx_sql ("UPDATE ledger.accounts SET pending = pending - 1 WHERE id = %s", sql);
    //  The database refuses a hold past the balance, whatever path it takes.
    PGresult *res =
        PQexec (harness_pg (fx_harness ()), "UPDATE ledger.accounts SET pending = balance + 1"
                                            " WHERE volunteer_id IS NOT NULL AND unit = 'points'");
    assert_int_equal (PQresultStatus (res), PGRES_FATAL_ERROR);
    assert_string_equal (PQresultErrorField (res, PG_DIAG_CONSTRAINT_NAME),
                         "accounts_available_not_negative");
    PQclear (res);
    res = PQexec (harness_pg (fx_harness ()), "UPDATE ledger.items SET stock = stock - 1000");
    assert_int_equal (PQresultStatus (res), PGRES_FATAL_ERROR);
    assert_string_equal (PQresultErrorField (res, PG_DIAG_CONSTRAINT_NAME),
                         "items_stock_not_negative");
    PQclear (res);
    msg_actor_t self = fx_volunteer (v);
    assert_int_equal (s_end ("redemption.cancel", &self, id, NULL, &err), ST_OK);
    s_audit_ok ();
}

//  ---------------------------------------------------------------------------------------
//  The rush: 200 rpc clients at once, half on each ledger process

typedef struct {
    st_client_t *client;
    char volunteer[16];
    const char *item;
    pthread_barrier_t *start;
    st_status_t rc;
    st_error_t err;
} s_rusher_t;

static void *
s_rusher (void *arg)
{
    s_rusher_t *self = arg;
    msg_actor_t actor = fx_volunteer (self->volunteer);
    msg_redemption_reserve_t request = {
        .item_id = (char *) self->item, .quantity = 1, .has_quantity = true};
    msg_redemption_t reply = {0};
    pthread_barrier_wait (self->start);
    self->rc = st_client_call (self->client, "redemption.reserve", &actor, NULL,
                               &msg_redemption_reserve_desc, &request, &msg_redemption_desc, &reply,
                               FX_CALL_MS, &self->err);
    st_msg_clear (&msg_redemption_desc, &reply);
    return NULL;
}

//  RUSH reservations at once of `item`, the i-th by volunteer first + i / each, from a client
//  of each ledger process in turn; returns how many were reserved, and fails the test unless
//  every other was refused with failed_precondition naming quantity.
static int
s_rush (const char *item, int first, int each)
{
    pthread_barrier_t start;
    pthread_barrier_init (&start, NULL, RUSH);
    s_rusher_t *rushers = calloc (RUSH, sizeof *rushers);
    pthread_t *threads = calloc (RUSH, sizeof *threads);
    //  The clients are made here (the harness is not thread-safe), half of them of each
    //  ledger process, and each is then used by its thread alone.
    for (int i = 0; i < RUSH; i++) {
        rushers[i].client = i % 2
                                ? harness_client_at (fx_harness (), "ledger", s_replica, "gateway")
                                : harness_client (fx_harness (), "ledger", "gateway");
        st_client_set_retry (rushers[i].client, 10000);
        snprintf (rushers[i].volunteer, sizeof rushers[i].volunteer, "%d", first + i / each);
        rushers[i].item = item;
        rushers[i].start = &start;
    }
    int64_t began = st_clock_ms ();
    for (int i = 0; i < RUSH; i++)
        assert_int_equal (pthread_create (&threads[i], NULL, s_rusher, &rushers[i]), 0);
    for (int i = 0; i < RUSH; i++)
        pthread_join (threads[i], NULL);
    print_message ("%d reservations from %d rpc clients on two ledgers in %lld ms\n", RUSH, RUSH,
                   (long long) (st_clock_ms () - began));
    pthread_barrier_destroy (&start);
    int reserved = 0;
    for (int i = 0; i < RUSH; i++) {
        st_client_destroy (&rushers[i].client);
        if (rushers[i].rc == ST_OK)
            reserved++;
        else if (rushers[i].rc != ST_FAILED_PRECONDITION
                 || strcmp (rushers[i].err.field, "quantity") != 0)
            fail_msg ("volunteer %s: %s naming \"%s\": %s", rushers[i].volunteer,
                      st_status_name (rushers[i].rc), rushers[i].err.field, rushers[i].err.message);
    }
    free (rushers);
    free (threads);
    return reserved;
}

//  200 volunteers with points for exactly one, 10 in stock: exactly 10 reserved, whichever
//  process answered, no account below zero; then 50 of those who still have their points
//  ask 4 times at once each for an item in plenty: exactly one each.
static void
test_rush (void **state)
{
    (void) state;
    //  Volunteers as registry's events would place them in the ledger (200 registrations
    //  through registry would only slow the test), each given 50 points by an official.
    fx_sql ("INSERT INTO ledger.volunteers (id, region, registry_seq)"
            " SELECT g, '" VILLAGE "', 0 FROM generate_series (%d, %d) g",
            RUSH_ID, RUSH_ID + RUSH - 1);
    for (int i = 0; i < RUSH; i++) {
        char id[16];
        snprintf (id, sizeof id, "%d", RUSH_ID + i);
        fx_ledger_adjust (&FX_SYSTEM, id, "points", 50, "积分超市测试");
    }
    char box[32], plenty[32];
    s_item (&COUNTY_ADMIN, COUNTY, "大米 5 kg", 50, RUSH_BOX, "", box);
    s_item (&COUNTY_ADMIN, COUNTY, "牙膏", 50, 1000, "", plenty);

    int events = fx_events ("redemption.reserved", NULL);
    assert_int_equal (s_rush (box, RUSH_ID, 1), RUSH_BOX);
    assert_int_equal (s_stock (COUNTY, box), 0);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.redemptions WHERE item_id = %s", box),
                      RUSH_BOX);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.accounts WHERE volunteer_id"
                                " IS NOT NULL AND (balance < 0 OR balance < pending)"),
                      0);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.accounts WHERE volunteer_id"
                                " BETWEEN %d AND %d AND unit = 'points' AND pending = 50",
                                RUSH_ID, RUSH_ID + RUSH - 1),
                      RUSH_BOX);
    assert_int_equal (fx_events ("redemption.reserved", NULL), events + RUSH_BOX);
    s_audit_ok ();

    //  Fifty in a row none of whom holds a reservation.
    int first = RUSH_ID;
    while (fx_count ("SELECT count (*) FROM ledger.redemptions WHERE item_id = %s AND"
                     " volunteer_id BETWEEN %d AND %d",
                     box, first, first + RUSH / 4 - 1)
           > 0)
        first += RUSH / 4;
    assert_true (first + RUSH / 4 - 1 < RUSH_ID + RUSH);
    assert_int_equal (s_rush (plenty, first, 4), RUSH / 4);
    assert_int_equal (fx_count ("SELECT count (DISTINCT volunteer_id) FROM ledger.redemptions"
                                " WHERE item_id = %s",
                                plenty),
                      RUSH / 4);
    assert_int_equal (s_stock (COUNTY, plenty), 1000 - RUSH / 4);
    s_audit_ok ();

    //  The operator's command: station store items REGION, station redemptions VOLUNTEER.
    static char out[262144];
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "store", "items", VILLAGE, "--json", NULL), 0);
    json_t *cli = json_loads (out, 0, NULL);
    assert_non_null (cli);
    bool saw = false;
    json_t *items = json_object_get (cli, "items");
    for (size_t i = 0; i < json_array_size (items); i++)
        saw |= strcmp (fx_str (json_array_get (items, i), "id"), box) == 0
               && fx_int (json_array_get (items, i), "stock") == 0;
    assert_true (saw);
    json_decref (cli);
    char volunteer[16];
    snprintf (volunteer, sizeof volunteer, "%d", first);
    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "redemptions", volunteer,
                                   "--status", "reserved", "--json", NULL),
                      0);
    cli = json_loads (out, 0, NULL);
    assert_non_null (cli);
    items = json_object_get (cli, "items");
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (fx_str (json_array_get (items, 0), "item_id"), plenty);
    json_decref (cli);
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "store", "items", VILLAGE, "--above", NULL),
        2);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_item_scope),     cmocka_unit_test (test_reserve_fulfil),
        cmocka_unit_test (test_reserve_cancel), cmocka_unit_test (test_reserve_refusals),
        cmocka_unit_test (test_expiry),         cmocka_unit_test (test_audit_holds),
        cmocka_unit_test (test_rush),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
