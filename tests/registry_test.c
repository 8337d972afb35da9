/*  registry_test.c — the registry against a live process: real-name registration with
    GB 11643 checks, the full profile, regions, accounts and sign-in with its attempt limit,
    residents, paging and search, reveals with their audit trail, and above all scope: every
    op refuses actors outside their region subtree and changes nothing when it refuses.  */
#include "fixture.h"
#include "st_log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

//  Actors the tests play, as the gateway would assert them.
static msg_actor_t COUNTY = {.account = "county", .role = "region_admin", .region = "431022000000"};
static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};
static msg_actor_t TOWN_B = {.account = "town-b", .role = "region_admin", .region = "431022101000"};
static msg_actor_t STATION_A = {
    .account = "station-a", .role = "station_admin", .region = "431022100201"};

//  A volunteer registration body with a valid ID number made from a sequence number.
static char *
s_volunteer_body (int n, const char *name, const char *region, const char *extra)
{
    static char body[1024];
    char id_number[19];
    fx_nth_id_number (n, id_number);
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"id_number\": \"%s\", \"phone\": \"138%08d\","
              " \"region\": \"%s\"%s%s}",
              name, id_number, n, region, extra ? ", " : "", extra ? extra : "");
    return body;
}

static char *
s_register (const msg_actor_t *actor, int n, const char *name, const char *region)
{
    json_t *reply;
    st_error_t err;
    st_status_t rc = fx_call ("registry", actor, "volunteer.register",
                              s_volunteer_body (n, name, region, NULL), &reply, &err);
    if (rc != ST_OK)
        fail_msg ("could not register %s: %s", name, err.message);
    char *id = strdup (fx_str (reply, "id"));
    json_decref (reply);
    return id;
}

//  registry alone, with the county, two townships and a village in each.
static int
s_setup (void **state)
{
    //  A wait after three failed sign-ins long enough to be seen on a loaded machine.
    setenv ("STATION_LOGIN_DELAY_MS", "30000", 1);
    fx_t *fx = fx_new ("registry", FX_REGISTRY);
    const char *regions[][2] = {{"431000000000", "郴州市"},       {"431022000000", "宜章县"},
                                {"431022100000", "玉溪镇"},       {"431022101000", "白石渡镇"},
                                {"431022100201", "玉溪镇第一村"}, {"431022101203", "白石渡村"}};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        fx_region_add (regions[i][0], regions[i][1]);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  ---------------------------------------------------------------------------------------

//  GB 11643: a good number registers with birth date and gender derived; a wrong check digit,
//  an impossible date and a 15-digit number are refused with the field named.
static void
test_id_numbers (void **state)
{
    json_t *reply;
    st_error_t err;
    long before = fx_count ("SELECT count (*) FROM registry.volunteers");
    const char *bad[] = {"431022198502300414", "431022198503120415", "431022850312041",
                         "43102219850312041A", "031022198503120414"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[256];
        snprintf (body, sizeof body,
                  "{\"name\": \"李明华\", \"id_number\": \"%s\", \"phone\": \"13807351234\","
                  " \"region\": \"431022100201\"}",
                  bad[i]);
        assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.register", body, NULL, &err),
                          ST_INVALID_ARGUMENT);
        assert_string_equal (err.field, "id_number");
    }
    //  X as the check character, given in lower case: normalised, masked with an X.
    char id_number[19];
    fx_id_number ("11010519491231002", id_number);
    assert_string_equal (id_number, "11010519491231002X");
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.register",
                               "{\"name\": \"张三\", \"id_number\": \"11010519491231002x\","
                               " \"phone\": \"13912345678\", \"region\": \"431022100201\"}",
                               &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "id_number"), "1101**********002X");
    assert_string_equal (fx_str (reply, "birth_date"), "1949-12-31");
    assert_string_equal (fx_str (reply, "gender"), "F"); //  the 17th digit, 2, is even
    json_decref (reply);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), before + 1);
    //  The same person again is a conflict, not a copy.
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.register",
                               "{\"name\": \"张三\", \"id_number\": \"11010519491231002X\","
                               " \"phone\": \"13912345679\", \"region\": \"431022100201\"}",
                               NULL, &err),
                      ST_CONFLICT);
    assert_string_equal (err.field, "id_number");
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), before + 1);
}

//  The whole profile round-trips, personal data masked; bad profile fields are named and
//  change nothing; injection-looking text is stored verbatim and harmless.
static void
test_profile (void **state)
{
    json_t *reply;
    st_error_t err;
    const char *profile =
        "\"skills\": [\"急救\", \"手语\"], \"categories\": [\"elderly\"],"
        " \"availability\": [\"sat_am\", \"sun_pm\"], \"lat\": 25.3986, \"lon\": 112.9475,"
        " \"party_member\": true, \"emergency_contact_name\": \"李华\","
        " \"emergency_contact_phone\": \"13900001111\", \"insurance_until\": \"2027-06-30\","
        " \"password\": \"correct horse battery\"";
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.register",
                               s_volunteer_body (100, "王秀英", "431022100201", profile), &reply,
                               &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "emergency_contact_phone"), "139****1111");
    assert_string_equal (fx_str (reply, "insurance_until"), "2027-06-30");
    assert_true (json_is_true (json_object_get (reply, "party_member")));
    assert_int_equal (json_array_size (json_object_get (reply, "availability")), 2);
    assert_true (json_real_value (json_object_get (reply, "lat")) > 25.39);
    json_decref (reply);

    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    long events = fx_count ("SELECT count (*) FROM registry.outbox");
    struct {
        const char *extra;
        const char *region;
        const char *field;
    } bad[] = {
        {"\"availability\": [\"sat_xx\"]", "431022100201", "availability"},
        {"\"categories\": [\"助老\"]", "431022100201", "categories"},
        {"\"insurance_until\": \"2027-02-30\"", "431022100201", "insurance_until"},
        {"\"emergency_contact_phone\": \"12345\"", "431022100201", "emergency_contact_phone"},
        {"\"lat\": 95.0", "431022100201", "lat"},
        {"\"password\": \"short\"", "431022100201", "password"},
        {NULL, "43102210020", "region"},
        {NULL, "431022000201", "region"}, //  a village under no township
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (
            fx_call ("registry", &FX_SYSTEM, "volunteer.register",
                     s_volunteer_body (101 + (int) i, "赵建国", bad[i].region, bad[i].extra), NULL,
                     &err),
            ST_INVALID_ARGUMENT);
        assert_string_equal (err.field, bad[i].field);
    }
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.outbox"), events);

    const char *sneaky = "Robert'); DROP TABLE volunteers;-- \\\" %_";
    char body[1024];
    char id_number[19];
    fx_nth_id_number (120, id_number);
    json_t *json =
        json_pack ("{s:s, s:s, s:s, s:s, s:[s]}", "name", sneaky, "id_number", id_number, "phone",
                   "13800000120", "region", "431022100201", "skills", "{\"a\",\"b\"}");
    char *text = json_dumps (json, 0);
    snprintf (body, sizeof body, "%s", text);
    free (text);
    json_decref (json);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.register", body, &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "name"), sneaky);
    char get[64];
    snprintf (get, sizeof get, "{\"id\": \"%s\"}", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.get", get, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "name"), sneaky);
    assert_string_equal (json_string_value (json_array_get (json_object_get (reply, "skills"), 0)),
                         "{\"a\",\"b\"}");
    json_decref (reply);
    assert_true (fx_count ("SELECT count (*) FROM registry.volunteers") > volunteers);
}

