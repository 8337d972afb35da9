/*  simulation_test.c — dispatch at the size of a county, at random, with every hard rule
    checked after every step.

    300 volunteers over nine villages of two townships and 300 residents (some in groups cared
    for first) are written into match's replicas as the superuser, as registry's events would,
    and stay as they are for the whole run, so that each offer can be checked against the
    volunteer as they were when it was made. Then, while match runs a round every 150 ms with
    reply deadlines of seconds, each step of the test posts requests through request.create (by
    officials in scope and by residents: skills, categories, headcount 1-3, urgency, stars,
    insurance, windows over the coming days and some starting within the minute, some made
    older so that their search has widened), answers the pending offers as their volunteers
    (accept, decline, let lapse, move the deadline into the past, answer too late), cancels
    some requests, and then checks in one snapshot of match's database:

      - every offer fits its volunteer: skills, category, slot, stars, insurance, active, and the
        volunteer lives within the area the request's search had widened to when the offer was
        made (its age then and the widening delays in force at its region);
      - offers and commitments: one pending offer per volunteer, no overlapping commitments, no
        offer overlapping a commitment made before it, commitments exactly the accepted offers
        of live requests, accepted counts, headcounts, staffed exactly when full, no pending
        offer of a closed request, deadlines by urgency and never after the start, no request
        unfilled before its start nor left open after it;
      - match's events tell each offer's story (made once, then accepted, declined, expired or
        withdrawn, an accepted one withdrawn only by a cancel) and each request's (published,
        staffed when full, cancelled, unfilled), each event of an offer the offer it is about.

    At the end the figures of the run are printed. STATION_SIM_SEED repeats a run's choices
    (the timing of rounds still differs); STATION_SIM_MS sets how long it runs.  */
#include "fixture.h"
#include "st_log.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#define VOLUNTEERS  300
#define RESIDENTS   300
#define REQUESTS    2400
#define ROUND_MS    "150"
#define URGENT_S    2 //  reply deadlines, as match is told them
#define NORMAL_S    4
#define SIM_MS      55000 //  how long the simulation runs (the whole test: about 10 s more)
#define POST_SHARE  0.6   //  requests are posted during this share of the run
#define STEP_MS_MIN 200   //  a step lasts at least a round and a bit
#define LAG_S       3     //  how late a round may act (expire, unfill) after its due time
#define SHOW_ROWS   10    //  violating rows printed per rule

#define S_STR_(x) #x
#define S_STR(x)  S_STR_ (x)

//  ---------------------------------------------------------------------------------------
//  The county: nine villages of two townships, where their people live

static const struct {
    const char *code;
    double lat, lon;
} s_villages[] = {
    {"431022100201", 25.400, 112.950}, {"431022100202", 25.412, 112.968},
    {"431022100203", 25.388, 112.931}, {"431022100204", 25.421, 112.942},
    {"431022100205", 25.379, 112.963}, {"431022101201", 25.551, 113.052},
    {"431022101202", 25.563, 113.071}, {"431022101203", 25.542, 113.033},
    {"431022101204", 25.572, 113.041},
};
#define VILLAGES (int) (sizeof s_villages / sizeof s_villages[0])

static const char *const s_skills[] = {"驾驶", "护理", "维修", "心理", "烹饪", "电脑"};
#define SKILLS (int) (sizeof s_skills / sizeof s_skills[0])
static const char *const s_categories[] = {"助老", "助残", "环境", "教育", "医疗"};
#define CATEGORIES (int) (sizeof s_categories / sizeof s_categories[0])

static const msg_actor_t COUNTY = {
    .account = "county-admin", .role = "region_admin", .region = "431022000000"};
static const msg_actor_t TOWN_A = {
    .account = "town-a-admin", .role = "region_admin", .region = "431022100000"};
static const msg_actor_t TOWN_B = {
    .account = "town-b-admin", .role = "region_admin", .region = "431022101000"};

//  What the test does with an offer, decided when it first sees it.
typedef enum {
    S_UNDECIDED,
    S_ACCEPT,  //  accepts at once
    S_DECLINE, //  declines at once
    S_IGNORE,  //  lets it lapse
    S_FORCE,   //  its deadline moved into the past by SQL: it expires at the next round
    S_LATE,    //  tries to accept it once its deadline has passed: refused
    S_DONE,    //  nothing more to do
} s_plan_t;

//  An offer's story as match's events tell it: the state its last event left it in.
typedef struct {
    int64_t request, volunteer; //  as offer.made said
    char state;                 //  0 before offer.made, then 'p', 'a', 'd', 'e' or 'w'
    bool accepted;              //  offer.accepted came (it may have been withdrawn since)
} s_story_t;

//  A request's story: how many of each event.
typedef struct {
    int published, staffed, cancelled, unfilled, other;
} s_tale_t;

//  A posted request, as the test needs it for cancelling.
typedef struct {
    int64_t id;
    int village;
    char resident[16]; //  who posted it as a resident, "" when an official did
} s_posted_t;

typedef struct {
    fx_t *fx; //  match alone
    //  Posted requests
    s_posted_t posted[REQUESTS];
    int post_count;
    int resident_village[RESIDENTS + 1]; //  where each resident lives
    //  What the test does with each offer, by offer id
    uint8_t *plans;
    size_t plan_room;
    //  Events read so far (sequenced by the relay): the stories, by offer and request id
    int64_t cursor;
    s_story_t *stories;
    size_t story_room;
    s_tale_t *tales;
    size_t tale_room;
    //  Violations found in the current step
    char *violations;
    size_t violation_used, violation_room;
    int violated;
    //  Figures
    int steps, accepts, declines, late_refused, forced, cancels, cancel_refused;
    int conflicts_lapsed, conflicts_closed, events_read;
    double check_ms_max, check_ms_total;
    double began; //  when the fixture began (the database and match's start count)
} s_fixture_t;

static s_fixture_t *F;

//  ---------------------------------------------------------------------------------------
//  Small helpers

static double
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

//  A random number in [0, n).
static int
s_random (int n)
{
    return (int) ((double) rand () / ((double) RAND_MAX + 1) * n);
}

//  True with probability `percent` %.
static bool
s_chance (int percent)
{
    return s_random (100) < percent;
}

//  Grows an array of `size`-byte items to hold index `index`, zeroing what is new.
static void *
s_grow (void *items, size_t *room, size_t index, size_t size)
{
    if (index < *room)
        return items;
    size_t wanted = (index + 1) * 2 + 1024;
    items = realloc (items, wanted * size);
    assert_non_null (items);
    memset ((char *) items + *room * size, 0, (wanted - *room) * size);
    *room = wanted;
    return items;
}

//  Notes a violation of the current step (printed and failed at the step's end).
static void
s_violation (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *line = zsys_vprintf (format, args);
    va_end (args);
    size_t length = strlen (line);
    if (F->violation_used + length + 2 > F->violation_room) {
        F->violation_room = (F->violation_used + length + 2) * 2;
        F->violations = realloc (F->violations, F->violation_room);
        assert_non_null (F->violations);
    }
    memcpy (F->violations + F->violation_used, line, length);
    F->violation_used += length;
    F->violations[F->violation_used++] = '\n';
    F->violations[F->violation_used] = 0;
    F->violated++;
    zstr_free (&line);
}

