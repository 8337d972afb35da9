/*  notify_notices_test.c — notify's notices from real events of registry, match and the
    ledger, each in Chinese and in English: hours confirmed, points awarded and a new star (the
    ledger's events), a redemption reserved, collected, cancelled and expired (the points
    store's), the warning when three quarters of an offer's reply window have passed
    unanswered (never once the offer is answered) and the offer's expiry, a request waiting
    for review and rejected, a request unfilled, a team's invitation, a place on a waiting
    list skipped while the volunteer is busy; and match's digest.region, what waits for a
    region's officials, for the notify service's key and officials in scope; a transfer request
    declined; a staffed request naming who comes, with masked phones.  */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"
#include "st_log.h"
#include "st_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VILLAGE    "431022100201"
#define VILLAGE_2  "431022100202"
#define VILLAGE_3  "431022101203"
#define COUNTY     "431022000000"
#define AT_VILLAGE ", \"lat\": 25.40, \"lon\": 112.95"

//  An offer's reply window here (s): short, so that its warning (at three quarters) and its
//  expiry come within a test's wait.
#define REPLY_S "12"

static int
s_setup (void **state)
{
    (void) state;
    setenv ("STATION_DISPATCH_ROUND_MS", "200", 1);
    setenv ("STATION_DISPATCH_REPLY_NORMAL_S", REPLY_S, 1);
    setenv ("STATION_DISPATCH_REPLY_URGENT_S", REPLY_S, 1);
    fx_new ("notify_notices", FX_REGISTRY | FX_MATCH | FX_LEDGER | FX_NOTIFY);
    fx_county_add ();
    //  No quiet hours in the county: the tests run at any hour.
    fx_notify_no_quiet_hours (COUNTY);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Helpers

//  A volunteer of the village with one skill of their own and `availability`, reading
//  `language` (zh or en), known to the ledger. Their id into `id`.
static void
s_volunteer (const char *name, const char *skill, const char *availability, const char *language,
             char id[32])
{
    char skills[64];
    snprintf (skills, sizeof skills, "[\"%s\"]", skill);
    fx_volunteer_add (name, VILLAGE, skills, availability, 25.401, 112.951, "", id);
    fx_ledger_wait_volunteer (id);
    msg_actor_t self = fx_volunteer (id);
    char body[64];
    snprintf (body, sizeof body, "{\"language\": \"%s\"}", language);
    json_decref (fx_call_ok ("notify", &self, "prefs.set", body));
}

//  Volunteer `volunteer` serves an activity of the village starting in half an hour and
//  lasting an hour, checks out, and the system confirms `hours`.
static void
s_served (const char *volunteer, const char *hours)
{
    char starts[40], ends[40], closes[40], body[512];
    fx_time (starts, 1800);
    fx_time (ends, 5400);
    fx_time (closes, 1700);
    snprintf (body, sizeof body,
              "{\"title\": \"敬老院陪护\", \"category\": \"助老\", \"region\": \"" VILLAGE "\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10}",
              starts, ends, closes);
    json_t *activity = fx_call_ok ("match", &FX_SYSTEM, "activity.create", body);
    msg_actor_t self = fx_volunteer (volunteer);
    char activity_id[32];
    snprintf (activity_id, sizeof activity_id, "%s", fx_str (activity, "id"));
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity_id);
    json_decref (activity);
    json_decref (fx_call_ok ("match", &self, "activity.signup", body));
    char check[FX_BODY_SIZE];
    fx_checkin_body (check, activity_id, "");
    json_t *record = fx_call_ok ("match", &self, "record.checkin", check);
    json_decref (fx_call_ok ("match", &self, "record.checkout", body));
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"hours\": %s}", fx_str (record, "id"), hours);
    json_decref (record);
    json_decref (fx_call_ok ("match", &FX_SYSTEM, "record.confirm", body));
}