//  Officials act inside their subtree only: registration, reading, listing, updating and
//  status changes outside it are refused, and change nothing.
static void
test_scope (void **state)
{
    st_error_t err;
    json_t *reply;
    char *in_a = s_register (&TOWN_A, 200, "周丽娟", "431022100201");
    char *in_b = s_register (&TOWN_B, 201, "陈志强", "431022101203");
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    long events = fx_count ("SELECT count (*) FROM registry.outbox");

    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.register",
                               s_volunteer_body (202, "刘芳", "431022101203", NULL), NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_string_equal (err.field, "region");
    char body[256];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", in_b);
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.get", body, NULL, &err),
                      ST_NOT_FOUND);
    assert_int_equal (fx_call ("registry", &STATION_A, "volunteer.get", body, NULL, &err),
                      ST_NOT_FOUND);
    assert_int_equal (fx_call ("registry", &COUNTY, "volunteer.get", body, NULL, &err), ST_OK);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"name\": \"改名\"}", in_b);
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.update", body, NULL, &err),
                      ST_NOT_FOUND);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"suspended\"}", in_b);
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.set_status", body, NULL, &err),
                      ST_NOT_FOUND);
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.list",
                               "{\"region\": \"431022101000\"}", NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.list",
                               "{\"region\": \"431022000000\"}", NULL, &err),
                      ST_PERMISSION_DENIED);
    //  Nothing anonymous reads anything.
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", in_a);
    assert_int_equal (fx_call ("registry", NULL, "volunteer.get", body, NULL, &err),
                      ST_UNAUTHENTICATED);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.outbox"), events);
    //  The refused update left the name as it was.
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", in_b);
    reply = fx_call_ok ("registry", &COUNTY, "volunteer.get", body);
    assert_string_equal (fx_str (reply, "name"), "陈志强");
    json_decref (reply);

    //  A township admin's list holds its own township only; the county's holds both.
    assert_int_equal (
        fx_call ("registry", &TOWN_A, "volunteer.list", "{\"limit\": 500}", &reply, &err), ST_OK);
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (reply, "items"), i, item)
    {
        assert_memory_equal (fx_str (item, "region"), "431022100", 9);
    }
    size_t town_a = json_array_size (json_object_get (reply, "items"));
    json_decref (reply);
    assert_int_equal (
        fx_call ("registry", &COUNTY, "volunteer.list", "{\"limit\": 500}", &reply, &err), ST_OK);
    assert_true (json_array_size (json_object_get (reply, "items")) > town_a);
    json_decref (reply);

    //  In scope, the same ops work, and tell the others.
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"status\": \"suspended\", \"reason\": \"离开\"}", in_a);
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.set_status", body, &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "status"), "suspended");
    json_decref (reply);
    assert_int_equal (fx_events ("volunteer.status_changed", NULL), 1);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteer_status_log"), 1);
    free (in_a);
    free (in_b);
}

//  A volunteer reads and changes their own record and no one else's.
static void
test_self_service (void **state)
{
    st_error_t err;
    json_t *reply;
    char *me = s_register (&FX_SYSTEM, 300, "欧阳明", "431022100201");
    char *other = s_register (&FX_SYSTEM, 301, "欧阳亮", "431022100201");
    msg_actor_t self = {
        .account = "a-self", .role = "volunteer", .region = "431022100201", .volunteer_id = me};
    char body[256];
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"skills\": [\"书法\"], \"phone\": \"13600000300\"}", me);
    assert_int_equal (fx_call ("registry", &self, "volunteer.update", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "phone"), "136****0300");
    assert_string_equal (json_string_value (json_array_get (json_object_get (reply, "skills"), 0)),
                         "书法");
    assert_string_equal (fx_str (reply, "name"), "欧阳明"); //  absent fields stay
    json_decref (reply);
    assert_int_equal (fx_events ("volunteer.updated", NULL), 1);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"name\": \"冒名\"}", other);
    assert_int_equal (fx_call ("registry", &self, "volunteer.update", body, NULL, &err),
                      ST_NOT_FOUND);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", other);
    assert_int_equal (fx_call ("registry", &self, "volunteer.get", body, NULL, &err), ST_NOT_FOUND);
    assert_int_equal (fx_call ("registry", &self, "volunteer.list", "{}", NULL, &err),
                      ST_PERMISSION_DENIED);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"left\"}", me);
    assert_int_equal (fx_call ("registry", &self, "volunteer.set_status", body, NULL, &err),
                      ST_PERMISSION_DENIED);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", other);
    reply = fx_call_ok ("registry", &FX_SYSTEM, "volunteer.get", body);
    assert_string_equal (fx_str (reply, "name"), "欧阳亮");
    json_decref (reply);
    free (me);
    free (other);
}

//  Only a region admin in scope sees personal data unmasked, and every reveal is audited.
static void
test_reveal (void **state)
{
    st_error_t err;
    json_t *reply;
    char *id = s_register (&FX_SYSTEM, 400, "黄小梅", "431022100201");
    char body[256];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"核实保险理赔\"}", id);
    long audits = fx_count ("SELECT count (*) FROM registry.pii_reveals");
    assert_int_equal (fx_call ("registry", &STATION_A, "volunteer.reveal", body, NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &TOWN_B, "volunteer.reveal", body, NULL, &err),
                      ST_NOT_FOUND);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.pii_reveals"), audits);
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.reveal", body, &reply, &err), ST_OK);
    char id_number[19];
    fx_nth_id_number (400, id_number);
    assert_string_equal (fx_str (reply, "id_number"), id_number);
    assert_string_equal (fx_str (reply, "phone"), "13800000400");
    json_decref (reply);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.pii_reveals WHERE actor = 'town-a'"
                                " AND reason = '核实保险理赔'"),
                      1);
    //  The reply with plain data is never stored for replay.
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.rpc_replies"
                                " WHERE position (convert_to ('%s', 'UTF8') IN reply) > 0",
                                id_number),
                      0);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"\"}", id);
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.reveal", body, NULL, &err),
                      ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "reason");
    free (id);
}

