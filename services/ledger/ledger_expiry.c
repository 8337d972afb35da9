/*  ledger_expiry.c — points expiry: the worker that expires what is due (on the service's
    ticker, its own thread and connection), and what a statement says of expiry. The rule and
    the lots are in sql/0005_expiry_reports.sql: each credit to a volunteer's points is a lot
    with the last day it is good for, each debit takes the oldest lots first. A batch claims
    volunteers by locking their points account FOR UPDATE SKIP LOCKED, so two ledger processes
    never expire the same points; each expiry is sourced by the volunteer, the day and the
    newest lot, so a batch claimed again after a crash posts nothing new. Each expiry is
    published as points.expired in the same transaction.  */
#include "ledger.h"
#include "ledger_store.h"
#include "st_log.h"
#include "st_rows.h"

#include <stdlib.h>
#include <string.h>

const st_option_t ledger_expiry_options[] = {
    ST_OPTION_WHOLE ("ledger-expiry-ms", "STATION_LEDGER_EXPIRY_MS", "60000", 10, 3600000,
                     "the expiry worker looks for points due at least this often (ms), and"
                     " at each midnight in Asia/Shanghai"),
    ST_OPTION_WHOLE ("ledger-expiry-batch", "STATION_LEDGER_EXPIRY_BATCH", "200", 1, 10000,
                     "volunteers whose due points the expiry worker claims per transaction"),
};
const size_t ledger_expiry_option_count =
    sizeof ledger_expiry_options / sizeof ledger_expiry_options[0];

//  One batch in one transaction: the points due of up to `batch` volunteers expired, each
//  expiry published. Returns how many volunteers' expiries were claimed (rows), or -1.
static int
s_expire_batch (st_db_t *db, int64_t batch)
{
    st_error_t err = {0};
    if (st_db_run (db, "BEGIN", &err) != ST_OK)
        return -1;
    st_params_t params = {0};
    st_params_int (&params, batch);
    PGresult *res = NULL;
    st_status_t rc = st_db_exec (db, "ledger_expire_due", &params, &res, &err);
    st_params_clear (&params);
    int count = rc == ST_OK ? PQntuples (res) : 0;
    for (int i = 0; i < count && rc == ST_OK; i++) {
        msg_points_expired_t event = {0};
        st_row_to_msg (res, i, &msg_points_expired_desc, &event);
        rc = st_outbox_append (db, "points.expired", &msg_points_expired_desc, &event, &err);
        st_msg_clear (&msg_points_expired_desc, &event);
    }
    PQclear (res);
    if (st_db_finish (db, rc, &err, "points expiry"))
        return -1;
    return count;
}

int64_t
ledger_expiry_tick (st_db_t *db, void *state)
{
    const ledger_config_t *config = state;
    ledger_store_prepare (db); //  the ticker's own connection (registering again is a no-op)
    int expired, rounds = 0;
    do
        expired = s_expire_batch (db, config->expiry_batch);
    while (expired >= config->expiry_batch && ++rounds < 100);
    if (expired < 0)
        return 1000; //  the database is away: try again in a second
    st_error_t err;
    PGresult *res;
    if (st_db_exec (db, "ledger_expiry_wait", NULL, &res, &err) != ST_OK)
        return 1000;
    int64_t wait = st_row_int (res, 0, "wait") + 1000;
    PQclear (res);
    return wait;
}

int
ledger_expiry_statement (st_call_t *call, int64_t volunteer, msg_statement_t *reply)
{
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    PGresult *res;
    if (st_call_exec (call, "ledger_statement_expiry", &params, &res))
        return -1;
    st_row_to_msg (res, 0, &msg_statement_desc, reply);
    PQclear (res);
    return 0;
}
