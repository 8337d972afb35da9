/*  pii_test.c — personal data in what registry shows and keeps: a masked ID number cannot be
    rebuilt from any reply a role without the right to reveal can get, stored replies keep no
    personal data in clear, and a stored reply answers only the caller it was made for.  */
#include "fixture.h"
#include "st_keys.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  The county fx_county_add makes, and its villages: 玉溪镇 (100) has two, 白石渡镇 (101) one.
#define COUNTY    "431022000000"
#define TOWN_A    "431022100000"
#define TOWN_B    "431022101000"
#define VILLAGE_1 "431022100201"
#define VILLAGE_2 "431022100202"
#define VILLAGE_3 "431022101203"

//  ---------------------------------------------------------------------------------------
//  GB 11643 arithmetic

static const int s_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};

static char
s_check_char (const char *body17)
{
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (body17[i] - '0') * s_weights[i];
    return "10X98765432"[sum % 11];
}

static bool
s_leap (int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_days_in (int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_leap (y) ? 29 : days[m - 1];
}

//  Today in China, YYYYMMDD.
static int
s_today (void)
{
    time_t now = time (NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r (&now, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

//  ---------------------------------------------------------------------------------------
//  What a curious official learns of each person, from every reply they can get

typedef struct {
    char id[24];         //  the volunteer's id
    char mask[40];       //  the masked ID number shown
    char region[16];     //  the region shown
    char gender[4];      //  "M" or "F", when shown
    char birth_date[16]; //  when shown
    char decade[16];     //  birth_decade, when shown
    int seen;            //  replies that showed them
} s_person_t;

#define S_MAX_PEOPLE 400
static s_person_t s_people[S_MAX_PEOPLE];
static size_t s_people_count;
static int s_replies_seen;

static s_person_t *
s_person (const char *id)
{
    for (size_t i = 0; i < s_people_count; i++)
        if (strcmp (s_people[i].id, id) == 0)
            return &s_people[i];
    assert_true (s_people_count < S_MAX_PEOPLE);
    s_person_t *p = &s_people[s_people_count++];
    memset (p, 0, sizeof *p);
    snprintf (p->id, sizeof p->id, "%s", id);
    return p;
}

//  Keeps a shown value; two replies must not disagree about it.
static void
s_learn (char *slot, size_t size, json_t *object, const char *key)
{
    json_t *value = json_object_get (object, key);
    if (!json_is_string (value))
        return;
    if (slot[0])
        assert_string_equal (slot, json_string_value (value));
    snprintf (slot, size, "%s", json_string_value (value));
}

//  Walks a reply and learns, for every person in it (a volunteer with their id, a member by
//  volunteer_id), every fact that narrows their ID number.
static void
s_observe (json_t *json)
{
    if (json_is_array (json)) {
        size_t i;
        json_t *item;
        json_array_foreach (json, i, item) s_observe (item);
        return;
    }
    if (!json_is_object (json))
        return;
    const char *id = NULL;
    if (json_is_string (json_object_get (json, "id_number")))
        id = fx_str (json, "id");
    else if (json_is_string (json_object_get (json, "volunteer_id")))
        id = fx_str (json, "volunteer_id");
    if (id && id[0]) {
        s_person_t *p = s_person (id);
        s_learn (p->mask, sizeof p->mask, json, "id_number");
        //  The region may change (a transfer): the county the curious assume is the last.
        if (json_is_string (json_object_get (json, "id_number")))
            snprintf (p->region, sizeof p->region, "%s", fx_str (json, "region"));
        s_learn (p->gender, sizeof p->gender, json, "gender");
        s_learn (p->birth_date, sizeof p->birth_date, json, "birth_date");
        s_learn (p->decade, sizeof p->decade, json, "birth_decade");
        p->seen++;
    }
    const char *key;
    json_t *value;
    json_object_foreach (json, key, value)
    {
        if (json_is_array (value) || json_is_object (value))
            s_observe (value);
    }
}

//  A reply a role without the right to reveal got: learnt from, then released.
static void
s_seen (json_t *reply)
{
    s_observe (reply);
    s_replies_seen++;
    json_decref (reply);
}

//  Whether a shown character allows the real one.
static bool
s_fits (char shown, char real)
{
    return shown == '*' || shown == real;
}

//  How many valid ID numbers agree with everything shown of a person (up to `enough`): the
//  first six digits from the mask's first four and, giving the curious every benefit, the
//  county of the region shown; a birth date from the birth date, the decade or anything
//  from 1900 to today; the sequence and the check character as the mask and the gender allow.
static long
s_candidates (const s_person_t *p, long enough)
{
    assert_int_equal (strlen (p->mask), 18);
    char body[18];
    memcpy (body, p->mask, 4);
    memcpy (body + 4, p->region + 4, 2);
    int today = s_today ();
    int first = 1900, last = today / 10000;
    if (p->decade[0]) {
        first = atoi (p->decade);
        last = first + 9;
    }
    long count = 0;
    for (int y = first; y <= last; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= s_days_in (y, m); d++) {
                int date = y * 10000 + m * 100 + d;
                if (date > today)
                    continue;
                char text[48];
                snprintf (text, sizeof text, "%04d-%02d-%02d", y, m, d);
                if (p->birth_date[0] && strcmp (text, p->birth_date) != 0)
                    continue;
                char digits[16];
                snprintf (digits, sizeof digits, "%08d", date);
                memcpy (body + 6, digits, 8);
                bool fits = true;
                for (int i = 4; i < 14; i++)
                    fits = fits && s_fits (p->mask[i], body[i]);
                if (!fits)
                    continue;
                for (int seq = 0; seq < 1000; seq++) {
                    snprintf (body + 14, 4, "%03d", seq);
                    if (!s_fits (p->mask[14], body[14]) || !s_fits (p->mask[15], body[15])
                        || !s_fits (p->mask[16], body[16]))
                        continue;
                    if (p->gender[0] && ((body[16] - '0') % 2 == 1) != (p->gender[0] == 'M'))
                        continue;
                    if (!s_fits (p->mask[17], s_check_char (body)))
                        continue;
                    if (++count >= enough)
                        return count;
                }
            }
    return count;
}

//  ---------------------------------------------------------------------------------------
//  A population

#define S_POPULATION 150

typedef struct {
    char id[32];
    char id_number[19];
    char birth_date[48];
    char region[16];
} s_member_t;

static s_member_t s_population[S_POPULATION];

//  Registers S_POPULATION volunteers of the county's villages, as the system, each with a
//  valid ID number of the county (birth dates 1940 to 2006, any sequence number).
static void
s_populate (void)
{
    const char *villages[] = {VILLAGE_1, VILLAGE_2, VILLAGE_3};
    srand (18);
    for (int n = 0; n < S_POPULATION; n++) {
        s_member_t *v = &s_population[n];
        char body17[64];
        bool unique;
        do {
            int y = 1940 + rand () % 67, m = 1 + rand () % 12, d = 1 + rand () % s_days_in (y, m);
            snprintf (body17, sizeof body17, "431022%04d%02d%02d%03d", y, m, d, rand () % 1000);
            snprintf (v->birth_date, sizeof v->birth_date, "%04d-%02d-%02d", y, m, d);
            fx_id_number (body17, v->id_number);
            unique = true;
            for (int k = 0; k < n; k++)
                unique = unique && strcmp (s_population[k].id_number, v->id_number) != 0;
        } while (!unique);
        snprintf (v->region, sizeof v->region, "%s", villages[n % 3]);
        char body[512];
        snprintf (body, sizeof body,
                  "{\"name\": \"志愿者%d\", \"id_number\": \"%s\", \"phone\": \"139%08d\","
                  " \"region\": \"%s\", \"skills\": [\"急救\"]}",
                  n, v->id_number, 20000000 + n, v->region);
        json_t *reply = fx_call_ok ("registry", &FX_SYSTEM, "volunteer.register", body);
        snprintf (v->id, sizeof v->id, "%s", fx_str (reply, "id"));
        json_decref (reply);
    }
}

//  Every page of volunteer.list `actor` may read.
static void
s_list_all (const msg_actor_t *actor)
{
    char cursor[64] = "";
    do {
        char body[128];
        if (cursor[0])
            snprintf (body, sizeof body, "{\"limit\": 40, \"cursor\": \"%s\"}", cursor);
        else
            snprintf (body, sizeof body, "{\"limit\": 40}");
        json_t *page = fx_call_ok ("registry", actor, "volunteer.list", body);
        snprintf (cursor, sizeof cursor, "%s", fx_str (page, "next_cursor"));
        s_seen (page);
    } while (cursor[0]);
}

//  For every reply a role that may not reveal personal data can get about the people of a
//  county — volunteer.get, volunteer.list, volunteer.update, volunteer.set_status,
//  volunteer.register, volunteer.transfer, team.get, resident.get — what it shows (the masked
//  ID number, the region, the gender, any birth date or decade) leaves at least 100 ID
//  numbers each person could have.
static void
test_masked_id_numbers_cannot_be_rebuilt (void **state)
{
    fx_t *fx = fx_new ("pii_mask", FX_REGISTRY);
    fx_county_add ();
    s_populate ();
    s_people_count = 0;
    s_replies_seen = 0;

    msg_actor_t station = fx_admin ("station_admin", TOWN_A);
    msg_actor_t leader = fx_admin ("team_leader", COUNTY);
    msg_actor_t station_b = fx_admin ("station_admin", TOWN_B);
    const msg_actor_t *curious[] = {&station, &leader, &station_b};

    //  Reads: every page, and every volunteer one by one (out of scope is not found).
    for (size_t a = 0; a < sizeof curious / sizeof curious[0]; a++) {
        s_list_all (curious[a]);
        for (int n = 0; n < S_POPULATION; n++) {
            char body[128];
            snprintf (body, sizeof body, "{\"id\": \"%.20s\"}", s_population[n].id);
            json_t *reply = NULL;
            if (fx_call ("registry", curious[a], "volunteer.get", body, &reply, NULL) == ST_OK)
                s_seen (reply);
        }
    }

    //  Writes whose replies show a volunteer.
    char body[512];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"skills\": [\"急救\", \"驾驶\"]}",
              s_population[0].id);
    s_seen (fx_call_ok ("registry", &station, "volunteer.update", body));
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"suspended\"}", s_population[1].id);
    s_seen (fx_call_ok ("registry", &leader, "volunteer.set_status", body));
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"active\"}", s_population[1].id);
    s_seen (fx_call_ok ("registry", &leader, "volunteer.set_status", body));
    //  A move from 玉溪镇 to 白石渡镇: the volunteer asks, the destination's admin moves them.
    msg_actor_t mover = fx_volunteer (s_population[0].id);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"region\": \"%s\"}", s_population[0].id,
              VILLAGE_3);
    json_decref (fx_call_ok ("registry", &mover, "volunteer.request_transfer", body));
    s_seen (fx_call_ok ("registry", &station_b, "volunteer.transfer", body));
    //  A registration by a station admin shows no more than a read.
    char id_number[19];
    fx_id_number ("43102219870412123", id_number);
    snprintf (body, sizeof body,
              "{\"name\": \"新来的\", \"id_number\": \"%s\", \"phone\": \"13700000001\","
              " \"region\": \"%s\"}",
              id_number, VILLAGE_1);
    s_seen (fx_call_ok ("registry", &station, "volunteer.register", body));

    //  A team with members, read by the township's admin.
    json_t *team = fx_call_ok ("registry", &FX_SYSTEM, "team.create",
                               "{\"name\": \"玉溪镇志愿服务队\", \"level\": \"brigade\","
                               " \"category\": \"elderly\", \"region\": \"" TOWN_A "\"}");
    char team_id[32];
    snprintf (team_id, sizeof team_id, "%s", fx_str (team, "id"));
    json_decref (team);
    for (int n = 3; n < 12; n += 3) {
        //  A volunteer joins by accepting an invitation.
        snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team_id,
                  s_population[n].id);
        json_t *invitation = fx_call_ok ("registry", &FX_SYSTEM, "team.invite", body);
        snprintf (body, sizeof body, "{\"id\": \"%s\"}", fx_str (invitation, "id"));
        json_decref (invitation);
        msg_actor_t invitee = {
            .account = "invitee", .role = "volunteer", .volunteer_id = s_population[n].id};
        json_decref (fx_call_ok ("registry", &invitee, "invitation.accept", body));
    }
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", team_id);
    s_seen (fx_call_ok ("registry", &station, "team.get", body));

    //  A resident, read by the admin of their township.
    json_t *resident = fx_call_ok ("registry", &FX_SYSTEM, "resident.register",
                                   "{\"name\": \"王奶奶\", \"phone\": \"13600000002\","
                                   " \"region\": \"" VILLAGE_1 "\", \"address\": \"玉溪镇 1 号\"}");
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", fx_str (resident, "id"));
    json_decref (resident);
    s_seen (fx_call_ok ("registry", &station, "resident.get", body));

    //  Everyone was seen, and nobody's ID number can be picked out of fewer than 100.
    assert_true (s_people_count >= S_POPULATION);
    int weakest = -1;
    long fewest = 1000000;
    for (size_t i = 0; i < s_people_count; i++) {
        s_person_t *p = &s_people[i];
        if (!p->mask[0])
            continue; //  seen only as a team member: by name
        long count = s_candidates (p, 100);
        if (count < fewest) {
            fewest = count;
            weakest = (int) i;
        }
    }
    assert_true (weakest >= 0);
    s_person_t *w = &s_people[weakest];
    if (fewest < 100)
        fail_msg ("volunteer %s: %s of region %s, gender %s, birth date \"%s\", decade \"%s\""
                  " leaves %ld candidate ID numbers (at least 100 wanted), over %d replies",
                  w->id, w->mask, w->region, w->gender, w->birth_date, w->decade, fewest,
                  s_replies_seen);

    //  Those who may reveal, and the volunteer themself, still see the birth date; everyone
    //  sees the decade; the event keeps the year match keeps.
    msg_actor_t county_admin = fx_admin ("region_admin", COUNTY);
    msg_actor_t self = fx_volunteer (s_population[3].id);
    const msg_actor_t *entitled[] = {&FX_SYSTEM, &county_admin, &self};
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", s_population[3].id);
    for (size_t a = 0; a < sizeof entitled / sizeof entitled[0]; a++) {
        json_t *v = fx_call_ok ("registry", entitled[a], "volunteer.get", body);
        assert_string_equal (fx_str (v, "birth_date"), s_population[3].birth_date);
        json_decref (v);
    }
    json_t *v = fx_call_ok ("registry", &station, "volunteer.get", body);
    assert_string_equal (fx_str (v, "birth_date"), "");
    char decade[16];
    snprintf (decade, sizeof decade, "%.3s0s", s_population[3].birth_date);
    assert_string_equal (fx_str (v, "birth_decade"), decade);
    json_decref (v);
    json_t *event = NULL;
    assert_int_equal (fx_events_json ("volunteer.registered", s_population[3].id, &event), 1);
    assert_int_equal (fx_int (event, "birth_year"), atoi (s_population[3].birth_date));
    json_decref (event);
    fx_destroy (&fx);
}