//  Regions: level and parent follow from the code; only the admin of the parent adds one.
static void
test_regions (void **state)
{
    st_error_t err;
    json_t *reply;
    assert_int_equal (
        fx_call ("registry", NULL, "region.get", "{\"code\": \"431022100000\"}", &reply, &err),
        ST_OK);
    assert_string_equal (fx_str (reply, "level"), "township");
    assert_string_equal (fx_str (reply, "parent"), "431022000000");
    assert_int_equal (json_array_size (json_object_get (reply, "children")), 1);
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &TOWN_A, "region.create",
                               "{\"code\": \"431022100202\", \"name\": \"玉溪镇第二村\"}", &reply,
                               &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "level"), "village");
    json_decref (reply);
    long regions = fx_count ("SELECT count (*) FROM registry.regions");
    assert_int_equal (fx_call ("registry", &TOWN_A, "region.create",
                               "{\"code\": \"431022101204\", \"name\": \"别人的村\"}", NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &STATION_A, "region.create",
                               "{\"code\": \"431022100203\", \"name\": \"站长的村\"}", NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "region.create",
                               "{\"code\": \"431022102001\", \"name\": \"无乡之村\"}", NULL, &err),
                      ST_FAILED_PRECONDITION);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "region.create",
                               "{\"code\": \"431022100202\", \"name\": \"重复\"}", NULL, &err),
                      ST_CONFLICT);
    assert_string_equal (err.field, "code");
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "region.create",
                               "{\"code\": \"431022000001\", \"name\": \"坏码\"}", NULL, &err),
                      ST_INVALID_ARGUMENT);
    assert_int_equal (
        fx_call ("registry", NULL, "region.get", "{\"code\": \"431022999000\"}", NULL, &err),
        ST_NOT_FOUND);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.regions"), regions);
}

//  Accounts never wider than their creator's scope; sign-in checks the password, makes the
//  login wait after three failures (registry_login_test.c shows the waits), and says the
//  same for an unknown login as for a wrong password.
static void
test_accounts_and_login (void **state)
{
    st_error_t err;
    json_t *reply;
    assert_int_equal (fx_call ("registry", &TOWN_A, "account.create",
                               "{\"login\": \"yuxi.station\", \"password\": \"station pass 1\","
                               " \"role\": \"station_admin\", \"region\": \"431022100201\"}",
                               &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "role"), "station_admin");
    json_decref (reply);
    long accounts = fx_count ("SELECT count (*) FROM registry.accounts");
    assert_int_equal (fx_call ("registry", &TOWN_A, "account.create",
                               "{\"login\": \"county.boss\", \"password\": \"boss pass 12\","
                               " \"role\": \"region_admin\", \"region\": \"431022000000\"}",
                               NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &STATION_A, "account.create",
                               "{\"login\": \"another\", \"password\": \"another pass\","
                               " \"role\": \"team_leader\", \"region\": \"431022100201\"}",
                               NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &TOWN_A, "account.create",
                               "{\"login\": \"13812345678\", \"password\": \"another pass\","
                               " \"role\": \"team_leader\", \"region\": \"431022100201\"}",
                               NULL, &err),
                      ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "login");
    assert_int_equal (fx_call ("registry", &TOWN_A, "account.create",
                               "{\"login\": \"yuxi.station\", \"password\": \"another pass\","
                               " \"role\": \"team_leader\", \"region\": \"431022100201\"}",
                               NULL, &err),
                      ST_CONFLICT);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.accounts"), accounts);

    assert_int_equal (fx_call ("registry", NULL, "session.login",
                               "{\"login\": \"yuxi.station\", \"password\": \"station pass 1\"}",
                               &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "region"), "431022100201");
    json_decref (reply);
    assert_int_equal (fx_call ("registry", NULL, "session.login",
                               "{\"login\": \"nobody\", \"password\": \"station pass 1\"}", NULL,
                               &err),
                      ST_UNAUTHENTICATED);
    char unknown[256];
    snprintf (unknown, sizeof unknown, "%s", err.message);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (fx_call ("registry", NULL, "session.login",
                                   "{\"login\": \"yuxi.station\", \"password\": \"wrong\"}", NULL,
                                   &err),
                          ST_UNAUTHENTICATED);
        assert_string_equal (err.message, unknown);
    }
    //  The next attempt waits, even with the right password (30 s at first, here).
    st_status_t rc =
        fx_call ("registry", NULL, "session.login",
                 "{\"login\": \"yuxi.station\", \"password\": \"station pass 1\"}", NULL, &err);
    if (rc != ST_RESOURCE_EXHAUSTED)
        fail_msg ("the fourth attempt after three failures did not wait: %s", err.message);
    assert_string_equal (err.field, "login");
    assert_non_null (strstr (err.message, "retry after"));
    //  A volunteer who registered with a password signs in with the phone.
    assert_int_equal (
        fx_call ("registry", NULL, "volunteer.register",
                 s_volunteer_body (500, "吴敏", "431022100201", "\"password\": \"volunteer pass\""),
                 &reply, &err),
        ST_OK);
    char volunteer_id[32];
    snprintf (volunteer_id, sizeof volunteer_id, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_call ("registry", NULL, "session.login",
                               "{\"login\": \"13800000500\", \"password\": \"volunteer pass\"}",
                               &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "role"), "volunteer");
    assert_string_equal (fx_str (reply, "volunteer_id"), volunteer_id);
    json_decref (reply);
}

//  Paging with a cursor visits every match once; filters by skill and name prefix.
static void
test_list_paging (void **state)
{
    st_error_t err;
    json_t *reply;
    for (int i = 0; i < 7; i++) {
        char name[32];
        snprintf (name, sizeof name, "翻页%d", i);
        assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.register",
                                   s_volunteer_body (600 + i, name, "431022101203",
                                                     i % 2 ? "\"skills\": [\"驾驶\"]" : NULL),
                                   NULL, &err),
                          ST_OK);
    }
    char body[256] = "{\"region\": \"431022101000\", \"q\": \"翻页\", \"limit\": 3}";
    int seen = 0, pages = 0;
    while (true) {
        assert_int_equal (fx_call ("registry", &TOWN_B, "volunteer.list", body, &reply, &err),
                          ST_OK);
        seen += (int) json_array_size (json_object_get (reply, "items"));
        pages++;
        const char *next = json_string_value (json_object_get (reply, "next_cursor"));
        if (!next) {
            json_decref (reply);
            break;
        }
        snprintf (
            body, sizeof body,
            "{\"region\": \"431022101000\", \"q\": \"翻页\", \"limit\": 3, \"cursor\": \"%s\"}",
            next);
        json_decref (reply);
    }
    assert_int_equal (seen, 7);
    assert_int_equal (pages, 3);
    assert_int_equal (fx_call ("registry", &TOWN_B, "volunteer.list",
                               "{\"q\": \"翻页\", \"skill\": \"驾驶\", \"limit\": 100}", &reply,
                               &err),
                      ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 3);
    json_decref (reply);
    //  LIKE's wildcards in q are literal.
    assert_int_equal (
        fx_call ("registry", &TOWN_B, "volunteer.list", "{\"q\": \"%\"}", &reply, &err), ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 0);
    json_decref (reply);
    assert_int_equal (
        fx_call ("registry", &TOWN_B, "volunteer.list", "{\"cursor\": \"abc\"}", NULL, &err),
        ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "cursor");
}

