/*  notify_test.c — the notify service on real events of registry and match: every notice kind
    in Chinese and in English, the inbox (paged, read, private), preferences and quiet hours,
    reminders (after their due time and never before, moved, cancelled, once through a
    SIGKILL and with two replicas), a replayed event, and no phone or address kept.  */
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VILLAGE    "431022100201"
#define COUNTY     "431022000000"
#define AT_VILLAGE ", \"lat\": 25.40, \"lon\": 112.95"

static int
s_setup (void **state)
{
    (void) state;
    fx_new ("notify_test", FX_REGISTRY | FX_MATCH | FX_NOTIFY);
    fx_county_add ();
    //  No quiet hours in the county unless a test sets its own: the tests run at any hour.
    fx_notify_no_quiet_hours (COUNTY);
    return 0;
}

//  RFC 3339 text `offset` seconds from now, Beijing time.
static void
s_time (char out[40], int64_t offset)
{
    time_t t = time (NULL) + offset + 8 * 3600;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, 40, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

//  The same instant as the notices show it: "YYYY-MM-DD HH:MM" Beijing time.
static void
s_local (char out[40], const char *rfc3339)
{
    snprintf (out, 40, "%.10s %.5s", rfc3339, rfc3339 + 11);
}

static void
s_volunteer (const char *name, const char *language, char id[32])
{
    fx_volunteer_add (name, VILLAGE, "[\"n急救\"]", "[]", 25.401, 112.951, "", id);
    if (language) {
        msg_actor_t self = fx_volunteer (id);
        char body[128];
        snprintf (body, sizeof body, "{\"language\": \"%s\"}", language);
        json_decref (fx_call_ok ("notify", &self, "prefs.set", body));
    }
}

//  An activity of the village created by the system, from `from` to `to` seconds from now,
//  sign-ups closing at its start. Its id into `id`.
static void
s_activity (const char *title, int64_t from, int64_t to, int capacity, char id[32])
{
    char starts[40], ends[40], body[512];
    s_time (starts, from);
    s_time (ends, to);
    snprintf (body, sizeof body,
              "{\"title\": \"%s\", \"category\": \"助老\", \"region\": \"" VILLAGE "\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"capacity\": %d,"
              " \"signup_closes_at\": \"%s\"}",
              title, starts, ends, capacity, starts);
    fx_activity_add (body, id);
}

static void
s_call (const char *service, const msg_actor_t *actor, const char *op, const char *format, ...)
{
    char body[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (body, sizeof body, format, args);
    va_end (args);
    json_decref (fx_call_ok (service, actor, op, body));
}

//  Waits until notify has applied every event match has published so far.
static void
s_caught_up (void)
{
    fx_wait_for (0, "SELECT count (*) FROM match.outbox WHERE seq IS NULL");
    long last = fx_count ("SELECT coalesce (max (seq), 0) FROM match.outbox");
    fx_wait_for (1,
                 "SELECT count (*) FROM notify.consumer_cursors WHERE publisher = 'match'"
                 " AND seq >= %ld",
                 last);
}

//  Waits up to a minute until activity `activity` has `expected` reminders sent (its end may
//  be some 20 s away).
static void
s_wait_sent (long expected, const char *activity)
{
    long sent = 0;
    for (int waited = 0; waited < 60000; waited += 200) {
        sent = fx_count ("SELECT count (*) FROM notify.reminders WHERE subject_id = '%s'"
                         " AND status = 'sent'",
                         activity);
        if (sent >= expected)
            break;
        fx_sleep_ms (200);
    }
    assert_int_equal (sent, expected);
}

//  ---------------------------------------------------------------------------------------
//  Activities and sign-ups, in both languages

//  How often notify's reminders table was read (scans of any kind), as PostgreSQL counts.
static long
s_reminder_reads (void)
{
    return fx_count ("SELECT coalesce (seq_scan, 0) + coalesce (idx_scan, 0)"
                     " FROM pg_stat_user_tables WHERE relid = 'notify.reminders'::regclass");
}

//  With nothing pending, the ticker waits for its clock or a notification. A next-due reading
//  of "now" when nothing was pending (greatest() skips a NULL) had it go round without a
//  pause: hundreds of reads of the reminders table a second, a core of notify and its backend.
static void
test_idle_waits (void **state)
{
    (void) state;
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE status = 'pending'"),
                      0);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.deliveries"
                                " WHERE status IN ('pending', 'failed')"),
                      0);
    long before = s_reminder_reads ();
    sleep (4);
    long reads = s_reminder_reads () - before;
    if (reads > 200)
        fail_msg ("notify read its reminders %ld times in 4 s with nothing pending", reads);
}