//  ---------------------------------------------------------------------------------------
//  Stored replies

//  After registrations of volunteers (name, ID number, phone, birth date, emergency contact)
//  and residents (name, phone, address), registry.rpc_replies holds none of it in clear, and
//  a retry is still answered with the first reply.
static void
test_stored_replies_sealed (void **state)
{
    fx_t *fx = fx_new ("pii_stored", FX_REGISTRY);
    fx_county_add ();
    const char *secrets[64];
    char texts[64][64];
    size_t count = 0;
    uint8_t request_id[16];
    char first_id[32] = "";
    for (int n = 0; n < 6; n++) {
        char body17[18], id_number[19], body[768];
        snprintf (body17, sizeof body17, "4310221975%02d%02d%03d", 1 + n, 10 + n, 310 + n);
        fx_id_number (body17, id_number);
        snprintf (texts[count], 64, "%s", id_number);
        secrets[count] = texts[count], count++;
        snprintf (texts[count], 64, "1975%02d%02d", 1 + n, 10 + n);
        secrets[count] = texts[count], count++;
        snprintf (texts[count], 64, "1975-%02d-%02d", 1 + n, 10 + n);
        secrets[count] = texts[count], count++;
        snprintf (texts[count], 64, "1385550%04d", n);
        secrets[count] = texts[count], count++;
        snprintf (texts[count], 64, "1395550%04d", n);
        secrets[count] = texts[count], count++;
        snprintf (texts[count], 64, "欧阳晓%d", n);
        secrets[count] = texts[count], count++;
        snprintf (texts[count], 64, "紧急联系人%d", n);
        secrets[count] = texts[count], count++;
        snprintf (body, sizeof body,
                  "{\"name\": \"欧阳晓%d\", \"id_number\": \"%s\", \"phone\": \"1385550%04d\","
                  " \"region\": \"%s\", \"emergency_contact_name\": \"紧急联系人%d\","
                  " \"emergency_contact_phone\": \"1395550%04d\"}",
                  n, id_number, n, VILLAGE_1, n, n);
        //  By the system (whose replies show the birth date) and by the person themself.
        const msg_actor_t *actor = n % 2 ? &FX_SYSTEM : NULL;
        json_t *reply = NULL;
        if (n == 0)
            randombytes_buf (request_id, sizeof request_id);
        assert_int_equal (fx_call_id ("registry", actor, "volunteer.register", body,
                                      n == 0 ? request_id : NULL, FX_CALL_MS, &reply, NULL),
                          ST_OK);
        if (n == 0)
            snprintf (first_id, sizeof first_id, "%s", fx_str (reply, "id"));
        json_decref (reply);
    }
    for (int n = 0; n < 3; n++) {
        char body[512];
        snprintf (texts[count], 64, "居民张%d", n);
        secrets[count] = texts[count], count++;
        snprintf (texts[count], 64, "1365550%04d", n);
        secrets[count] = texts[count], count++;
        snprintf (texts[count], 64, "幸福路%d号", n);
        secrets[count] = texts[count], count++;
        snprintf (body, sizeof body,
                  "{\"name\": \"居民张%d\", \"phone\": \"1365550%04d\", \"region\": \"%s\","
                  " \"address\": \"幸福路%d号\"}",
                  n, n, VILLAGE_2, n);
        json_decref (fx_call_ok ("registry", &FX_SYSTEM, "resident.register", body));
    }
    assert_true (fx_count ("SELECT count (*) FROM registry.rpc_replies") >= 9);
    fx_holds_none ("registry.rpc_replies", secrets, count);

    //  The retry of the first registration, by the person again, is answered as the first.
    char body17[18], id_number[19], body[768];
    snprintf (body17, sizeof body17, "4310221975%02d%02d%03d", 1, 10, 310);
    fx_id_number (body17, id_number);
    snprintf (body, sizeof body,
              "{\"name\": \"欧阳晓0\", \"id_number\": \"%s\", \"phone\": \"13855500000\","
              " \"region\": \"%s\", \"emergency_contact_name\": \"紧急联系人0\","
              " \"emergency_contact_phone\": \"13955500000\"}",
              id_number, VILLAGE_1);
    json_t *again = NULL;
    assert_int_equal (fx_call_id ("registry", NULL, "volunteer.register", body, request_id,
                                  FX_CALL_MS, &again, NULL),
                      ST_OK);
    assert_string_equal (fx_str (again, "id"), first_id);
    assert_string_equal (fx_str (again, "birth_date"), "1975-01-10");
    json_decref (again);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), 6);
    fx_destroy (&fx);
}