//  ---------------------------------------------------------------------------------------
//  The ledger's events

//  Hours confirmed, the points they earn and the first star (at one hour in this county),
//  each a notice in the volunteer's language.
static void
test_ledger_notices (void **state)
{
    (void) state;
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    json_decref (fx_call_ok ("ledger", &county, "rules.set",
                             "{\"region\": \"" COUNTY "\", \"points_per_hour\": 10,"
                             " \"star_1\": 1}"));
    char zh[32], en[32];
    s_volunteer ("积分甲", "n积分甲", "[]", "zh", zh);
    s_volunteer ("积分乙", "n积分乙", "[]", "en", en);
    msg_actor_t azh = fx_volunteer (zh), aen = fx_volunteer (en);
    s_served (zh, "1.5");
    s_served (en, "1.5");

    fx_contains (fx_wait_notice (&azh, "service.completed"), "服务时长已认定：1.5 小时");
    fx_contains (fx_wait_notice (&aen, "service.completed"), "service hours are confirmed: 1.5 h");
    const char *text = fx_wait_notice (&azh, "points.awarded");
    fx_contains (text, "积分变动：+15 分");
    fx_contains (text, "当前积分 15 分");
    text = fx_wait_notice (&aen, "points.awarded");
    fx_contains (text, "Points: +15");
    fx_contains (text, "balance is now 15");
    fx_contains (fx_wait_notice (&azh, "star.reached"), "已成为1星志愿者");
    fx_contains (fx_wait_notice (&aen, "star.reached"), "now a 1-star volunteer");
    fx_contains (fx_wait_notice (&aen, "star.reached"), "1.5 hours");
    //  One notice per event: the second star is not reached, the first not told twice.
    fx_sleep_ms (500);
    assert_int_equal (fx_notices (&azh, "star.reached", NULL, 0), 1);
    assert_int_equal (fx_notices (&azh, "points.awarded", NULL, 0), 1);
}

//  The points store: a reservation, its collection, a cancellation and an expiry, each told
//  to the volunteer in their language.
static void
test_redemption_notices (void **state)
{
    (void) state;
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    json_decref (fx_call_ok ("ledger", &county, "rules.set",
                             "{\"region\": \"" COUNTY "\", \"points_per_hour\": 10}"));
    json_t *item = fx_call_ok ("ledger", &county, "item.create",
                               "{\"name\": \"大米 5 kg\", \"kind\": \"goods\", \"price_points\": 1,"
                               " \"stock\": 40, \"region\": \"" COUNTY "\"}");
    char body[256];
    snprintf (body, sizeof body, "{\"item_id\": \"%s\", \"quantity\": 2}", fx_str (item, "id"));
    json_decref (item);
    char zh[32], en[32];
    s_volunteer ("兑换甲", "n兑换甲", "[]", "zh", zh);
    s_volunteer ("兑换乙", "n兑换乙", "[]", "en", en);
    const char *people[] = {zh, en};
    for (int i = 0; i < 2; i++) {
        s_served (people[i], "3");
        fx_wait_for (1,
                     "SELECT count (*) FROM notify.notices WHERE kind = 'points.awarded'"
                     " AND recipient_id = '%s'",
                     people[i]);
    }
    msg_actor_t azh = fx_volunteer (zh), aen = fx_volunteer (en);
    //  Reserved, then collected.
    char ids[2][32], ref[128];
    const msg_actor_t *actors[] = {&azh, &aen};
    for (int i = 0; i < 2; i++) {
        json_t *r = fx_call_ok ("ledger", actors[i], "redemption.reserve", body);
        snprintf (ids[i], 32, "%s", fx_str (r, "id"));
        json_decref (r);
    }
    const char *text = fx_wait_notice (&azh, "redemption.reserved");
    fx_contains (text, "兑换预约成功：「大米 5 kg」× 2，2 积分已冻结");
    fx_contains (fx_wait_notice (&aen, "redemption.reserved"),
                 "Reserved: \"大米 5 kg\" x 2; 2 points are held");
    for (int i = 0; i < 2; i++) {
        snprintf (ref, sizeof ref, "{\"id\": \"%s\"}", ids[i]);
        json_decref (fx_call_ok ("ledger", &county, "redemption.fulfil", ref));
    }
    fx_contains (fx_wait_notice (&azh, "redemption.fulfilled"), "已领取，扣除 2 积分");
    fx_contains (fx_wait_notice (&aen, "redemption.fulfilled"), "2 points spent");
    //  Reserved, then cancelled by the volunteer.
    for (int i = 0; i < 2; i++) {
        json_t *r = fx_call_ok ("ledger", actors[i], "redemption.reserve", body);
        snprintf (ref, sizeof ref, "{\"id\": \"%s\"}", fx_str (r, "id"));
        json_decref (r);
        json_decref (fx_call_ok ("ledger", actors[i], "redemption.cancel", ref));
    }
    fx_contains (fx_wait_notice (&azh, "redemption.cancelled"),
                 "兑换已取消：「大米 5 kg」× 2，2 积分已退回");
    fx_contains (fx_wait_notice (&aen, "redemption.cancelled"), "2 points are back");
    //  Reserved and never collected: it expires (held one second here).
    json_decref (fx_call_ok ("ledger", &county, "store.settings.set",
                             "{\"region\": \"" COUNTY "\", \"hold_s\": 1}"));
    for (int i = 0; i < 2; i++)
        json_decref (fx_call_ok ("ledger", actors[i], "redemption.reserve", body));
    fx_contains (fx_wait_notice (&azh, "redemption.expired"), "未在期限内领取，2 积分已退回");
    fx_contains (fx_wait_notice (&aen, "redemption.expired"),
                 "expired uncollected; 2 points are back");
    assert_int_equal (fx_notices (&azh, "redemption.reserved", NULL, 0), 3);
}

