/*  cli_test.c — the operator's `station call SERVICE OP` takes its JSON body from standard
    input (`-`) or a file (`@FILE`) as well as from an argument, which holds at most 128 KB
    (issue 22); a file it cannot read is refused naming "json", changing nothing; an error
    reply exits 1, a service that does not answer 3.  */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static int
s_setup (void **state)
{
    fx_t *fx = fx_new ("cli", FX_REGISTRY);
    fx_county_add ();
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  The body of region.create for the village `code` named `name`.
static void
s_body (char *body, size_t size, const char *code, const char *name)
{
    snprintf (body, size, "{\"code\": \"%s\", \"name\": \"%s\"}", code, name);
}

static void
test_call_reads_stdin_and_files (void **state)
{
    static char out[1 << 16];
    char body[256], path[512];
    s_body (body, sizeof body, "431022100203", "从标准输入");
    if (harness_cli_input (fx_harness (), body, out, sizeof out, "call", "registry",
                           "region.create", "-", NULL)
        != 0)
        fail_msg ("station call … -: %s", out);
    assert_non_null (strstr (out, "从标准输入"));
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.regions WHERE code = '431022100203'"), 1);

    snprintf (path, sizeof path, "%s/body.json", harness_dir (fx_harness ()));
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    s_body (body, sizeof body, "431022100204", "从文件");
    fputs (body, file);
    fclose (file);
    char at[520];
    snprintf (at, sizeof at, "@%s", path);
    if (harness_cli (fx_harness (), out, sizeof out, "call", "registry", "region.create", at, NULL)
        != 0)
        fail_msg ("station call … @FILE: %s", out);
    assert_non_null (strstr (out, "从文件"));
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.regions WHERE code = '431022100204'"), 1);

    //  A file that is not there: refused naming "json", nothing called.
    long regions = fx_count ("SELECT count (*) FROM registry.regions");
    snprintf (at, sizeof at, "@%s/missing.json", harness_dir (fx_harness ()));
    assert_int_not_equal (
        harness_cli (fx_harness (), out, sizeof out, "call", "registry", "region.create", at, NULL),
        0);
    assert_non_null (strstr (out, "\"field\": \"json\""));
    //  Standard input that is no JSON: refused, nothing called.
    assert_int_not_equal (harness_cli_input (fx_harness (), "{\"code\": ", out, sizeof out, "call",
                                             "registry", "region.create", "-", NULL),
                          0);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.regions"), regions);
}

//  The exit codes of station --help (issue 22): a service's error reply exits 1, a service
//  that does not answer (the ledger, which this fixture never started) exits 3, each printing
//  the error as JSON; --json is taken after the command too.
static void
test_exit_codes (void **state)
{
    (void) state;
    static char out[1 << 16];
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "ping", "registry", "--json", NULL), 0);
    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "call", "registry",
                                   "volunteer.get", "{\"id\": \"999999\"}", NULL),
                      1);
    assert_non_null (strstr (out, "\"code\": \"not_found\""));
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "--timeout", "300", "ping", "ledger", NULL),
        3);
    assert_non_null (strstr (out, "\"code\": \"unavailable\""));
    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "--timeout", "300", "ledger",
                                   "statement", "1", NULL),
                      3);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_call_reads_stdin_and_files),
        cmocka_unit_test (test_exit_codes),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
