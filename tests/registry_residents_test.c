/*  registry_residents_test.c — resident.update and PATCH /v1/residents/{id} (issue 23): the
    resident themself or an official in scope changes any registration field, the e-mail
    address included; a bad field is named and changes nothing; another's resident reads as
    none; a new phone is the new sign-in; match and notify learn the new home and care groups
    from resident.updated. The home address is sealed: kept in clear nowhere, and an address
    written before it was (migration 0021) is sealed when the registry starts.  */
#include "fixture.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#define COUNTY   "431022000000"
#define VILLAGE  "431022100201"
#define VILLAGE2 "431022100202"
#define BAISHI   "431022101203"
#define PASSWORD "correct horse battery"

static fx_t *s_fx;

static int
s_setup (void **state)
{
    (void) state;
    s_fx = fx_new ("registry_residents_test", FX_REGISTRY | FX_MATCH | FX_NOTIFY | FX_GATEWAY);
    fx_county_add ();
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_destroy (&s_fx);
    return 0;
}

//  A resident of `region` who signs in with `phone`; the id into `id`.
static void
s_resident (const char *name, const char *phone, const char *region, char id[32])
{
    char body[512];
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"phone\": \"%s\", \"password\": \"" PASSWORD "\","
              " \"region\": \"%s\", \"address\": \"一组1号\", \"care_tags\": [\"disabled\"],"
              " \"email\": \"old@example.cn\"}",
              name, phone, region);
    json_t *reply = fx_call_ok ("registry", &FX_SYSTEM, "resident.register", body);
    snprintf (id, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
}

//  What the registry holds of resident `id`, as text, for comparisons before and after.
static char *
s_row (const char *id)
{
    return strdup (fx_value ("SELECT row (name, phone_enc, phone_hash, region, address,"
                             " address_enc, lat, lon, care_tags, email_enc)::text"
                             " FROM registry.residents WHERE id = %s",
                             id));
}

static void
test_the_resident_changes_their_own_record (void **state)
{
    (void) state;
    char id[32], body[512];
    s_resident ("王秀英", "13700000101", VILLAGE, id);
    msg_actor_t self = fx_resident (id);
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"name\": \"王秀英\", \"phone\": \"13700000199\","
              " \"address\": \"二组7号\", \"lat\": 25.41, \"lon\": 112.96,"
              " \"care_tags\": [\"empty_nest_elderly\", \"disabled\"],"
              " \"email\": \"wang.xiuying@example.cn\"}",
              id);
    json_t *reply = fx_call_ok ("registry", &self, "resident.update", body);
    assert_string_equal (fx_str (reply, "address"), "二组7号");
    assert_string_equal (fx_str (reply, "phone"), "137****0199");
    assert_string_equal (fx_str (reply, "email"), "w***@example.cn");
    assert_int_equal (json_array_size (json_object_get (reply, "care_tags")), 2);
    assert_string_equal (fx_str (reply, "region"), VILLAGE);
    json_decref (reply);
    //  Fields left out stay; the new phone signs in, the old one no longer.
    char token[64];
    fx_http_signin ("13700000199", PASSWORD, token);
    fx_http_t *answer =
        fx_http ("POST", "/v1/sessions", NULL,
                 "{\"login\": \"13700000101\", \"password\": \"" PASSWORD "\"}", NULL);
    assert_int_equal (answer->status, 401);
    fx_http_free (&answer);
    //  match learns the care groups and the place from resident.updated.
    fx_wait_for (1,
                 "SELECT count (*) FROM match.residents WHERE id = %s AND lat = 25.41"
                 " AND care_tags @> ARRAY['empty_nest_elderly']",
                 id);
    //  An e-mail address given empty is removed; care_tags given empty are cleared.
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"email\": \"\", \"care_tags\": []}", id);
    reply = fx_call_ok ("registry", &self, "resident.update", body);
    assert_null (json_object_get (reply, "email"));
    assert_int_equal (json_array_size (json_object_get (reply, "care_tags")), 0);
    assert_string_equal (fx_str (reply, "address"), "二组7号");
    json_decref (reply);
    fx_wait_for (1, "SELECT count (*) FROM match.residents WHERE id = %s AND care_tags = '{}'", id);
}

