/*  ledger_references_test.c — what the journal and the completions name is checked once a
    statement, not by a row trigger per row and key (issue 20, "Benchmarks": posting;
    sql/0008_posting_speed.sql). The books keep the guarantee the foreign keys gave: a
    transfer naming an account that does not exist, an account of the other unit, or a rule
    version that does not exist is refused and changes nothing, as is a completion naming a
    rule version that does not exist; and what they name never goes away: no account or rule
    version is deleted or truncated, nor an account's unit changed (ids and versions are
    identities, which no update sets). Transfers and completions carry no row trigger on insert.  */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

//  Runs `sql` as the superuser: it must fail with SQLSTATE `state` and change nothing.
static void
s_refused (const char *state, const char *sql)
{
    char before[64], after[64];
    const char *books = "SELECT (SELECT count (*) FROM ledger.transfers) || '/'"
                        " || (SELECT count (*) FROM ledger.completions) || '/'"
                        " || (SELECT count (*) FROM ledger.accounts) || '/'"
                        " || (SELECT count (*) FROM ledger.rules)";
    snprintf (before, sizeof before, "%s", fx_value ("%s", books));
    PGresult *res = PQexec (harness_pg (fx_harness ()), sql);
    const char *got = PQresultErrorField (res, PG_DIAG_SQLSTATE);
    if (!got || strcmp (got, state) != 0)
        fail_msg ("%s: expected SQLSTATE %s, got %s (%s)", sql, state, got ? got : "success",
                  PQresultErrorMessage (res));
    PQclear (res);
    snprintf (after, sizeof after, "%s", fx_value ("%s", books));
    assert_string_equal (before, after);
}

//  A transfer from account `debit` to `credit` of `unit`, priced by rule version `rule`.
static const char *
s_transfer (const char *debit, const char *credit, const char *unit, const char *rule)
{
    static char sql[1024];
    snprintf (sql, sizeof sql,
              "INSERT INTO ledger.transfers (debit, credit, unit, amount, kind, source,"
              " volunteer_id, rule_version, day, debit_after, credit_after)"
              " VALUES (%s, %s, '%s', 1, 'earn', 'test/references/' || random (), 7, %s,"
              " '2026-01-01', 0, 1)",
              debit, credit, unit, rule);
    return sql;
}

static int
s_setup (void **state)
{
    (void) state;
    fx_new ("ledger_references", FX_LEDGER);
    //  The ledger's functions and triggers name its tables as its own sessions find them.
    fx_sql ("SET search_path TO ledger");
    //  A volunteer's points account and hours account, and a region's issuance accounts.
    fx_sql ("INSERT INTO ledger.accounts (kind, volunteer_id, unit) VALUES"
            " ('volunteer', 7, 'points'), ('volunteer', 7, 'hours')");
    fx_sql ("INSERT INTO ledger.accounts (kind, region, unit) VALUES"
            " ('issuance', '431022100201', 'points'), ('issuance', '431022100201', 'hours')");
    return 0;
}

static const char *
s_account (const char *kind, const char *unit)
{
    static char id[2][32];
    static int n;
    n = (n + 1) % 2;
    snprintf (
        id[n], sizeof id[n], "%s",
        fx_value ("SELECT id FROM ledger.accounts WHERE kind = '%s' AND unit = '%s'", kind, unit));
    return id[n];
}

static void
test_no_row_trigger_on_insert (void **state)
{
    (void) state;
    //  tgtype: 1 a row trigger, 4 on insert. Internal ones (foreign keys) count too.
    assert_int_equal (fx_count ("SELECT count (*) FROM pg_trigger WHERE tgrelid IN"
                                " ('ledger.transfers'::regclass, 'ledger.completions'::regclass)"
                                " AND tgtype & 1 = 1 AND tgtype & 4 = 4"),
                      0);
}

static void
test_references_checked (void **state)
{
    (void) state;
    char points_v[32], points_i[32], hours_v[32];
    snprintf (points_v, sizeof points_v, "%s", s_account ("volunteer", "points"));
    snprintf (points_i, sizeof points_i, "%s", s_account ("issuance", "points"));
    snprintf (hours_v, sizeof hours_v, "%s", s_account ("volunteer", "hours"));
    //  A good one posts (the balances are not this test's: the audit is not asked).
    PGresult *res =
        PQexec (harness_pg (fx_harness ()), s_transfer (points_i, points_v, "points", "1"));
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        fail_msg ("a good transfer: %s", PQresultErrorMessage (res));
    PQclear (res);
    //  A debit or credit account that does not exist, one of the other unit, a rule version
    //  that does not exist: each refused as a foreign key would refuse it.
    s_refused ("23503", s_transfer ("999999", points_v, "points", "1"));
    s_refused ("23503", s_transfer (points_i, "999999", "points", "1"));
    s_refused ("23503", s_transfer (points_i, hours_v, "points", "1"));
    s_refused ("23503", s_transfer (points_i, points_v, "points", "999999"));
    //  In a statement of many rows, one bad row refuses the statement.
    char sql[2048];
    snprintf (sql, sizeof sql,
              "INSERT INTO ledger.transfers (debit, credit, unit, amount, kind, source,"
              " volunteer_id, rule_version, day, debit_after, credit_after)"
              " SELECT %s, CASE WHEN i = 300 THEN 999999 ELSE %s END, 'points', 1, 'earn',"
              " 'test/many/' || i, 7, 1, '2026-01-01', 0, 1 FROM generate_series (1, 500) i",
              points_i, points_v);
    s_refused ("23503", sql);
    s_refused ("23503", "INSERT INTO ledger.completions (record_id, volunteer_id, region,"
                        " minutes, points, rule_version, checkout_at, day, event_seq) VALUES"
                        " (424242, 7, '431022100201', 60, 10, 999999, now (), '2026-01-01', 1)");
}

