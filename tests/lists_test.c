/*  lists_test.c — volunteer.list and request.list read their page, not their subtree, against
    a real database and real registry and match processes (issue 24): what a list call made
    the database read is taken from PostgreSQL's own counters (pg_stat_user_tables and
    pg_stat_user_indexes) around the call. Paging through a whole filtered list gives every
    row once, in order, across page boundaries.

    The rows are written with set-based SQL, copies of one volunteer registered through the
    registry (its sealed fields open as any other's).  */
#include "fixture.h"
#include "st_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

static fx_t *F;

#define S_FILLERS  60000 //  volunteers of village 100201, all skilled 驾驶 only
#define S_TOWNSHIP 120   //  volunteers of village 101203, skilled 急救
#define S_REQUESTS 30000 //  requests of three counties

static const msg_actor_t COUNTY = {
    .account = "county-admin", .role = "region_admin", .region = "431022000000"};
static const msg_actor_t TOWN = {
    .account = "town-admin", .role = "region_admin", .region = "431022101000"};

static void s_settle (const char *table, const char *other);

static int
s_setup (void **state)
{
    (void) state;
    //  No round while the tests count what is read (a round reads the requests).
    setenv ("STATION_DISPATCH_ROUND_MS", "600000", 1);
    F = fx_new ("lists", FX_REGISTRY | FX_MATCH);
    fx_county_add ();
    char id[32];
    fx_volunteer_add ("原本", "431022101203", "[\"急救\"]", "[]", 25.4, 112.95, "", id);
    //  The copies: distinct ID number hashes, the same sealed fields.
    const char *copy = "INSERT INTO registry.volunteers (name, id_number_enc, id_number_hash,"
                       " phone_enc, phone_hash, region, skills, gender, birth_date)"
                       " SELECT '%s' || i, v.id_number_enc, sha256 (('%s' || i)::bytea),"
                       " v.phone_enc, v.phone_hash, '%s', '%s', v.gender, v.birth_date"
                       " FROM registry.volunteers v, generate_series (1, %d) i WHERE v.id = %s";
    fx_sql (copy, "填充", "filler", "431022100201", "{驾驶}", S_FILLERS, id);
    fx_sql (copy, "本镇", "township", "431022101203", "{急救}", S_TOWNSHIP, id);
    //  Requests of three counties in turn, each of twenty townships in turn: a township is
    //  one in sixty, its rows spread thin in id order. None is live: no round reads them.
    fx_sql ("INSERT INTO match.requests (category, title, description, region, lat, lon,"
            " earliest_start, latest_end, duration_minutes, headcount, skills, urgency, status,"
            " created_by) SELECT '助老', '请求' || i, '说明',"
            " '4310' || (22 + i %% 3) || (100 + (i / 3) %% 20) || '201', 25.4, 112.95,"
            " now () - interval '2 days', now () - interval '2 days' + interval '2 hours', 60, 1,"
            " '{}', 'normal', CASE WHEN i %% 7 = 0 THEN 'cancelled' ELSE 'completed' END, 'test'"
            " FROM generate_series (1, %d) i",
            S_REQUESTS);
    //  No autovacuum either: the tests count what the lists read.
    fx_sql ("ALTER TABLE registry.volunteers SET (autovacuum_enabled = off)");
    fx_sql ("ALTER TABLE match.requests SET (autovacuum_enabled = off)");
    fx_sql ("VACUUM ANALYZE registry.volunteers");
    fx_sql ("VACUUM ANALYZE match.requests");
    //  Every backend reports what it read when idle, within 10 s: until then, what the setup
    //  read could land in a test's count.
    s_settle ("registry.volunteers", "match.requests");
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_destroy (&F);
    return 0;
}

//  The first value of `sql`, whole (fx_value's buffer is shorter); the caller frees it.
static char *
s_ids (const char *sql)
{
    PGresult *res = fx_query ("%s", sql);
    char *ids = strdup (PQgetvalue (res, 0, 0));
    PQclear (res);
    return ids;
}

//  What the database has read of `table` so far: rows fetched from the heap (sequential
//  scans and index scans), index entries returned and index blocks read.
typedef struct {
    long heap, index, blocks;
} s_reads_t;

static s_reads_t
s_reads (const char *table)
{
    s_reads_t reads;
    fx_sql ("SELECT pg_stat_clear_snapshot ()");
    reads.heap = fx_count ("SELECT seq_tup_read + coalesce (idx_tup_fetch, 0)"
                           " FROM pg_stat_user_tables WHERE relid = '%s'::regclass",
                           table);
    reads.index = fx_count ("SELECT coalesce (sum (idx_tup_read), 0) FROM pg_stat_user_indexes"
                            " WHERE relid = '%s'::regclass",
                            table);
    //  Index blocks (what a scan walks past as well as what it returns), of every index.
    reads.blocks = fx_count ("SELECT coalesce (sum (idx_blks_hit + idx_blks_read), 0)"
                             " FROM pg_statio_user_indexes WHERE relid = '%s'::regclass",
                             table);
    return reads;
}

