/*  gateway_hostile_parse_test.c — what tests/fuzz/fuzz_gateway found in the gateway's own
    parsing (issue 22), against the real gateway: a path or query text that is not UTF-8, or
    that is cut in the middle of a character where an error message quotes it, is refused
    with 400 naming what is wrong, and the gateway goes on answering (it crashed, or answered
    an error whose code was "ok").  */
#include "fixture.h"

#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

//  `path` is refused with 400 invalid_argument naming `field`; the gateway still answers.
static void
s_refused (const char *path, const char *field)
{
    fx_http_t *answer = fx_http ("GET", path, NULL, NULL, NULL);
    print_message ("GET %.80s → %ld %s\n", path, answer->status, answer->text);
    assert_int_equal (answer->status, 400);
    assert_string_equal (fx_http_str (answer, "error.code"), "invalid_argument");
    assert_string_equal (fx_http_str (answer, "error.field"), field);
    fx_http_free (&answer);
    answer = fx_http ("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal (answer->status, 200);
    fx_http_free (&answer);
}

static void
test_texts_that_are_not_utf8_are_refused_by_name (void **state)
{
    (void) state;
    fx_t *fx = fx_new ("gateway_hostile_parse", FX_REGISTRY | FX_GATEWAY);
    //  A path parameter that is not UTF-8 (a route anyone may call: no session first).
    s_refused ("/v1/regions/%FF%FE", "code");
    //  An unknown query parameter whose name is not UTF-8.
    s_refused ("/v1/regions/330102?%FF=1", "query");
    //  An unknown name of good UTF-8 that an error message would cut mid-character.
    char path[256];
    snprintf (path, sizeof path, "/v1/regions/330102?%s%s=1",
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "%E5%BC%A0%E4%B8%89");
    fx_http_t *answer = fx_http ("GET", path, NULL, NULL, NULL);
    print_message ("GET %.80s → %ld %s\n", path, answer->status, answer->text);
    assert_int_equal (answer->status, 400);
    assert_string_equal (fx_http_str (answer, "error.code"), "invalid_argument");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal (answer->status, 200);
    fx_http_free (&answer);
    fx_destroy (&fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_texts_that_are_not_utf8_are_refused_by_name),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
