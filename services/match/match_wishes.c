/*  match_wishes.c — micro-wishes (微心愿): a resident posts a small wish, one volunteer claims
    it (of two at once exactly one wins), fulfils it, and the resident confirms.  */
#include "match.h"
#include "match_util.h"
#include "st_checks.h"
#include "st_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ST_MATCH_WISHES_OPS (ST_ROUTE_THUNK)

const st_route_t match_wishes_routes[] = {ST_MATCH_WISHES_OPS (ST_ROUTE_ROW)};
const size_t match_wishes_route_count = sizeof match_wishes_routes / sizeof match_wishes_routes[0];

//  ---------------------------------------------------------------------------------------
//  Wish events

//  Emits a wish.* event from a wish as the reply shows it.
static void
s_emit_wish (st_call_t *call, const char *topic, const msg_wish_t *wish, const char *at)
{
    msg_wish_event_t event = {.id = wish->id,
                              .title = wish->title,
                              .region = wish->region,
                              .resident_id = wish->resident_id,
                              .volunteer_id = wish->volunteer_id,
                              .at = (char *) at};
    //  `event` only borrows: not cleared.
    st_call_emit (call, topic, &msg_wish_event_desc, &event);
}

//  ---------------------------------------------------------------------------------------
//  wish.create — a resident's micro-wish (微心愿)

static void
s_wish_create (st_call_t *call, const msg_wish_create_t *request, msg_wish_t *reply)
{
    const msg_actor_t *actor;
    int64_t resident;
    if (st_require_actor (call, &actor) || match_require_resident (call, actor, &resident)
        || st_require_code (call, "region", request->region)
        || match_require_home (call, resident, "region", request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->title);
    st_params_text (&params, request->description);
    st_params_text (&params, request->region);
    st_params_int (&params, resident);
    if (st_call_exec_reply (call, "wish_insert", &params, &msg_wish_desc, reply) < 0)
        return;
}

//  ---------------------------------------------------------------------------------------
//  wish.claim — a volunteer claims an open wish (认领); of two at once exactly one wins

static void
s_wish_claim (st_call_t *call, const msg_wish_ref_t *request, msg_wish_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer, wish;
    if (st_require_actor (call, &actor) || match_require_volunteer (call, actor, &volunteer)
        || st_require_id (call, "id", "wish", request->id, &wish))
        return;
    st_params_t params = {0};
    st_params_int (&params, wish);
    st_params_int (&params, volunteer);
    PGresult *res;
    if (st_call_exec (call, "wish_claim_run", &params, &res))
        return;
    const char *outcome = PQgetvalue (res, 0, 0), *detail = PQgetvalue (res, 0, 1);
    if (strcmp (outcome, "no_wish") == 0)
        st_call_fail (call, ST_NOT_FOUND, "id", "no wish has id \"%s\"", request->id);
    else if (strcmp (outcome, "state") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "status", "wish \"%s\" is %s, not open",
                      request->id, detail);
    else if (strcmp (outcome, "no_volunteer") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "actor.volunteer_id",
                      "volunteer \"%s\" is not known to match yet", actor->volunteer_id);
    else if (strcmp (outcome, "inactive") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "actor.volunteer_id",
                      "volunteer \"%s\" is %s, not active", actor->volunteer_id, detail);
    else if (strcmp (outcome, "claimed") != 0)
        st_call_fail (call, ST_INTERNAL, NULL, "unknown claim outcome \"%s\"", outcome);
    PQclear (res);
    if (st_call_failed (call) || match_exec_id (call, "wish_get", wish, &res))
        return;
    st_row_to_msg (res, 0, &msg_wish_desc, reply);
    PQclear (res);
    s_emit_wish (call, "wish.claimed", reply, reply->claimed_at);
}

//  Locks a wish for a change by `statement` (wish_fulfil, wish_confirm), which it takes from
//  state `from`; `owner` is the id the actor must match in column `owner_col` (0 for the
//  system, who may do anything). Fills the reply with the changed wish.
static void
s_wish_advance (st_call_t *call, const msg_wish_ref_t *request, const char *statement,
                const char *from, const char *owner_col, int64_t owner, msg_wish_t *reply)
{
    int64_t wish;
    PGresult *res;
    if (st_require_id (call, "id", "wish", request->id, &wish)
        || match_exec_id (call, "wish_lock", wish, &res))
        return;
    if (PQntuples (res) == 0) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "id", "no wish has id \"%s\"", request->id);
        return;
    }
    bool has_owner = !st_row_null (res, 0, owner_col);
    bool mine = owner == 0 || (has_owner && st_row_int (res, 0, owner_col) == owner);
    char status[16];
    snprintf (status, sizeof status, "%s", st_row_text (res, 0, "status"));
    PQclear (res);
    if (has_owner && !mine) {
        st_call_fail (call, ST_PERMISSION_DENIED, "actor",
                      strcmp (owner_col, "volunteer_id") == 0
                          ? "wish \"%s\" was claimed by another volunteer"
                          : "wish \"%s\" was posted by another resident",
                      request->id);
        return;
    }
    if (strcmp (status, from) != 0) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "status", "wish \"%s\" is %s, not %s",
                      request->id, status, from);
        return;
    }
    if (match_exec_id (call, statement, wish, &res))
        return;
    st_row_to_msg (res, 0, &msg_wish_desc, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  wish.fulfil — the claimant has fulfilled the wish

static void
s_wish_fulfil (st_call_t *call, const msg_wish_ref_t *request, msg_wish_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer = 0;
    if (st_require_actor (call, &actor)
        || (!st_actor_is_system (actor) && match_require_volunteer (call, actor, &volunteer)))
        return;
    s_wish_advance (call, request, "wish_fulfil", "claimed", "volunteer_id", volunteer, reply);
    if (!st_call_failed (call))
        s_emit_wish (call, "wish.fulfilled", reply, reply->fulfilled_at);
}

//  ---------------------------------------------------------------------------------------
//  wish.confirm — the resident who posted the wish confirms it was fulfilled

static void
s_wish_confirm (st_call_t *call, const msg_wish_ref_t *request, msg_wish_t *reply)
{
    const msg_actor_t *actor;
    int64_t resident = 0;
    if (st_require_actor (call, &actor)
        || (!st_actor_is_system (actor) && match_require_resident (call, actor, &resident)))
        return;
    s_wish_advance (call, request, "wish_confirm", "fulfilled", "resident_id", resident, reply);
}
