/*  notify_fire_test.c — reminders fired set-based (issue 21): a burst of due reminders shared by
    two notify processes, in small batches, each fired once with its notice in its person's
    language and zone; and a crash between the claim and the commit (the database sessions of
    both workers ended while each holds a claimed batch, one process SIGKILLed): nothing of
    those batches stays, and after the restart each reminder is fired once.  */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VILLAGE "431022100201"
#define COUNTY  "431022000000"
#define PEOPLE  600

static int
s_setup (void **state)
{
    (void) state;
    //  Small batches: the burst takes many, shared by the two processes.
    setenv ("STATION_NOTIFY_BATCH", "40", 1);
    fx_new ("notify_fire_test", FX_REGISTRY | FX_MATCH | FX_NOTIFY);
    fx_county_add ();
    fx_notify_no_quiet_hours (COUNTY);
    return 0;
}

//  An activity `id` of the village from `from` to `to` seconds from now, as notify knows it,
//  with a 1 h reminder of each of PEOPLE volunteers ("p1" …), pending and due in a day; every
//  third reads English in Europe/London.
static void
s_burst (const char *id, const char *title, int from, int to)
{
    fx_sql ("INSERT INTO notify.subjects (kind, id, title, region, starts_at, ends_at)"
            " VALUES ('activity', '%s', '%s', '" VILLAGE "', now () + interval '%d s',"
            " now () + interval '%d s')",
            id, title, from, to);
    fx_sql ("INSERT INTO notify.recipients (kind, id, region, registry_seq)"
            " SELECT 'volunteer', 'p' || i, '" VILLAGE "', 1 FROM generate_series (1, %d) i"
            " ON CONFLICT DO NOTHING",
            PEOPLE);
    fx_sql ("INSERT INTO notify.prefs (recipient_kind, recipient_id, language, time_zone)"
            " SELECT 'volunteer', 'p' || i, 'en', 'Europe/London'"
            " FROM generate_series (3, %d, 3) i ON CONFLICT DO NOTHING",
            PEOPLE);
    fx_sql ("INSERT INTO notify.reminders (recipient_kind, recipient_id, subject_kind,"
            " subject_id, kind, offset_s, due_at, status) SELECT 'volunteer', 'p' || i,"
            " 'activity', '%s', 'before', 3600, now () + interval '1 day', 'pending'"
            " FROM generate_series (1, %d) i",
            id, PEOPLE);
}

//  Every reminder of activity `id` sent, each with exactly one notice, its text in its
//  person's language and zone.
static void
s_fired_once (const char *id)
{
    fx_wait_for (PEOPLE,
                 "SELECT count (*) FROM notify.reminders WHERE subject_id = '%s'"
                 " AND status = 'sent'",
                 id);
    fx_sleep_ms (1500); //  anything fired twice would be in by now
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices WHERE subject_id = '%s'", id),
                      PEOPLE);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders r"
                                " WHERE r.subject_id = '%s' AND (SELECT count (*)"
                                " FROM notify.notices n WHERE n.source = 'reminder:' || r.id"
                                " || ':' || extract (epoch FROM r.due_at)::bigint"
                                " AND n.recipient_id = r.recipient_id"
                                " AND n.kind = 'reminder.before') = 1",
                                id),
                      PEOPLE);
    //  Each in the inbox at once (urgent: through quiet hours), once.
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.deliveries d"
                                " JOIN notify.notices n ON n.id = d.notice_id"
                                " WHERE n.subject_id = '%s' AND d.channel = 'inbox'"
                                " AND d.status = 'delivered'",
                                id),
                      PEOPLE);
    //  The texts: Chinese at Beijing time, English at London time, as notice_insert made them.
    assert_int_equal (
        fx_count ("SELECT count (*) FROM notify.notices n JOIN notify.subjects s"
                  " ON s.kind = 'activity' AND s.id = n.subject_id WHERE n.subject_id = '%s'"
                  " AND n.text = CASE n.language WHEN 'en' THEN 'Reminder: \"' || s.title"
                  " || '\" starts at ' || to_char (s.starts_at AT TIME ZONE 'Europe/London',"
                  " 'YYYY-MM-DD HH24:MI') || ' (ends ' || to_char (s.ends_at AT TIME ZONE"
                  " 'Europe/London', 'YYYY-MM-DD HH24:MI') || ').' ELSE '提醒：「' || s.title"
                  " || '」将于 ' || to_char (s.starts_at AT TIME ZONE 'Asia/Shanghai',"
                  " 'YYYY-MM-DD HH24:MI') || ' 开始（' || to_char (s.ends_at AT TIME ZONE"
                  " 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') || ' 结束）。' END"
                  " AND n.urgent AND n.params ? 'title' AND n.params ? 'start'",
                  id),
        PEOPLE);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices WHERE subject_id = '%s'"
                                " AND language = 'en' AND recipient_id IN (SELECT recipient_id"
                                " FROM notify.prefs WHERE language = 'en')",
                                id),
                      PEOPLE / 3);
}