//  ---------------------------------------------------------------------------------------
//  Offers: the warning at three quarters of the reply window, and the expiry

static void
test_offer_warning (void **state)
{
    (void) state;
    char start[64], end[64], availability[64];
    fx_window (2, 9, 12, start, end, availability);
    char quiet_zh[32], quiet_en[32], quick[32];
    s_volunteer ("沉默甲", "n沉默甲", availability, "zh", quiet_zh);
    s_volunteer ("沉默乙", "n沉默乙", availability, "en", quiet_en);
    s_volunteer ("快答丙", "n快答丙", availability, "zh", quick);
    msg_actor_t azh = fx_volunteer (quiet_zh), aen = fx_volunteer (quiet_en),
                aquick = fx_volunteer (quick);
    char resident[32];
    fx_resident_add ("居民丁", VILLAGE, NULL, resident);
    msg_actor_t ares = fx_resident (resident);

    char r1[32], r2[32], r3[32], o1[32], o2[32], o3[32];
    fx_request_add (&ares, VILLAGE, start, end, 1, "[\"n沉默甲\"]", NULL, AT_VILLAGE, "open", r1);
    fx_request_add (&ares, VILLAGE, start, end, 1, "[\"n沉默乙\"]", NULL, AT_VILLAGE, "open", r2);
    fx_request_add (&ares, VILLAGE, start, end, 1, "[\"n快答丙\"]", NULL, AT_VILLAGE, "open", r3);
    fx_wait_offer (quiet_zh, r1, o1);
    fx_wait_offer (quiet_en, r2, o2);
    fx_wait_offer (quick, r3, o3);
    assert_int_equal (fx_answer ("offer.accept", quick, o3, NULL), ST_OK);
    fx_wait_notice (&aquick, "offer.accepted");

    //  Each offer made a warning due at three quarters of its window; the answered one's is
    //  gone.
    fx_wait_for (2, "SELECT count (*) FROM notify.reminders WHERE kind = 'warning'");
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE kind = 'warning'"
                                " AND recipient_id = '%s'",
                                quick),
                      0);
    //  Due at three quarters: 9 of 12 s after the offer was made, 3 s before its deadline.
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE kind = 'warning'"
                                " AND offset_s = 3 AND recipient_id IN ('%s', '%s')",
                                quiet_zh, quiet_en),
                      2);

    //  Unanswered: the warning, then the expiry, in each language.
    const char *text = fx_wait_notice (&azh, "offer.warning");
    fx_contains (text, "尚未答复");
    fx_contains (text, "答复期限");
    fx_contains (fx_wait_notice (&aen, "offer.warning"), "You have not answered the dispatch");
    //  Not past the deadline yet when it came.
    assert_int_equal (
        fx_count ("SELECT count (*) FROM notify.notices n JOIN notify.reminders r"
                  " ON n.source LIKE 'reminder:' || r.id || ':%%'"
                  " WHERE r.kind = 'warning' AND n.kind = 'offer.warning'"
                  " AND n.created_at < r.due_at + make_interval (secs => r.offset_s)"),
        2);
    fx_contains (fx_wait_notice (&azh, "offer.expired"), "派单已过期");
    fx_contains (fx_wait_notice (&aen, "offer.expired"), "expired: the deadline");
    assert_int_equal (fx_notices (&azh, "offer.warning", NULL, 0), 1);
    //  The warning came before the expiry.
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.notices w JOIN notify.notices x"
                                " ON x.recipient_id = w.recipient_id AND x.kind = 'offer.expired'"
                                " WHERE w.kind = 'offer.warning' AND w.id < x.id"),
                      2);
    //  The volunteer who answered never heard a warning.
    assert_int_equal (fx_notices (&aquick, "offer.warning", NULL, 0), 0);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.reminders WHERE kind = 'warning'"
                                " AND status = 'pending'"),
                      0);
}

