/*  match_server.c — the match service's ops and the events it applies  */
#include "match_server.h"

#include <stdlib.h>
#include <string.h>

ST_MATCH_OPS (ST_ROUTE_THUNK)

const st_route_t match_routes[] = {ST_MATCH_OPS (ST_ROUTE_ROW)};
const size_t match_route_count = sizeof match_routes / sizeof match_routes[0];

//  ---------------------------------------------------------------------------------------
//  supply.stats — the supply replica within a region subtree

static void
s_supply_stats (st_call_t *call, const msg_supply_stats_t *request, msg_supply_t *reply)
{
    const char *region = request->region ? request->region : "";
    for (const char *p = region; *p; p++)
        if (*p < '0' || *p > '9') {
            st_call_fail (call, ST_INVALID_ARGUMENT, "region",
                          "\"region\" must be a statistical division code");
            return;
        }
    st_params_t params = {0};
    st_params_text (&params, region);
    PGresult *res;
    if (st_call_exec (call, "supply_stats", &params, &res))
        return;
    reply->volunteers = atoll (PQgetvalue (res, 0, 0));
    reply->active = atoll (PQgetvalue (res, 0, 1));
    reply->registry_seq = atoll (PQgetvalue (res, 0, 2));
    reply->has_volunteers = reply->has_active = reply->has_registry_seq = true;
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  Registry's events

static st_status_t
s_volunteer_registered (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                        st_error_t *err)
{
    const msg_volunteer_registered_t *body = body_;
    char *end;
    long long id = strtoll (body->id, &end, 10);
    if (*end || id <= 0)
        return st_error_set (err, ST_INVALID_ARGUMENT, "id", "volunteer id \"%s\" is not a number",
                             body->id);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, body->name);
    st_params_text (&params, body->region);
    st_params_text_array (&params, body->skills.items, body->skills.count);
    st_params_text (&params, body->gender);
    if (body->has_birth_year)
        st_params_int (&params, body->birth_year);
    else
        st_params_text (&params, NULL);
    st_params_text (&params, body->status);
    st_params_int (&params, seq);
    st_status_t rc = st_db_exec (db, "supply_upsert", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

const st_subscription_t match_registry_subscriptions[] = {
    {"volunteer.registered", s_volunteer_registered},
};
const size_t match_registry_subscription_count =
    sizeof match_registry_subscriptions / sizeof match_registry_subscriptions[0];