static void
test_bad_fields_are_named_and_change_nothing (void **state)
{
    (void) state;
    char id[32], other[32], body[512];
    s_resident ("李桂兰", "13700000102", VILLAGE, id);
    s_resident ("张德明", "13700000103", VILLAGE, other);
    msg_actor_t self = fx_resident (id);
    char *before = s_row (id);
    struct {
        const char *fields, *field;
        st_status_t code;
    } bad[] = {
        {"\"phone\": \"12345\"", "phone", ST_INVALID_ARGUMENT},
        {"\"email\": \"not an address\"", "email", ST_INVALID_ARGUMENT},
        {"\"care_tags\": [\"rich\"]", "care_tags", ST_INVALID_ARGUMENT},
        {"\"region\": \"4310\"", "region", ST_INVALID_ARGUMENT},
        {"\"region\": \"431022100299\"", "region", ST_FAILED_PRECONDITION},
        {"\"name\": \"\"", "name", ST_INVALID_ARGUMENT},
        //  Another's sign-in phone: the whole update is undone.
        {"\"address\": \"三组\", \"phone\": \"13700000103\"", "phone", ST_CONFLICT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf (body, sizeof body, "{\"id\": \"%s\", %s}", id, bad[i].fields);
        st_error_t err;
        fx_expect (bad[i].fields, fx_call ("registry", &self, "resident.update", body, NULL, &err),
                   &err, bad[i].code, bad[i].field);
        fx_unchanged (strdup (before), s_row (id), bad[i].fields);
    }
    //  Another resident, and an official of another township, see no such resident.
    msg_actor_t stranger = fx_resident (other);
    msg_actor_t baishi = fx_admin ("station_admin", BAISHI);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"address\": \"别处\"}", id);
    st_error_t err;
    fx_expect ("another resident's update",
               fx_call ("registry", &stranger, "resident.update", body, NULL, &err), &err,
               ST_NOT_FOUND, "id");
    fx_expect ("an official out of scope",
               fx_call ("registry", &baishi, "resident.update", body, NULL, &err), &err,
               ST_NOT_FOUND, "id");
    //  An official in scope may not move a resident out of their scope.
    msg_actor_t village = fx_admin ("station_admin", VILLAGE);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"region\": \"" BAISHI "\"}", id);
    fx_expect ("a move out of the official's scope",
               fx_call ("registry", &village, "resident.update", body, NULL, &err), &err,
               ST_PERMISSION_DENIED, "region");
    fx_unchanged (before, s_row (id), "refused updates");
}

static void
test_an_official_updates_through_http (void **state)
{
    (void) state;
    char id[32], path[64], token[64];
    s_resident ("赵大爷", "13700000104", VILLAGE, id);
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"yuxi-town\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"station_admin\", \"region\": \"431022100000\"}"));
    fx_http_signin ("yuxi-town", PASSWORD, token);
    snprintf (path, sizeof path, "/v1/residents/%s", id);
    //  Moved to the next village of the township, with a new address.
    fx_http_t *answer =
        fx_http ("PATCH", path, token,
                 "{\"region\": \"" VILLAGE2 "\", \"address\": \"第二村五组8号\"}", NULL);
    assert_int_equal (answer->status, 200);
    assert_string_equal (fx_http_str (answer, "region"), VILLAGE2);
    assert_string_equal (fx_http_str (answer, "address"), "第二村五组8号");
    assert_string_equal (fx_http_str (answer, "name"), "赵大爷");
    fx_http_free (&answer);
    //  A bad field is a 400 naming it.
    answer = fx_http ("PATCH", path, token, "{\"phone\": \"1\"}", NULL);
    assert_int_equal (answer->status, 400);
    assert_string_equal (fx_http_str (answer, "error.field"), "phone");
    fx_http_free (&answer);
    //  The resident's own session: their account moved with them.
    char own[64];
    fx_http_signin ("13700000104", PASSWORD, own);
    answer = fx_http ("GET", "/v1/sessions/current", own, NULL, NULL);
    assert_int_equal (answer->status, 200);
    assert_string_equal (fx_http_str (answer, "account.region"), VILLAGE2);
    fx_http_free (&answer);
    answer = fx_http ("PATCH", path, own, "{\"email\": \"zhao@example.cn\"}", NULL);
    assert_int_equal (answer->status, 200);
    assert_string_equal (fx_http_str (answer, "email"), "z***@example.cn");
    fx_http_free (&answer);
    //  notify and match know the new home.
    fx_wait_for (
        1, "SELECT count (*) FROM match.residents WHERE id = %s AND region = '" VILLAGE2 "'", id);
    fx_wait_for (1,
                 "SELECT count (*) FROM notify.recipients WHERE kind = 'resident' AND id = '%s'"
                 " AND region = '" VILLAGE2 "'",
                 id);
}

//  The address is read back whole by the resident, but the table holds it only sealed; an
//  address left in clear by a registry from before migration 0021 is sealed when the registry
//  starts, and reads back the same.
static void
test_the_address_is_kept_sealed (void **state)
{
    (void) state;
    char id[32], old[32], body[512];
    s_resident ("孙奶奶", "13700000105", VILLAGE, id);
    msg_actor_t self = fx_resident (id);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"address\": \"幸福村三组十二号\"}", id);
    json_decref (fx_call_ok ("registry", &self, "resident.update", body));
    const char *secrets[] = {"一组1号", "幸福村三组十二号", "老街四号院"};
    fx_holds_none ("registry.residents", secrets, 2);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.residents WHERE address IS NOT NULL"), 0);
    //  A row as an older registry wrote it: its address in clear.
    snprintf (old, sizeof old, "%s",
              fx_value ("INSERT INTO registry.residents (name, phone_enc, phone_hash, region,"
                        " address) SELECT '钱爷爷', phone_enc, sha256 (phone_hash), region,"
                        " '老街四号院' FROM registry.residents WHERE id = %s RETURNING id",
                        id));
    fx_restart ("registry", SIGKILL);
    fx_holds_none ("registry.residents", secrets, 3);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", old);
    json_t *reply = fx_call_ok ("registry", &FX_SYSTEM, "resident.get", body);
    assert_string_equal (fx_str (reply, "address"), "老街四号院");
    json_decref (reply);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    reply = fx_call_ok ("registry", &self, "resident.get", body);
    assert_string_equal (fx_str (reply, "address"), "幸福村三组十二号");
    json_decref (reply);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_resident_changes_their_own_record),
        cmocka_unit_test (test_bad_fields_are_named_and_change_nothing),
        cmocka_unit_test (test_an_official_updates_through_http),
        cmocka_unit_test (test_the_address_is_kept_sealed),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