//  A page by skill reads those with it (volunteer_skills, issue 24), kept as skills change
//  and volunteers move, among 2,000 without it in the same village.
static void
test_list_by_skill (void **state)
{
    st_error_t err;
    json_t *reply;
    fx_sql (
        "INSERT INTO registry.volunteers (name, id_number_enc, id_number_hash, phone_enc,"
        " phone_hash, region, skills) SELECT '无盲文' || i, '\\x00', sha256 (('id' || i)::bytea),"
        " '\\x00', sha256 (('phone' || i)::bytea), '431022100201', '{驾驶}'"
        " FROM generate_series (1, 2000) i");
    char ids[3][32];
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf (name, sizeof name, "盲文%d", i);
        assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.register",
                                   s_volunteer_body (1700 + i, name, "431022100201",
                                                     "\"skills\": [\"盲文\", \"驾驶\"]"),
                                   &reply, &err),
                          ST_OK);
        snprintf (ids[i], sizeof ids[i], "%s", fx_str (reply, "id"));
        json_decref (reply);
    }
    const char *list = "{\"region\": \"431022100201\", \"skill\": \"盲文\", \"limit\": 2}";
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.list", list, &reply, &err),
                      ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 2);
    char next[64], body[256];
    snprintf (next, sizeof next, "%s", json_string_value (json_object_get (reply, "next_cursor")));
    json_decref (reply);
    snprintf (body, sizeof body,
              "{\"region\": \"431022100201\", \"skill\": \"盲文\", \"cursor\": \"%s\"}", next);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.list", body, &reply, &err),
                      ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 1);
    assert_string_equal (fx_str (json_array_get (json_object_get (reply, "items"), 0), "id"),
                         ids[2]);
    json_decref (reply);
    //  The page's ids come from the skill's rows alone: three, not the village's 2,003.
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteer_skills"
                                " WHERE skill = '盲文' AND region = '431022100201'"),
                      3);
    //  A skill dropped, a volunteer moved: the pages follow.
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"skills\": [\"驾驶\"]}", ids[0]);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.update", body, NULL, &err),
                      ST_OK);
    fx_sql ("UPDATE registry.volunteers SET region = '431022100202' WHERE id = %s", ids[1]);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.list",
                               "{\"region\": \"431022100000\", \"skill\": \"盲文\"}", &reply, &err),
                      ST_OK);
    json_t *items = json_object_get (reply, "items");
    assert_int_equal (json_array_size (items), 2);
    assert_string_equal (fx_str (json_array_get (items, 0), "id"), ids[2]);
    assert_string_equal (fx_str (json_array_get (items, 0), "region"), "431022100201");
    assert_string_equal (fx_str (json_array_get (items, 1), "id"), ids[1]);
    assert_string_equal (fx_str (json_array_get (items, 1), "region"), "431022100202");
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.list",
                               "{\"region\": \"431022100201\", \"skill\": \"驾驶\","
                               " \"q\": \"盲文\"}",
                               &reply, &err),
                      ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 2);
    json_decref (reply);
    fx_sql ("DELETE FROM registry.volunteers WHERE name LIKE '无盲文%%'");
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteer_skills k"
                                " WHERE NOT EXISTS (SELECT 1 FROM registry.volunteers v"
                                " WHERE v.id = k.id AND v.region = k.region"
                                " AND k.skill = ANY (v.skills))"),
                      0);
}

//  Residents with care tags; the event carries no phone; only they and officials in scope
//  read the record.
static void
test_residents (void **state)
{
    st_error_t err;
    json_t *reply;
    long residents = fx_count ("SELECT count (*) FROM registry.residents");
    assert_int_equal (fx_call ("registry", NULL, "resident.register",
                               "{\"name\": \"王奶奶\", \"phone\": \"13700137000\","
                               " \"region\": \"431022100201\", \"address\": \"一组12号\","
                               " \"care_tags\": [\"widow\"]}",
                               NULL, &err),
                      ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "care_tags");
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.residents"), residents);
    assert_int_equal (fx_call ("registry", NULL, "resident.register",
                               "{\"name\": \"王奶奶\", \"phone\": \"13700137000\","
                               " \"region\": \"431022100201\", \"address\": \"一组12号\","
                               " \"care_tags\": [\"empty_nest_elderly\"],"
                               " \"password\": \"grandma pass\"}",
                               &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "phone"), "137****7000");
    char id[32], body[64];
    snprintf (id, sizeof id, "%s", fx_str (reply, "id"));
    json_decref (reply);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    msg_actor_t self = {.account = "grandma", .role = "resident", .resident_id = id};
    assert_int_equal (fx_call ("registry", &self, "resident.get", body, NULL, &err), ST_OK);
    assert_int_equal (fx_call ("registry", &TOWN_A, "resident.get", body, NULL, &err), ST_OK);
    assert_int_equal (fx_call ("registry", &TOWN_B, "resident.get", body, NULL, &err),
                      ST_NOT_FOUND);
    assert_int_equal (fx_events ("resident.registered", NULL), 1);
    assert_int_equal (fx_call ("registry", NULL, "session.login",
                               "{\"login\": \"13700137000\", \"password\": \"grandma pass\"}",
                               &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "resident_id"), id);
    json_decref (reply);
}

//  After everything above, no table holds a phone or an ID number in plain text.
static void
test_no_plain_pii_anywhere (void **state)
{
    //  Text columns as they are; ciphertexts and keyed hashes are left out (random bytes
    //  shown as hex would match by chance); msgpack bodies with their strings readable.
    const char *scan =
        "SELECT count (*) FROM (SELECT (to_jsonb (t) - 'id_number_enc' - 'id_number_hash'"
        " - 'phone_enc' - 'phone_hash' - 'emergency_contact_phone_enc')::text AS row"
        " FROM registry.volunteers t"
        " UNION ALL SELECT (to_jsonb (t) - 'phone_enc' - 'phone_hash' - 'address_enc')::text"
        " FROM registry.residents t"
        " UNION ALL SELECT (to_jsonb (t) - 'login_hash')::text FROM registry.accounts t"
        " UNION ALL SELECT to_jsonb (t)::text FROM registry.pii_reveals t"
        " UNION ALL SELECT regexp_replace (encode (body, 'escape'), '\\\\[0-7]{3}', ' ', 'g')"
        " FROM registry.outbox"
        " UNION ALL SELECT regexp_replace (encode (reply, 'escape'), '\\\\[0-7]{3}', ' ', 'g')"
        " FROM registry.rpc_replies) x"
        " WHERE row ~ '1[3-9][0-9]{9}' OR row ~ '[0-9]{17}[0-9X]'";
    assert_int_equal (fx_count ("%s", scan), 0);
    //  The scan itself finds a phone where there is one.
    assert_int_equal (fx_count ("SELECT count (*) FROM (SELECT '13800138000'::text AS row) x"
                                " WHERE row ~ '1[3-9][0-9]{9}'"),
                      1);
}

//  Calls volunteer.import with raw bytes as the file.
static st_status_t
s_import (const msg_actor_t *actor, const char *csv, size_t size, msg_import_result_t *result,
          st_error_t *err)
{
    msg_volunteer_import_t request = {.csv = {(uint8_t *) csv, size}};
    return fx_call_msg ("registry", actor, "volunteer.import", &request, result, err);
}