static void
test_activity_notices (void **state)
{
    (void) state;
    char zh[32], en[32], activity[32];
    s_volunteer ("通知甲", NULL, zh);
    s_volunteer ("通知乙", "en", en);
    msg_actor_t a = fx_volunteer (zh), b = fx_volunteer (en);
    s_activity ("敬老院探访", 2 * 86400, 2 * 86400 + 7200, 1, activity);
    char body[128];
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_decref (fx_call_ok ("match", &a, "activity.signup", body));
    json_decref (fx_call_ok ("match", &b, "activity.signup", body));

    json_t *act = NULL;
    char get[64];
    snprintf (get, sizeof get, "{\"id\": \"%s\"}", activity);
    act = fx_call_ok ("match", &FX_SYSTEM, "activity.get", get);
    char start[40], end[40];
    s_local (start, fx_str (act, "starts_at"));
    s_local (end, fx_str (act, "ends_at"));
    json_decref (act);
    (void) start, (void) end;

    const char *text = fx_wait_notice (&a, "signup.confirmed");
    fx_contains (text, "报名成功");
    fx_contains (text, "敬老院探访");
    text = fx_wait_notice (&b, "signup.waitlisted");
    fx_contains (text, "waiting list");
    fx_contains (text, "number 1");

    //  A withdraws: B moves up; both hear of it.
    json_decref (fx_call_ok ("match", &a, "activity.withdraw", body));
    fx_contains (fx_wait_notice (&a, "signup.cancelled"), "已取消报名");
    fx_contains (fx_wait_notice (&b, "signup.promoted"), "A place opened");
    //  B's reminders: 24 h and 1 h before, the prompt after; A's are cancelled.
    s_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE subject_id = '%s'"
                                " AND recipient_id = '%s' AND status = 'pending'",
                                activity, en),
                      3);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE subject_id = '%s'"
                                " AND recipient_id = '%s' AND status = 'pending'",
                                activity, zh),
                      0);

    //  A change of time moves the reminders and tells B.
    char new_start[40], new_end[40];
    s_time (new_start, 3 * 86400);
    s_time (new_end, 3 * 86400 + 3600);
    s_call ("match", &FX_SYSTEM, "activity.update",
            "{\"id\": \"%s\", \"starts_at\": \"%s\", \"ends_at\": \"%s\","
            " \"signup_closes_at\": \"%s\", \"reason\": \"weather\"}",
            activity, new_start, new_end, new_start);
    text = fx_wait_notice (&b, "activity.changed");
    fx_contains (text, "changed");
    char local[40];
    s_local (local, new_start);
    fx_contains (text, local);
    s_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders r, match.activities a"
                                " WHERE r.subject_id = '%s' AND a.id = %s AND r.status ="
                                " 'pending' AND r.kind = 'before'"
                                " AND r.due_at = a.starts_at - make_interval (secs => r.offset_s)",
                                activity, activity),
                      2);

    //  The activity is cancelled: B hears of it, no reminder of it is left pending.
    s_call ("match", &FX_SYSTEM, "activity.cancel", "{\"id\": \"%s\"}", activity);
    fx_contains (fx_wait_notice (&b, "activity.cancelled"), "is cancelled");
    s_caught_up ();
    json_t *list = fx_call_ok ("notify", &FX_SYSTEM, "reminder.list", body);
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (list, "items"), i, item)
        assert_string_equal (fx_str (item, "status"), "cancelled");
    assert_int_equal (json_array_size (json_object_get (list, "items")), 6);
    json_decref (list);

    //  The same kinds in the other language.
    s_activity ("社区义诊", 2 * 86400, 2 * 86400 + 7200, 1, activity);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_decref (fx_call_ok ("match", &b, "activity.signup", body));
    json_decref (fx_call_ok ("match", &a, "activity.signup", body));
    fx_contains (fx_wait_notice (&b, "signup.confirmed"), "You are signed up for \"社区义诊\"");
    fx_contains (fx_wait_notice (&a, "signup.waitlisted"), "排第 1 位");
    json_decref (fx_call_ok ("match", &b, "activity.withdraw", body));
    fx_contains (fx_wait_notice (&b, "signup.cancelled"), "is cancelled");
    fx_contains (fx_wait_notice (&a, "signup.promoted"), "候补转正");
    s_time (new_start, 4 * 86400);
    s_time (new_end, 4 * 86400 + 3600);
    s_call ("match", &FX_SYSTEM, "activity.update",
            "{\"id\": \"%s\", \"starts_at\": \"%s\", \"ends_at\": \"%s\","
            " \"signup_closes_at\": \"%s\"}",
            activity, new_start, new_end, new_start);
    s_local (local, new_start);
    fx_contains (fx_wait_notice (&a, "activity.changed"), local);
    s_call ("match", &FX_SYSTEM, "activity.cancel", "{\"id\": \"%s\"}", activity);
    fx_contains (fx_wait_notice (&a, "activity.cancelled"), "活动已取消");
}