//  ---------------------------------------------------------------------------------------
//  Requests: waiting for review, rejected, unfilled

static void
test_request_review_notices (void **state)
{
    (void) state;
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    json_decref (fx_call_ok ("match", &county, "settings.set",
                             "{\"region\": \"" VILLAGE_2 "\", \"review_required\": true}"));
    char zh[32], en[32];
    fx_residents_zh_en ("审单甲", "审单乙", VILLAGE_2, zh, en);
    msg_actor_t rzh = fx_resident (zh), ren = fx_resident (en);
    char start[64], end[64], availability[64], r1[32], r2[32];
    fx_window (3, 9, 12, start, end, availability);
    fx_request_add (&rzh, VILLAGE_2, start, end, 1, "[]", NULL, AT_VILLAGE, "review", r1);
    fx_request_add (&ren, VILLAGE_2, start, end, 1, "[]", NULL, AT_VILLAGE, "review", r2);
    fx_contains (fx_wait_notice (&rzh, "request.submitted"), "正在等待审核");
    fx_contains (fx_wait_notice (&ren, "request.submitted"), "waits for review");
    msg_actor_t station = fx_admin ("station_admin", VILLAGE_2);
    char body[256];
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"approve\": false, \"reason\": \"超出本站服务范围\"}", r1);
    json_decref (fx_call_ok ("match", &station, "request.review", body));
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"approve\": false, \"reason\": \"outside our services\"}", r2);
    json_decref (fx_call_ok ("match", &station, "request.review", body));
    const char *text = fx_wait_notice (&rzh, "request.rejected");
    fx_contains (text, "未通过审核");
    fx_contains (text, "超出本站服务范围");
    text = fx_wait_notice (&ren, "request.rejected");
    fx_contains (text, "was not approved");
    fx_contains (text, "outside our services");
}

