/*  match_supply.c — what match keeps of registry's people and places, fed by its events: the
    volunteer supply dispatch and sign-ups match on, where residents live and whether they are
    in a group cared for first, and where sites and local categories belong; supply.stats
    counts the supply.  */
#include "match.h"
#include "match_dispatch_store.h"
#include "st_checks.h"
#include "st_rows.h"

#include <stdlib.h>
#include <string.h>

ST_MATCH_SUPPLY_OPS (ST_ROUTE_THUNK)

const st_route_t match_supply_routes[] = {ST_MATCH_SUPPLY_OPS (ST_ROUTE_ROW)};
const size_t match_supply_route_count = sizeof match_supply_routes / sizeof match_supply_routes[0];

//  ---------------------------------------------------------------------------------------
//  supply.stats — the supply replica within a region subtree

static void
s_supply_stats (st_call_t *call, const msg_supply_stats_t *request, msg_supply_t *reply)
{
    //  An official counts their own subtree (the region asked, or theirs); the system any.
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    const char *region = request->region && *request->region ? request->region : NULL;
    if (!st_actor_is_system (actor)) {
        if (st_require_official (call, actor))
            return;
        if (!region)
            region = actor->region ? actor->region : "";
        if (st_require_code (call, "region", region)
            || st_require_scope (call, actor, "region", region))
            return;
    } else if (region && st_require_code (call, "region", region))
        return;
    if (!region)
        region = ""; //  the system: the whole country
    char prefix[ST_REGION_SIZE];
    st_region_prefix (region, prefix);
    st_params_t params = {0};
    st_params_text (&params, prefix);
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

//  volunteer.registered, volunteer.updated, volunteer.status_changed: each carries the
//  volunteer's whole supply-relevant state, so one upsert serves all three; a late event never
//  overwrites a newer one (registry_seq). A volunteer who is no longer active is released from
//  what dispatch offered them.
static st_status_t
s_volunteer_registered (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                        st_error_t *err)
{
    const msg_volunteer_registered_t *body = body_;
    int64_t id;
    if (!st_parse_id (body->id, &id))
        return st_error_set (err, ST_INVALID_ARGUMENT, "id", "volunteer id \"%s\" is not a number",
                             body->id);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, body->name);
    st_params_text (&params, body->region);
    st_params_text_array (&params, body->skills.items, body->skills.count);
    st_params_text (&params, body->gender);
    st_params_int_or_null (&params, body->has_birth_year, body->birth_year);
    st_params_text (&params, body->status);
    st_params_int (&params, seq);
    if (body->has_categories)
        st_params_text_array (&params, body->categories.items, body->categories.count);
    else
        st_params_null (&params);
    if (body->has_availability)
        st_params_text_array (&params, body->availability.items, body->availability.count);
    else
        st_params_null (&params);
    st_params_double_or_null (&params, body->has_lat, body->lat);
    st_params_double_or_null (&params, body->has_lon, body->lon);
    st_params_text (&params, body->insurance_until);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "supply_upsert", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    //  Applied (not a late event) and no longer active: nobody counts on them any more.
    bool gone = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "active") != 0;
    PQclear (res);
    if (gone)
        rc = match_round_release (db, id, err);
    if (gone && rc == ST_OK)
        rc = match_signups_release (db, id, err);
    return rc;
}

//  resident.registered: where a resident lives and whether a group cared for first.
static st_status_t
s_resident_registered (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                       st_error_t *err)
{
    (void) topic;
    const msg_resident_registered_t *body = body_;
    int64_t id;
    if (!st_parse_id (body->id, &id))
        return st_error_set (err, ST_INVALID_ARGUMENT, "id", "resident id \"%s\" is not a number",
                             body->id);
    match_dispatch_store_prepare (db);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, body->region);
    st_params_double_or_null (&params, body->has_lat, body->lat);
    st_params_double_or_null (&params, body->has_lon, body->lon);
    st_params_text_array (&params, body->care_tags.items, body->care_tags.count);
    st_params_int (&params, seq);
    st_status_t rc = st_db_exec (db, "dispatch_resident_upsert", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

//  site.created: where a practice site is, for the activities that name it.
static st_status_t
s_site_created (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    (void) topic;
    const msg_site_created_t *body = body_;
    return st_event_place (db, "site_upsert", "id", body->id, body->region, seq, err);
}

//  category.created: a category and the region it belongs to (none: national).
static st_status_t
s_category_created (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    (void) topic;
    const msg_category_t *body = body_;
    st_params_t params = {0};
    st_params_text (&params, body->code);
    st_params_text (&params, body->region);
    st_params_int (&params, seq);
    st_status_t rc = st_db_exec (db, "category_upsert", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

//  team.created: a team and where it is, for the teams ranked by hours (stats.teams).
static st_status_t
s_team_created (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    (void) topic;
    const msg_team_created_t *body = body_;
    int64_t id;
    if (!st_parse_id (body->id, &id))
        return st_error_set (err, ST_INVALID_ARGUMENT, "id", "team id \"%s\" is not a number",
                             body->id);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, body->name);
    st_params_text (&params, body->region);
    st_params_int (&params, seq);
    st_status_t rc = st_db_exec (db, "team_upsert", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

//  membership.changed: a volunteer joined a team, changed role in it, or left (no role).
static st_status_t
s_membership_changed (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                      st_error_t *err)
{
    (void) topic;
    const msg_membership_changed_t *body = body_;
    int64_t team, volunteer;
    if (!st_parse_id (body->team_id, &team))
        return st_error_set (err, ST_INVALID_ARGUMENT, "team_id", "team id \"%s\" is not a number",
                             body->team_id);
    if (!st_parse_id (body->volunteer_id, &volunteer))
        return st_error_set (err, ST_INVALID_ARGUMENT, "volunteer_id",
                             "volunteer id \"%s\" is not a number", body->volunteer_id);
    st_params_t params = {0};
    st_params_int (&params, team);
    st_params_int (&params, volunteer);
    st_params_text (&params, body->role && *body->role ? body->role : NULL);
    st_params_int (&params, seq);
    st_status_t rc = st_db_exec (db, "team_member_upsert", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

//  star.reached (the ledger's): the stars sign-ups and dispatch gate min_stars on.
static st_status_t
s_star_reached (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    (void) topic;
    const msg_star_reached_t *body = body_;
    int64_t id;
    if (!st_parse_id (body->volunteer_id, &id))
        return st_error_set (err, ST_INVALID_ARGUMENT, "volunteer_id",
                             "volunteer id \"%s\" is not a number", body->volunteer_id);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_int (&params, body->level);
    st_params_int (&params, seq);
    st_status_t rc = st_db_exec (db, "supply_stars", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

const st_subscription_t match_ledger_subscriptions[] = {
    {"star.reached", s_star_reached},
};
const size_t match_ledger_subscription_count =
    sizeof match_ledger_subscriptions / sizeof match_ledger_subscriptions[0];

const st_subscription_t match_registry_subscriptions[] = {
    {"volunteer.registered", s_volunteer_registered},
    {"volunteer.updated", s_volunteer_registered},
    {"volunteer.status_changed", s_volunteer_registered},
    {"resident.registered", s_resident_registered},
    {"resident.updated", s_resident_registered},
    {"site.created", s_site_created},
    {"category.created", s_category_created},
    {"team.created", s_team_created},
    {"membership.changed", s_membership_changed},
};
const size_t match_registry_subscription_count =
    sizeof match_registry_subscriptions / sizeof match_registry_subscriptions[0];
