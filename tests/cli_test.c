/*  cli_test.c — the operator's `station call SERVICE OP` takes its JSON body from standard
    input (`-`) or a file (`@FILE`) as well as from an argument, which holds at most 128 KB
    (issue 22); a file it cannot read is refused naming "json", changing nothing; an error
    reply exits 1, a service that does not answer 3. The named commands print for a person
    (labels, tables aligned by display width, errors as one line on standard error), and
    with --json the JSON they printed before.  */
#define _XOPEN_SOURCE 700 //  wcwidth
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <locale.h>
#include <wchar.h>

static int
s_setup (void **state)
{
    fx_t *fx = fx_new ("cli", FX_REGISTRY);
    fx_county_add ();
    *state = fx;
    return 0;
}

//  The services the human output is shown with: registry, the ledger's store, notify's inbox.
static int
s_setup_stack (void **state)
{
    fx_t *fx = fx_new ("cli_human", FX_REGISTRY | FX_LEDGER | FX_NOTIFY);
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
    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "--timeout", "300", "ping",
                                   "ledger", "--json", NULL),
                      3);
    assert_non_null (strstr (out, "\"code\": \"unavailable\""));
    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "--timeout", "300", "ledger",
                                   "statement", "1", NULL),
                      3);
}

//  The display columns (libc's wcwidth in C.UTF-8: Chinese two a character) at which the
//  cells of a table row start: a cell starts after two spaces or at the line's start. Returns
//  how many, at most `max`.
static int
s_cell_starts (const char *line, int *starts, int max)
{
    mbstate_t mb = {0};
    int column = 0, spaces = 2, count = 0;
    size_t left = strlen (line);
    while (left > 0) {
        wchar_t wc;
        size_t len = mbrtowc (&wc, line, left, &mb);
        assert_true (len > 0 && len <= left);
        if (wc != L' ' && spaces >= 2 && count < max)
            starts[count++] = column;
        spaces = wc == L' ' ? spaces + 1 : 0;
        column += wcwidth (wc);
        line += len;
        left -= len;
    }
    return count;
}

//  The line of `text` holding `part` (into `line`); fails the test when none does.
static void
s_line (const char *text, const char *part, char *line, size_t size)
{
    const char *at = strstr (text, part);
    if (!at)
        fail_msg ("no line holds \"%s\" in:\n%s", part, text);
    while (at > text && at[-1] != '\n')
        at--;
    size_t len = strcspn (at, "\n");
    assert_true (len < size);
    memcpy (line, at, len);
    line[len] = 0;
}

//  station volunteer get prints the volunteer as aligned "label  value" lines, personal data
//  masked; --json prints exactly what call prints (the JSON of before).
static void
test_human_volunteer (void **state)
{
    (void) state;
    static char out[1 << 16], json[1 << 16];
    assert_int_equal (harness_cli (fx_harness (), json, sizeof json, "volunteer", "register",
                                   "--name", "刘芳", "--id-number", "43102219950622028x", "--phone",
                                   "18907351122", "--region", "431022100201", "--skill", "手语",
                                   "--skill", "教育", "--json", NULL),
                      0);
    json_t *volunteer = json_loads (json, 0, NULL);
    assert_non_null (volunteer);
    char id[32];
    snprintf (id, sizeof id, "%s", fx_str (volunteer, "id"));
    json_decref (volunteer);

    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "volunteer", "get", id, NULL),
                      0);
    assert_null (strstr (out, "{"));
    assert_null (strstr (out, "18907351122"));
    char line[1024];
    int values = -1;
    static const char *const expected[][2] = {
        {"name", "刘芳"},         {"id number", "4310**********028X"},
        {"phone", "189****1122"}, {"region", "431022100201"},
        {"skills", "手语, 教育"}, {"status", "active"}};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        //  The line is the label, spaces, the value; every value starts in one column.
        char label[64];
        snprintf (label, sizeof label, "\n%s  ", expected[i][0]);
        s_line (out, label + 1, line, sizeof line);
        assert_int_equal (strncmp (line, label + 1, strlen (label + 1)), 0);
        int starts[4];
        int cells = s_cell_starts (line, starts, 4);
        assert_int_equal (cells, 2);
        const char *value =
            line + strspn (line + strlen (expected[i][0]), " ") + strlen (expected[i][0]);
        assert_string_equal (value, expected[i][1]);
        if (values < 0)
            values = starts[1];
        assert_int_equal (starts[1], values);
    }

    //  --json: the reply as call prints it, byte for byte.
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "volunteer", "get", id, "--json", NULL), 0);
    assert_int_equal (harness_cli (fx_harness (), json, sizeof json, "call", "registry",
                                   "volunteer.get", body, NULL),
                      0);
    assert_string_equal (out, json);
    volunteer = json_loads (out, 0, NULL);
    assert_non_null (volunteer);
    assert_string_equal (fx_str (volunteer, "phone"), "189****1122");
    json_decref (volunteer);
}