//  A request nobody can serve, whose start comes: unfilled, with match's reason.
static void
test_request_unfilled (void **state)
{
    (void) state;
    char zh[32], en[32];
    fx_residents_zh_en ("无人甲", "无人乙", VILLAGE, zh, en);
    msg_actor_t rzh = fx_resident (zh), ren = fx_resident (en);
    char start[40], end[40], r1[32], r2[32];
    fx_time (start, 6);
    fx_time (end, 6 + 7200);
    fx_request_add (&rzh, VILLAGE, start, end, 1, "[\"n无人会\"]", NULL, AT_VILLAGE, "open", r1);
    fx_request_add (&ren, VILLAGE, start, end, 1, "[\"n无人会\"]", NULL, AT_VILLAGE, "open", r2);
    const char *text = fx_wait_notice (&rzh, "request.unfilled");
    fx_contains (text, "暂未找到志愿者");
    fx_contains (text, "n无人会");
    text = fx_wait_notice (&ren, "request.unfilled");
    fx_contains (text, "no volunteer was found");
    fx_contains (text, "n无人会");
}

//  The phone of volunteer `id` as replies show it (masked) and as volunteer.reveal gives it.
static void
s_phones (const char *id, char masked[32], char plain[32])
{
    char body[96];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    json_t *shown = fx_call_ok ("registry", &FX_SYSTEM, "volunteer.get", body);
    snprintf (masked, 32, "%s", fx_str (shown, "phone"));
    json_decref (shown);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"test\"}", id);
    json_t *revealed = fx_call_ok ("registry", &FX_SYSTEM, "volunteer.reveal", body);
    snprintf (plain, 32, "%s", fx_str (revealed, "phone"));
    json_decref (revealed);
    assert_non_null (strstr (masked, "****"));
    assert_string_not_equal (masked, plain);
}