//  ---------------------------------------------------------------------------------------
//  Requests and offers, in both languages

static void
test_request_notices (void **state)
{
    (void) state;
    char zh[32], en[32];
    fx_residents_zh_en ("居民甲", "居民乙", VILLAGE, zh, en);
    msg_actor_t rzh = fx_resident (zh), ren = fx_resident (en);
    char start[64], end[64], availability[64];
    fx_window (2, 9, 12, start, end, availability);
    char v1[32], v2[32];
    fx_volunteer_add ("派单甲", VILLAGE, "[\"n派甲\"]", availability, 25.401, 112.951, "", v1);
    fx_volunteer_add ("派单乙", VILLAGE, "[\"n派乙\"]", availability, 25.401, 112.951, "", v2);
    msg_actor_t a1 = fx_volunteer (v1), a2 = fx_volunteer (v2);
    json_decref (fx_call_ok ("notify", &a2, "prefs.set", "{\"language\": \"en\"}"));

    char r1[32], r2[32], o1[32], o2[32];
    fx_request_add (&rzh, VILLAGE, start, end, 1, "[\"n派甲\"]", "urgent", AT_VILLAGE, "open", r1);
    fx_request_add (&ren, VILLAGE, start, end, 1, "[\"n派乙\"]", NULL, AT_VILLAGE, "open", r2);
    fx_contains (fx_wait_notice (&rzh, "request.published"), "正在为您寻找志愿者");
    fx_contains (fx_wait_notice (&ren, "request.published"), "we are finding volunteers");

    fx_wait_offer (v1, r1, o1);
    fx_wait_offer (v2, r2, o2);
    const char *text = fx_wait_notice (&a1, "offer.made");
    fx_contains (text, "派单");
    fx_contains (text, "请在");
    char local[40];
    s_local (local, start);
    fx_contains (text, local);
    fx_contains (fx_wait_notice (&a2, "offer.made"), "Please answer by");
    //  The urgent request's dispatch is urgent, the normal one's not.
    json_t *items = fx_inbox (&a1);
    assert_true (json_is_true (json_object_get (json_array_get (items, 0), "urgent")));
    json_decref (items);
    items = fx_inbox (&a2);
    assert_true (json_is_false (json_object_get (json_array_get (items, 0), "urgent")));
    json_decref (items);

    assert_int_equal (fx_answer ("offer.accept", v1, o1, NULL), ST_OK);
    assert_int_equal (fx_answer ("offer.accept", v2, o2, NULL), ST_OK);
    fx_contains (fx_wait_notice (&a1, "offer.accepted"), "你已接单");
    fx_contains (fx_wait_notice (&a2, "offer.accepted"), "You accepted");
    fx_contains (fx_wait_notice (&rzh, "request.staffed"), "已安排 1 名志愿者");
    fx_contains (fx_wait_notice (&ren, "request.staffed"), "1 volunteer(s) will serve");
    s_caught_up ();
    //  An accepted offer schedules its volunteer's reminders.
    char body[64];
    snprintf (body, sizeof body, "{\"request_id\": \"%s\"}", r1);
    json_t *list = fx_call_ok ("notify", &FX_SYSTEM, "reminder.list", body);
    assert_int_equal (json_array_size (json_object_get (list, "items")), 3);
    json_decref (list);

    //  The residents cancel: they hear of it, the reminders are cancelled.
    s_call ("match", &rzh, "request.cancel", "{\"id\": \"%s\"}", r1);
    s_call ("match", &ren, "request.cancel", "{\"id\": \"%s\"}", r2);
    fx_contains (fx_wait_notice (&rzh, "request.cancelled"), "已取消");
    fx_contains (fx_wait_notice (&ren, "request.cancelled"), "is cancelled");
    s_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE subject_kind ="
                                " 'request' AND subject_id IN ('%s', '%s') AND status = 'pending'",
                                r1, r2),
                      0);
    //  Cancelling a staffed request withdraws its offers: the volunteers hear of it.
    fx_contains (fx_wait_notice (&a1, "offer.withdrawn"), "派单已撤回");
    fx_contains (fx_wait_notice (&a2, "offer.withdrawn"), "was withdrawn");
}