//  RFC 3339 text of epoch seconds in Beijing time.
static void
s_rfc3339 (int64_t epoch, char text[64])
{
    time_t local = (time_t) (epoch + 8 * 3600);
    struct tm tm;
    gmtime_r (&local, &tm);
    snprintf (text, 64, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

//  The admin of the township a village lies in.
static const msg_actor_t *
s_town_of (int village)
{
    return strncmp (s_villages[village].code, "431022100", 9) == 0 ? &TOWN_A : &TOWN_B;
}

//  ---------------------------------------------------------------------------------------
//  The people: supply and residents, as registry's events would leave them in match

//  A text[] literal of the words of `words` whose bit is set in `mask`.
static void
s_words (const char *const *words, int count, unsigned mask, char *out, size_t size)
{
    size_t used = (size_t) snprintf (out, size, "'{");
    for (int i = 0; i < count; i++)
        if (mask & (1u << i))
            used += (size_t) snprintf (out + used, size - used, "%s\"%s\"", used > 2 ? "," : "",
                                       words[i]);
    snprintf (out + used, size - used, "}'");
}

static void
s_people (void)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    static const char *const parts[] = {"am", "pm", "ev"};
    size_t room = VOLUNTEERS * 600 + 1024, used = 0;
    char *sql = malloc (room);
    assert_non_null (sql);
    used += (size_t) snprintf (
        sql, room,
        "INSERT INTO match.supply (volunteer_id, name, region, skills, categories,"
        " availability, stars, insurance_until, lat, lon, status, registry_seq) VALUES ");
    for (int v = 1; v <= VOLUNTEERS; v++) {
        int village = s_random (VILLAGES);
        unsigned skills = 0, categories = 0;
        for (int k = 0; k < SKILLS; k++)
            skills |= s_chance (35) ? 1u << k : 0;
        //  Four in ten name no category (they take any); the others one or more.
        if (!s_chance (40)) {
            for (int k = 0; k < CATEGORIES; k++)
                categories |= s_chance (30) ? 1u << k : 0;
            if (!categories)
                categories = 1u << s_random (CATEGORIES);
        }
        char have[256], named[256], slots[512];
        s_words (s_skills, SKILLS, skills, have, sizeof have);
        s_words (s_categories, CATEGORIES, categories, named, sizeof named);
        size_t at = (size_t) snprintf (slots, sizeof slots, "'{");
        for (int d = 0; d < 7; d++)
            for (int p = 0; p < 3; p++)
                if (s_chance (45))
                    at += (size_t) snprintf (slots + at, sizeof slots - at, "%s%s_%s",
                                             at > 2 ? "," : "", days[d], parts[p]);
        snprintf (slots + at, sizeof slots - at, "}'");
        //  Insurance: none, lapsed, or ending on one of the coming ten days, so that it covers
        //  some of the requests a volunteer may be offered and not the later ones.
        char insurance[96];
        int dice = s_random (100);
        if (dice < 30)
            snprintf (insurance, sizeof insurance, "NULL");
        else
            snprintf (insurance, sizeof insurance,
                      "(now () AT TIME ZONE 'Asia/Shanghai')::date + %d",
                      dice < 45 ? -1 - s_random (30) : s_random (10));
        char where[96] = "NULL, NULL";
        if (!s_chance (10))
            snprintf (where, sizeof where, "%.6f, %.6f",
                      s_villages[village].lat + (s_random (2000) - 1000) / 100000.0,
                      s_villages[village].lon + (s_random (2000) - 1000) / 100000.0);
        dice = s_random (100);
        const char *status = dice < 5 ? "suspended" : dice < 8 ? "left" : "active";
        used += (size_t) snprintf (sql + used, room - used,
                                   "%s(%d, '志愿者%d', '%s', %s, %s, %s, %d, %s, %s, '%s', 1)",
                                   v > 1 ? ", " : "", v, v, s_villages[village].code, have, named,
                                   slots, s_random (6), insurance, where, status);
    }
    PQclear (fx_query ("%s", sql));
    used = (size_t) snprintf (sql, room,
                              "INSERT INTO match.residents (id, region, lat, lon, care_tags,"
                              " registry_seq) VALUES ");
    for (int r = 1; r <= RESIDENTS; r++) {
        int village = F->resident_village[r] = s_random (VILLAGES);
        used += (size_t) snprintf (sql + used, room - used, "%s(%d, '%s', %.6f, %.6f, '%s', 1)",
                                   r > 1 ? ", " : "", r, s_villages[village].code,
                                   s_villages[village].lat + (s_random (600) - 300) / 100000.0,
                                   s_villages[village].lon + (s_random (600) - 300) / 100000.0,
                                   s_chance (20) ? "{\"独居老人\"}" : "{}");
    }
    PQclear (fx_query ("%s", sql));
    free (sql);
}

//  ---------------------------------------------------------------------------------------
//  Region settings: three overrides of the widening delays, and the delays in force at every
//  village as the test expects them (independently of match's region_settings_of)

static void
s_settings_set (const msg_actor_t *actor, const char *region, int township_s, int county_s)
{
    msg_region_settings_t request = {.region = (char *) region};
    if (township_s >= 0)
        request.widen_township_s = township_s, request.has_widen_township_s = true;
    if (county_s >= 0)
        request.widen_county_s = county_s, request.has_widen_county_s = true;
    msg_region_settings_t reply = {0};
    st_error_t err;
    if (fx_call_msg ("match", actor, "settings.set", &request, &reply, &err) != ST_OK)
        fail_msg ("settings.set %s: %s (%s)", region, err.message, err.field);
    st_msg_clear (&msg_region_settings_desc, &reply);
}

static void
s_settings (void)
{
    //  Township B widens fast (within the run), one of its villages faster still to the
    //  county; one village of township A widens to its township early.
    s_settings_set (&TOWN_B, "431022101000", 8, 25);
    s_settings_set (&TOWN_B, "431022101202", -1, 15);
    s_settings_set (&TOWN_A, "431022100203", 4, -1);
    PQclear (fx_query ("CREATE TABLE public.sim_widen (region text PRIMARY KEY,"
                       " township_s integer NOT NULL, county_s integer NOT NULL)"));
    for (int v = 0; v < VILLAGES; v++) {
        const char *code = s_villages[v].code;
        int township_s = 60, county_s = 300;
        if (strncmp (code, "431022101", 9) == 0)
            township_s = 8, county_s = 25;
        if (strcmp (code, "431022101202") == 0)
            county_s = 15;
        if (strcmp (code, "431022100203") == 0)
            township_s = 4;
        //  settings.get shows what is in force: the same as the test expects.
        msg_region_ref_t ref = {.region = (char *) code};
        msg_region_settings_t got = {0};
        st_error_t err;
        assert_int_equal (fx_call_msg ("match", &COUNTY, "settings.get", &ref, &got, &err), ST_OK);
        assert_int_equal (got.has_widen_township_s ? got.widen_township_s : 60, township_s);
        assert_int_equal (got.has_widen_county_s ? got.widen_county_s : 300, county_s);
        st_msg_clear (&msg_region_settings_desc, &got);
        PQclear (fx_query ("INSERT INTO public.sim_widen VALUES ('%s', %d, %d)", code, township_s,
                           county_s));
    }
}

//  ---------------------------------------------------------------------------------------
//  Requests

//  Posts the next request at random, by an official in scope or by a resident.
static void
s_post (void)
{
    msg_request_create_t request = {0};
    int village = s_random (VILLAGES);
    char resident[16] = "";
    const msg_actor_t *actor = s_chance (30) ? &COUNTY : s_town_of (village);
    msg_actor_t as_resident;
    bool by_resident = false;
    if (s_chance (60)) {
        //  For a resident: where they live, posted by themselves or an official for them.
        int id = 1 + s_random (RESIDENTS);
        snprintf (resident, sizeof resident, "%d", id);
        village = F->resident_village[id];
        actor = s_town_of (village);
        if ((by_resident = s_chance (50))) {
            as_resident = fx_resident (resident);
            actor = &as_resident;
        } else
            request.resident_id = resident;
    }
    request.category = (char *) s_categories[s_random (CATEGORIES)];
    request.title = "上门服务";
    request.description = "模拟的服务请求";
    request.region = (char *) s_villages[village].code;
    if (s_chance (50)) {
        request.lat = s_villages[village].lat + (s_random (400) - 200) / 100000.0;
        request.lon = s_villages[village].lon + (s_random (400) - 200) / 100000.0;
        request.has_lat = request.has_lon = true;
    }
    //  Mostly on one of the coming six days, in or out of the slots volunteers state; one in
    //  twenty starting within the minute and a half, so that it ends unfilled (or staffed)
    //  during the run.
    int64_t now = (int64_t) time (NULL), start, end;
    int duration;
    if (s_chance (5)) {
        start = now + 20 + s_random (70);
        duration = 1 + s_random (5);
        end = start + duration * 60 + s_random (5) * 60;
    } else {
        static const int hours[] = {5, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 22};
        int64_t midnight = (now + 8 * 3600) / 86400 * 86400 - 8 * 3600;
        start = midnight + (1 + s_random (6)) * 86400
                + hours[s_random ((int) (sizeof hours / sizeof hours[0]))] * 3600
                + s_random (2) * 1800;
        duration = 30 * (1 + s_random (6));
        end = start + duration * 60 + s_random (4) * 1800;
    }
    char start_text[64], end_text[64];
    s_rfc3339 (start, start_text);
    s_rfc3339 (end, end_text);
    request.earliest_start = start_text;
    request.latest_end = end_text;
    request.duration_minutes = duration, request.has_duration_minutes = true;
    request.headcount = 1 + s_random (3), request.has_headcount = true;
    char *need[2];
    int first = s_random (SKILLS), count = s_chance (40) ? 0 : s_chance (75) ? 1 : 2;
    for (int k = 0; k < count; k++)
        need[k] = (char *) s_skills[(first + k * (1 + s_random (SKILLS - 1))) % SKILLS];
    request.skills.items = need, request.skills.count = (size_t) count;
    request.has_skills = true;
    request.urgency = s_chance (25) ? "urgent" : "normal";
    request.min_stars = s_chance (65) ? 0 : 1 + s_random (4), request.has_min_stars = true;
    request.insurance_required = s_chance (25), request.has_insurance_required = true;

    msg_service_request_t reply = {0};
    st_error_t err;
    if (fx_call_msg ("match", actor, "request.create", &request, &reply, &err) != ST_OK)
        fail_msg ("request.create in %s from %s to %s: %s (%s)", request.region, start_text,
                  end_text, err.message, err.field);
    assert_string_equal (reply.status, "open");
    s_posted_t *posted = &F->posted[F->post_count++];
    posted->id = atoll (reply.id);
    posted->village = village;
    snprintf (posted->resident, sizeof posted->resident, "%s", by_resident ? resident : "");
    st_msg_clear (&msg_service_request_desc, &reply);
    //  A quarter of the requests waited already: their search has widened to the township
    //  or the county. Done right away, so that an offer made before it (to the village, in
    //  every wider area too) still lies in the area the check computes.
    if (s_chance (25))
        PQclear (fx_query ("UPDATE match.requests SET published_at = published_at"
                           " - interval '%d seconds' WHERE id = %lld",
                           s_chance (50) ? 70 : 400, (long long) posted->id));
}

//  Cancels a posted request at random: by who posted it (a resident) or an official in
//  scope; now and then an official out of scope tries first and is told there is none.
static void
s_cancel (void)
{
    if (F->post_count == 0)
        return;
    s_posted_t *posted = &F->posted[s_random (F->post_count)];
    char id[24];
    snprintf (id, sizeof id, "%lld", (long long) posted->id);
    msg_dispatch_ref_t request = {.id = id};
    msg_service_request_t reply = {0};
    st_error_t err;
    if (s_chance (10)) {
        const msg_actor_t *stranger = s_town_of (posted->village) == &TOWN_A ? &TOWN_B : &TOWN_A;
        st_status_t rc = fx_call_msg ("match", stranger, "request.cancel", &request, &reply, &err);
        st_msg_clear (&msg_service_request_desc, &reply);
        if (rc != ST_NOT_FOUND)
            s_violation ("request.cancel of request %s by %s out of scope: got %s (%s), expected"
                         " not_found",
                         id, stranger->account, st_status_name (rc), err.message);
        F->cancel_refused++;
    }
    msg_actor_t as_resident = fx_resident (posted->resident);
    const msg_actor_t *actor = *posted->resident ? &as_resident : s_town_of (posted->village);
    st_status_t rc = fx_call_msg ("match", actor, "request.cancel", &request, &reply, &err);
    if (rc == ST_OK) {
        F->cancels++;
        if (strcmp (reply.status, "cancelled") != 0)
            s_violation ("request.cancel of request %s replied status %s", id, reply.status);
    } else if (rc != ST_CONFLICT)
        fail_msg ("request.cancel %s as %s: %s (%s)", id, actor->account, err.message,
                  st_status_name (rc));
    st_msg_clear (&msg_service_request_desc, &reply);
}

//  ---------------------------------------------------------------------------------------
//  Answers

//  Answers offer `offer` of volunteer `volunteer` with op (offer.accept or offer.decline);
//  returns the status, err filled.
static st_status_t
s_answer (const char *op, const char *offer, const char *volunteer, st_error_t *err)
{
    msg_dispatch_ref_t request = {.id = (char *) offer};
    msg_offer_t reply = {0};
    msg_actor_t actor = fx_volunteer (volunteer);
    st_status_t rc = fx_call_msg ("match", &actor, op, &request, &reply, err);
    if (rc == ST_OK
        && strcmp (reply.status, strcmp (op, "offer.accept") == 0 ? "accepted" : "declined") != 0)
        s_violation ("%s of offer %s replied status %s", op, offer, reply.status);
    st_msg_clear (&msg_offer_desc, &reply);
    return rc;
}

//  What a refused answer says: the offer lapsed or was closed meanwhile (expected: the test
//  looked before a round or an accept of another volunteer), or something no rule allows.
static void
s_refused (const char *op, const char *offer, const char *volunteer, st_status_t rc,
           const st_error_t *err)
{
    if (rc == ST_CONFLICT && strstr (err->message, "overlapping"))
        //  One pending offer a volunteer: the round that made this one saw every commitment
        //  made before it, and must not have offered an overlapping request.
        s_violation ("%s of offer %s by volunteer %s refused: %s (the offer overlaps a"
                     " commitment the round should have seen)",
                     op, offer, volunteer, err->message);
    else if (rc == ST_CONFLICT && (strstr (err->message, "expired")))
        F->conflicts_lapsed++;
    else if (rc == ST_CONFLICT)
        F->conflicts_closed++;
    else
        fail_msg ("%s of offer %s by volunteer %s: %s (%s)", op, offer, volunteer,
                  st_status_name (rc), err->message);
}

//  Every pending offer (and those expired in the last seconds, for late answers): each is
//  given a plan when first seen, and the plan is carried out.
static void
s_answer_offers (void)
{
    PGresult *res = fx_query ("SELECT id, volunteer_id, status, deadline <= now ()"
                              " FROM match.offers WHERE status = 'pending'"
                              " OR (status = 'expired' AND answered_at > now () - interval '5 s')"
                              " ORDER BY id");
    char *forced = NULL;
    size_t forced_used = 0, forced_room = 0;
    for (int row = 0; row < PQntuples (res); row++) {
        const char *offer = PQgetvalue (res, row, 0), *volunteer = PQgetvalue (res, row, 1);
        bool pending = strcmp (PQgetvalue (res, row, 2), "pending") == 0;
        bool lapsed = PQgetvalue (res, row, 3)[0] == 't' || !pending;
        size_t id = (size_t) atoll (offer);
        F->plans = s_grow (F->plans, &F->plan_room, id, 1);
        if (F->plans[id] == S_UNDECIDED) {
            int dice = s_random (100);
            F->plans[id] = dice < 40   ? S_ACCEPT
                           : dice < 65 ? S_DECLINE
                           : dice < 80 ? S_IGNORE
                           : dice < 90 ? S_FORCE
                                       : S_LATE;
        }
        st_error_t err;
        st_status_t rc;
        switch (F->plans[id]) {
        case S_ACCEPT:
        case S_DECLINE: {
            if (!pending)
                break;
            const char *op = F->plans[id] == S_ACCEPT ? "offer.accept" : "offer.decline";
            rc = s_answer (op, offer, volunteer, &err);
            if (rc == ST_OK) {
                *(F->plans[id] == S_ACCEPT ? &F->accepts : &F->declines) += 1;
            } else
                s_refused (op, offer, volunteer, rc, &err);
            F->plans[id] = S_DONE;
            break;
        }
        case S_FORCE:
            if (!pending)
                break;
            if (forced_used + 24 > forced_room) {
                forced_room = forced_room * 2 + 256;
                forced = realloc (forced, forced_room);
                assert_non_null (forced);
            }
            forced_used += (size_t) snprintf (forced + forced_used, forced_room - forced_used,
                                              "%s%s", forced_used ? "," : "", offer);
            F->plans[id] = S_DONE;
            break;
        case S_LATE:
            if (!lapsed)
                break;
            //  Past its deadline (by the database's clock, which match reads too): an accept
            //  must be refused, whether or not a round has expired it yet.
            rc = s_answer ("offer.accept", offer, volunteer, &err);
            if (rc == ST_OK)
                s_violation ("offer %s of volunteer %s was accepted past its deadline", offer,
                             volunteer);
            else if (rc == ST_CONFLICT)
                F->late_refused++;
            else
                fail_msg ("late offer.accept of %s: %s (%s)", offer, st_status_name (rc),
                          err.message);
            F->plans[id] = S_DONE;
            break;
        default:
            break;
        }
    }
    PQclear (res);
    if (forced_used) {
        //  Recorded, so that the deadline rule knows these were moved by the test. Offers
        //  about to lapse are left alone: a round expiring them meanwhile locks the same rows.
        res = fx_query ("WITH f AS (UPDATE match.offers SET deadline = now () - interval '1 s'"
                        " WHERE id = ANY ('{%s}'::bigint[]) AND status = 'pending'"
                        " AND deadline > now () + interval '500 ms' RETURNING id)"
                        " INSERT INTO public.sim_forced SELECT id FROM f",
                        forced);
        F->forced += atoi (PQcmdTuples (res));
        PQclear (res);
    }
    free (forced);
}

//  ---------------------------------------------------------------------------------------
//  The hard rules, each a query returning its violating rows (in the check's snapshot)

//  Offers with their request and volunteer.
#define S_OFFERS                                                                                   \
    " FROM match.offers o JOIN match.requests r ON r.id = o.request_id"                            \
    " JOIN match.supply s ON s.volunteer_id = o.volunteer_id"

static const struct {
    const char *rule;
    const char *sql;
} s_rules[] = {
    //  Who may be offered what
    {"the volunteer has every skill the request needs",
     "SELECT o.id AS offer, o.request_id, o.volunteer_id, r.skills AS needs, s.skills AS "
     "has" S_OFFERS " WHERE NOT s.skills @> r.skills"},
    {"a volunteer who names categories names the request's",
     "SELECT o.id AS offer, o.request_id, o.volunteer_id, r.category, s.categories" S_OFFERS
     " WHERE cardinality (s.categories) > 0 AND r.category <> ALL (s.categories)"},
    //  Slots begin on whole hours: the window touches a slot when its start, or a whole hour
    //  inside it, lies in one (a week at most).
    {"the volunteer is available in a slot the request's window touches",
     "SELECT o.id AS offer, o.request_id, o.volunteer_id, match.rfc3339 (r.earliest_start) AS "
     "start, match.rfc3339 (r.latest_end) AS end, s.availability" S_OFFERS
     " WHERE NOT EXISTS (SELECT 1 FROM (SELECT r.earliest_start AS t UNION ALL SELECT"
     " generate_series (date_trunc ('hour', r.earliest_start) + interval '1 hour',"
     " least (r.latest_end, r.earliest_start + interval '7 days') - interval '1 microsecond',"
     " interval '1 hour')) x WHERE public.sim_slot (x.t) = ANY (s.availability))"},
    {"the volunteer has the stars the request asks",
     "SELECT o.id AS offer, o.request_id, o.volunteer_id, r.min_stars, s.stars" S_OFFERS
     " WHERE s.stars < r.min_stars"},
    {"the volunteer is insured through the end of the service where it is required",
     "SELECT o.id AS offer, o.request_id, o.volunteer_id, match.rfc3339 (r.latest_end) AS ends,"
     " s.insurance_until" S_OFFERS " WHERE r.insurance_required AND (s.insurance_until IS NULL"
     " OR (s.insurance_until + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' < r.latest_end)"},
    {"the volunteer is active",
     "SELECT o.id AS offer, o.request_id, o.volunteer_id, s.status" S_OFFERS
     " WHERE s.status <> 'active'"},
    {"the volunteer lives within the area the search had widened to when the offer was made",
     "SELECT o.id AS offer, o.request_id, o.volunteer_id, r.region AS request_region,"
     " s.region AS volunteer_region, extract (epoch FROM o.created_at - r.published_at) AS age_s,"
     " w.township_s, w.county_s" S_OFFERS " JOIN public.sim_widen w ON w.region = r.region"
     " CROSS JOIN LATERAL (SELECT extract (epoch FROM o.created_at - r.published_at) AS age) a"
     " WHERE NOT starts_with (s.region, CASE WHEN a.age >= w.county_s THEN left (r.region, 6)"
     " WHEN a.age >= w.township_s THEN left (r.region, 9) ELSE r.region END)"},
    //  An offer's time is its round's start, which may come a moment before the request's
    //  (the round reads the demand later): the search had not widened then either.
    {"an offer is made while its request is published and before its start",
     "SELECT o.id AS offer, o.request_id, o.created_at AS made, r.published_at,"
     " r.earliest_start" S_OFFERS
     " WHERE r.published_at IS NULL OR o.created_at >= r.earliest_start"
     " OR o.created_at < r.published_at - interval '" S_STR (LAG_S) " s'"},
    {"no offer overlaps a commitment its volunteer made before it",
     "SELECT b.id AS offer, b.volunteer_id, b.request_id, b.created_at AS made,"
     " tstzrange (rb.earliest_start, rb.latest_end) AS window, a.id AS accepted_offer,"
     " c.request_id AS committed_request, c.during, a.answered_at AS accepted_at,"
     " c.created_at AS committed_at"
     " FROM match.offers b JOIN match.requests rb ON rb.id = b.request_id"
     " JOIN match.commitments c ON c.volunteer_id = b.volunteer_id AND c.request_id <> b.request_id"
     " JOIN match.offers a ON a.request_id = c.request_id AND a.volunteer_id = c.volunteer_id"
     " WHERE a.status = 'accepted' AND a.id < b.id"
     " AND c.during && tstzrange (rb.earliest_start, rb.latest_end)"},
    //  Offers, commitments and requests together
    {"never the same request offered to the same volunteer twice",
     "SELECT request_id, volunteer_id, array_agg (id) AS offers FROM match.offers"
     " GROUP BY request_id, volunteer_id HAVING count (*) > 1"},
    {"at most one pending offer per volunteer",
     "SELECT volunteer_id, array_agg (id) AS offers FROM match.offers WHERE status = 'pending'"
     " GROUP BY volunteer_id HAVING count (*) > 1"},
    {"no volunteer is committed to overlapping times",
     "SELECT a.volunteer_id, a.request_id, a.during, b.request_id, b.during"
     " FROM match.commitments a JOIN match.commitments b"
     " ON a.volunteer_id = b.volunteer_id AND a.id < b.id AND a.during && b.during"},
    {"every accepted offer of a live request is a commitment of its window",
     "SELECT o.id AS offer, o.request_id, o.volunteer_id, r.status, c.during" S_OFFERS
     " LEFT JOIN match.commitments c ON c.request_id = o.request_id"
     " AND c.volunteer_id = o.volunteer_id WHERE o.status = 'accepted' AND (c.id IS NULL"
     " OR c.during <> tstzrange (r.earliest_start, r.latest_end))"},
    {"every commitment is an accepted offer of a request not cancelled",
     "SELECT c.id AS commitment, c.request_id, c.volunteer_id, r.status"
     " FROM match.commitments c JOIN match.requests r ON r.id = c.request_id"
     " WHERE r.status = 'cancelled' OR NOT EXISTS (SELECT 1 FROM match.offers o"
     " WHERE o.request_id = c.request_id AND o.volunteer_id = c.volunteer_id"
     " AND o.status = 'accepted')"},
    {"accepted counts the accepted offers of a request not cancelled",
     "SELECT r.id AS request, r.accepted, (SELECT count (*) FROM match.offers o"
     " WHERE o.request_id = r.id AND o.status = 'accepted') AS offers_accepted"
     " FROM match.requests r WHERE r.status <> 'cancelled' AND r.accepted <>"
     " (SELECT count (*) FROM match.offers o WHERE o.request_id = r.id AND o.status = 'accepted')"},
    {"never more accepted and pending offers than the headcount",
     "SELECT r.id AS request, r.headcount, count (*) AS live_offers FROM match.requests r"
     " JOIN match.offers o ON o.request_id = r.id AND o.status IN ('pending', 'accepted')"
     " GROUP BY r.id HAVING count (*) > r.headcount"},
    {"staffed exactly when the headcount is reached, with the time it was",
     "SELECT id AS request, status, accepted, headcount, staffed_at FROM match.requests"
     " WHERE status IN ('open', 'matching', 'staffed', 'unfilled')"
     " AND ((status = 'staffed') <> (accepted = headcount)"
     " OR (status = 'staffed') <> (staffed_at IS NOT NULL))"},
    {"no pending or accepted offer of a closed or cancelled request",
     "SELECT o.id AS offer, o.status, o.request_id, r.status AS request_status" S_OFFERS
     " WHERE (o.status = 'pending' AND r.status NOT IN ('open', 'matching'))"
     " OR (o.status = 'accepted' AND r.status = 'cancelled')"},
    {"a deadline is the reply time by urgency from the offer, never after the start",
     "SELECT o.id AS offer, o.request_id, r.urgency, match.rfc3339 (o.created_at) AS made,"
     " o.deadline, r.earliest_start, f.offer_id IS NOT NULL AS moved_by_test" S_OFFERS
     " LEFT JOIN public.sim_forced f ON f.offer_id = o.id"
     " WHERE o.deadline > r.earliest_start OR (f.offer_id IS NULL AND o.deadline <> least"
     " (r.earliest_start, o.created_at + CASE WHEN r.urgency = 'urgent' THEN " S_STR (
         URGENT_S) " ELSE " S_STR (NORMAL_S) " END * interval '1 second'))"},
    {"no offer stays pending long past its deadline",
     "SELECT id AS offer, request_id, volunteer_id, deadline FROM match.offers"
     " WHERE status = 'pending' AND deadline < now () - interval '" S_STR (LAG_S) " s'"},
    {"an answered offer has its answer's time, a pending one none",
     "SELECT id AS offer, status, created_at, answered_at FROM match.offers"
     " WHERE (status = 'pending') <> (answered_at IS NULL) OR answered_at < created_at"},
    {"a request is unfilled only once its start has come, with a reason",
     "SELECT id AS request, match.rfc3339 (earliest_start) AS start, match.rfc3339 (updated_at) AS "
     "unfilled,"
     " reason FROM match.requests WHERE status = 'unfilled'"
     " AND (earliest_start > updated_at OR reason IS NULL)"},
    {"no request stays in dispatch long after its start",
     "SELECT id AS request, status, match.rfc3339 (earliest_start) AS start FROM match.requests"
     " WHERE status IN ('open', 'matching') AND earliest_start < now () - interval '" S_STR (
         LAG_S) " s'"},
    {"only requests with offers are matching (and those without open)",
     "SELECT r.id AS request, r.status FROM match.requests r WHERE (r.status = 'matching')"
     " <> EXISTS (SELECT 1 FROM match.offers o WHERE o.request_id = r.id)"
     " AND r.status IN ('open', 'matching')"},
};
#define RULES (sizeof s_rules / sizeof s_rules[0])

//  Runs every rule; notes each violating row.
static void
s_check_rules (void)
{
    for (size_t i = 0; i < RULES; i++) {
        PGresult *res = fx_query ("%s", s_rules[i].sql);
        int rows = PQntuples (res);
        for (int row = 0; row < rows && row < SHOW_ROWS; row++) {
            char line[1024];
            size_t used = 0;
            for (int col = 0; col < PQnfields (res) && used < sizeof line; col++)
                used += (size_t) snprintf (
                    line + used, sizeof line - used, "%s%s=%s", col ? " " : "", PQfname (res, col),
                    PQgetisnull (res, row, col) ? "NULL" : PQgetvalue (res, row, col));
            s_violation ("\"%s\": %s", s_rules[i].rule, line);
        }
        if (rows > SHOW_ROWS)
            s_violation ("\"%s\": %d rows more", s_rules[i].rule, rows - SHOW_ROWS);
        PQclear (res);
    }
}

//  ---------------------------------------------------------------------------------------
//  The stories match's events tell

//  Applies one offer event to its story; notes what no story allows.
static void
s_offer_event (s_story_t *story, int64_t id, const char *topic, const msg_offer_t *body)
{
    const char *kind = topic + strlen ("offer.");
    static const struct {
        const char *kind, *status;
        char from, to;
    } moves[] = {
        {"made", "pending", 0, 'p'},
        {"accepted", "accepted", 'p', 'a'},
        {"declined", "declined", 'p', 'd'},
        {"expired", "expired", 'p', 'e'},
        {"withdrawn", "withdrawn", 'p', 'w'},
        //  An accepted offer is withdrawn when its request is cancelled.
        {"withdrawn", "withdrawn", 'a', 'w'},
    };
    bool known = false, moved = false;
    for (size_t i = 0; i < sizeof moves / sizeof moves[0] && !moved; i++) {
        if (strcmp (moves[i].kind, kind) != 0)
            continue;
        known = true;
        if (story->state != moves[i].from)
            continue;
        moved = true;
        if (strcmp (body->status, moves[i].status) != 0)
            s_violation ("event %s of offer %lld says status %s", topic, (long long) id,
                         body->status);
        story->state = moves[i].to;
        story->accepted |= moves[i].to == 'a';
    }
    if (!known)
        s_violation ("event %s of offer %lld: no such offer event", topic, (long long) id);
    else if (!moved)
        s_violation ("event %s of offer %lld after its story reached state '%c'", topic,
                     (long long) id, story->state ? story->state : '0');
    if (strcmp (kind, "made") == 0) {
        story->request = atoll (body->request_id);
        story->volunteer = atoll (body->volunteer_id);
    } else if (atoll (body->request_id) != story->request
               || atoll (body->volunteer_id) != story->volunteer)
        s_violation ("event %s of offer %lld names request %s and volunteer %s, offer.made"
                     " request %lld and volunteer %lld",
                     topic, (long long) id, body->request_id, body->volunteer_id,
                     (long long) story->request, (long long) story->volunteer);
}

static void
s_request_event (s_tale_t *tale, int64_t id, const char *topic, const msg_request_event_t *body)
{
    const char *kind = topic + strlen ("request.");
    const char *status = strcmp (kind, "published") == 0 ? "open" : kind;
    int *count = strcmp (kind, "published") == 0   ? &tale->published
                 : strcmp (kind, "staffed") == 0   ? &tale->staffed
                 : strcmp (kind, "cancelled") == 0 ? &tale->cancelled
                 : strcmp (kind, "unfilled") == 0  ? &tale->unfilled
                                                   : &tale->other;
    (*count)++;
    if (count != &tale->other && strcmp (body->status, status) != 0)
        s_violation ("event %s of request %lld says status %s", topic, (long long) id,
                     body->status);
    if (count == &tale->staffed && body->accepted != body->headcount)
        s_violation ("event %s of request %lld: %lld of %lld accepted", topic, (long long) id,
                     (long long) body->accepted, (long long) body->headcount);
}

//  Applies the events of rows [0, rows) of `res` (id, seq, topic, body as text) to stories
//  and tales.
static void
s_apply_events (PGresult *res, s_story_t **stories, size_t *story_room, s_tale_t **tales,
                size_t *tale_room)
{
    for (int row = 0; row < PQntuples (res); row++) {
        const char *topic = PQgetvalue (res, row, 2);
        bool offer = strncmp (topic, "offer.", 6) == 0;
        if (!offer && strncmp (topic, "request.", 8) != 0)
            continue;
        const st_event_desc_t *event = st_proto_event (topic);
        if (!event) {
            s_violation ("outbox row %s: unknown topic %s", PQgetvalue (res, row, 0), topic);
            continue;
        }
        size_t size;
        unsigned char *data =
            PQunescapeBytea ((const unsigned char *) PQgetvalue (res, row, 3), &size);
        void *body = calloc (1, event->body->size);
        st_error_t err;
        if (st_decode (event->body, data, size, body, &err) != 0)
            s_violation ("outbox row %s (%s): does not decode: %s", PQgetvalue (res, row, 0), topic,
                         err.message);
        else {
            //  Every dispatch event's first field is its id.
            int64_t id = atoll (*(char **) body);
            if (id <= 0)
                s_violation ("outbox row %s (%s): id \"%s\"", PQgetvalue (res, row, 0), topic,
                             *(char **) body);
            else if (offer) {
                *stories = s_grow (*stories, story_room, (size_t) id, sizeof (s_story_t));
                s_offer_event (&(*stories)[id], id, topic, body);
            } else {
                *tales = s_grow (*tales, tale_room, (size_t) id, sizeof (s_tale_t));
                s_request_event (&(*tales)[id], id, topic, body);
            }
        }
        st_msg_clear (event->body, body);
        free (body);
        PQfreemem (data);
    }
}

//  Compares the stories with the offers and requests as they stand (the same snapshot).
static void
s_check_stories (const s_story_t *stories, size_t story_room, const s_tale_t *tales,
                 size_t tale_room)
{
    PGresult *res = fx_query (
        "SELECT o.id, o.request_id, o.volunteer_id, o.status, r.status FROM match.offers o"
        " JOIN match.requests r ON r.id = o.request_id ORDER BY o.id");
    //  How many offers of each request the events say were accepted.
    size_t requests = tale_room;
    int *accepted = calloc (requests + 1, sizeof (int));
    assert_non_null (accepted);
    size_t offers = (size_t) PQntuples (res), seen = 0;
    for (int row = 0; row < PQntuples (res); row++) {
        size_t id = (size_t) atoll (PQgetvalue (res, row, 0));
        const char *status = PQgetvalue (res, row, 3);
        const s_story_t *story = id < story_room ? &stories[id] : NULL;
        if (!story || story->state == 0) {
            s_violation ("offer %zu (%s) has no offer.made", id, status);
            continue;
        }
        seen++;
        if (story->request != atoll (PQgetvalue (res, row, 1))
            || story->volunteer != atoll (PQgetvalue (res, row, 2)))
            s_violation ("offer %zu: offer.made named request %lld and volunteer %lld, the row"
                         " says %s and %s",
                         id, (long long) story->request, (long long) story->volunteer,
                         PQgetvalue (res, row, 1), PQgetvalue (res, row, 2));
        if (story->state != status[0])
            s_violation ("offer %zu is %s, its events left it '%c'", id, status, story->state);
        //  Only a cancel takes back a volunteer's yes (staffing and unfilling withdraw only
        //  pending offers).
        if (story->state == 'w' && story->accepted
            && strcmp (PQgetvalue (res, row, 4), "cancelled") != 0)
            s_violation ("offer %zu was accepted, then withdrawn, and its request is %s", id,
                         PQgetvalue (res, row, 4));
        if (story->accepted && story->request > 0 && (size_t) story->request < requests)
            accepted[story->request]++;
    }
    //  Events of offers that are not there.
    size_t told = 0;
    for (size_t id = 0; id < story_room; id++)
        told += stories[id].state != 0;
    if (told != seen)
        s_violation ("events tell of %zu offers, %zu of the %zu offers have them", told, seen,
                     offers);
    PQclear (res);

    res = fx_query ("SELECT id, status, accepted, headcount FROM match.requests ORDER BY id");
    for (int row = 0; row < PQntuples (res); row++) {
        size_t id = (size_t) atoll (PQgetvalue (res, row, 0));
        const char *status = PQgetvalue (res, row, 1);
        int count = atoi (PQgetvalue (res, row, 2)), headcount = atoi (PQgetvalue (res, row, 3));
        s_tale_t none = {0};
        const s_tale_t *tale = id < tale_room ? &tales[id] : &none;
        int offered = id < requests ? accepted[id] : 0;
        if (tale->published != 1 || tale->other != 0
            || tale->cancelled != (strcmp (status, "cancelled") == 0)
            || tale->unfilled != (strcmp (status, "unfilled") == 0)
            || tale->staffed != (count == headcount) || offered != count)
            s_violation ("request %zu (%s, %d of %d accepted): events published %d, staffed %d,"
                         " cancelled %d, unfilled %d, other %d; offers accepted by their"
                         " events %d",
                         id, status, count, headcount, tale->published, tale->staffed,
                         tale->cancelled, tale->unfilled, tale->other, offered);
    }
    PQclear (res);
    free (accepted);
}

//  Reads the events the relay has sequenced since the last check (for good: the relay gives
//  sequence numbers in order to committed rows only) and those committed but not sequenced
//  yet (for this check only, on copies), then compares the stories with the rows.
static void
s_check_events (void)
{
    PGresult *res = fx_query ("SELECT id, seq, topic, body FROM match.outbox"
                              " WHERE seq > %lld ORDER BY seq",
                              (long long) F->cursor);
    s_apply_events (res, &F->stories, &F->story_room, &F->tales, &F->tale_room);
    F->events_read += PQntuples (res);
    if (PQntuples (res) > 0)
        F->cursor = atoll (PQgetvalue (res, PQntuples (res) - 1, 1));
    PQclear (res);
    res = fx_query ("SELECT id, seq, topic, body FROM match.outbox WHERE seq IS NULL ORDER BY id");
    size_t story_room = F->story_room, tale_room = F->tale_room;
    s_story_t *stories = malloc (story_room * sizeof (s_story_t) + 1);
    s_tale_t *tales = malloc (tale_room * sizeof (s_tale_t) + 1);
    assert_true (stories && tales);
    //  Before the first events there is nothing to copy (and memcpy takes no NULL).
    if (story_room)
        memcpy (stories, F->stories, story_room * sizeof (s_story_t));
    if (tale_room)
        memcpy (tales, F->tales, tale_room * sizeof (s_tale_t));
    s_apply_events (res, &stories, &story_room, &tales, &tale_room);
    PQclear (res);
    s_check_stories (stories, story_room, tales, tale_room);
    free (stories);
    free (tales);
}

//  match's log lines holding `what` (" warn ": a round that rolled back, a round slower than
//  a second), the first `show` of them printed: not a rule, but what explains a rule broken by
//  lateness.
static int
s_match_log (const char *what, int show)
{
    char path[512], line[1024];
    snprintf (path, sizeof path, "%s/match.log", harness_dir (fx_harness ()));
    FILE *file = fopen (path, "r");
    int count = 0;
    while (file && fgets (line, sizeof line, file))
        if (strstr (line, what)) {
            if (count++ < show)
                print_message ("  match.log: %s", line);
        }
    if (file)
        fclose (file);
    return count;
}

//  Every rule and every story in one snapshot of match's database; fails the test naming
//  every violation found (this step's and any noted while answering).
static void
s_check (int step)
{
    double began = s_now_ms ();
    PQclear (fx_query ("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    s_check_rules ();
    s_check_events ();
    PQclear (fx_query ("COMMIT"));
    double took = s_now_ms () - began;
    F->check_ms_total += took;
    if (took > F->check_ms_max)
        F->check_ms_max = took;
    if (F->violated) {
        s_match_log (" warn ", 20);
        fail_msg ("step %d: %d violations:\n%s", step, F->violated, F->violations);
    }
}

//  ---------------------------------------------------------------------------------------
//  Fixture: match alone (supply and residents are written into its replicas), rounds every
//  150 ms, reply deadlines of seconds

static int
s_setup (void **state)
{
    setenv ("STATION_DISPATCH_ROUND_MS", ROUND_MS, 1);
    setenv ("STATION_DISPATCH_REPLY_URGENT_S", S_STR (URGENT_S), 1);
    setenv ("STATION_DISPATCH_REPLY_NORMAL_S", S_STR (NORMAL_S), 1);
    //  The platform's widening delays are the defaults the rules assume (60 s, 300 s).
    unsetenv ("STATION_DISPATCH_WIDEN_TOWNSHIP_S");
    unsetenv ("STATION_DISPATCH_WIDEN_COUNTY_S");
    F = calloc (1, sizeof *F);
    F->began = s_now_ms ();
    F->fx = fx_new ("simulation", FX_MATCH);
    //  Times in violations read as the stations' (they compare as instants either way).
    PQclear (fx_query ("SET TimeZone = 'Asia/Shanghai'"));
    //  The test's own: the slot of a time as volunteers state availability (written apart
    //  from match's dispatch_slot), and the deadlines it moved.
    PQclear (fx_query (
        "CREATE FUNCTION public.sim_slot (t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$"
        " SELECT (ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[extract (isodow FROM l)]"
        " || CASE WHEN extract (hour FROM l) BETWEEN 6 AND 11 THEN '_am'"
        " WHEN extract (hour FROM l) BETWEEN 12 AND 17 THEN '_pm'"
        " WHEN extract (hour FROM l) BETWEEN 18 AND 21 THEN '_ev' END"
        " FROM (SELECT t AT TIME ZONE 'Asia/Shanghai' AS l) x $$"));
    PQclear (fx_query ("CREATE TABLE public.sim_forced (offer_id bigint PRIMARY KEY)"));
    *state = F;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_destroy (&F->fx);
    free (F->plans);
    free (F->stories);
    free (F->tales);
    free (F->violations);
    free (F);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  The simulation

//  The figures of the run, printed at the end.
static void
s_report (double run_ms, double setup_ms)
{
    PGresult *res = fx_query (
        "SELECT (SELECT count (*) FROM match.requests),"
        " (SELECT count (*) FILTER (WHERE status = 'staffed') FROM match.requests),"
        " (SELECT count (*) FILTER (WHERE status = 'matching') FROM match.requests),"
        " (SELECT count (*) FILTER (WHERE status = 'open') FROM match.requests),"
        " (SELECT count (*) FILTER (WHERE status = 'unfilled') FROM match.requests),"
        " (SELECT count (*) FILTER (WHERE status = 'cancelled') FROM match.requests),"
        " (SELECT count (*) FROM match.offers),"
        " (SELECT count (*) FILTER (WHERE status = 'accepted') FROM match.offers),"
        " (SELECT count (*) FILTER (WHERE status = 'declined') FROM match.offers),"
        " (SELECT count (*) FILTER (WHERE status = 'expired') FROM match.offers),"
        " (SELECT count (*) FILTER (WHERE status = 'withdrawn') FROM match.offers),"
        " (SELECT count (*) FILTER (WHERE status = 'pending') FROM match.offers),"
        " (SELECT coalesce (sum (accepted), 0) FROM match.requests WHERE status <> 'cancelled'),"
        " (SELECT coalesce (sum (headcount), 0) FROM match.requests WHERE status <> 'cancelled'),"
        " (SELECT count (*) FROM match.offers o JOIN match.requests r ON r.id = o.request_id"
        " JOIN match.supply s ON s.volunteer_id = o.volunteer_id WHERE s.region <> r.region),"
        " (SELECT count (*) FROM match.offers o JOIN match.requests r ON r.id = o.request_id"
        " JOIN match.supply s ON s.volunteer_id = o.volunteer_id"
        " WHERE left (s.region, 9) <> left (r.region, 9)),"
        " (SELECT count (*) FROM match.commitments)");
    long v[17];
    for (int i = 0; i < 17; i++)
        v[i] = atol (PQgetvalue (res, 0, i));
    PQclear (res);
    long live = v[0] - v[5];
    print_message ("simulation: %d steps in %.1f s after %.1f s of setup, %d rules and the"
                   " event stories checked after each (%.0f ms on average, %.0f ms at most)\n",
                   F->steps, run_ms / 1000, setup_ms / 1000, (int) RULES,
                   F->check_ms_total / (F->steps ? F->steps : 1), F->check_ms_max);
    print_message ("  requests %ld: staffed %ld (%.1f%% of the %ld not cancelled), matching %ld,"
                   " open %ld, unfilled %ld, cancelled %ld; places filled %ld of %ld (%.1f%%)\n",
                   v[0], v[1], live ? 100.0 * (double) v[1] / (double) live : 0, live, v[2], v[3],
                   v[4], v[5], v[12], v[13], v[13] ? 100.0 * (double) v[12] / (double) v[13] : 0);
    print_message ("  offers %ld: accepted %ld, declined %ld, expired %ld (%d moved past their"
                   " deadline by the test), withdrawn %ld, pending %ld; outside the village %ld,"
                   " outside the township %ld; commitments %ld\n",
                   v[6], v[7], v[8], v[9], F->forced, v[10], v[11], v[14], v[15], v[16]);
    print_message ("  answers: %d accepts, %d declines, %d late accepts refused, %d answers"
                   " found the offer lapsed and %d closed; %d cancels (%d out of scope refused);"
                   " %d events read\n",
                   F->accepts, F->declines, F->late_refused, F->conflicts_lapsed,
                   F->conflicts_closed, F->cancels, F->cancel_refused, F->events_read);
}

static void
test_simulation (void **state)
{
    (void) state;
    const char *seed_text = getenv ("STATION_SIM_SEED");
    unsigned seed = seed_text ? (unsigned) atol (seed_text) : (unsigned) time (NULL);
    const char *ms_text = getenv ("STATION_SIM_MS");
    double run_ms = ms_text ? atof (ms_text) : SIM_MS;
    print_message ("simulation: seed %u (STATION_SIM_SEED repeats it)\n", seed);
    srand (seed);
    s_people ();
    s_settings ();
    double start = s_now_ms (), setup_ms = start - F->began;
    while (s_now_ms () - start < run_ms) {
        double step_began = s_now_ms ();
        //  Post this step's share of the requests, spread over the first part of the run.
        double share = (s_now_ms () - start) / (run_ms * POST_SHARE);
        int due = share >= 1 ? REQUESTS : (int) (REQUESTS * share) + 1;
        while (F->post_count < due && F->post_count < REQUESTS)
            s_post ();
        s_answer_offers ();
        for (int k = 0; k < 2; k++)
            if (s_chance (40))
                s_cancel ();
        F->steps++;
        //  Let a round pass between a step's answers and its check.
        double took = s_now_ms () - step_began;
        if (took < STEP_MS_MIN)
            fx_sleep_ms (STEP_MS_MIN - (int) took);
        s_check (F->steps);
    }
    //  The end: two more rounds, then a last look.
    fx_sleep_ms (2 * atoi (ROUND_MS) + 100);
    s_check (++F->steps);
    s_report (s_now_ms () - start, setup_ms);
    int warnings = s_match_log (" warn ", 5);
    if (warnings)
        print_message ("  %d warnings from match (rounds rolled back or slow)\n", warnings);
    int rollbacks = s_match_log ("rolled back", 0);

    //  The run did what it is for: every kind of outcome, and searches that widened.
    assert_int_equal (F->post_count, REQUESTS);
    assert_true (F->accepts > 200);
    assert_true (F->declines > 100);
    assert_true (F->late_refused > 10);
    assert_true (fx_count ("SELECT count (*) FROM match.offers WHERE status = 'expired'") > 100);
    assert_true (fx_count ("SELECT count (*) FROM match.offers WHERE status = 'withdrawn'") > 0);
    assert_true (fx_count ("SELECT count (*) FROM match.requests WHERE status = 'staffed'") > 50);
    assert_true (fx_count ("SELECT count (*) FROM match.requests WHERE status = 'unfilled'") > 0);
    assert_true (F->cancels > 0);
    assert_true (fx_count ("SELECT count (*) FROM match.offers o JOIN match.requests r"
                           " ON r.id = o.request_id JOIN match.supply s"
                           " ON s.volunteer_id = o.volunteer_id"
                           " WHERE left (s.region, 9) <> left (r.region, 9)")
                 > 0);
    assert_int_equal (rollbacks, 0);
}

int
main (void)
{
    st_log_init ("simulation_test", "warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_simulation),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
