/*  ledger_books.c — the books as people see them: a volunteer's statement and journal (the
    volunteer their own, an official their region's subtree, the system any; anyone else's
    reads as not found), an official's adjustment (manual, with a reason, capped per
    volunteer and day, a correction a reversing transfer), and the audit that recomputes
    every balance from the journal.  */
#include "ledger.h"
#include "st_checks.h"
#include "st_rows.h"

#include <stdlib.h>
#include <string.h>

ST_LEDGER_BOOKS_OPS (ST_ROUTE_THUNK)

const st_route_t ledger_books_routes[] = {ST_LEDGER_BOOKS_OPS (ST_ROUTE_ROW)};
const size_t ledger_books_route_count = sizeof ledger_books_routes / sizeof ledger_books_routes[0];

static const char *const s_units[] = {"hours", "points", NULL};

//  Volunteer `text` as one whose books the actor may read: into *id, and their region into
//  `region` (when not NULL). Not found for an id that is no volunteer's the ledger knows,
//  and for one out of the actor's reach.
static int
s_require_volunteer (st_call_t *call, const msg_actor_t *actor, const char *text, int64_t *id,
                     char region[ST_REGION_SIZE])
{
    if (st_require_id (call, "volunteer_id", "volunteer", text, id))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, *id);
    PGresult *res;
    if (st_call_exec (call, "ledger_volunteer_known", &params, &res))
        return -1;
    bool known = st_row_bool (res, 0, "known");
    const char *where = st_row_text (res, 0, "region");
    bool allowed = st_actor_is_system (actor) || st_actor_is_volunteer (actor, text)
                   || (st_actor_is_official (actor) && *where && st_actor_in_scope (actor, where));
    if (region)
        snprintf (region, ST_REGION_SIZE, "%s", where);
    PQclear (res);
    if (!known || !allowed)
        return st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"",
                             text);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  ledger.statement

static void
s_ledger_statement (st_call_t *call, const msg_ledger_volunteer_t *request, msg_statement_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    if (st_require_actor (call, &actor)
        || s_require_volunteer (call, actor, request->volunteer_id, &id, NULL))
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    if (st_call_exec_reply (call, "ledger_statement", &params, &msg_statement_desc, reply) == 0)
        ledger_expiry_statement (call, id, reply);
}

//  ---------------------------------------------------------------------------------------
//  ledger.journal

static void
s_ledger_journal (st_call_t *call, const msg_journal_query_t *request, msg_journal_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t id, cursor = 0;
    if (st_require_actor (call, &actor) || st_require_one_of (call, "unit", request->unit, s_units))
        return;
    if (request->cursor && !st_parse_id (request->cursor, &cursor)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "cursor", "cursor \"%s\" is not one we gave",
                      request->cursor);
        return;
    }
    if (s_require_volunteer (call, actor, request->volunteer_id, &id, NULL))
        return;
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, request->unit);
    st_params_int_or_null (&params, request->cursor != NULL, cursor);
    st_params_int (&params, limit);
    PGresult *res;
    if (st_call_exec (call, "ledger_journal", &params, &res))
        return;
    st_rows_to_list (res, &msg_journal_entry_desc, (st_list_t *) &reply->entries,
                     &reply->has_entries);
    int rows = PQntuples (res);
    if (rows == limit)
        reply->next_cursor = strdup (st_row_text (res, rows - 1, "id"));
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  ledger.adjust

