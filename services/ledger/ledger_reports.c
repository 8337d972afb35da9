/*  ledger_reports.c — what the books add up to: rankings of a region subtree's volunteers by
    hours or points for a month, quarter or year (open to anyone signed in within the region:
    the yearly awards are public; only volunteer ids and amounts, never personal data, only
    active volunteers), and a region's figures for officials in scope (hours, points issued,
    spent, expired, redemptions). Manual entries are shown apart in both.  */
#include "ledger.h"
#include "st_checks.h"
#include "st_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ST_LEDGER_REPORTS_OPS (ST_ROUTE_THUNK)

const st_route_t ledger_reports_routes[] = {ST_LEDGER_REPORTS_OPS (ST_ROUTE_ROW)};
const size_t ledger_reports_route_count =
    sizeof ledger_reports_routes / sizeof ledger_reports_routes[0];

static const char *const s_periods[] = {"month", "quarter", "year", NULL};
static const char *const s_bys[] = {"hours", "points", NULL};

//  A day YYYY-MM-DD that is on the calendar (2000 to 2199). Fails the call naming `field`.
static int
s_require_day (st_call_t *call, const char *field, const char *text)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year = 0, month = 0, day = 0, end = 0;
    if (strlen (text) != 10 || text[4] != '-' || text[7] != '-'
        || sscanf (text, "%4d-%2d-%2d%n", &year, &month, &day, &end) != 3 || end != 10
        || year < 2000 || year > 2199 || month < 1 || month > 12 || day < 1 || day > days[month - 1]
        || (month == 2 && day == 29 && (year % 4 != 0 || (year % 100 == 0 && year % 400 != 0))))
        return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                             "\"%s\" is no day of the calendar (YYYY-MM-DD)", text);
    return 0;
}

//  Whether the actor may read a ranking of `region`: the system; an official whose scope holds
//  it or who stands inside it; a volunteer the ledger places inside it. Permission denied
//  naming region otherwise.
static int
s_require_within (st_call_t *call, const msg_actor_t *actor, const char *region)
{
    if (st_actor_is_system (actor)
        || (st_actor_is_official (actor) && actor->region
            && (st_actor_in_scope (actor, region) || st_region_within (region, actor->region))))
        return 0;
    int64_t id;
    if (actor->volunteer_id && st_parse_id (actor->volunteer_id, &id)) {
        st_params_t params = {0};
        st_params_int (&params, id);
        PGresult *res;
        if (st_call_exec (call, "ledger_volunteer_known", &params, &res))
            return -1;
        bool within = st_region_within (region, st_row_text (res, 0, "region"));
        PQclear (res);
        if (within)
            return 0;
    }
    return st_call_fail (call, ST_PERMISSION_DENIED, "region",
                         "rankings of region \"%s\" are for those signed in within it", region);
}

//  ---------------------------------------------------------------------------------------
//  ranking.list

static void
s_ranking_list (st_call_t *call, const msg_ranking_query_t *request, msg_ranking_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t offset = 0;
    if (st_require_actor (call, &actor) || st_require_code (call, "region", request->region)
        || st_require_one_of (call, "period", request->period, s_periods)
        || st_require_one_of (call, "by", request->by, s_bys)
        || (request->at && s_require_day (call, "at", request->at)))
        return;
    if (request->cursor && !st_parse_id (request->cursor, &offset)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "cursor", "cursor \"%s\" is not one we gave",
                      request->cursor);
        return;
    }
    if (s_require_within (call, actor, request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->period);
    st_params_text (&params, request->at);
    PGresult *res;
    if (st_call_exec (call, "ledger_period", &params, &res))
        return;
    reply->from = strdup (st_row_text (res, 0, "from"));
    reply->to = strdup (st_row_text (res, 0, "to"));
    PQclear (res);
    reply->region = strdup (request->region);
    reply->period = strdup (request->period);
    reply->by = strdup (request->by);
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_text (&params, prefix);
    st_params_text (&params, request->by);
    st_params_text (&params, reply->from);
    st_params_text (&params, reply->to);
    st_params_int (&params, offset);
    st_params_int (&params, limit);
    if (st_call_exec (call, "ledger_ranking", &params, &res))
        return;
    st_rows_to_list (res, &msg_ranking_entry_desc, (st_list_t *) &reply->items, &reply->has_items);
    if (PQntuples (res) == limit) {
        char next[24];
        snprintf (next, sizeof next, "%lld", (long long) (offset + limit));
        reply->next_cursor = strdup (next);
    }
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  ledger.stats

static void
s_ledger_stats (st_call_t *call, const msg_ledger_stats_query_t *request, msg_ledger_stats_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region)
        || s_require_day (call, "from", request->from) || s_require_day (call, "to", request->to))
        return;
    if (strcmp (request->from, request->to) > 0) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "to", "the period ends (%s) before it starts (%s)",
                      request->to, request->from);
        return;
    }
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    st_params_t params = {0};
    st_params_text (&params, prefix);
    st_params_text (&params, request->from);
    st_params_text (&params, request->to);
    if (st_call_exec_reply (call, "ledger_stats", &params, &msg_ledger_stats_desc, reply))
        return;
    reply->region = strdup (request->region);
    reply->from = strdup (request->from);
    reply->to = strdup (request->to);
}
