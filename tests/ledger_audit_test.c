/*  ledger_audit_test.c — ledger.audit reads the whole journal (minutes at 10,000,000 rows:
    bench_ledger's part "books"), so it runs on a worker thread (ST_OP_SLOW), and the ledger
    answers everyone else meanwhile (issue 20). The audit is held here by a lock on the
    journal, not by its size: while it waits, rules.get and item.list answer; once the lock
    goes, the audit finds the books balanced.  */
#include "fixture.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static msg_actor_t SYSTEM = {.account = "operator-1", .role = "system"};

typedef struct {
    st_client_t *client;
    st_status_t rc;
    bool ok;
    int64_t transfers; //  the journal's rows, as the audit counted them
} s_audit_t;

//  ledger.audit through the operator's own client, as the CLI's `station ledger audit`.
static void *
s_audit (void *arg)
{
    s_audit_t *self = arg;
    msg_empty_t request = {0};
    msg_audit_t reply = {0};
    st_error_t err;
    self->rc = st_client_call (self->client, "ledger.audit", &SYSTEM, NULL, &msg_empty_desc,
                               &request, &msg_audit_desc, &reply, 60000, &err);
    self->ok = self->rc == ST_OK && reply.ok;
    self->transfers = reply.transfers;
    st_msg_clear (&msg_audit_desc, &reply);
    return NULL;
}

static int
s_setup (void **state)
{
    (void) state;
    fx_new ("ledger_audit", FX_REGISTRY | FX_LEDGER);
    fx_county_add ();
    return 0;
}

static void
test_audit_leaves_the_ledger_answering (void **state)
{
    (void) state;
    char v[32];
    fx_volunteer_add ("审计", "431022100201", "[]", "[]", 25.40, 112.95, "", v);
    fx_ledger_wait_volunteer (v);
    fx_ledger_adjust (&FX_SYSTEM, v, "points", 40, "审计测试");
    //  The journal locked: the audit waits on it.
    fx_sql ("BEGIN");
    fx_sql ("LOCK TABLE ledger.transfers IN ACCESS EXCLUSIVE MODE");
    s_audit_t audit = {.client = harness_client (fx_harness (), "ledger", "operator")};
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_audit, &audit), 0);
    fx_wait_for (1, "SELECT count (*) FROM pg_locks WHERE NOT granted"
                    " AND relation = 'ledger.transfers'::regclass");
    //  Meanwhile the ledger answers (5 s is for a loaded machine: without a worker it never
    //  would, until the audit ends).
    msg_actor_t official = fx_admin ("region_admin", "431022100000");
    json_t *reply = NULL;
    st_error_t err;
    st_status_t rules = fx_call_id ("ledger", &official, "rules.get",
                                    "{\"region\": \"431022100201\"}", NULL, 5000, &reply, &err);
    json_decref (reply);
    reply = NULL;
    st_status_t items = fx_call_id ("ledger", &official, "item.list",
                                    "{\"region\": \"431022100000\"}", NULL, 5000, &reply, &err);
    json_decref (reply);
    fx_sql ("COMMIT"); //  the lock let go before any verdict, so that the audit ends
    pthread_join (thread, NULL);
    if (rules != ST_OK || items != ST_OK)
        fail_msg ("while an audit ran: rules.get %s, item.list %s", st_status_name (rules),
                  st_status_name (items));
    st_client_destroy (&audit.client);
    assert_int_equal (audit.rc, ST_OK);
    assert_true (audit.ok);
    assert_int_equal (audit.transfers, fx_count ("SELECT count (*) FROM ledger.transfers"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_audit_leaves_the_ledger_answering)};
    return cmocka_run_group_tests_name ("ledger_audit", tests, s_setup, fx_teardown);
}