static bool
s_reads_equal (s_reads_t a, s_reads_t b)
{
    return a.heap == b.heap && a.index == b.index && a.blocks == b.blocks;
}

//  Waits until what was read of `table` and of `other` has not changed for 11 s (scans that
//  read nothing, as a round's of live requests, may go on).
static void
s_settle (const char *table, const char *other)
{
    s_reads_t last = s_reads (table), last_other = s_reads (other);
    for (int still = 0; still < 11000; still += 500) {
        fx_sleep_ms (500);
        s_reads_t now = s_reads (table), now_other = s_reads (other);
        if (!s_reads_equal (now, last) || !s_reads_equal (now_other, last_other))
            still = 0;
        last = now;
        last_other = now_other;
    }
}

//  Calls `op` once and returns what it made the database read of `table`: the counters
//  before, and after a service's backend has reported them (it does when idle, within
//  seconds).
static s_reads_t
s_call_reads (const char *service, const msg_actor_t *actor, const char *op, const char *body,
              const char *table, size_t *items)
{
    //  A backend that reported less than a second ago holds its next report until it has
    //  been idle 10 s; one that did not reports as soon as it is idle.
    fx_sleep_ms (1100);
    s_reads_t before = s_reads (table);
    json_t *page = fx_call_ok (service, actor, op, body);
    *items = json_array_size (json_object_get (page, "items"));
    json_decref (page);
    s_reads_t after = s_reads (table);
    for (int waited = 0; after.blocks == before.blocks && waited < FX_WAIT_MS; waited += 100) {
        fx_sleep_ms (100);
        after = s_reads (table);
    }
    assert_true (after.blocks > before.blocks);
    print_message ("%s %s: %ld heap rows, %ld index entries, %ld index blocks read\n", op, body,
                   after.heap - before.heap, after.index - before.index,
                   after.blocks - before.blocks);
    return (s_reads_t){after.heap - before.heap, after.index - before.index,
                       after.blocks - before.blocks};
}

//  ---------------------------------------------------------------------------------------
//  volunteer.list

//  A township's first page starts at the township: not at the first code of the index,
//  walking the 60,000 volunteers of the township before it.
static void
test_volunteer_list_starts_at_its_subtree (void **state)
{
    (void) state;
    size_t items;
    s_reads_t reads = s_call_reads ("registry", &TOWN, "volunteer.list", "{\"limit\": 50}",
                                    "registry.volunteers", &items);
    assert_int_equal (items, 50);
    assert_true (reads.index < 200);
    assert_true (reads.heap < 200);
    //  The township's index entries lie in a few blocks; each row by id, three more.
    assert_true (reads.blocks < 51 * 3 + 20);
}

//  A filter none matches (a skill no one of a village of 60,000 has) reads neither a heap
//  row per volunteer nor the subtree's index entries: the skill's entries of the village in
//  volunteer_skills, none (issue 24). The volunteers' counters come in the same report.
static void
test_volunteer_list_filters_in_the_index (void **state)
{
    (void) state;
    size_t items;
    s_reads_t before = s_reads ("registry.volunteers");
    s_reads_t reads = s_call_reads ("registry", &COUNTY, "volunteer.list",
                                    "{\"region\": \"431022100201\", \"skill\": \"手语\"}",
                                    "registry.volunteer_skills", &items);
    s_reads_t after = s_reads ("registry.volunteers");
    assert_int_equal (items, 0);
    assert_true (after.heap - before.heap < 1000);
    assert_true (after.index - before.index < 1000);
    assert_true (reads.index < 10);
}

//  Pages of 7 of a township with a skill filter give every volunteer of it once, in (region,
//  id) order, whole (masked ID numbers opened from the sealed ones).
static void
test_volunteer_list_pages_whole (void **state)
{
    (void) state;
    char *expected = s_ids ("SELECT string_agg (id::text, ',' ORDER BY region COLLATE \"C\", id)"
                            " FROM registry.volunteers WHERE region LIKE '431022101%%'"
                            " AND skills @> '{急救}'");
    size_t size = strlen (expected) + 64, used = 0, pages = 0;
    char *seen = calloc (1, size), cursor[64] = "";
    do {
        char body[160];
        if (*cursor)
            snprintf (body, sizeof body, "{\"skill\": \"急救\", \"limit\": 7, \"cursor\": \"%s\"}",
                      cursor);
        else
            snprintf (body, sizeof body, "{\"skill\": \"急救\", \"limit\": 7}");
        json_t *page = fx_call_ok ("registry", &TOWN, "volunteer.list", body);
        json_t *items = json_object_get (page, "items");
        assert_true (json_array_size (items) <= 7);
        for (size_t i = 0; i < json_array_size (items); i++) {
            json_t *v = json_array_get (items, i);
            assert_string_equal (fx_str (v, "region"), "431022101203");
            assert_non_null (strchr (fx_str (v, "id_number"), '*'));
            assert_true (used + 24 < size);
            used += (size_t) snprintf (seen + used, size - used, "%s%s", used ? "," : "",
                                       fx_str (v, "id"));
        }
        snprintf (cursor, sizeof cursor, "%s", fx_str (page, "next_cursor"));
        pages++;
        json_decref (page);
    } while (*cursor && pages < 100);
    assert_int_equal (pages, (S_TOWNSHIP + 1 + 6) / 7);
    assert_string_equal (seen, expected);
    free (seen);
    free (expected);
}