static void
test_referenced_kept (void **state)
{
    (void) state;
    //  An account no transfer names yet, and the default rule version: neither goes away.
    fx_sql ("INSERT INTO ledger.accounts (kind, volunteer_id, unit) VALUES"
            " ('volunteer', 8, 'points')");
    s_refused ("55000", "DELETE FROM ledger.accounts WHERE volunteer_id = 8");
    s_refused ("55000", "UPDATE ledger.accounts SET unit = 'hours' WHERE volunteer_id = 8");
    s_refused ("55000", "TRUNCATE ledger.accounts CASCADE");
    s_refused ("55000", "DELETE FROM ledger.rules WHERE version = 1");
    s_refused ("55000", "TRUNCATE ledger.rules CASCADE");
    //  What is not a key still changes (the balances, the rules' own columns).
    fx_sql ("UPDATE ledger.accounts SET pending = 0 WHERE volunteer_id = 8");
    fx_sql ("UPDATE ledger.rules SET set_by = set_by WHERE version = 1");
}

//  One transfer to or from volunteer 9's points, `amount` of kind `kind` (sql/0014): the
//  statement of one row takes the trigger's row path.
static const char *
s_one (bool credit, int amount, const char *kind, const char *source)
{
    static char sql[1024];
    char points_v[32], points_i[32];
    snprintf (points_v, sizeof points_v, "%s",
              fx_value ("SELECT id FROM ledger.accounts WHERE volunteer_id = 9"));
    snprintf (points_i, sizeof points_i, "%s", s_account ("issuance", "points"));
    snprintf (sql, sizeof sql,
              "INSERT INTO ledger.transfers (debit, credit, unit, amount, kind, source,"
              " volunteer_id, rule_version, manual, reason, day, debit_after, credit_after)"
              " VALUES (%s, %s, 'points', %d, '%s', '%s', 9, 1, true, 'test', '2026-03-05', 0,"
              " 1)",
              credit ? points_i : points_v, credit ? points_v : points_i, amount, kind, source);
    return sql;
}

//  After an insert into the journal one statement trigger runs (it ran three), and a statement
//  of one transfer keeps every guarantee of a statement of many: its references checked, a
//  lot made for a points credit to a volunteer, the oldest lots taken by a debit and a debit
//  the lots do not cover refused, the ranking totals what the journal sums to.
static void
test_one_row_statement (void **state)
{
    (void) state;
    //  tgtype: 1 a row trigger, 2 before, 4 on insert.
    assert_int_equal (fx_count ("SELECT count (*) FROM pg_trigger WHERE tgrelid ="
                                " 'ledger.transfers'::regclass AND NOT tgisinternal"
                                " AND tgtype & 1 = 0 AND tgtype & 2 = 0 AND tgtype & 4 = 4"),
                      1);
    fx_sql ("INSERT INTO ledger.accounts (kind, volunteer_id, unit) VALUES"
            " ('volunteer', 9, 'points')");
    fx_sql ("%s", s_one (true, 10, "adjust", "test/one/1"));
    fx_sql ("%s", s_one (true, 5, "earn", "test/one/2"));
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.lots WHERE volunteer_id = 9"), 2);
    assert_int_equal (fx_count ("SELECT sum (remaining) FROM ledger.lots WHERE volunteer_id = 9"),
                      15);
    //  A debit takes the oldest lot first (the first, then the second).
    fx_sql ("%s", s_one (false, 12, "adjust", "test/one/3"));
    assert_int_equal (fx_count ("SELECT remaining FROM ledger.lots l JOIN ledger.transfers t"
                                " ON t.id = l.transfer_id WHERE t.source = 'test/one/1'"),
                      0);
    assert_int_equal (fx_count ("SELECT remaining FROM ledger.lots l JOIN ledger.transfers t"
                                " ON t.id = l.transfer_id WHERE t.source = 'test/one/2'"),
                      3);
    //  More than the lots hold, and a reference that does not exist: refused, nothing changed.
    s_refused ("23514", s_one (false, 4, "adjust", "test/one/4"));
    char sql[1024];
    snprintf (sql, sizeof sql, "%s", s_one (true, 1, "adjust", "test/one/5"));
    char *rule = strstr (sql, ", 9, 1, true");
    assert_non_null (rule);
    memcpy (rule, ", 9, 0, true", 12); //  rule version 0: none
    s_refused ("23503", sql);
    assert_int_equal (fx_count ("SELECT sum (remaining) FROM ledger.lots WHERE volunteer_id = 9"),
                      3);
    //  The ranking totals kept by the row path are what the journal sums to.
    assert_int_equal (fx_count ("SELECT count (*) FROM ((TABLE ledger.ranking_totals EXCEPT"
                                " TABLE ledger.ranking_journal) UNION ALL (TABLE"
                                " ledger.ranking_journal EXCEPT TABLE ledger.ranking_totals)) x"),
                      0);
    assert_int_equal (fx_count ("SELECT amount FROM ledger.ranking_totals WHERE volunteer_id = 9"
                                " AND unit = 'points'"),
                      3);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_no_row_trigger_on_insert),
        cmocka_unit_test (test_references_checked),
        cmocka_unit_test (test_referenced_kept),
        cmocka_unit_test (test_one_row_statement),
    };
    return cmocka_run_group_tests_name ("ledger_references", tests, s_setup, fx_teardown);
}
