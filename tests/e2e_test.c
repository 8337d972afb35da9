/*  e2e_test.c — the first slice end to end with real processes: a volunteer registered
    through the `station` command reaches match's supply replica; errors print as JSON with
    the field named and a non-zero exit status.  */
#include "fixture.h"
#include "st_log.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

//  Parses CLI output as JSON and returns a member as a string ("" when absent).
static const char *
s_member (const char *text, const char *path1, const char *path2)
{
    static char value[512];
    json_error_t err;
    json_t *json = json_loads (text, 0, &err);
    assert_non_null (json);
    json_t *v = json_object_get (json, path1);
    if (v && path2)
        v = json_object_get (v, path2);
    if (json_is_string (v))
        snprintf (value, sizeof value, "%s", json_string_value (v));
    else if (json_is_integer (v))
        snprintf (value, sizeof value, "%lld", (long long) json_integer_value (v));
    else
        value[0] = 0;
    json_decref (json);
    return value;
}

//  Register through `station`, and see match's replica count it.
static void
test_register_reaches_match (void **state)
{
    harness_t *h = harness_new ("e2e_register");
    harness_start (h, "registry");
    harness_start (h, "match");
    char out[8192];
    assert_int_equal (harness_cli (h, out, sizeof out, "supply", "stats", "--json", NULL), 0);
    assert_string_equal (s_member (out, "volunteers", NULL), "0");

    assert_int_equal (harness_cli (h, out, sizeof out, "volunteer", "register", "--name", "刘芳",
                                   "--id-number", "43102219950622028x", "--phone", "18907351122",
                                   "--region", "431022101203", "--skill", "手语", "--skill", "教育",
                                   "--json", NULL),
                      0);
    assert_string_equal (s_member (out, "name", NULL), "刘芳");
    assert_string_equal (s_member (out, "id_number", NULL), "4310**********028X");
    assert_string_equal (s_member (out, "phone", NULL), "189****1122");
    assert_string_equal (s_member (out, "gender", NULL), "F");
    char id[32];
    snprintf (id, sizeof id, "%s", s_member (out, "id", NULL));

    //  The event travels registry → outbox → relay → match's consumer.
    int64_t until = st_clock_ms () + 10000;
    bool seen = false;
    while (!seen && st_clock_ms () < until) {
        assert_int_equal (harness_cli (h, out, sizeof out, "supply", "stats", "--region",
                                       "431022000000", "--json", NULL),
                          0);
        seen = strcmp (s_member (out, "volunteers", NULL), "1") == 0;
        if (!seen)
            zclock_sleep (50);
    }
    assert_true (seen);
    assert_string_equal (s_member (out, "registry_seq", NULL), "1");
    //  Another county's subtree does not see the volunteer.
    assert_int_equal (harness_cli (h, out, sizeof out, "supply", "stats", "--region",
                                   "431021000000", "--json", NULL),
                      0);
    assert_string_equal (s_member (out, "volunteers", NULL), "0");

    //  station call: any op, JSON in and out.
    char body[128];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    assert_int_equal (
        harness_cli (h, out, sizeof out, "call", "registry", "volunteer.get", body, NULL), 0);
    assert_string_equal (s_member (out, "region", NULL), "431022101203");
    assert_string_equal (s_member (out, "birth_date", NULL), "1995-06-22");

    //  --as with an id acts as that volunteer (their own offers: none yet); an id for a role
    //  that stands for nobody is a usage error.
    char as[64];
    snprintf (as, sizeof as, "v:volunteer::%s", id);
    assert_int_equal (
        harness_cli (h, out, sizeof out, "--as", as, "call", "match", "offer.list", "{}", NULL), 0);
    assert_non_null (strstr (out, "\"items\": []"));
    assert_int_equal (harness_cli (h, out, sizeof out, "--as", "v:volunteer", "call", "match",
                                   "offer.list", "{}", NULL),
                      1);
    assert_non_null (strstr (out, "actor.volunteer_id"));
    assert_int_equal (harness_cli (h, out, sizeof out, "--as", "t:region_admin:431022000000:7",
                                   "call", "match", "offer.list", "{}", NULL),
                      2);

    //  A suspension in registry reaches match's replica: nobody dispatches to them.
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"suspended\"}", id);
    assert_int_equal (
        harness_cli (h, out, sizeof out, "call", "registry", "volunteer.set_status", body, NULL),
        0);
    until = st_clock_ms () + 10000;
    seen = false;
    while (!seen && st_clock_ms () < until) {
        assert_int_equal (harness_cli (h, out, sizeof out, "supply", "stats", "--json", NULL), 0);
        seen = strcmp (s_member (out, "active", NULL), "0") == 0;
        if (!seen)
            zclock_sleep (50);
    }
    assert_true (seen);
    assert_string_equal (s_member (out, "volunteers", NULL), "1");
    assert_string_equal (s_member (out, "registry_seq", NULL), "2");
    harness_destroy (&h);
}

//  Bad input prints {"code", "message", "field"} and exits non-zero, changing nothing.
static void
test_errors_name_the_field (void **state)
{
    harness_t *h = harness_new ("e2e_errors");
    harness_start (h, "registry");
    char out[8192];
    //  Wrong check digit.
    assert_int_equal (harness_cli (h, out, sizeof out, "volunteer", "register", "--name", "赵建国",
                                   "--id-number", "431022195812300352", "--phone", "13607353344",
                                   "--region", "431022102105", "--json", NULL),
                      1);
    assert_string_equal (s_member (out, "code", NULL), "invalid_argument");
    assert_string_equal (s_member (out, "field", NULL), "id_number");
    //  A bad phone.
    assert_int_equal (harness_cli (h, out, sizeof out, "volunteer", "register", "--name", "赵建国",
                                   "--id-number", "431022195812300351", "--phone", "1360735334",
                                   "--region", "431022102105", "--json", NULL),
                      1);
    assert_string_equal (s_member (out, "field", NULL), "phone");
    //  Wrong JSON type, caught by the descriptors before anything is sent.
    assert_int_equal (harness_cli (h, out, sizeof out, "call", "registry", "volunteer.register",
                                   "{\"name\": 5}", NULL),
                      1);
    assert_string_equal (s_member (out, "field", NULL), "name");
    //  A missing required field.
    assert_int_equal (harness_cli (h, out, sizeof out, "call", "registry", "volunteer.register",
                                   "{\"name\": \"赵建国\"}", NULL),
                      1);
    assert_string_equal (s_member (out, "field", NULL), "id_number");
    //  No such op, no such volunteer.
    assert_int_equal (harness_cli (h, out, sizeof out, "call", "registry", "no.such", "{}", NULL),
                      1);
    assert_string_equal (s_member (out, "code", NULL), "invalid_argument");
    assert_int_equal (harness_cli (h, out, sizeof out, "volunteer", "get", "42", "--json", NULL),
                      1);
    assert_string_equal (s_member (out, "code", NULL), "not_found");
    assert_string_equal (harness_sql (h, "SELECT count (*) FROM registry.volunteers"), "0");
    assert_string_equal (harness_sql (h, "SELECT count (*) FROM registry.outbox"), "0");
    harness_destroy (&h);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_register_reaches_match),
        cmocka_unit_test (test_errors_name_the_field),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