//  ---------------------------------------------------------------------------------------
//  Reminders: after their due time, never before; a cancelled activity's never

static void
test_reminders_fire (void **state)
{
    (void) state;
    char v[32], w[32], kept[32], cancelled[32];
    s_volunteer ("提醒甲", "en", v);
    s_volunteer ("提醒乙", "en", w);
    msg_actor_t self = fx_volunteer (v), other = fx_volunteer (w);
    //  The village's reminders: 10 s before the start.
    s_call ("notify", &FX_SYSTEM, "notify.settings.set",
            "{\"region\": \"" VILLAGE "\", \"reminder_offsets_s\": [\"10\"]}");
    s_activity ("提醒测试", 16, 22, 5, kept);
    s_activity ("取消测试", 16, 22, 5, cancelled);
    fx_activity_signup (&self, kept);
    fx_activity_signup (&other, cancelled);
    s_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE subject_id"
                                " IN ('%s', '%s') AND status = 'pending'",
                                kept, cancelled),
                      4);
    s_call ("match", &FX_SYSTEM, "activity.cancel", "{\"id\": \"%s\"}", cancelled);
    //  Every reminder of the kept activity fires: before, then after.
    s_wait_sent (2, kept);
    //  None before its time: each notice made at or after its reminder's due time.
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders r JOIN notify.notices n"
                                " ON n.source LIKE 'reminder:' || r.id || ':%%'"
                                " WHERE r.subject_id = '%s' AND n.created_at >= r.due_at",
                                kept),
                      2);
    json_t *items = fx_inbox (&self);
    int before = -1, after = -1;
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item)
    {
        if (strcmp (fx_str (item, "kind"), "reminder.before") == 0) {
            before = (int) i;
            fx_contains (fx_str (item, "text"), "Reminder: \"提醒测试\" starts at");
        }
        if (strcmp (fx_str (item, "kind"), "reminder.after") == 0) {
            after = (int) i;
            fx_contains (fx_str (item, "text"), "your hours will be confirmed");
        }
    }
    json_decref (items);
    assert_true (after >= 0 && before > after); //  newest first: the prompt came last
    //  The cancelled activity's never fired, though due before the kept one's prompt.
    s_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE subject_id = '%s'"
                                " AND status <> 'cancelled'",
                                cancelled),
                      0);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices WHERE subject_id = '%s'"
                                " AND kind LIKE 'reminder.%%'",
                                cancelled),
                      0);
    s_call ("notify", &FX_SYSTEM, "notify.settings.set",
            "{\"region\": \"" VILLAGE "\", \"reminder_offsets_s\": [\"86400\", \"3600\"]}");
}