//  A staffed request: the resident hears who is coming, each by name and masked phone
//  (138****1234) as registry gives them at that moment (contact.list, masked), in their
//  language; notify's tables and log hold no plain phone (issue 21).
static void
test_staffed_names_masked_phone (void **state)
{
    (void) state;
    char zh[32], en[32];
    fx_residents_zh_en ("到场甲", "到场乙", VILLAGE, zh, en);
    msg_actor_t rzh = fx_resident (zh), ren = fx_resident (en);
    char start[64], end[64], availability[64];
    fx_window (4, 14, 17, start, end, availability);
    char v1[32], v2[32], v3[32];
    s_volunteer ("王到场", "n到场", availability, "zh", v1);
    s_volunteer ("李到场", "n到场", availability, "zh", v2);
    s_volunteer ("赵到场", "n到场英", availability, "zh", v3);
    char r1[32], r2[32], offer[32];
    fx_request_add (&rzh, VILLAGE, start, end, 2, "[\"n到场\"]", NULL, AT_VILLAGE, "open", r1);
    fx_request_add (&ren, VILLAGE, start, end, 1, "[\"n到场英\"]", NULL, AT_VILLAGE, "open", r2);
    const char *volunteers[] = {v1, v2, v3};
    const char *requests[] = {r1, r1, r2};
    for (int i = 0; i < 3; i++) {
        fx_wait_offer (volunteers[i], requests[i], offer);
        assert_int_equal (fx_answer ("offer.accept", volunteers[i], offer, NULL), ST_OK);
    }
    char masked[3][32], plain[3][32];
    for (int i = 0; i < 3; i++)
        s_phones (volunteers[i], masked[i], plain[i]);

    const char *text = fx_wait_notice (&rzh, "request.staffed");
    fx_contains (text, "已安排 2 名志愿者");
    char part[160];
    snprintf (part, sizeof part, "王到场（电话 %s）", masked[0]);
    fx_contains (text, part);
    snprintf (part, sizeof part, "李到场（电话 %s）", masked[1]);
    fx_contains (text, part);
    text = fx_wait_notice (&ren, "request.staffed");
    fx_contains (text, "1 volunteer(s) will serve");
    snprintf (part, sizeof part, "Coming: 赵到场 (phone %s).", masked[2]);
    fx_contains (text, part);

    //  No plain phone in any table of notify, nor in its log.
    const char *secrets[] = {plain[0], plain[1], plain[2]};
    const char *tables[] = {"notify.recipients", "notify.notices",   "notify.deliveries",
                            "notify.prefs",      "notify.reminders", "notify.outbox"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        fx_holds_none (tables[i], secrets, 3);
    assert_true (fx_holds_none ("notify.recipients", secrets, 3) >= 3);
    char log[600];
    snprintf (log, sizeof log, "%s/notify.log", harness_dir (fx_harness ()));
    FILE *file = fopen (log, "r");
    if (file) {
        char line[4096];
        while (fgets (line, sizeof line, file))
            for (int i = 0; i < 3; i++)
                assert_null (strstr (line, plain[i]));
        fclose (file);
    }
}

//  ---------------------------------------------------------------------------------------
//  Teams and waiting lists

static void
test_invitation_notice (void **state)
{
    (void) state;
    char zh[32], en[32];
    s_volunteer ("邀请甲", "n邀请甲", "[]", "zh", zh);
    s_volunteer ("邀请乙", "n邀请乙", "[]", "en", en);
    json_t *team = fx_call_ok ("registry", &FX_SYSTEM, "team.create",
                               "{\"name\": \"玉溪镇助老分队\", \"level\": \"detachment\","
                               " \"category\": \"elderly\", \"region\": \"431022100000\"}");
    char body[256];
    const char *people[] = {zh, en};
    for (int i = 0; i < 2; i++) {
        snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}",
                  fx_str (team, "id"), people[i]);
        json_decref (fx_call_ok ("registry", &FX_SYSTEM, "team.invite", body));
    }
    json_decref (team);
    msg_actor_t azh = fx_volunteer (zh), aen = fx_volunteer (en);
    fx_contains (fx_wait_notice (&azh, "invitation.created"), "你被邀请加入团队「玉溪镇助老分队」");
    fx_contains (fx_wait_notice (&aen, "invitation.created"),
                 "invited to join the team \"玉溪镇助老分队\"");
}

//  A transfer request (转移接续) declined by the destination's official: the volunteer hears
//  where they asked to go and why not, in their language, once.
static void
test_transfer_declined_notice (void **state)
{
    (void) state;
    char zh[32], en[32];
    s_volunteer ("转移甲", "n转移甲", "[]", "zh", zh);
    s_volunteer ("转移乙", "n转移乙", "[]", "en", en);
    msg_actor_t official = fx_admin ("region_admin", "431022101000");
    const char *people[] = {zh, en};
    for (int i = 0; i < 2; i++) {
        msg_actor_t self = fx_volunteer (people[i]);
        json_t *asked =
            fx_call_ok ("registry", &self, "transfer.request",
                        "{\"to_region\": \"" VILLAGE_3 "\", \"reason\": \"随子女迁居\"}");
        char body[256];
        snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"本村暂无对应服务队\"}",
                  fx_str (asked, "id"));
        json_decref (asked);
        json_decref (fx_call_ok ("registry", &official, "transfer.decline", body));
    }
    msg_actor_t azh = fx_volunteer (zh), aen = fx_volunteer (en);
    const char *text = fx_wait_notice (&azh, "volunteer.transfer_declined");
    fx_contains (text, "你转入 " VILLAGE_3 " 的转移接续申请未获同意");
    fx_contains (text, "本村暂无对应服务队");
    text = fx_wait_notice (&aen, "volunteer.transfer_declined");
    fx_contains (text, "transfer to region " VILLAGE_3 " was declined: 本村暂无对应服务队");
    assert_int_equal (fx_notices (&azh, "volunteer.transfer_declined", NULL, 0), 1);
    assert_int_equal (fx_notices (&aen, "volunteer.transfer_declined", NULL, 0), 1);
}