//  Bulk registration: good rows created, bad rows reported with line and field, people
//  registered already skipped, so the same file twice creates nothing new; a byte-order mark,
//  CRLF and Chinese column names are read; a file neither UTF-8 nor GB18030 is refused with a
//  clear message.
static void
test_import (void **state)
{
    st_error_t err;
    msg_import_result_t result;
    char good1[19], good2[19], good3[19];
    fx_nth_id_number (700, good1);
    fx_nth_id_number (701, good2);
    fx_nth_id_number (702, good3);
    char csv[2048];
    int size =
        snprintf (csv, sizeof csv,
                  "\xef\xbb\xbf序号,姓名,身份证号,手机号,区划代码,技能,党员\r\n"
                  "1,李一,%s,13800000700,431022100201,急救、手语,是\r\n"
                  "2,李二,431022198503120415,13800000701,431022100201,,否\r\n" //  check digit
                  "3,\"李, 三\",%s,13800000702,431022100201,驾驶;法律,\r\n"
                  "4,李四,%s,1380000070,431022100201,,\r\n"       //  phone
                  "5,李五,%s,13800000704,431022101203,,\r\n"      //  outside town A
                  "6,,%s,13800000705,431022100201,,\r\n"          //  no name
                  "7,李七,%s,13800000706,431022100201,,也许\r\n", //  party member
                  good1, good2, good3, good3, good3, good3);
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    assert_int_equal (s_import (&TOWN_A, csv, (size_t) size, &result, &err), ST_OK);
    assert_int_equal (result.created, 2);
    assert_int_equal (result.skipped, 0);
    assert_int_equal (result.errors.count, 5);
    const struct {
        int line;
        const char *field;
        const char *code;
    } expected[] = {{3, "id_number", "invalid_argument"},
                    {5, "phone", "invalid_argument"},
                    {6, "region", "permission_denied"},
                    {7, "name", "invalid_argument"},
                    {8, "party_member", "invalid_argument"}};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal (result.errors.items[i].line, expected[i].line);
        assert_string_equal (result.errors.items[i].field, expected[i].field);
        assert_string_equal (result.errors.items[i].code, expected[i].code);
    }
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 2);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers WHERE name = '李, 三'"
                                " AND skills = '{驾驶,法律}'"),
                      1);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers WHERE name = '李一'"
                                " AND party_member AND skills = '{急救,手语}'"),
                      1);
    //  The same file again: nothing new.
    long events = fx_count ("SELECT count (*) FROM registry.outbox");
    assert_int_equal (s_import (&TOWN_A, csv, (size_t) size, &result, &err), ST_OK);
    assert_int_equal (result.created, 0);
    assert_int_equal (result.skipped, 2);
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 2);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.outbox"), events);

    //  Bytes neither UTF-8 nor GB18030 (0xff begins no character of either; GBK is read
    //  since issue 24, see import_encoding_test.c).
    const char garbled[] = "\xd0\xd5\xff\xfb,id_number,phone,region\r\n";
    assert_int_equal (s_import (&TOWN_A, garbled, sizeof garbled - 1, &result, &err),
                      ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "csv");
    assert_non_null (strstr (err.message, "UTF-8"));
    //  A header without a required column names it.
    const char headless[] = "name,phone,region\n";
    assert_int_equal (s_import (&TOWN_A, headless, sizeof headless - 1, &result, &err),
                      ST_INVALID_ARGUMENT);
    assert_non_null (strstr (err.message, "id_number"));
    //  Volunteers and residents import nothing.
    msg_actor_t self = {.account = "v", .role = "volunteer", .volunteer_id = "1"};
    assert_int_equal (s_import (&self, csv, (size_t) size, &result, &err), ST_PERMISSION_DENIED);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 2);
}

//  Categories are data: fifteen national ones seeded, a region admin adds a local one that
//  its own subtree sees and others do not.
static void
test_categories (void **state)
{
    st_error_t err;
    json_t *reply;
    assert_int_equal (fx_call ("registry", NULL, "category.list", "{}", &reply, &err), ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 15);
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &TOWN_A, "category.create",
                               "{\"code\": \"elderly_meals\", \"name\": \"助餐\"}", &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "region"), "431022100000");
    json_decref (reply);
    assert_int_equal (
        fx_call ("registry", NULL, "category.list", "{\"region\": \"431022100201\"}", &reply, &err),
        ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 16);
    json_decref (reply);
    assert_int_equal (
        fx_call ("registry", NULL, "category.list", "{\"region\": \"431022101203\"}", &reply, &err),
        ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 15);
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &STATION_A, "category.create",
                               "{\"code\": \"tea\", \"name\": \"茶艺\"}", NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &TOWN_A, "category.create",
                               "{\"code\": \"Bad Code\", \"name\": \"坏\"}", NULL, &err),
                      ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "code");
    assert_int_equal (fx_call ("registry", &TOWN_B, "category.create",
                               "{\"code\": \"elderly_meals\", \"name\": \"重复\"}", NULL, &err),
                      ST_CONFLICT);
}

//  Invites volunteer `volunteer` to team `team` as `actor` (role NULL: member) and accepts
//  as the volunteer: the one way a volunteer joins a team.
static void
s_join (const msg_actor_t *actor, const char *team, const char *volunteer, const char *role)
{
    char body[256];
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"%s%s%s}", team,
              volunteer, role ? ", \"role\": \"" : "", role ? role : "", role ? "\"" : "");
    json_t *reply = fx_call_ok ("registry", actor, "team.invite", body);
    assert_string_equal (fx_str (reply, "status"), "pending");
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", fx_str (reply, "id"));
    json_decref (reply);
    msg_actor_t self = {
        .account = "invitee", .role = "volunteer", .volunteer_id = (char *) volunteer};
    reply = fx_call_ok ("registry", &self, "invitation.accept", body);
    assert_string_equal (fx_str (reply, "status"), "accepted");
    json_decref (reply);
}

//  How many members team.get, as `actor`, shows team `team` with.
static size_t
s_team_size (const msg_actor_t *actor, const char *team)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", team);
    json_t *reply = fx_call_ok ("registry", actor, "team.get", body);
    size_t size = json_array_size (json_object_get (reply, "members"));
    json_decref (reply);
    return size;
}