//  notify SIGKILLed just before a reminder is due: restarted, it sends it, once.
static void
test_reminder_survives_kill (void **state)
{
    (void) state;
    char v[32], activity[32], body[128];
    s_volunteer ("重启甲", NULL, v);
    msg_actor_t self = fx_volunteer (v);
    s_activity ("重启测试", 3600, 7200, 5, activity);
    s_caught_up ();
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\", \"offsets_s\": [\"3596\"]}", activity);
    s_call ("notify", &FX_SYSTEM, "reminder.offsets.set", "%s", body);
    fx_activity_signup (&self, activity);
    s_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE subject_id = '%s'"
                                " AND kind = 'before' AND offset_s = 3596 AND status = 'pending'",
                                activity),
                      1);
    harness_stop (fx_harness (), "notify", SIGKILL);
    fx_sleep_ms (5000); //  its due time passes while notify is down
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE subject_id = '%s'"
                                " AND status = 'sent'",
                                activity),
                      0);
    harness_start (fx_harness (), "notify");
    fx_wait_for (1,
                 "SELECT count (*) FROM notify.reminders WHERE subject_id = '%s'"
                 " AND status = 'sent'",
                 activity);
    fx_contains (fx_wait_notice (&self, "reminder.before"), "提醒：「重启测试」将于");
    fx_sleep_ms (1500);
    assert_int_equal (fx_notices (&self, "reminder.before", NULL, 0), 1);
}

//  ---------------------------------------------------------------------------------------
//  Two notify processes: each notice once

static void
test_two_replicas (void **state)
{
    (void) state;
    pid_t second = fx_notify_replica ();
    char v[4][32], activity[32], body[128];
    const char *names[] = {"双甲", "双乙", "双丙", "双丁"};
    s_activity ("双副本", 14, 18, 10, activity);
    s_caught_up ();
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\", \"offsets_s\": [\"6\", \"4\"]}",
              activity);
    s_call ("notify", &FX_SYSTEM, "reminder.offsets.set", "%s", body);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    for (int i = 0; i < 4; i++) {
        s_volunteer (names[i], NULL, v[i]);
        msg_actor_t self = fx_volunteer (v[i]);
        json_decref (fx_call_ok ("match", &self, "activity.signup", body));
    }
    //  4 people × (2 before + 1 after), each sent once by one of the two.
    s_wait_sent (12, activity);
    fx_sleep_ms (1500);
    for (int i = 0; i < 4; i++) {
        msg_actor_t self = fx_volunteer (v[i]);
        assert_int_equal (fx_notices (&self, "signup.confirmed", NULL, 0), 1);
        assert_int_equal (fx_notices (&self, "reminder.before", NULL, 0), 2);
        assert_int_equal (fx_notices (&self, "reminder.after", NULL, 0), 1);
    }
    fx_notify_replica_stop (second);
}

//  A replayed event (the cursor reset) makes no notice twice.
static void
test_replay (void **state)
{
    (void) state;
    s_caught_up ();
    long notices = fx_count ("SELECT count (*) FROM notify.notices");
    long reminders = fx_count ("SELECT count (*) FROM notify.reminders WHERE status = 'sent'");
    assert_true (notices > 10);
    harness_stop (fx_harness (), "notify", SIGTERM);
    fx_sql ("UPDATE notify.consumer_cursors SET seq = 0");
    harness_start (fx_harness (), "notify");
    s_caught_up ();
    //  Registry's and match's cursors: the ledger's (notify consumes its feed too) stays at
    //  0 here, where no ledger runs and so nothing was ever read from it.
    fx_wait_for (0, "SELECT count (*) FROM notify.consumer_cursors WHERE seq = 0"
                    " AND publisher IN ('registry', 'match')");
    fx_sleep_ms (1500);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices"), notices);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE status = 'sent'"),
                      reminders);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.dead_letters"), 0);
}