static void
s_ledger_adjust (st_call_t *call, const msg_ledger_adjust_t *request, msg_journal_entry_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    char region[ST_REGION_SIZE];
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_one_of (call, "unit", request->unit, s_units))
        return;
    if (request->amount == 0) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "amount", "an adjustment of 0 changes nothing");
        return;
    }
    if (st_require_id (call, "volunteer_id", "volunteer", request->volunteer_id, &id))
        return;
    bool hours = strcmp (request->unit, "hours") == 0;
    //  Points adjust the volunteer's points; hours their honour hours (back-entered service):
    //  the volunteer's region read, and, when the actor may adjust them, checked against the
    //  cap and the balance and posted, in one statement (adjust, sql/0014_transfers_after.sql).
    char source[64], scope[ST_REGION_SIZE] = "";
    snprintf (source, sizeof source, "rpc/%s", st_call_id (call));
    bool every = st_actor_is_system (actor);
    if (!every && st_region_level (actor->region) >= 0)
        st_region_prefix (actor->region, scope);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, request->unit);
    st_params_int (&params, request->amount);
    st_params_text (&params, source);
    st_params_text (&params, request->reason);
    st_params_text (&params, request->ref);
    st_params_text (&params, actor->account);
    st_params_text (&params, every ? NULL : scope);
    PGresult *res;
    if (st_call_exec (call, "ledger_adjust", &params, &res))
        return;
    //  Not found for an id that is no volunteer's the ledger knows, and for one out of the
    //  actor's reach, as s_require_volunteer answers (the transaction rolls back).
    snprintf (region, sizeof region, "%s", st_row_text (res, 0, "region"));
    bool known = st_row_bool (res, 0, "known");
    if (!known || !st_actor_in_scope (actor, region)) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"",
                      request->volunteer_id);
        return;
    }
    if (!*region) {
        PQclear (res);
        st_call_fail (call, ST_FAILED_PRECONDITION, "volunteer_id",
                      "the region of volunteer \"%s\" is not known yet", request->volunteer_id);
        return;
    }
    if (PQgetisnull (res, 0, PQfnumber (res, "outcome"))) {
        PQclear (res);
        st_call_fail (call, ST_INTERNAL, NULL, "ledger.adjust: the scope checks disagree");
        return;
    }
    const char *outcome = st_row_text (res, 0, "outcome");
    int64_t balance = st_row_int (res, 0, "balance"), cap = st_row_int (res, 0, "cap");
    int64_t used = st_row_int (res, 0, "used"), held = st_row_int (res, 0, "pending");
    int64_t size = llabs (request->amount);
    const char *per = hours ? "minutes" : "points";
    if (strcmp (outcome, "posted") == 0)
        st_row_to_msg (res, 0, &msg_journal_entry_desc, reply);
    else if (strcmp (outcome, "cap") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "amount",
                      "%lld %s more would pass the daily cap of %lld %s adjusted for this"
                      " volunteer (%lld today)",
                      (long long) size, per, (long long) cap, per, (long long) used);
    else if (strcmp (outcome, "balance") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "amount",
                      "a correction of %lld %s would take the balance of %lld below zero",
                      (long long) size, per, (long long) balance);
    //  Points held for a redemption are spoken for.
    else if (strcmp (outcome, "held") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "amount",
                      "a correction of %lld %s would take more than the %lld available: %lld of"
                      " the balance are held for redemptions",
                      (long long) size, per, (long long) (balance - held), (long long) held);
    else
        st_call_fail (call, ST_CONFLICT, "id", "this request was posted already");
    bool posted = strcmp (outcome, "posted") == 0;
    PQclear (res);
    if (!posted)
        return;
    msg_ledger_adjusted_t event = {.volunteer_id = request->volunteer_id,
                                   .unit = request->unit,
                                   .amount = request->amount,
                                   .has_amount = true,
                                   .reason = request->reason,
                                   .by = actor->account,
                                   .balance = reply->balance_after,
                                   .has_balance = true};
    if (st_call_emit (call, "ledger.adjusted", &msg_ledger_adjusted_desc, &event))
        return;
    if (hours) {
        st_error_t err;
        st_status_t rc = ledger_stars (st_call_db (call), id, &err);
        if (rc != ST_OK)
            st_call_fail_db (call, rc, &err);
    }
}

//  ---------------------------------------------------------------------------------------
//  ledger.audit — the operator's proof that the books balance

static void
s_ledger_audit (st_call_t *call, const msg_empty_t *request, msg_audit_t *reply)
{
    (void) request;
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    if (!st_actor_is_system (actor)) {
        st_call_fail (call, ST_PERMISSION_DENIED, "actor.role", "only the system audits the books");
        return;
    }
    PGresult *res;
    st_params_t params = {0};
    if (st_call_exec (call, "ledger_audit_counts", &params, &res))
        return;
    st_row_to_msg (res, 0, &msg_audit_desc, reply);
    PQclear (res);
    if (st_call_exec (call, "ledger_audit_sums", &params, &res))
        return;
    st_rows_to_list (res, &msg_unit_sum_desc, (st_list_t *) &reply->sums, &reply->has_sums);
    bool balanced = true;
    reply->has_transfers = true;
    for (int i = 0; i < PQntuples (res); i++) {
        balanced = balanced && st_row_int (res, i, "sum") == 0;
        reply->transfers += st_row_int (res, i, "transfers");
    }
    PQclear (res);
    if (st_call_exec (call, "ledger_audit_differences", &params, &res))
        return;
    st_rows_to_list (res, &msg_audit_difference_desc, (st_list_t *) &reply->differences,
                     &reply->has_differences);
    reply->ok = balanced && PQntuples (res) == 0 && reply->negative == 0;
    reply->has_ok = true;
    PQclear (res);
}