//  Sites and teams hang on regions in scope; members are managed by officials in scope and
//  by the team's own leader, and join by accepting an invitation; the changes are events.
static void
test_sites_and_teams (void **state)
{
    st_error_t err;
    json_t *reply;
    assert_int_equal (fx_call ("registry", &TOWN_A, "site.create",
                               "{\"name\": \"玉溪镇新时代文明实践所\", \"kind\": \"institute\","
                               " \"region\": \"431022100000\", \"address\": \"镇政府一楼\","
                               " \"opening_hours\": \"8:30-17:30\"}",
                               &reply, &err),
                      ST_OK);
    char site[24];
    snprintf (site, sizeof site, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &TOWN_A, "site.create",
                               "{\"name\": \"外站\", \"kind\": \"station\","
                               " \"region\": \"431022101203\", \"address\": \"别处\"}",
                               NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &TOWN_A, "site.create",
                               "{\"name\": \"怪站\", \"kind\": \"palace\","
                               " \"region\": \"431022100000\", \"address\": \"某处\"}",
                               NULL, &err),
                      ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "kind");

    char body[512];
    snprintf (body, sizeof body,
              "{\"name\": \"玉溪镇助老分队\", \"level\": \"detachment\", \"category\": \"elderly\","
              " \"region\": \"431022100000\", \"site_id\": \"%s\"}",
              site);
    assert_int_equal (fx_call ("registry", &TOWN_A, "team.create", body, &reply, &err), ST_OK);
    char team[24];
    snprintf (team, sizeof team, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &TOWN_A, "team.create",
                               "{\"name\": \"坏队\", \"level\": \"squad\", \"category\": \"nope\","
                               " \"region\": \"431022100000\"}",
                               NULL, &err),
                      ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "category");
    assert_int_equal (
        fx_call ("registry", &TOWN_B, "team.create",
                 "{\"name\": \"越界\", \"level\": \"squad\", \"category\": \"elderly\","
                 " \"region\": \"431022100000\"}",
                 NULL, &err),
        ST_PERMISSION_DENIED);

    char *leader = s_register (&FX_SYSTEM, 800, "队长甲", "431022100201");
    char *member = s_register (&FX_SYSTEM, 801, "队员乙", "431022100201");
    char *later = s_register (&FX_SYSTEM, 802, "队员丙", "431022100201");
    s_join (&TOWN_A, team, leader, "leader");
    msg_actor_t as_leader = {.account = "leader", .role = "volunteer", .volunteer_id = leader};
    msg_actor_t as_member = {.account = "member", .role = "volunteer", .volunteer_id = member};
    s_join (&as_leader, team, member, NULL);
    assert_int_equal (s_team_size (&TOWN_A, team), 2);
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team, later);
    assert_int_equal (fx_call ("registry", &as_member, "team.invite", body, NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &TOWN_B, "team.invite", body, NULL, &err),
                      ST_PERMISSION_DENIED);
    snprintf (body, sizeof body,
              "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\", \"role\": \"boss\"}", team, later);
    assert_int_equal (fx_call ("registry", &TOWN_A, "team.invite", body, NULL, &err),
                      ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "role");
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", team);
    assert_int_equal (fx_call ("registry", &as_member, "team.get", body, NULL, &err), ST_OK);
    assert_int_equal (fx_call ("registry", &TOWN_B, "team.get", body, NULL, &err), ST_NOT_FOUND);
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team, member);
    assert_int_equal (fx_call ("registry", &TOWN_A, "team.remove_member", body, &reply, &err),
                      ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "members")), 1);
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &TOWN_A, "team.remove_member", body, NULL, &err),
                      ST_NOT_FOUND);
    assert_int_equal (fx_events ("membership.changed", NULL), 3);
    assert_int_equal (fx_events ("team.created", NULL), 1);
    free (leader);
    free (member);
    free (later);
}

//  Whether team.get, as `actor`, lists volunteer `volunteer` among team `team`'s members.
static bool
s_team_has (const msg_actor_t *actor, const char *team, const char *volunteer)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", team);
    json_t *reply = fx_call_ok ("registry", actor, "team.get", body);
    bool found = false;
    size_t i;
    json_t *member;
    json_array_foreach (json_object_get (reply, "members"), i, member)
    {
        found = found || strcmp (fx_str (member, "volunteer_id"), volunteer) == 0;
    }
    json_decref (reply);
    return found;
}

//  Transfer (转移接续): only with the volunteer's consent and by an admin of the destination;
//  the id stays, teams left behind end, and the others are told.
static void
test_transfer (void **state)
{
    st_error_t err;
    json_t *reply;
    char *id = s_register (&FX_SYSTEM, 900, "迁移者", "431022100201");
    assert_int_equal (
        fx_call ("registry", &TOWN_A, "team.create",
                 "{\"name\": \"旧队\", \"level\": \"squad\", \"category\": \"health\","
                 " \"region\": \"431022100201\"}",
                 &reply, &err),
        ST_OK);
    char old_team[24], new_team[24], body[256];
    snprintf (old_team, sizeof old_team, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (
        fx_call ("registry", &TOWN_B, "team.create",
                 "{\"name\": \"新队\", \"level\": \"squad\", \"category\": \"health\","
                 " \"region\": \"431022101203\"}",
                 &reply, &err),
        ST_OK);
    snprintf (new_team, sizeof new_team, "%s", fx_str (reply, "id"));
    json_decref (reply);
    s_join (&TOWN_A, old_team, id, NULL);
    assert_true (s_team_has (&TOWN_A, old_team, id));

    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"region\": \"431022101203\", \"team_ids\": [\"%s\"]}", id,
              new_team);
    //  No consent yet: refused.
    assert_int_equal (fx_call ("registry", &TOWN_B, "volunteer.transfer", body, NULL, &err),
                      ST_FAILED_PRECONDITION);
    msg_actor_t self = {.account = "mover", .role = "volunteer", .volunteer_id = id};
    char ask[128];
    snprintf (ask, sizeof ask, "{\"id\": \"%s\", \"region\": \"431022101203\"}", id);
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.request_transfer", ask, NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &self, "volunteer.request_transfer", ask, NULL, &err),
                      ST_OK);
    //  The source admin cannot pull a volunteer into another's region.
    assert_int_equal (fx_call ("registry", &TOWN_A, "volunteer.transfer", body, NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("registry", &TOWN_B, "volunteer.transfer", body, &reply, &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "region"), "431022101203");
    assert_string_equal (fx_str (reply, "id"), id);
    json_decref (reply);
    //  A member of the new team now, and no longer of the old one.
    assert_true (s_team_has (&TOWN_B, new_team, id));
    assert_false (s_team_has (&TOWN_A, old_team, id));
    assert_int_equal (fx_events ("volunteer.transferred", NULL), 1);
    //  The consent was used up.
    assert_int_equal (fx_call ("registry", &TOWN_B, "volunteer.transfer", body, NULL, &err),
                      ST_FAILED_PRECONDITION);
    free (id);
}

//  Whether an invitation's or a list's reply, as JSON text, shows `name` anywhere.
static bool
s_shows (json_t *reply, const char *name)
{
    char *text = json_dumps (reply, 0);
    bool shown = text && strstr (text, name);
    free (text);
    return shown;
}