//  ---------------------------------------------------------------------------------------
//  Quiet hours and preferences

//  Whether a JSON array of strings holds `text`.
static bool
s_listed (json_t *array, const char *text)
{
    size_t i;
    json_t *item;
    json_array_foreach (array, i,
                        item) if (strcmp (json_string_value (item), text) == 0) return true;
    return false;
}

static void
test_quiet_hours (void **state)
{
    (void) state;
    char v[32], activity[32], body[160];
    s_volunteer ("安静甲", NULL, v);
    msg_actor_t self = fx_volunteer (v);
    //  A window from a minute ago to 12 s from now, Beijing time.
    char from[40], to[40];
    s_time (from, -60);
    s_time (to, 12);
    snprintf (body, sizeof body, "{\"quiet_hours\": {\"from\": \"%.8s\", \"to\": \"%.8s\"}}",
              from + 11, to + 11);
    json_t *prefs = fx_call_ok ("notify", &self, "prefs.set", body);
    assert_string_equal (fx_str (prefs, "language"), "zh");
    assert_string_equal (fx_str (prefs, "time_zone"), "Asia/Shanghai");
    //  http-api.md's shape: quiet_hours {from, to}; kinds: every kind while none is left out.
    assert_int_equal (
        strncmp (fx_str (json_object_get (prefs, "quiet_hours"), "from"), from + 11, 5), 0);
    assert_int_equal (strncmp (fx_str (json_object_get (prefs, "quiet_hours"), "to"), to + 11, 5),
                      0);
    json_t *kinds = json_object_get (prefs, "kinds");
    assert_true (json_array_size (kinds) >= 20);
    assert_true (s_listed (kinds, "signup.cancelled"));
    json_decref (prefs);
    s_activity ("安静测试", 2 * 86400, 2 * 86400 + 3600, 5, activity);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_decref (fx_call_ok ("match", &self, "activity.signup", body));
    s_caught_up ();
    //  Held: made, not in the inbox yet.
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices WHERE recipient_id = '%s'"
                                " AND kind = 'signup.confirmed' AND delivered_at IS NULL",
                                v),
                      1);
    assert_int_equal (fx_notices (&self, "signup.confirmed", NULL, 0), 0);
    //  Released when the window ends, not before.
    fx_wait_notice (&self, "signup.confirmed");
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices WHERE recipient_id = '%s'"
                                " AND kind = 'signup.confirmed' AND delivered_at >= '%s'",
                                v, to),
                      1);
    //  A kind left out of `kinds` is not made at all; bad preferences are refused naming the
    //  field.
    json_decref (fx_call_ok ("notify", &self, "prefs.set",
                             "{\"quiet_hours\": {\"from\": \"00:00\", \"to\": \"00:00\"},"
                             " \"kinds\": [\"offer.made\", \"signup.confirmed\"]}"));
    prefs = fx_call_ok ("notify", &self, "prefs.get", "{}");
    kinds = json_object_get (prefs, "kinds");
    assert_int_equal (json_array_size (kinds), 2);
    assert_string_equal (json_string_value (json_array_get (kinds, 0)), "offer.made");
    assert_string_equal (json_string_value (json_array_get (kinds, 1)), "signup.confirmed");
    json_decref (prefs);
    json_decref (fx_call_ok ("match", &self, "activity.withdraw", body));
    s_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices WHERE recipient_id = '%s'"
                                " AND kind = 'signup.cancelled'",
                                v),
                      0);
    st_error_t err;
    fx_expect ("prefs.set language",
               fx_call ("notify", &self, "prefs.set", "{\"language\": \"fr\"}", NULL, &err), &err,
               ST_INVALID_ARGUMENT, "language");
    fx_expect (
        "prefs.set zone",
        fx_call ("notify", &self, "prefs.set", "{\"time_zone\": \"Mars/Olympus\"}", NULL, &err),
        &err, ST_INVALID_ARGUMENT, "time_zone");
    fx_expect ("prefs.set quiet",
               fx_call ("notify", &self, "prefs.set",
                        "{\"quiet_hours\": {\"from\": \"25:00\", \"to\": \"07:00\"}}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "quiet_hours.from");
    fx_expect ("prefs.set quiet half",
               fx_call ("notify", &self, "prefs.set", "{\"quiet_hours\": {\"from\": \"22:00\"}}",
                        NULL, &err),
               &err, ST_INVALID_ARGUMENT, "quiet_hours.to");
    fx_expect (
        "prefs.set kinds",
        fx_call ("notify", &self, "prefs.set", "{\"kinds\": [\"nothing.such\"]}", NULL, &err), &err,
        ST_INVALID_ARGUMENT, "kinds");
    //  Nothing changed by the refused ones.
    prefs = fx_call_ok ("notify", &self, "prefs.get", "{}");
    assert_string_equal (fx_str (json_object_get (prefs, "quiet_hours"), "from"), "00:00");
    assert_int_equal (json_array_size (json_object_get (prefs, "kinds")), 2);
    json_decref (prefs);
    //  Times in the person's zone.
    json_decref (fx_call_ok ("notify", &self, "prefs.set", "{\"time_zone\": \"UTC\"}"));
    s_activity ("时区测试", 2 * 86400, 2 * 86400 + 3600, 5, activity);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_t *got = fx_call_ok ("match", &self, "activity.signup", body);
    json_decref (got);
    char utc[40];
    time_t t = time (NULL) + 2 * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (utc, sizeof utc, "%Y-%m-%d %H:", &tm);
    fx_wait_for (2,
                 "SELECT count (*) FROM notify.notices WHERE recipient_id = '%s'"
                 " AND kind = 'signup.confirmed'",
                 v);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices WHERE recipient_id = '%s'"
                                " AND kind = 'signup.confirmed' AND text LIKE '%%时区测试%%%s%%'",
                                v, utc),
                      1);
}