//  ---------------------------------------------------------------------------------------
//  request.list

//  A township's newest page reads its own rows, not the county's or the province's newer
//  ones (the primary key newest first, filtering), nor the township's all to be sorted: also
//  once the statement's plan is the generic one (after five calls). A county's as well.
static void
test_request_list_reads_its_page (void **state)
{
    (void) state;
    const char *township = "{\"region\": \"431022105000\", \"limit\": 20}";
    size_t items;
    s_reads_t reads;
    for (int i = 0; i < 8; i++)
        reads = s_call_reads ("match", &COUNTY, "request.list", township, "match.requests", &items);
    assert_int_equal (items, 20);
    assert_true (reads.heap < 200);
    assert_true (reads.index < 200);
    reads = s_call_reads ("match", &COUNTY, "request.list", "{\"limit\": 50}", "match.requests",
                          &items);
    assert_int_equal (items, 50);
    assert_true (reads.heap < 500);
    assert_true (reads.index < 500);
}

//  A township's or a county's newest page of one status (cancelled: one in seven) reads the
//  page's own entries, not the subtree's newer ones of every other status walked past: also
//  once the statement's plan is the generic one (after five calls).
static void
test_request_list_of_a_status_reads_its_page (void **state)
{
    (void) state;
    const char *township =
        "{\"region\": \"431022105000\", \"status\": \"cancelled\", \"limit\": 20}";
    const char *county = "{\"status\": \"cancelled\", \"limit\": 20}";
    size_t items;
    s_reads_t reads;
    for (int i = 0; i < 6; i++) {
        reads = s_call_reads ("match", &COUNTY, "request.list", township, "match.requests", &items);
        //  20 entries of the page's index and 20 of the primary key (its rows), not the 140 of
        //  every status a page of cancelled requests spans.
        assert_int_equal (items, 20);
        assert_true (reads.index <= 60);
        assert_true (reads.heap <= 30);
    }
    reads = s_call_reads ("match", &COUNTY, "request.list", county, "match.requests", &items);
    assert_int_equal (items, 20);
    assert_true (reads.index <= 60);
    assert_true (reads.heap <= 30);
}

//  Pages of 500 of the county's cancelled requests give each once, newest first.
static void
test_request_list_pages_whole (void **state)
{
    (void) state;
    char *expected = s_ids ("SELECT string_agg (id::text, ',' ORDER BY id DESC)"
                            " FROM match.requests WHERE region LIKE '431022%%'"
                            " AND status = 'cancelled'");
    size_t size = strlen (expected) + 64, used = 0, pages = 0;
    char *seen = calloc (1, size), cursor[64] = "";
    do {
        char body[160];
        if (*cursor)
            snprintf (body, sizeof body,
                      "{\"status\": \"cancelled\", \"limit\": 500, \"cursor\": \"%s\"}", cursor);
        else
            snprintf (body, sizeof body, "{\"status\": \"cancelled\", \"limit\": 500}");
        json_t *page = fx_call_ok ("match", &COUNTY, "request.list", body);
        json_t *items = json_object_get (page, "items");
        for (size_t i = 0; i < json_array_size (items); i++) {
            json_t *r = json_array_get (items, i);
            assert_string_equal (fx_str (r, "status"), "cancelled");
            assert_true (used + 24 < size);
            used += (size_t) snprintf (seen + used, size - used, "%s%s", used ? "," : "",
                                       fx_str (r, "id"));
        }
        snprintf (cursor, sizeof cursor, "%s", fx_str (page, "next_cursor"));
        pages++;
        json_decref (page);
    } while (*cursor && pages < 100);
    assert_string_equal (seen, expected);
    free (seen);
    free (expected);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_volunteer_list_starts_at_its_subtree),
        cmocka_unit_test (test_volunteer_list_filters_in_the_index),
        cmocka_unit_test (test_volunteer_list_pages_whole),
        cmocka_unit_test (test_request_list_reads_its_page),
        cmocka_unit_test (test_request_list_of_a_status_reads_its_page),
        cmocka_unit_test (test_request_list_pages_whole),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