//  A place opens on an activity while those on its waiting list are busy then (signed up for
//  another activity at that time): they stay on the list and hear why.
static void
test_signup_skipped (void **state)
{
    (void) state;
    char zh[32], en[32], first[32];
    s_volunteer ("候补甲", "n候补甲", "[]", "zh", zh);
    s_volunteer ("候补乙", "n候补乙", "[]", "en", en);
    s_volunteer ("先到丙", "n先到丙", "[]", "zh", first);
    msg_actor_t azh = fx_volunteer (zh), aen = fx_volunteer (en), afirst = fx_volunteer (first);
    char starts[40], ends[40], closes[40], body[512];
    fx_time (starts, 2 * 86400);
    fx_time (ends, 2 * 86400 + 3600);
    fx_time (closes, 2 * 86400 - 600);
    char ids[2][32];
    const char *titles[] = {"周末义诊", "同时段的另一活动"};
    for (int i = 0; i < 2; i++) {
        snprintf (body, sizeof body,
                  "{\"title\": \"%s\", \"category\": \"助老\", \"region\": \"" VILLAGE "\","
                  " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
                  " \"capacity\": %d}",
                  titles[i], starts, ends, closes, i == 0 ? 1 : 10);
        fx_activity_add (body, ids[i]);
    }
    fx_activity_signup (&afirst, ids[0]);
    fx_activity_signup (&azh, ids[0]);
    fx_activity_signup (&aen, ids[0]);
    fx_wait_notice (&azh, "signup.waitlisted");
    fx_wait_notice (&aen, "signup.waitlisted");
    //  Both waiting become busy at that time.
    fx_activity_signup (&azh, ids[1]);
    fx_activity_signup (&aen, ids[1]);
    //  The place opens.
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", ids[0]);
    json_decref (fx_call_ok ("match", &afirst, "activity.withdraw", body));
    const char *text = fx_wait_notice (&azh, "signup.skipped");
    fx_contains (text, "「周末义诊」");
    fx_contains (text, "你在该时段已有安排");
    fx_contains (text, "仍候补第 1 位");
    text = fx_wait_notice (&aen, "signup.skipped");
    fx_contains (text, "opened while you are busy then");
    fx_contains (text, "you stay number 2");
}

//  ---------------------------------------------------------------------------------------
//  What waits for a region's officials (match's digest.region, for their daily digest)