//  ---------------------------------------------------------------------------------------
//  The inbox: paged, read, and nobody else's

static void
test_inbox (void **state)
{
    (void) state;
    char v[32], w[32], activity[32], body[160];
    s_volunteer ("收件甲", NULL, v);
    s_volunteer ("收件乙", NULL, w);
    msg_actor_t self = fx_volunteer (v), other = fx_volunteer (w);
    for (int i = 0; i < 3; i++) {
        s_activity ("收件测试", (3 + i) * 86400, (3 + i) * 86400 + 3600, 5, activity);
        fx_activity_signup (&self, activity);
    }
    fx_wait_for (3,
                 "SELECT count (*) FROM notify.notices WHERE recipient_id = '%s'"
                 " AND delivered_at IS NOT NULL",
                 v);
    //  Pages of two, newest first.
    json_t *page = fx_call_ok ("notify", &self, "inbox.list", "{\"limit\": 2}");
    json_t *items = json_object_get (page, "items");
    assert_int_equal (json_array_size (items), 2);
    assert_int_equal (fx_int (page, "unread"), 3);
    long first = atol (fx_str (json_array_get (items, 0), "id"));
    long second = atol (fx_str (json_array_get (items, 1), "id"));
    assert_true (first > second);
    snprintf (body, sizeof body, "{\"limit\": 2, \"cursor\": \"%s\"}",
              fx_str (page, "next_cursor"));
    json_decref (page);
    page = fx_call_ok ("notify", &self, "inbox.list", body);
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    json_decref (page);
    //  Another's notice: not readable, not listed.
    st_error_t err;
    snprintf (body, sizeof body, "{\"id\": \"%ld\"}", first);
    fx_expect ("inbox.read of another's",
               fx_call ("notify", &other, "inbox.read", body, NULL, &err), &err, ST_NOT_FOUND,
               "id");
    assert_int_equal (json_array_size (items = fx_inbox (&other)), 0);
    json_decref (items);
    msg_actor_t admin = fx_admin ("region_admin", COUNTY);
    assert_int_equal (json_array_size (items = fx_inbox (&admin)), 0);
    json_decref (items);
    fx_expect ("inbox.list as the system",
               fx_call ("notify", &FX_SYSTEM, "inbox.list", "{}", NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor");
    //  Read one, then all.
    json_t *reply = fx_call_ok ("notify", &self, "inbox.read", body);
    assert_int_equal (fx_int (reply, "read"), 1);
    json_decref (reply);
    page = fx_call_ok ("notify", &self, "inbox.list", "{\"unread\": true}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 2);
    json_decref (page);
    reply = fx_call_ok ("notify", &self, "inbox.read", "{\"all\": true}");
    assert_int_equal (fx_int (reply, "read"), 2);
    json_decref (reply);
    page = fx_call_ok ("notify", &self, "inbox.list", "{}");
    assert_int_equal (fx_int (page, "unread"), 0);
    json_decref (page);
    fx_expect ("inbox.read of nothing", fx_call ("notify", &self, "inbox.read", "{}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "id");
    //  The operator's command shows the same inbox.
    char as[64], out[8192];
    snprintf (as, sizeof as, "v:volunteer::%s", v);
    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "--as", as, "inbox", "--unread",
                                   "--json", NULL),
                      0);
    assert_null (strstr (out, "收件测试"));
    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "--as", as, "inbox", "--limit",
                                   "2", "--json", NULL),
                      0);
    fx_contains (out, "报名成功：「收件测试」");
    fx_contains (out, "next_cursor");
}

//  Settings: inherited down the tree, in scope only, bad ones refused.
static void
test_settings (void **state)
{
    (void) state;
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    s_call ("notify", &county, "notify.settings.set",
            "{\"region\": \"" COUNTY "\", \"reminder_offsets_s\": [\"7200\"]}");
    json_t *got =
        fx_call_ok ("notify", &county, "notify.settings.get", "{\"region\": \"431022100202\"}");
    assert_string_equal (
        json_string_value (json_array_get (json_object_get (got, "reminder_offsets_s"), 0)),
        "7200");
    assert_string_equal (fx_str (got, "quiet_from"), "00:00");
    json_decref (got);
    st_error_t err;
    msg_actor_t town = fx_admin ("region_admin", "431022101000");
    fx_expect ("settings.set out of scope",
               fx_call ("notify", &town, "notify.settings.set",
                        "{\"region\": \"" COUNTY "\", \"quiet_from\": \"21:00\"}", NULL, &err),
               &err, ST_PERMISSION_DENIED, "region");
    fx_expect ("settings.set offsets",
               fx_call ("notify", &county, "notify.settings.set",
                        "{\"region\": \"" COUNTY "\", \"reminder_offsets_s\": [\"-5\"]}", NULL,
                        &err),
               &err, ST_INVALID_ARGUMENT, "reminder_offsets_s");
    s_call ("notify", &county, "notify.settings.set",
            "{\"region\": \"" COUNTY "\", \"reminder_offsets_s\": [\"86400\", \"3600\"]}");
}

//  No phone or address in notify's schema: neither a column nor a value.
static void
test_no_personal_data (void **state)
{
    (void) state;
    assert_int_equal (fx_count ("SELECT count (*) FROM information_schema.columns"
                                " WHERE table_schema = 'notify' AND (column_name ~*"
                                " '(phone|mobile|address|id_number|email|contact)')"),
                      0);
    assert_true (fx_count ("SELECT count (*) FROM notify.notices") > 0);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices WHERE text ~ '1[3-9][0-9]{9}'"
                                " OR text LIKE '%%村委会%%'"),
                      0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_idle_waits),
        cmocka_unit_test (test_activity_notices),
        cmocka_unit_test (test_request_notices),
        cmocka_unit_test (test_reminders_fire),
        cmocka_unit_test (test_reminder_survives_kill),
        cmocka_unit_test (test_two_replicas),
        cmocka_unit_test (test_quiet_hours),
        cmocka_unit_test (test_inbox),
        cmocka_unit_test (test_settings),
        cmocka_unit_test (test_replay),
        cmocka_unit_test (test_no_personal_data),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