//  station store items prints a table whose columns line up by display width, Chinese names
//  of other widths included; --json prints what call prints.
static void
test_human_table (void **state)
{
    (void) state;
    msg_actor_t county = fx_admin ("region_admin", "431022000000");
    const char *items[][2] = {{"大米 5 kg", "200"}, {"理发", "50"}, {"soap", "7"}};
    for (size_t i = 0; i < 3; i++) {
        char body[256];
        snprintf (body, sizeof body,
                  "{\"name\": \"%s\", \"kind\": \"goods\", \"price_points\": %s,"
                  " \"stock\": 10, \"region\": \"431022000000\"}",
                  items[i][0], items[i][1]);
        json_decref (fx_call_ok ("ledger", &county, "item.create", body));
    }
    static char out[1 << 16], json[1 << 16];
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "store", "items", "431022100201", NULL), 0);
    //  The header, then one row an item: every row's cells start where the header's do.
    char header[1024], line[1024];
    assert_int_equal (strncmp (out, "id  name", 8), 0);
    s_line (out, "price points", header, sizeof header);
    int columns[32], starts[32];
    int count = s_cell_starts (header, columns, 32);
    assert_true (count >= 5);
    for (size_t i = 0; i < 3; i++) {
        s_line (out, items[i][0], line, sizeof line);
        assert_int_equal (s_cell_starts (line, starts, 32), count);
        for (int c = 0; c < count; c++)
            assert_int_equal (starts[c], columns[c]);
        assert_true (strlen (line) < 1024);
    }
    //  The rows differ in bytes where the display widths agree: 大米 5 kg is 12 bytes, 9 columns.
    char soap[1024], mi[1024];
    s_line (out, "soap", soap, sizeof soap);
    s_line (out, "大米", mi, sizeof mi);
    assert_int_not_equal (strstr (soap, "goods") - soap, strstr (mi, "goods") - mi);

    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "store", "items", "431022100201",
                                   "--json", NULL),
                      0);
    assert_int_equal (harness_cli (fx_harness (), json, sizeof json, "call", "ledger", "item.list",
                                   "{\"region\": \"431022100201\", \"below\": false,"
                                   " \"limit\": 500}",
                                   NULL),
                      0);
    assert_string_equal (out, json);
}

//  An empty list says so in words; an error is one line on standard error naming the field,
//  nothing on standard output, exit 1, nothing changed; with --json the error is the JSON
//  object on standard output.
static void
test_human_empty_and_errors (void **state)
{
    (void) state;
    static char out[1 << 16], err[1 << 16];
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "--as", "v7:volunteer::7", "inbox", NULL), 0);
    assert_string_equal (out, "unread  0\n\nno notices\n");
    assert_int_equal (harness_cli (fx_harness (), out, sizeof out, "deliveries", NULL), 0);
    assert_string_equal (out, "no deliveries\n");
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "store", "items", "431022100202", NULL), 0);
    assert_string_equal (out, "no items\n");

    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    assert_int_equal (harness_cli_stderr (fx_harness (), out, sizeof out, err, sizeof err,
                                          "volunteer", "register", "--name", "赵建国",
                                          "--id-number", "431022195812300351", "--phone",
                                          "1360735334", "--region", "431022100201", NULL),
                      1);
    assert_string_equal (out, "");
    assert_int_equal (strncmp (err, "station: ", 9), 0);
    assert_non_null (strstr (err, " (field: phone)\n"));
    assert_int_equal (strchr (err, '\n') - err + 1, (long) strlen (err)); //  one line
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers);
    //  The same with --json: the JSON object on standard output, nothing on standard error.
    assert_int_equal (harness_cli_stderr (fx_harness (), out, sizeof out, err, sizeof err,
                                          "volunteer", "register", "--name", "赵建国",
                                          "--id-number", "431022195812300351", "--phone",
                                          "1360735334", "--region", "431022100201", "--json", NULL),
                      1);
    assert_string_equal (err, "");
    json_t *error = json_loads (out, 0, NULL);
    assert_non_null (error);
    assert_string_equal (fx_str (error, "field"), "phone");
    assert_string_equal (fx_str (error, "code"), "invalid_argument");
    json_decref (error);
    //  call keeps its JSON errors (scripts read them), --json or not.
    assert_int_equal (harness_cli_stderr (fx_harness (), out, sizeof out, err, sizeof err, "call",
                                          "registry", "volunteer.get", "{\"id\": \"999999\"}",
                                          NULL),
                      1);
    assert_string_equal (err, "");
    assert_non_null (strstr (out, "\"code\": \"not_found\""));
}

int
main (void)
{
    //  Display widths as a terminal counts them, for the tables' checks.
    assert_non_null (setlocale (LC_CTYPE, "C.UTF-8"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_call_reads_stdin_and_files, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_exit_codes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_human_volunteer, s_setup_stack, s_teardown),
        cmocka_unit_test_setup_teardown (test_human_table, s_setup_stack, s_teardown),
        cmocka_unit_test_setup_teardown (test_human_empty_and_errors, s_setup_stack, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
