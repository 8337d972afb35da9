/*  server_readers_test.c — reads answered by the rpc server's readers (issue 22): a read held
    up in the database does not stop the reads of other clients; one client's requests still
    run, and are answered, in the order it sent them; a client reads its own writes at once.  */
#include "fixture.h"
#include "st_keys.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define COUNTY "431022000000"

//  Takes the regions table from every reader until s_unlock: region.get waits on it.
static void
s_lock (PGconn *pg)
{
    PGresult *res = PQexec (pg, "BEGIN; LOCK TABLE registry.regions IN ACCESS EXCLUSIVE MODE");
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);
}

static void
s_unlock (PGconn *pg)
{
    PGresult *res = PQexec (pg, "COMMIT");
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);
}

typedef struct {
    harness_t *h;
    st_status_t rc;
    st_error_t err;
} s_held_read_t;

//  region.get of the county from a client of its own, as long as it takes.
static void *
s_region_get (void *arg)
{
    s_held_read_t *self = arg;
    st_client_t *client = harness_client (self->h, "registry", "operator");
    st_client_set_retry (client, 30000);
    msg_region_get_t get = {.code = COUNTY};
    msg_region_t region = {0};
    self->rc = st_client_call (client, "region.get", NULL, NULL, &msg_region_get_desc, &get,
                               &msg_region_desc, &region, 30000, &self->err);
    st_msg_clear (&msg_region_desc, &region);
    st_client_destroy (&client);
    return NULL;
}

//  A read that waits on a lock in the database holds up one reader, not the service: another
//  client's reads, of another table, are answered meanwhile; the held one is answered after.
static void
test_held_read_stops_no_other_read (void **state)
{
    harness_t *h = harness_new ("readers_held");
    harness_start (h, "registry");
    harness_sql (h, "INSERT INTO registry.regions (code, name, level) VALUES ('" COUNTY
                    "', '测试县', 'county')");
    PGconn *pg = harness_pg (h);
    s_lock (pg);
    s_held_read_t held = {.h = h};
    pthread_t thread;
    pthread_create (&thread, NULL, s_region_get, &held);
    zclock_sleep (500); //  it waits on the lock by now

    st_client_t *client = harness_client (h, "registry", "operator");
    st_client_set_retry (client, 5000);
    msg_category_list_t list = {0};
    msg_categories_t categories = {0};
    st_error_t err;
    st_status_t rc = st_client_call (client, "category.list", NULL, NULL, &msg_category_list_desc,
                                     &list, &msg_categories_desc, &categories, 5000, &err);
    if (rc != ST_OK)
        print_message ("category.list while region.get waits: %s\n", err.message);
    assert_int_equal (rc, ST_OK);
    st_msg_clear (&msg_categories_desc, &categories);

    s_unlock (pg);
    pthread_join (thread, NULL);
    assert_int_equal (held.rc, ST_OK);
    st_client_destroy (&client);
    harness_destroy (&h);
}

//  A request's frame, with the id `n` in its first byte.
static zframe_t *
s_frame (const char *op, const st_desc_t *desc, const void *body, uint8_t n)
{
    uint8_t id[16] = {n};
    uint8_t *data, *frame;
    size_t data_size, size;
    assert_int_equal (st_encode (desc, body, &data, &data_size), 0);
    st_client_envelope (op, NULL, id, 0, data, data_size, &frame, &size);
    free (data);
    zframe_t *out = zframe_new (frame, size);
    free (frame);
    return out;
}

//  The request id's first byte of a reply, or -1 when none came within `wait_ms`.
static int
s_reply_n (zsock_t *dealer, int wait_ms)
{
    zmq_pollitem_t item = {zsock_resolve (dealer), 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, wait_ms) <= 0)
        return -1;
    zframe_t *reply = zframe_recv (dealer);
    st_unpacked_t unpacked;
    st_error_t err;
    msg_reply_t envelope = {0};
    assert_int_equal (st_unpack (zframe_data (reply), zframe_size (reply), &unpacked, &err), 0);
    assert_int_equal (st_decode_object (&msg_reply_desc, &unpacked.unpacked.data, &envelope, &err),
                      0);
    assert_true (envelope.has_ok && envelope.ok);
    int n = envelope.id.data[0];
    st_msg_clear (&msg_reply_desc, &envelope);
    st_unpacked_destroy (&unpacked);
    zframe_destroy (&reply);
    return n;
}

