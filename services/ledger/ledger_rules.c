/*  ledger_rules.c — a region's earning rules (rules.get, rules.set): inherited down the region
    tree unless a region sets its own, versioned. rules.set writes a whole new version (what is
    in force at the region, with the fields given changed) effective from now; a record is
    priced by the version in force at its check-out, so a change never reprices the past.
    With no region's own, the national default of sql/0002_books.sql applies.  */
#include "ledger.h"
#include "st_checks.h"
#include "st_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ST_LEDGER_RULES_OPS (ST_ROUTE_THUNK)

const st_route_t ledger_rules_routes[] = {ST_LEDGER_RULES_OPS (ST_ROUTE_ROW)};
const size_t ledger_rules_route_count = sizeof ledger_rules_routes / sizeof ledger_rules_routes[0];

static void
s_rules_get (st_call_t *call, const msg_ledger_region_t *request, msg_ledger_rules_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_code (call, "region", request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->region);
    st_call_exec_reply (call, "ledger_rules_get", &params, &msg_ledger_rules_desc, reply);
}

static const char *const s_expiries[] = {"none", "fixed", "months", NULL};

//  Points expiry as a rule would have it: a kind we know, a fixed day that is a day of the
//  year (MM-DD; 02-29 is the 28th in other years), the months for "months". Fails the call
//  naming the field.
static void
s_check_expiry (st_call_t *call, const msg_ledger_rules_t *rule)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *kind = rule->expiry ? rule->expiry : "none";
    if (st_require_one_of (call, "expiry", kind, s_expiries))
        return;
    int month = 0, day = 0, end = 0;
    const char *md = rule->expiry_day;
    if (md
        && (strlen (md) != 5 || sscanf (md, "%2d-%2d%n", &month, &day, &end) != 2 || end != 5
            || md[2] != '-' || month < 1 || month > 12 || day < 1 || day > days[month - 1]))
        st_call_fail (call, ST_INVALID_ARGUMENT, "expiry_day",
                      "expiry day \"%s\" is no day of the year (MM-DD)", md);
    else if (strcmp (kind, "fixed") == 0 && !md)
        st_call_fail (call, ST_INVALID_ARGUMENT, "expiry_day",
                      "points expiring on a fixed day need the day (MM-DD)");
    else if (strcmp (kind, "months") == 0 && !rule->has_expiry_months)
        st_call_fail (call, ST_INVALID_ARGUMENT, "expiry_months",
                      "points expiring months after earning need how many months");
}

//  A field given in the request replaces the one in force.
#define S_MERGE(name)                                                                              \
    if (request->has_##name)                                                                       \
        now.name = request->name;

static void
s_rules_set (st_call_t *call, const msg_ledger_rules_t *request, msg_ledger_rules_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    if (request->effective_from) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "effective_from",
                      "a rule takes effect when it is set: the past is never repriced");
        return;
    }
    st_params_t params = {0};
    st_params_text (&params, request->region);
    msg_ledger_rules_t now = {0};
    if (st_call_exec_reply (call, "ledger_rules_get", &params, &msg_ledger_rules_desc, &now)) {
        st_msg_clear (&msg_ledger_rules_desc, &now);
        return;
    }
    S_MERGE (points_per_hour)
    S_MERGE (multiplier_1)
    S_MERGE (multiplier_2)
    S_MERGE (multiplier_3)
    S_MERGE (multiplier_4)
    S_MERGE (multiplier_5)
    S_MERGE (cared_bonus)
    S_MERGE (daily_cap)
    S_MERGE (star_1)
    S_MERGE (star_2)
    S_MERGE (star_3)
    S_MERGE (star_4)
    S_MERGE (star_5)
    S_MERGE (adjust_cap_points)
    S_MERGE (adjust_cap_minutes)
    if (request->has_expiry_months) {
        now.expiry_months = request->expiry_months;
        now.has_expiry_months = true;
    }
    if (request->expiry) {
        free (now.expiry);
        now.expiry = strdup (request->expiry);
    }
    if (request->expiry_day) {
        free (now.expiry_day);
        now.expiry_day = strdup (request->expiry_day);
    }
    s_check_expiry (call, &now);
    //  Each star asks for more hours than the one before.
    const int64_t stars[] = {now.star_1, now.star_2, now.star_3, now.star_4, now.star_5};
    for (int i = 1; i < 5 && !st_call_failed (call); i++)
        if (stars[i] <= stars[i - 1]) {
            char field[16];
            snprintf (field, sizeof field, "star_%d", i + 1);
            st_call_fail (call, ST_INVALID_ARGUMENT, field,
                          "%d stars must ask for more hours than %d (%lld h, not %lld h)", i + 1, i,
                          (long long) stars[i - 1], (long long) stars[i]);
        }
    if (!st_call_failed (call)) {
        char prefix[ST_REGION_SIZE];
        st_region_prefix (request->region, prefix);
        st_params_text (&params, request->region);
        st_params_text (&params, prefix);
        st_params_int (&params, now.points_per_hour);
        st_params_int (&params, now.multiplier_1);
        st_params_int (&params, now.multiplier_2);
        st_params_int (&params, now.multiplier_3);
        st_params_int (&params, now.multiplier_4);
        st_params_int (&params, now.multiplier_5);
        st_params_int (&params, now.cared_bonus);
        st_params_int (&params, now.daily_cap);
        for (int i = 0; i < 5; i++)
            st_params_int (&params, stars[i]);
        st_params_int (&params, now.adjust_cap_points);
        st_params_int (&params, now.adjust_cap_minutes);
        st_params_text (&params, actor->account);
        st_params_text (&params, now.expiry ? now.expiry : "none");
        st_params_text (&params, now.expiry_day);
        st_params_int_or_null (&params, now.has_expiry_months, now.expiry_months);
        if (st_call_exec (call, "ledger_rules_insert", &params, NULL) == 0) {
            st_params_text (&params, request->region);
            st_call_exec_reply (call, "ledger_rules_get", &params, &msg_ledger_rules_desc, reply);
        }
    }
    st_msg_clear (&msg_ledger_rules_desc, &now);
}