//  A volunteer joins a team only by accepting an invitation (入队邀请), and only one in the
//  inviter's scope is invited: a leader of another region cannot invite, a volunteer outside
//  the scope reads as absent, nobody is a member before accepting, a decline ends it, a second
//  invitation waits for the first's answer, and only the volunteer invited answers. No reply
//  shows the name of a volunteer who has not joined.
static void
test_team_invitations (void **state)
{
    st_error_t err;
    json_t *reply;
    assert_int_equal (
        fx_call ("registry", &TOWN_A, "team.create",
                 "{\"name\": \"邀请队\", \"level\": \"squad\", \"category\": \"elderly\","
                 " \"region\": \"431022100201\"}",
                 &reply, &err),
        ST_OK);
    char team[24], body[256], invitation[24];
    snprintf (team, sizeof team, "%s", fx_str (reply, "id"));
    json_decref (reply);
    char *va = s_register (&FX_SYSTEM, 1200, "受邀甲", "431022100201");
    char *vb = s_register (&FX_SYSTEM, 1201, "外镇乙", "431022101203");
    char *vc = s_register (&FX_SYSTEM, 1202, "旁人丙", "431022100201");
    msg_actor_t as_a = {.account = "va", .role = "volunteer", .volunteer_id = va};
    msg_actor_t as_c = {.account = "vc", .role = "volunteer", .volunteer_id = vc};
    msg_actor_t leader_b = {.account = "leader-b", .role = "team_leader", .region = "431022101000"};

    //  A leader or admin of another region cannot invite to the team.
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team, va);
    {
        st_status_t rc = fx_call ("registry", &leader_b, "team.invite", body, NULL, &err);
        fx_expect ("team.invite by another region's leader", rc, &err, ST_PERMISSION_DENIED,
                   "team_id");
        rc = fx_call ("registry", &TOWN_B, "team.invite", body, NULL, &err);
        fx_expect ("team.invite by another region's admin", rc, &err, ST_PERMISSION_DENIED,
                   "team_id");
        rc = fx_call ("registry", &as_c, "team.invite", body, NULL, &err);
        fx_expect ("team.invite by a volunteer who leads nothing", rc, &err, ST_PERMISSION_DENIED,
                   "team_id");
        //  A volunteer outside the inviter's scope reads as one that does not exist.
        snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team, vb);
        rc = fx_call ("registry", &TOWN_A, "team.invite", body, NULL, &err);
        fx_expect ("team.invite of a volunteer out of scope", rc, &err, ST_NOT_FOUND,
                   "volunteer_id");
        assert_null (strstr (err.message, "外镇乙"));
        snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"999999\"}", team);
        rc = fx_call ("registry", &TOWN_A, "team.invite", body, NULL, &err);
        fx_expect ("team.invite of nobody", rc, &err, ST_NOT_FOUND, "volunteer_id");
        //  team.add_member no longer makes anyone a member.
        snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team, va);
        rc = fx_call ("registry", &TOWN_A, "team.add_member", body, NULL, &err);
        fx_expect ("team.add_member of a volunteer not in the team", rc, &err,
                   ST_FAILED_PRECONDITION, "volunteer_id");
        rc = fx_call ("registry", &as_c, "team.add_member", body, NULL, &err);
        fx_expect ("team.add_member by a volunteer who leads nothing", rc, &err,
                   ST_PERMISSION_DENIED, "team_id");
    }
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.invitations WHERE team_id = %s", team), 0);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.memberships WHERE team_id = %s", team), 0);

    //  Invited: pending, the reply without the volunteer's name, no membership yet.
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team, va);
    assert_int_equal (fx_call ("registry", &TOWN_A, "team.invite", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "pending");
    assert_string_equal (fx_str (reply, "volunteer_id"), va);
    assert_string_equal (fx_str (reply, "team_name"), "邀请队");
    assert_string_equal (fx_str (reply, "role"), "member");
    assert_false (s_shows (reply, "受邀甲"));
    snprintf (invitation, sizeof invitation, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_events ("invitation.created", invitation), 1);
    assert_int_equal (s_team_size (&TOWN_A, team), 0);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", team);
    fx_expect ("team.get by the volunteer invited, not yet a member",
               fx_call ("registry", &as_a, "team.get", body, NULL, &err), &err, ST_NOT_FOUND, "id");

    //  A second invitation while the first is pending is a conflict.
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team, va);
    fx_expect ("a second invitation",
               fx_call ("registry", &TOWN_A, "team.invite", body, NULL, &err), &err, ST_CONFLICT,
               "volunteer_id");

    //  The volunteer's pending invitations: theirs, and an official's in scope.
    reply = fx_call_ok ("registry", &as_a, "invitation.list", "{}");
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 1);
    assert_string_equal (fx_str (json_array_get (json_object_get (reply, "items"), 0), "id"),
                         invitation);
    assert_false (s_shows (reply, "受邀甲"));
    json_decref (reply);
    reply = fx_call_ok ("registry", &as_c, "invitation.list", "{}");
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 0);
    json_decref (reply);
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\"}", va);
    reply = fx_call_ok ("registry", &TOWN_A, "invitation.list", body);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 1);
    json_decref (reply);
    fx_expect ("invitation.list of a volunteer out of scope",
               fx_call ("registry", &TOWN_B, "invitation.list", body, NULL, &err), &err,
               ST_NOT_FOUND, "volunteer_id");

    //  Only the volunteer invited answers.
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", invitation);
    fx_expect ("invitation.accept by another volunteer",
               fx_call ("registry", &as_c, "invitation.accept", body, NULL, &err), &err,
               ST_PERMISSION_DENIED, "id");
    fx_expect ("invitation.accept by the admin who invited",
               fx_call ("registry", &TOWN_A, "invitation.accept", body, NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
    assert_int_equal (s_team_size (&TOWN_A, team), 0);

    //  Declined: no membership, and answered once.
    assert_int_equal (fx_call ("registry", &as_a, "invitation.decline", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "declined");
    json_decref (reply);
    assert_int_equal (fx_events ("invitation.declined", invitation), 1);
    assert_int_equal (s_team_size (&TOWN_A, team), 0);
    fx_expect ("invitation.accept after declining",
               fx_call ("registry", &as_a, "invitation.accept", body, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "id");
    reply = fx_call_ok ("registry", &as_a, "invitation.list", "{}");
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 0);
    json_decref (reply);

    //  Invited again and accepted: a member, in the role invited to.
    snprintf (body, sizeof body,
              "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\", \"role\": \"info_officer\"}", team,
              va);
    reply = fx_call_ok ("registry", &TOWN_A, "team.invite", body);
    snprintf (invitation, sizeof invitation, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_events ("membership.changed", team), 0);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", invitation);
    reply = fx_call_ok ("registry", &as_a, "invitation.accept", body);
    assert_string_equal (fx_str (reply, "status"), "accepted");
    json_decref (reply);
    assert_int_equal (fx_events ("invitation.accepted", invitation), 1);
    assert_int_equal (fx_events ("membership.changed", team), 1);
    assert_true (s_team_has (&TOWN_A, team, va));
    assert_string_equal (fx_value ("SELECT role FROM registry.memberships WHERE team_id = %s"
                                   " AND volunteer_id = %s",
                                   team, va),
                         "info_officer");
    fx_expect ("invitation.accept twice",
               fx_call ("registry", &as_a, "invitation.accept", body, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "id");
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team, va);
    fx_expect ("team.invite of a member",
               fx_call ("registry", &TOWN_A, "team.invite", body, NULL, &err), &err, ST_CONFLICT,
               "volunteer_id");

    //  team.add_member changes a member's role: made leader, va invites within the team's
    //  region, and no one beyond it.
    snprintf (body, sizeof body,
              "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\", \"role\": \"leader\"}", team, va);
    reply = fx_call_ok ("registry", &TOWN_A, "team.add_member", body);
    json_decref (reply);
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team, vb);
    fx_expect ("team.invite by the leader of a volunteer beyond the team's region",
               fx_call ("registry", &as_a, "team.invite", body, NULL, &err), &err, ST_NOT_FOUND,
               "volunteer_id");
    s_join (&as_a, team, vc, NULL);
    assert_true (s_team_has (&TOWN_A, team, vc));
    assert_false (s_team_has (&TOWN_A, team, vb));
    free (va);
    free (vb);
    free (vc);
}

//  Regions from CSV: children may come before their parents in the file; bad codes, names and
//  rows outside the importer's region are reported; the same file twice creates nothing.
static void
test_region_import (void **state)
{
    st_error_t err;
    msg_import_result_t result;
    const char csv[] = "区划代码,名称\r\n"
                       "431022100301,新村一\r\n" //  a village of the township below
                       "431022100300,新片区\r\n" //  a village whose code ends in zeros
                       "431022103000,新镇\r\n"   //  outside town A
                       "4310221,短码\r\n"
                       "431022100302,\r\n";
    msg_volunteer_import_t request = {.csv = {(uint8_t *) csv, sizeof csv - 1}};
    long regions = fx_count ("SELECT count (*) FROM registry.regions");
    assert_int_equal (fx_call_msg ("registry", &TOWN_A, "region.import", &request, &result, &err),
                      ST_OK);
    assert_int_equal (result.created, 2);
    assert_int_equal (result.errors.count, 3);
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.regions"), regions + 2);
    assert_int_equal (fx_call_msg ("registry", &TOWN_A, "region.import", &request, &result, &err),
                      ST_OK);
    assert_int_equal (result.created, 0);
    assert_int_equal (result.skipped, 2);
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (
        fx_call_msg ("registry", &STATION_A, "region.import", &request, &result, &err),
        ST_PERMISSION_DENIED);
}

//  Grids (网格) below villages: a 15-digit code under its village; a volunteer's home may be
//  one, and the village's and the township's lists include them.
static void
test_grids (void **state)
{
    st_error_t err;
    json_t *reply;
    assert_int_equal (fx_call ("registry", &TOWN_A, "region.create",
                               "{\"code\": \"431022100201001\", \"name\": \"第一网格\"}", &reply,
                               &err),
                      ST_OK);
    assert_string_equal (fx_str (reply, "level"), "grid");
    assert_string_equal (fx_str (reply, "parent"), "431022100201");
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "region.create",
                               "{\"code\": \"431022100000001\", \"name\": \"镇的网格\"}", NULL,
                               &err),
                      ST_INVALID_ARGUMENT);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "region.create",
                               "{\"code\": \"431022100201000\", \"name\": \"零网格\"}", NULL, &err),
                      ST_INVALID_ARGUMENT);
    char *id = s_register (&TOWN_A, 1000, "网格员", "431022100201001");
    msg_actor_t village = {.account = "v-admin", .role = "station_admin", .region = "431022100201"};
    assert_int_equal (
        fx_call ("registry", &village, "volunteer.list", "{\"q\": \"网格员\"}", &reply, &err),
        ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 1);
    json_decref (reply);
    assert_int_equal (
        fx_call ("registry", &TOWN_B, "volunteer.list", "{\"q\": \"网格员\"}", &reply, &err),
        ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 0);
    json_decref (reply);
    free (id);
}