//  One client that sends without waiting (a DEALER of its own): a read held up in the
//  database, then a ping and a write, which another reader or the loop could answer at once;
//  they wait for the read and are answered after it, in the order sent.
static void
test_one_client_in_order (void **state)
{
    harness_t *h = harness_new ("readers_order");
    harness_start (h, "registry");
    harness_sql (h, "INSERT INTO registry.regions (code, name, level) VALUES ('" COUNTY
                    "', '测试县', 'county')");
    st_error_t err;
    zcert_t *own = st_keys_secret (harness_keys (h), "operator", &err);
    zcert_t *server = st_keys_public (harness_keys (h), "registry", &err);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    st_keys_client (dealer, own, zcert_public_txt (server));
    zsock_set_linger (dealer, 0);
    assert_int_equal (zsock_connect (dealer, "%s", harness_endpoint (h, "registry", "rpc")), 0);
    //  Connected and admitted before the lock is taken.
    msg_empty_t empty = {0};
    zframe_t *frame = s_frame ("sys.ping", &msg_empty_desc, &empty, 9);
    assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    assert_int_equal (s_reply_n (dealer, 5000), 9);

    PGconn *pg = harness_pg (h);
    s_lock (pg);
    msg_region_get_t get = {.code = COUNTY};
    msg_region_create_t create = {.code = "431022100000", .name = "测试镇"};
    frame = s_frame ("region.get", &msg_region_get_desc, &get, 1);
    assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    frame = s_frame ("sys.ping", &msg_empty_desc, &empty, 2);
    assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    frame = s_frame ("sys.ping", &msg_empty_desc, &empty, 3);
    assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    //  Nothing is answered while the first waits.
    assert_int_equal (s_reply_n (dealer, 700), -1);
    s_unlock (pg);
    assert_int_equal (s_reply_n (dealer, 10000), 1);
    assert_int_equal (s_reply_n (dealer, 10000), 2);
    assert_int_equal (s_reply_n (dealer, 10000), 3);

    //  A read, then a write, then a read: the write runs after the first read, the last read
    //  sees it.
    s_lock (pg);
    frame = s_frame ("region.get", &msg_region_get_desc, &get, 4);
    assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    zframe_t *write = s_frame ("region.create", &msg_region_create_desc, &create, 5);
    assert_int_equal (zframe_send (&write, dealer, 0), 0);
    msg_region_get_t town = {.code = "431022100000"};
    frame = s_frame ("region.get", &msg_region_get_desc, &town, 6);
    assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    assert_int_equal (s_reply_n (dealer, 700), -1);
    s_unlock (pg);
    assert_int_equal (s_reply_n (dealer, 10000), 4);
    assert_int_equal (s_reply_n (dealer, 10000), 5);
    assert_int_equal (s_reply_n (dealer, 10000), 6);

    zsock_destroy (&dealer);
    zcert_destroy (&own);
    zcert_destroy (&server);
    harness_destroy (&h);
}

//  A client reads its own write at once, whichever reader answers: a volunteer's phone
//  changed and read back, many times in a row.
static void
test_reads_own_writes (void **state)
{
    harness_t *h = harness_new ("readers_own_writes");
    harness_start (h, "registry");
    harness_sql (h, "INSERT INTO registry.regions (code, name, level) VALUES ('" COUNTY
                    "', '测试县', 'county')");
    st_client_t *client = harness_client (h, "registry", "operator");
    st_error_t err;
    for (int round = 0; round < 100; round++) {
        char code[16], name[32];
        snprintf (code, sizeof code, "431022%03d000", 100 + round);
        snprintf (name, sizeof name, "镇%d", round);
        msg_region_create_t create = {.code = code, .name = name};
        msg_region_t region = {0};
        assert_int_equal (st_client_call (client, "region.create", NULL, NULL,
                                          &msg_region_create_desc, &create, &msg_region_desc,
                                          &region, 10000, &err),
                          ST_OK);
        st_msg_clear (&msg_region_desc, &region);
        msg_region_get_t get = {.code = code};
        st_status_t rc = st_client_call (client, "region.get", NULL, NULL, &msg_region_get_desc,
                                         &get, &msg_region_desc, &region, 10000, &err);
        if (rc != ST_OK)
            print_message ("round %d: %s\n", round, err.message);
        assert_int_equal (rc, ST_OK);
        assert_string_equal (region.name, name);
        st_msg_clear (&msg_region_desc, &region);
    }
    st_client_destroy (&client);
    harness_destroy (&h);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_held_read_stops_no_other_read),
        cmocka_unit_test (test_one_client_in_order),
        cmocka_unit_test (test_reads_own_writes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
