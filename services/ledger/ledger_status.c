/*  ledger_status.c — what the ledger keeps of registry's volunteers: their region and their
    status (active, suspended, left) from volunteer.registered, .updated and .status_changed.
    A volunteer who is suspended or left keeps their books, statement and journal, and what
    they earned before is still posted; rankings show only active volunteers. A completion
    naming a volunteer registry never told the ledger of is parked as a dead letter with that
    reason; when registry's event for them comes (the two feeds are read apart, so it may come
    later) the parked completions are applied again and leave the dead letters.  */
#include "ledger.h"
#include "st_checks.h"
#include "st_log.h"
#include "st_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The reason a completion naming volunteer `id`, unknown to the ledger, is parked with.
static void
s_unknown_reason (const char *id, char reason[96])
{
    snprintf (reason, 96, "volunteer \"%s\" is not known to the ledger: registry never told it",
              id);
}

st_status_t
ledger_volunteer_require (st_db_t *db, int64_t volunteer, const char *id, st_error_t *err)
{
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "ledger_volunteer_registered", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    bool registered = st_row_bool (res, 0, "registered");
    PQclear (res);
    return registered ? ST_OK : ledger_volunteer_unknown (id, err);
}

st_status_t
ledger_volunteer_unknown (const char *id, st_error_t *err)
{
    char reason[96];
    s_unknown_reason (id, reason);
    return st_error_set (err, ST_FAILED_PRECONDITION, "volunteer_id", "%s", reason);
}

//  Applies again match's events parked because volunteer `id` was not known, each in a
//  savepoint of its own: one that fails again stays parked and the rest go on.
static st_status_t
s_replay (st_db_t *db, const char *id, st_error_t *err)
{
    char reason[96];
    s_unknown_reason (id, reason);
    st_params_t params = {0};
    st_params_text (&params, reason);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "ledger_parked_for", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    for (int i = 0; rc == ST_OK && i < PQntuples (res); i++) {
        const char *topic = st_row_text (res, i, "topic");
        int64_t seq = st_row_int (res, i, "seq");
        const st_event_desc_t *desc = st_proto_event (topic);
        const st_subscription_t *sub = NULL;
        for (size_t s = 0; s < ledger_match_subscription_count; s++)
            if (strcmp (ledger_match_subscriptions[s].topic, topic) == 0)
                sub = &ledger_match_subscriptions[s];
        if (!desc || !sub)
            continue;
        size_t size;
        unsigned char *bytes =
            PQunescapeBytea ((const unsigned char *) st_row_text (res, i, "body"), &size);
        void *body = calloc (1, desc->body->size);
        st_error_t why = {0};
        if (!bytes || !body || st_decode (desc->body, bytes, size, body, &why)) {
            PQfreemem (bytes);
            free (body);
            continue;
        }
        PQfreemem (bytes);
        rc = st_db_run (db, "SAVEPOINT replay", err);
        if (rc == ST_OK) {
            st_status_t applied = sub->apply (db, topic, body, seq, &why);
            if (applied == ST_OK) {
                st_params_int (&params, seq);
                rc = st_db_exec (db, "ledger_parked_done", &params, NULL, err);
                st_params_clear (&params);
                if (rc == ST_OK)
                    rc = st_db_run (db, "RELEASE SAVEPOINT replay", err);
                st_info ("parked event match #%lld (%s) applied: volunteer %s is known now",
                         (long long) seq, topic, id);
            } else if (applied == ST_UNAVAILABLE || st_db_retryable (db))
                rc = st_error_set (err, ST_UNAVAILABLE, NULL, "%s", why.message);
            else
                rc = st_db_run (db, "ROLLBACK TO SAVEPOINT replay", err);
        }
        st_msg_clear (desc->body, body);
        free (body);
    }
    PQclear (res);
    return rc;
}

st_status_t
ledger_volunteer_status (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                         st_error_t *err)
{
    (void) topic;
    const msg_volunteer_registered_t *body = body_;
    int64_t id;
    if (!st_parse_id (body->id, &id))
        return st_error_set (err, ST_INVALID_ARGUMENT, "id", "volunteer id \"%s\" is not a number",
                             body->id);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, body->region);
    st_params_int (&params, seq);
    st_params_text (&params, body->status);
    st_status_t rc = st_db_exec (db, "ledger_volunteer_status", &params, NULL, err);
    st_params_clear (&params);
    return rc == ST_OK ? s_replay (db, body->id, err) : rc;
}
