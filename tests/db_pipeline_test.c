/*  db_pipeline_test.c — st_db_pipeline (issue 24): steps sent together run in order, their
    results come back to each; the first that fails stops the rest, names itself and its
    SQLSTATE, and leaves the connection usable once the transaction is rolled back.  */
#include "harness.h"
#include "st_db.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

typedef struct {
    harness_t *h;
    st_db_t *db;
} self_t;

static int
s_setup (void **state)
{
    self_t *self = calloc (1, sizeof *self);
    self->h = harness_new ("db_pipeline");
    self->db = st_db_new (harness_conninfo (self->h), "notify", "notify");
    st_error_t err;
    assert_int_equal (st_db_run (self->db, "CREATE TABLE piped (k int PRIMARY KEY)", &err), ST_OK);
    st_db_statement (self->db, "piped_put", "INSERT INTO piped (k) VALUES ($1) RETURNING k * 10");
    st_db_statement (self->db, "piped_count", "SELECT count (*) FROM piped");
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    self_t *self = *state;
    st_db_destroy (&self->db);
    harness_destroy (&self->h);
    free (self);
    return 0;
}

static int64_t
s_count (self_t *self)
{
    PGresult *res;
    st_error_t err;
    assert_int_equal (st_db_exec (self->db, "piped_count", NULL, &res, &err), ST_OK);
    int64_t n = atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    return n;
}

static void
test_in_order (void **state)
{
    self_t *self = *state;
    st_params_t one = {0}, two = {0};
    st_params_int (&one, 1);
    st_params_int (&two, 2);
    PGresult *put = NULL, *count = NULL;
    st_db_step_t steps[] = {{.sql = "BEGIN"},
                            {.name = "piped_put", .params = &one, .result = &put},
                            {.name = "piped_put", .params = &two},
                            {.name = "piped_count", .result = &count},
                            {.sql = "COMMIT"}};
    size_t failed = 99;
    st_error_t err;
    assert_int_equal (st_db_pipeline (self->db, steps, 5, &failed, &err), ST_OK);
    assert_non_null (put);
    assert_string_equal (PQgetvalue (put, 0, 0), "10");
    assert_non_null (count);
    assert_string_equal (PQgetvalue (count, 0, 0), "2"); //  the step before it had run
    PQclear (put);
    PQclear (count);
    st_params_clear (&one);
    st_params_clear (&two);
    assert_int_equal (s_count (self), 2); //  committed, and the connection goes on as before
}

static void
test_stops_at_failure (void **state)
{
    self_t *self = *state;
    st_params_t three = {0}, again = {0}, four = {0};
    st_params_int (&three, 3);
    st_params_int (&again, 3);
    st_params_int (&four, 4);
    PGresult *after = (PGresult *) 1;
    st_db_step_t steps[] = {{.sql = "BEGIN"},
                            {.name = "piped_put", .params = &three},
                            {.name = "piped_put", .params = &again},
                            {.name = "piped_put", .params = &four, .result = &after},
                            {.sql = "COMMIT"}};
    size_t failed = 99;
    st_error_t err = {0};
    assert_int_equal (st_db_pipeline (self->db, steps, 5, &failed, &err), ST_CONFLICT);
    assert_int_equal (failed, 2);
    assert_string_equal (st_db_sqlstate (self->db), "23505");
    assert_non_null (strstr (err.message, "piped_put"));
    assert_null (after); //  the steps after it did not run
    //  Nothing committed: the transaction is rolled back as after st_db_exec, and the same
    //  connection serves on.
    assert_int_equal (st_db_run (self->db, "ROLLBACK", &err), ST_OK);
    assert_int_equal (s_count (self), 0);
    st_params_clear (&three);
    st_params_clear (&again);
    st_params_clear (&four);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_in_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stops_at_failure, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