//  Two processes, one burst: each reminder once.
static void
test_burst_two_replicas (void **state)
{
    (void) state;
    pid_t second = fx_notify_replica ();
    s_burst ("fire-a", "齐发测试 {start}", 7200, 10800);
    fx_sql ("UPDATE notify.reminders SET due_at = now () WHERE subject_id = 'fire-a'");
    fx_sql ("SELECT pg_notify ('notify.reminders', '')");
    s_fired_once ("fire-a");
    fx_notify_replica_stop (second);
}

//  Both workers stopped between their claim and their commit: each holds a claimed batch,
//  blocked making its notices (a trigger of the test's waits for a lock the test holds). Their
//  database sessions end (as a crash ends them) and the first process is SIGKILLed; the
//  batches are rolled back, whole, and fired once after the restart.
static void
test_crash_between_claim_and_commit (void **state)
{
    (void) state;
    pid_t second = fx_notify_replica ();
    s_burst ("fire-b", "崩溃测试", 7200, 10800);
    fx_sql ("CREATE FUNCTION notify.fire_test_gate () RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN PERFORM pg_advisory_lock_shared (4242);"
            " PERFORM pg_advisory_unlock_shared (4242); RETURN NEW; END $$");
    fx_sql ("CREATE TRIGGER fire_test_gate BEFORE INSERT ON notify.notices FOR EACH ROW"
            " WHEN (NEW.source LIKE 'reminder:%%') EXECUTE FUNCTION notify.fire_test_gate ()");
    fx_sql ("SELECT pg_advisory_lock (4242)");
    fx_sql ("UPDATE notify.reminders SET due_at = now () WHERE subject_id = 'fire-b'");
    fx_sql ("SELECT pg_notify ('notify.reminders', '')");
    //  Both processes hold a batch, stopped at the gate.
    fx_wait_for (2, "SELECT count (*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND wait_event = 'advisory' AND usename = 'notify'");
    //  ... each inside a transaction that has written (its claim), whatever other notify
    //  sessions (a consumer's page, say) do meanwhile.
    assert_int_equal (fx_count ("SELECT count (*) FROM pg_locks l JOIN pg_stat_activity a"
                                " ON a.pid = l.pid WHERE a.usename = 'notify'"
                                " AND a.wait_event_type = 'Lock' AND a.wait_event = 'advisory'"
                                " AND l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock'"),
                      2);
    harness_stop (fx_harness (), "notify", SIGKILL);
    fx_sql ("SELECT pg_terminate_backend (pid) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND usename = 'notify'");
    fx_sql ("DROP TRIGGER fire_test_gate ON notify.notices");
    fx_sql ("DROP FUNCTION notify.fire_test_gate ()");
    fx_sql ("SELECT pg_advisory_unlock (4242)");
    //  Nothing of the claimed batches was kept: the second process (reconnected) and the
    //  first (restarted) fire all of them, each once.
    harness_start (fx_harness (), "notify");
    s_fired_once ("fire-b");
    fx_notify_replica_stop (second);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_burst_two_replicas),
        cmocka_unit_test (test_crash_between_claim_and_commit),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