//  A stored reply answers the same request from the same peer as the same actor, and nobody
//  else: another actor, or the same actor through another peer, hears a conflict on "id"
//  and nothing of the first reply. The short-lived replies of read ops are keyed the same way.
static void
test_stored_reply_bound_to_caller (void **state)
{
    fx_t *fx = fx_new ("pii_bound", FX_REGISTRY);
    fx_county_add ();
    msg_actor_t first = {.account = "station-a1", .role = "station_admin", .region = TOWN_A};
    msg_actor_t second = {.account = "station-a2", .role = "station_admin", .region = TOWN_A};
    char id_number[19], body[512];
    fx_id_number ("43102219880808456", id_number);
    snprintf (body, sizeof body,
              "{\"name\": \"李明华\", \"id_number\": \"%s\", \"phone\": \"13912340000\","
              " \"region\": \"%s\"}",
              id_number, VILLAGE_1);
    uint8_t id[16];
    randombytes_buf (id, sizeof id);
    json_t *reply = NULL;
    assert_int_equal (
        fx_call_id ("registry", &first, "volunteer.register", body, id, FX_CALL_MS, &reply, NULL),
        ST_OK);
    char volunteer[32];
    snprintf (volunteer, sizeof volunteer, "%s", fx_str (reply, "id"));
    json_decref (reply);

    //  The same caller again: the first reply.
    assert_int_equal (
        fx_call_id ("registry", &first, "volunteer.register", body, id, FX_CALL_MS, &reply, NULL),
        ST_OK);
    assert_string_equal (fx_str (reply, "id"), volunteer);
    json_decref (reply);

    //  Another actor through the same peer (the gateway).
    st_error_t err;
    reply = NULL;
    st_status_t rc =
        fx_call_id ("registry", &second, "volunteer.register", body, id, FX_CALL_MS, &reply, &err);
    assert_null (reply);
    fx_expect ("a retry as another actor", rc, &err, ST_CONFLICT, "id");

    //  The same actor through another peer (an operator's key).
    st_client_t *operator= harness_client (fx_harness (), "registry", "operator");
    const st_op_desc_t *op = st_proto_op ("registry", "volunteer.register");
    msg_volunteer_register_t request = {
        .name = "李明华", .id_number = id_number, .phone = "13912340000", .region = VILLAGE_1};
    msg_volunteer_t shown = {0};
    rc = st_client_call (operator, "volunteer.register", &first, id, op->request, &request,
                         op->reply, &shown, FX_CALL_MS, &err);
    fx_expect ("a retry through another peer", rc, &err, ST_CONFLICT, "id");
    st_msg_clear (op->reply, &shown);

    //  The first caller is still answered, and one volunteer was made.
    assert_int_equal (
        fx_call_id ("registry", &first, "volunteer.register", body, id, FX_CALL_MS, &reply, NULL),
        ST_OK);
    assert_string_equal (fx_str (reply, "id"), volunteer);
    json_decref (reply);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), 1);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.rpc_replies"
                                " WHERE peer = 'gateway' AND length (actor_hash) = 32"),
                      1);

    //  A read: the answer to one actor is not another's, whatever the request id.
    msg_actor_t outsider = {.account = "station-b1", .role = "station_admin", .region = TOWN_B};
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", volunteer);
    randombytes_buf (id, sizeof id);
    assert_int_equal (
        fx_call_id ("registry", &first, "volunteer.get", body, id, FX_CALL_MS, &reply, NULL),
        ST_OK);
    json_decref (reply);
    reply = NULL;
    rc = fx_call_id ("registry", &outsider, "volunteer.get", body, id, FX_CALL_MS, &reply, &err);
    assert_null (reply);
    fx_expect ("the same read as an actor out of scope", rc, &err, ST_NOT_FOUND, "id");
    msg_volunteer_get_t get = {.id = volunteer};
    rc = st_client_call (operator, "volunteer.get", &outsider, id, &msg_volunteer_get_desc, &get,
                         &msg_volunteer_desc, &shown, FX_CALL_MS, &err);
    fx_expect ("the same read through another peer", rc, &err, ST_NOT_FOUND, "id");
    st_client_destroy (&operator);
    fx_destroy (&fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_masked_id_numbers_cannot_be_rebuilt),
        cmocka_unit_test (test_stored_replies_sealed),
        cmocka_unit_test (test_stored_reply_bound_to_caller),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