//  A prefecture-level city with no counties (东莞): its townships are coded straight under it
//  (441900003000, the county group zero), their villages under them. Level and parent follow;
//  the city's admin adds townships, a township's admin its villages, and another township's
//  admin reads nothing of them.
static void
test_townships_under_a_city (void **state)
{
    st_error_t err;
    json_t *reply;
    msg_actor_t city = {.account = "dg-city", .role = "region_admin", .region = "441900000000"};
    msg_actor_t town = {.account = "dg-dc", .role = "region_admin", .region = "441900003000"};
    msg_actor_t other = {.account = "dg-nc", .role = "region_admin", .region = "441900004000"};
    fx_region_add ("440000000000", "广东省");
    fx_region_add ("441900000000", "东莞市");
    if (fx_call ("registry", &city, "region.create",
                 "{\"code\": \"441900003000\", \"name\": \"东城街道\"}", NULL, &err)
        != ST_OK)
        fail_msg ("the city's admin could not add a township: %s", err.message);
    assert_int_equal (fx_call ("registry", &city, "region.create",
                               "{\"code\": \"441900004000\", \"name\": \"南城街道\"}", NULL, &err),
                      ST_OK);
    assert_int_equal (fx_call ("registry", &town, "region.create",
                               "{\"code\": \"441900003001\", \"name\": \"东城第一社区\"}", NULL,
                               &err),
                      ST_OK);

    assert_int_equal (
        fx_call ("registry", NULL, "region.get", "{\"code\": \"441900003000\"}", &reply, &err),
        ST_OK);
    assert_string_equal (fx_str (reply, "level"), "township");
    assert_string_equal (fx_str (reply, "parent"), "441900000000");
    assert_int_equal (json_array_size (json_object_get (reply, "children")), 1);
    json_decref (reply);
    assert_int_equal (
        fx_call ("registry", NULL, "region.get", "{\"code\": \"441900003001\"}", &reply, &err),
        ST_OK);
    assert_string_equal (fx_str (reply, "level"), "village");
    assert_string_equal (fx_str (reply, "parent"), "441900003000");
    json_decref (reply);
    assert_int_equal (
        fx_call ("registry", NULL, "region.get", "{\"code\": \"441900000000\"}", &reply, &err),
        ST_OK);
    assert_string_equal (fx_str (reply, "parent"), "440000000000");
    assert_int_equal (json_array_size (json_object_get (reply, "children")), 2);
    json_decref (reply);

    //  Another township's admin neither adds villages here nor sees who lives here.
    assert_int_equal (fx_call ("registry", &other, "region.create",
                               "{\"code\": \"441900003002\", \"name\": \"别人的社区\"}", NULL,
                               &err),
                      ST_PERMISSION_DENIED);
    char *id = s_register (&town, 1100, "莞城人", "441900003001");
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    assert_int_equal (fx_call ("registry", &other, "volunteer.get", body, NULL, &err),
                      ST_NOT_FOUND);
    assert_int_equal (fx_call ("registry", &other, "volunteer.list",
                               "{\"region\": \"441900003000\"}", NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (
        fx_call ("registry", &other, "volunteer.list", "{\"q\": \"莞城人\"}", &reply, &err), ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 0);
    json_decref (reply);
    assert_int_equal (fx_call ("registry", &town, "volunteer.get", body, NULL, &err), ST_OK);
    assert_int_equal (
        fx_call ("registry", &city, "volunteer.list", "{\"q\": \"莞城人\"}", &reply, &err), ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 1);
    json_decref (reply);
    free (id);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_id_numbers),
        cmocka_unit_test (test_profile),
        cmocka_unit_test (test_scope),
        cmocka_unit_test (test_self_service),
        cmocka_unit_test (test_reveal),
        cmocka_unit_test (test_regions),
        cmocka_unit_test (test_accounts_and_login),
        cmocka_unit_test (test_list_paging),
        cmocka_unit_test (test_list_by_skill),
        cmocka_unit_test (test_residents),
        cmocka_unit_test (test_import),
        cmocka_unit_test (test_categories),
        cmocka_unit_test (test_sites_and_teams),
        cmocka_unit_test (test_transfer),
        cmocka_unit_test (test_team_invitations),
        cmocka_unit_test (test_region_import),
        cmocka_unit_test (test_grids),
        cmocka_unit_test (test_no_plain_pii_anywhere),
        cmocka_unit_test (test_townships_under_a_city),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