static void
test_digest_region (void **state)
{
    (void) state;
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    json_decref (fx_call_ok ("match", &county, "settings.set",
                             "{\"region\": \"" VILLAGE_3 "\", \"review_required\": true}"));
    //  Two requests waiting for review; the one that starts in a few seconds ends unfilled.
    char resident[32], later[32], soon[32];
    fx_resident_add ("摘要甲", VILLAGE_3, NULL, resident);
    msg_actor_t ares = fx_resident (resident);
    char start[64], end[64], availability[64];
    fx_window (3, 9, 12, start, end, availability);
    fx_request_add (&ares, VILLAGE_3, start, end, 1, "[]", NULL, AT_VILLAGE, "review", later);
    fx_time (start, 4);
    fx_time (end, 4 + 7200);
    fx_request_add (&ares, VILLAGE_3, start, end, 1, "[]", NULL, AT_VILLAGE, "review", soon);
    fx_wait_request (soon, "unfilled");
    //  A record checked out and not confirmed; one still checked in, its activity not over.
    char out[32], in[32];
    fx_volunteer_add ("摘要乙", VILLAGE_3, "[]", "[]", 25.40, 112.95, "", out);
    fx_volunteer_add ("摘要丙", VILLAGE_3, "[]", "[]", 25.40, 112.95, "", in);
    char starts[40], ends[40], closes[40], body[512];
    fx_time (starts, 1800);
    fx_time (ends, 5400);
    fx_time (closes, 1700);
    snprintf (body, sizeof body,
              "{\"title\": \"摘要活动\", \"category\": \"助老\", \"region\": \"" VILLAGE_3 "\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10}",
              starts, ends, closes);
    json_t *activity = fx_call_ok ("match", &FX_SYSTEM, "activity.create", body);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", fx_str (activity, "id"));
    char check[FX_BODY_SIZE];
    fx_checkin_body (check, fx_str (activity, "id"), "");
    json_decref (activity);
    const char *people[] = {out, in};
    for (int i = 0; i < 2; i++) {
        msg_actor_t self = fx_volunteer (people[i]);
        json_decref (fx_call_ok ("match", &self, "activity.signup", body));
        json_decref (fx_call_ok ("match", &self, "record.checkin", check));
    }
    msg_actor_t self = fx_volunteer (out);
    json_decref (fx_call_ok ("match", &self, "record.checkout", body));

    //  The notify service's key, an official of the township and of the village see it.
    msg_actor_t town = fx_admin ("region_admin", "431022101000");
    msg_actor_t station = fx_admin ("station_admin", VILLAGE_3);
    json_t *digests[3];
    st_error_t err;
    assert_int_equal (fx_call_key ("match", "notify", NULL, "digest.region",
                                   "{\"region\": \"431022101000\"}", &digests[0], &err),
                      ST_OK);
    digests[1] = fx_call_ok ("match", &town, "digest.region", "{\"region\": \"431022101000\"}");
    digests[2] = fx_call_ok ("match", &station, "digest.region", "{\"region\": \"" VILLAGE_3 "\"}");
    for (int i = 0; i < 3; i++) {
        assert_int_equal (fx_int (digests[i], "to_review"), 1);
        assert_int_equal (fx_int (digests[i], "unfilled"), 1);
        assert_int_equal (fx_int (digests[i], "to_confirm"), 1);
        assert_int_equal (fx_int (digests[i], "open_checkouts"), 0);
        json_decref (digests[i]);
    }
    //  Since a moment from now: nothing unfilled since.
    char since[40];
    fx_time (since, 60);
    snprintf (body, sizeof body, "{\"region\": \"" VILLAGE_3 "\", \"since\": \"%s\"}", since);
    json_t *digest = fx_call_ok ("match", &station, "digest.region", body);
    assert_int_equal (fx_int (digest, "unfilled"), 0);
    assert_int_equal (fx_int (digest, "to_review"), 1);
    json_decref (digest);
    //  Another village's official sees nothing of it; another service's key is refused.
    msg_actor_t other = fx_admin ("station_admin", VILLAGE);
    fx_expect (
        "another village",
        fx_call ("match", &other, "digest.region", "{\"region\": \"" VILLAGE_3 "\"}", NULL, &err),
        &err, ST_PERMISSION_DENIED, "region");
    fx_expect ("the ledger's key",
               fx_call_key ("match", "ledger", NULL, "digest.region",
                            "{\"region\": \"" VILLAGE_3 "\"}", NULL, &err),
               &err, ST_PERMISSION_DENIED, "op");
    msg_actor_t volunteer = fx_volunteer (out);
    assert_int_not_equal (fx_call ("match", &volunteer, "digest.region",
                                   "{\"region\": \"" VILLAGE_3 "\"}", NULL, &err),
                          ST_OK);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ledger_notices),
        cmocka_unit_test (test_redemption_notices),
        cmocka_unit_test (test_offer_warning),
        cmocka_unit_test (test_request_review_notices),
        cmocka_unit_test (test_request_unfilled),
        cmocka_unit_test (test_invitation_notice),
        cmocka_unit_test (test_signup_skipped),
        cmocka_unit_test (test_digest_region),
        cmocka_unit_test (test_transfer_declined_notice),
        cmocka_unit_test (test_staffed_names_masked_phone),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
