/*  registry_outbox_test.c — an outbox append is the insert and little else (issue 24): it
    runs no PL/pgSQL function, yet the relay still hears of every committed transaction that
    appended, once per transaction, whoever wrote the rows (a handler, an SQL statement), and
    numbers them; seq stays unique.  */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define APPEND "INSERT INTO registry.outbox (topic, body) VALUES ('test.outbox', '\\x80')"

static int
s_setup (void **state)
{
    *state = fx_new ("registry_outbox", FX_REGISTRY);
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  The notifications on `channel` the connection holds after waiting up to `ms` for the first.
static int
s_notifications (PGconn *conn, const char *channel, int ms)
{
    int count = 0;
    for (int waited = 0; waited <= ms; waited += 10) {
        PQconsumeInput (conn);
        PGnotify *note;
        while ((note = PQnotifies (conn))) {
            count += strcmp (note->relname, channel) == 0;
            PQfreemem (note);
        }
        if (count)
            break;
        fx_sleep_ms (10);
    }
    //  Whatever else was coming has come.
    fx_sleep_ms (100);
    PQconsumeInput (conn);
    PGnotify *note;
    while ((note = PQnotifies (conn))) {
        count += strcmp (note->relname, channel) == 0;
        PQfreemem (note);
    }
    return count;
}

//  Appending calls no function: the trigger's WHEN clause notifies, its function never runs
static void
test_append_runs_no_function (void **state)
{
    fx_sql ("BEGIN");
    fx_sql ("SET LOCAL track_functions = 'all'");
    fx_sql (APPEND);
    fx_sql (APPEND ", ('test.outbox', '\\x80')");
    long calls = fx_count ("SELECT coalesce (sum (calls), 0) FROM pg_stat_xact_user_functions"
                           " WHERE schemaname = 'registry'");
    fx_sql ("ROLLBACK");
    if (calls != 0)
        fail_msg ("two appends called %ld PL/pgSQL functions", calls);
}

//  A transaction that appended wakes the relay once, however many statements appended; one
//  that rolled back does not; the relay numbers what committed
static void
test_append_wakes_relay (void **state)
{
    PGconn *conn = harness_pg (fx_harness ());
    fx_sql ("LISTEN \"registry.outbox\"");
    s_notifications (conn, "registry.outbox", 0);

    fx_sql (APPEND);
    assert_int_equal (s_notifications (conn, "registry.outbox", 2000), 1);
    fx_sql ("BEGIN");
    fx_sql (APPEND);
    fx_sql (APPEND);
    fx_sql ("COMMIT");
    assert_int_equal (s_notifications (conn, "registry.outbox", 2000), 1);
    fx_sql ("BEGIN");
    fx_sql (APPEND);
    fx_sql ("ROLLBACK");
    assert_int_equal (s_notifications (conn, "registry.outbox", 300), 0);
    fx_sql ("UNLISTEN *");

    fx_wait_for (0, "SELECT count (*) FROM registry.outbox WHERE seq IS NULL");
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.outbox WHERE topic = 'test.outbox'"), 3);
}

//  Two rows cannot hold the same seq
static void
test_seq_unique (void **state)
{
    fx_sql (APPEND);
    fx_wait_for (0, "SELECT count (*) FROM registry.outbox WHERE seq IS NULL");
    PGresult *res = PQexec (harness_pg (fx_harness ()),
                            "UPDATE registry.outbox SET seq = (SELECT max (seq) FROM"
                            " registry.outbox) WHERE id = (SELECT min (id) FROM registry.outbox)");
    const char *state_ = PQresultErrorField (res, PG_DIAG_SQLSTATE);
    assert_non_null (state_);
    assert_string_equal (state_, "23505");
    PQclear (res);
}

//  A relay's pass numbers what is new without reading the events kept (a day of them): the
//  rows to number come from the index of unsequenced rows, each is then found by its key
static void
test_sequence_reads_only_new_rows (void **state)
{
    fx_sql ("INSERT INTO registry.outbox (topic, body)"
            " SELECT 'test.sequence', '\\x80' FROM generate_series (1, 2000)");
    fx_wait_for (0, "SELECT count (*) FROM registry.outbox WHERE seq IS NULL");
    fx_sql ("BEGIN");
    fx_sql ("SET LOCAL search_path = registry");
    //  The counts this session has not yet reported (an earlier test's scans, within the
    //  second PostgreSQL waits between reports) are in the view too: only the difference
    //  counts.
    long before = fx_count ("SELECT seq_scan FROM pg_stat_xact_user_tables"
                            " WHERE relid = 'registry.outbox'::regclass");
    fx_sql ("INSERT INTO registry.outbox (topic, body) VALUES ('test.sequence', '\\x81')");
    //  More calls than PL/pgSQL makes before it keeps a generic plan.
    for (int i = 0; i < 8; i++)
        fx_sql ("SELECT registry.outbox_sequence (5000)");
    long scans = fx_count ("SELECT seq_scan FROM pg_stat_xact_user_tables"
                           " WHERE relid = 'registry.outbox'::regclass")
                 - before;
    long numbered = fx_count ("SELECT count (*) FROM registry.outbox WHERE body = '\\x81'"
                              " AND seq = (SELECT last_seq FROM registry.outbox_state)");
    fx_sql ("ROLLBACK");
    assert_int_equal (numbered, 1);
    if (scans != 0)
        fail_msg ("sequencing one new event read the whole outbox %ld times", scans);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_append_runs_no_function),
        cmocka_unit_test (test_append_wakes_relay),
        cmocka_unit_test (test_seq_unique),
        cmocka_unit_test (test_sequence_reads_only_new_rows),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
