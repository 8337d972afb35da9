/*  rpc_test.c — the rpc contract against a live registry: idempotent retries, deadlines,
    CURVE admission, per-peer rights, hostile frames answered or dropped with memory flat,
    a database newer than the binary refused, personal data never stored in plain text.  */
#include "fixture.h"
#include "st_keys.h"
#include "st_log.h"

#include <setjmp.h>
#include <sodium.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static const char *ID_NUMBER = "431022198503120414";
static const char *PHONE = "13807351234";

//  Encodes a volunteer.register request envelope with a given id and deadline.
static void
s_register_frame (const uint8_t id[16], const char *name, int64_t deadline, uint8_t **frame,
                  size_t *size)
{
    char *skills[] = {"急救"};
    msg_volunteer_register_t body = {.name = (char *) name,
                                     .id_number = (char *) ID_NUMBER,
                                     .phone = (char *) PHONE,
                                     .region = "431022100201",
                                     .skills = {skills, 1},
                                     .has_skills = true};
    uint8_t *data;
    size_t data_size;
    assert_int_equal (st_encode (&msg_volunteer_register_desc, &body, &data, &data_size), 0);
    st_client_envelope ("volunteer.register", NULL, id, deadline, data, data_size, frame, size);
    free (data);
}

//  Decodes a reply frame's error; returns its code (ST_OK for an ok reply).
static st_status_t
s_reply_code (const uint8_t *frame, size_t size, st_error_t *err)
{
    return st_client_decode_reply (frame, size, NULL, NULL, err);
}

//  A retried write (same request id) takes effect once and gets the first reply, byte for byte.
static void
test_retry_applies_once (void **state)
{
    harness_t *h = harness_new ("rpc_retry");
    harness_start (h, "registry");
    st_client_t *client = harness_client (h, "registry", "operator");
    uint8_t id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t *frame, *first, *second, *third;
    size_t size, first_size, second_size, third_size;
    st_error_t err;
    s_register_frame (id, "李明华", st_now_ms () + 60000, &frame, &size);
    assert_int_equal (st_client_call_raw (client, frame, size, id, 5000, &first, &first_size, &err),
                      ST_OK);
    assert_int_equal (s_reply_code (first, first_size, &err), ST_OK);
    assert_int_equal (
        st_client_call_raw (client, frame, size, id, 5000, &second, &second_size, &err), ST_OK);
    assert_int_equal (second_size, first_size);
    assert_memory_equal (first, second, first_size);
    assert_string_equal (harness_sql (h, "SELECT count (*) FROM registry.volunteers"), "1");
    assert_string_equal (harness_sql (h, "SELECT count (*) FROM registry.outbox"), "1");

    //  The same id for a different request is a conflict, and changes nothing.
    free (frame);
    s_register_frame (id, "王秀英", st_now_ms () + 60000, &frame, &size);
    assert_int_equal (st_client_call_raw (client, frame, size, id, 5000, &third, &third_size, &err),
                      ST_OK);
    assert_int_equal (s_reply_code (third, third_size, &err), ST_CONFLICT);
    assert_string_equal (err.field, "id");
    assert_string_equal (harness_sql (h, "SELECT count (*) FROM registry.volunteers"), "1");

    //  A fresh id for the same person is a conflict on the ID number.
    uint8_t other[16] = {9};
    free (frame);
    s_register_frame (other, "李明华", st_now_ms () + 60000, &frame, &size);
    free (third);
    assert_int_equal (
        st_client_call_raw (client, frame, size, other, 5000, &third, &third_size, &err), ST_OK);
    assert_int_equal (s_reply_code (third, third_size, &err), ST_CONFLICT);
    assert_string_equal (err.field, "id_number");
    free (frame);
    free (first);
    free (second);
    free (third);
    st_client_destroy (&client);
    harness_destroy (&h);
}

//  A request whose deadline has passed is refused and changes nothing.
static void
test_deadline_refused (void **state)
{
    harness_t *h = harness_new ("rpc_deadline");
    harness_start (h, "registry");
    st_client_t *client = harness_client (h, "registry", "operator");
    uint8_t id[16] = {7};
    uint8_t *frame, *reply;
    size_t size, reply_size;
    st_error_t err;
    s_register_frame (id, "李明华", st_now_ms () - 1000, &frame, &size);
    assert_int_equal (st_client_call_raw (client, frame, size, id, 5000, &reply, &reply_size, &err),
                      ST_OK);
    assert_int_equal (s_reply_code (reply, reply_size, &err), ST_UNAVAILABLE);
    assert_string_equal (err.field, "deadline");
    assert_string_equal (harness_sql (h, "SELECT count (*) FROM registry.volunteers"), "0");
    free (frame);
    free (reply);
    st_client_destroy (&client);
    harness_destroy (&h);
}

//  A peer whose key is not in the deployment's key directory, or is there without a role
//  Station knows, gets no answer at all.
static void
test_unlisted_peer_refused (void **state)
{
    harness_t *h = harness_new ("rpc_curve");
    harness_start (h, "registry");
    st_error_t err;
    zcert_t *stranger = zcert_new ();
    zcert_t *server = st_keys_public (harness_keys (h), "registry", &err);
    st_client_t *client = st_client_new (harness_endpoint (h, "registry", "rpc"), stranger,
                                         zcert_public_txt (server));
    msg_empty_t empty = {0};
    msg_pong_t pong;
    assert_int_equal (st_client_call (client, "sys.ping", NULL, NULL, &msg_empty_desc, &empty,
                                      &msg_pong_desc, &pong, 1500, &err),
                      ST_UNAVAILABLE);
    st_client_destroy (&client);

    //  A listed key is admitted only with a role the server knows: its own list decides, and
    //  a key with no role there, or one it does not know, is refused like a stranger's.
    const char *roles[] = {NULL, "admin"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        zcert_t *listed = zcert_new ();
        zcert_set_meta (listed, "name", "listed-%zu", i);
        if (roles[i])
            zcert_set_meta (listed, "role", "%s", roles[i]);
        char path[512];
        snprintf (path, sizeof path, "%s/public/listed-%zu.cert", harness_keys (h), i);
        assert_int_equal (zcert_save_public (listed, path), 0);
        client = st_client_new (harness_endpoint (h, "registry", "rpc"), listed,
                                zcert_public_txt (server));
        assert_int_equal (st_client_call (client, "sys.ping", NULL, NULL, &msg_empty_desc, &empty,
                                          &msg_pong_desc, &pong, 1500, &err),
                          ST_UNAVAILABLE);
        st_client_destroy (&client);
        zcert_destroy (&listed);
    }

    //  The listed operator is answered, and the server knows who it is.
    client = harness_client (h, "registry", "operator");
    assert_int_equal (st_client_call (client, "sys.ping", NULL, NULL, &msg_empty_desc, &empty,
                                      &msg_pong_desc, &pong, 5000, &err),
                      ST_OK);
    assert_string_equal (pong.peer, "operator");
    assert_string_equal (pong.service, "registry");
    st_msg_clear (&msg_pong_desc, &pong);
    st_client_destroy (&client);
    zcert_destroy (&server);
    zcert_destroy (&stranger);
    harness_destroy (&h);
}

//  A service may not call people's ops nor assert an actor; the gateway may, for people's
//  roles only.
static void
test_peer_rights (void **state)
{
    harness_t *h = harness_new ("rpc_rights");
    harness_start (h, "registry");
    st_error_t err;
    st_client_t *service = harness_client (h, "registry", "match");
    msg_volunteer_get_t get = {.id = "1"};
    msg_volunteer_t volunteer;
    assert_int_equal (st_client_call (service, "volunteer.get", NULL, NULL, &msg_volunteer_get_desc,
                                      &get, &msg_volunteer_desc, &volunteer, 5000, &err),
                      ST_PERMISSION_DENIED);
    assert_string_equal (err.field, "op");
    msg_actor_t actor = {.account = "someone", .role = "region_admin", .region = "431022000000"};
    msg_empty_t empty = {0};
    msg_pong_t pong;
    assert_int_equal (st_client_call (service, "sys.ping", &actor, NULL, &msg_empty_desc, &empty,
                                      &msg_pong_desc, &pong, 5000, &err),
                      ST_PERMISSION_DENIED);
    assert_string_equal (err.field, "actor");
    //  events.read is for services and operators, not the gateway.
    st_client_t *gateway = harness_client (h, "registry", "gateway");
    msg_events_read_t read = {.after = 0, .has_after = true};
    msg_events_t events;
    assert_int_equal (st_client_call (gateway, "events.read", NULL, NULL, &msg_events_read_desc,
                                      &read, &msg_events_desc, &events, 5000, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (st_client_call (gateway, "volunteer.get", &actor, NULL,
                                      &msg_volunteer_get_desc, &get, &msg_volunteer_desc,
                                      &volunteer, 5000, &err),
                      ST_NOT_FOUND);
    assert_string_equal (err.field, "id");
    //  The gateway may assert the roles people have, never the system's nor a made-up one:
    //  those are refused before any handler runs. An operator may act as the system.
    const char *refused[] = {"system", "operator", "root"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        msg_actor_t claimed = {.account = "gateway-user", .role = (char *) refused[i]};
        assert_int_equal (st_client_call (gateway, "volunteer.get", &claimed, NULL,
                                          &msg_volunteer_get_desc, &get, &msg_volunteer_desc,
                                          &volunteer, 5000, &err),
                          ST_PERMISSION_DENIED);
        assert_string_equal (err.field, "actor.role");
    }
    st_client_t *operator= harness_client (h, "registry", "operator");
    msg_actor_t system = {.account = "operator-1", .role = "system"};
    assert_int_equal (st_client_call (operator, "volunteer.get", &system, NULL,
                                      &msg_volunteer_get_desc, &get, &msg_volunteer_desc,
                                      &volunteer, 5000, &err),
                      ST_NOT_FOUND);
    st_client_destroy (&operator);
    st_client_destroy (&gateway);
    st_client_destroy (&service);
    harness_destroy (&h);
}

//  Every op of registry and match refuses an official whose region is missing or no
//  statistical division code, before anything runs: such an actor must never read as the
//  whole country where an op narrows by the actor's region.
static void
test_official_without_region (void **state)
{
    harness_t *h = harness_new ("rpc_region");
    harness_start (h, "registry");
    harness_start (h, "match");
    const char *services[] = {"registry", "match"};
    const char *regions[] = {NULL, "", "43", "4310", "431022", "43102200000", "4310220000001"};
    int checked = 0;
    for (size_t s = 0; s < 2; s++) {
        st_client_t *gateway = harness_client (h, services[s], "gateway");
        for (size_t i = 0; st_proto_op_at (i); i++) {
            const st_op_desc_t *op = st_proto_op_at (i);
            if (strcmp (op->service, services[s]) != 0 || !(op->peers & ST_PEER_GATEWAY))
                continue;
            for (size_t r = 0; r < sizeof regions / sizeof regions[0]; r++) {
                msg_actor_t actor = {
                    .account = "admin", .role = "region_admin", .region = (char *) regions[r]};
                uint8_t body[] = {0x80}; //  an empty map
                uint8_t id[16], *frame, *reply = NULL;
                size_t size, reply_size = 0;
                randombytes_buf (id, sizeof id);
                st_client_envelope (op->name, &actor, id, st_now_ms () + 5000, body, sizeof body,
                                    &frame, &size);
                st_error_t err = {0};
                st_status_t rc =
                    st_client_call_raw (gateway, frame, size, id, 5000, &reply, &reply_size, &err);
                free (frame);
                if (rc == ST_OK) {
                    void *decoded = calloc (1, op->reply->size);
                    rc = st_client_decode_reply (reply, reply_size, op->reply, decoded, &err);
                    if (rc == ST_OK)
                        st_msg_clear (op->reply, decoded);
                    free (decoded);
                }
                free (reply);
                //  Refused naming the field: permission denied, or malformed for the codec.
                bool refused = rc == ST_PERMISSION_DENIED || rc == ST_INVALID_ARGUMENT;
                if (!refused || strcmp (err.field, "actor.region") != 0)
                    fail_msg ("%s %s with region \"%s\": %s naming \"%s\" (%s)", services[s],
                              op->name, regions[r] ? regions[r] : "(none)", st_status_name (rc),
                              err.field, err.message);
                checked++;
            }
        }
        st_client_destroy (&gateway);
    }
    assert_true (checked > 7 * 40);
    harness_destroy (&h);
}

//  Sends one raw frame on a CURVE dealer; returns the reply frame or NULL after wait_ms.
static zframe_t *
s_raw_exchange (zsock_t *dealer, const uint8_t *data, size_t size, int wait_ms)
{
    zframe_t *out = zframe_new (data, size);
    assert_int_equal (zframe_send (&out, dealer, 0), 0);
    zmq_pollitem_t item = {zsock_resolve (dealer), 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, wait_ms) <= 0)
        return NULL;
    return zframe_recv (dealer);
}

//  Builds an envelope map by hand so that any field can be wrong.
static void
s_hand_envelope (msgpack_packer *pk, const char *op, bool with_id, const char *body_key,
                 int body_kind)
{
    msgpack_pack_map (pk, 3 + (body_key != NULL));
    msgpack_pack_str_with_body (pk, "v", 1);
    msgpack_pack_int (pk, 1);
    if (with_id) {
        msgpack_pack_str_with_body (pk, "id", 2);
        msgpack_pack_bin_with_body (pk, "0123456789abcdef", 16);
    } else {
        msgpack_pack_str_with_body (pk, "xx", 2);
        msgpack_pack_nil (pk);
    }
    msgpack_pack_str_with_body (pk, "op", 2);
    if (op)
        msgpack_pack_str_with_body (pk, op, strlen (op));
    else
        msgpack_pack_int (pk, 42);
    if (body_key) {
        msgpack_pack_str_with_body (pk, "body", 4);
        if (body_kind == 0)
            msgpack_pack_str_with_body (pk, "not a map", 9);
        else {
            msgpack_pack_map (pk, 1);
            msgpack_pack_str_with_body (pk, body_key, strlen (body_key));
            msgpack_pack_int (pk, 5); //  every registry field wants a string
        }
    }
}

//  Hostile frames get an error reply naming the field, or are dropped; the service keeps
//  answering and its memory stays flat.
static void
test_malformed_frames (void **state)
{
    harness_t *h = harness_new ("rpc_hostile");
    pid_t pid = harness_start (h, "registry");
    st_error_t err;
    zcert_t *own = st_keys_secret (harness_keys (h), "operator", &err);
    zcert_t *server = st_keys_public (harness_keys (h), "registry", &err);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    st_keys_client (dealer, own, zcert_public_txt (server));
    zsock_set_linger (dealer, 0);
    assert_int_equal (zsock_connect (dealer, "%s", harness_endpoint (h, "registry", "rpc")), 0);

    //  Frames with a request id are answered with the field at fault.
    struct {
        const char *op;
        const char *body_key;
        int body_kind;
        st_status_t code;
        const char *field;
    } answered[] = {
        {NULL, NULL, 0, ST_INVALID_ARGUMENT, "op"},
        {"no.such.op", NULL, 0, ST_INVALID_ARGUMENT, "op"},
        {"volunteer.register", "name", 1, ST_INVALID_ARGUMENT, "name"},
        {"volunteer.register", "body", 0, ST_INVALID_ARGUMENT, "body"},
        {"volunteer.get", "id", 1, ST_INVALID_ARGUMENT, "id"},
    };
    for (size_t i = 0; i < sizeof answered / sizeof answered[0]; i++) {
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
        s_hand_envelope (&pk, answered[i].op, true, answered[i].body_key, answered[i].body_kind);
        zframe_t *reply = s_raw_exchange (dealer, (uint8_t *) buffer.data, buffer.size, 5000);
        assert_non_null (reply);
        assert_int_equal (s_reply_code (zframe_data (reply), zframe_size (reply), &err),
                          answered[i].code);
        assert_string_equal (err.field, answered[i].field);
        zframe_destroy (&reply);
        msgpack_sbuffer_destroy (&buffer);
    }

    //  Frames with no usable id, or no valid msgpack at all, are dropped.
    const struct {
        const char *bytes;
        size_t size;
    } dropped[] = {
        {"", 0},
        {"\xdd\xff\xff\xff\xff", 5},
        {"\xdf\xff\xff\xff\xff", 5},
        {"\xdb\xff\xff\xff\xff", 5},
        {"\xc1", 1},
        {"\x91\x91\x91\x91\x91\x91\x91\x91\x91\x90", 10},
        {"\x80\x00", 2},
        {"\x93\x01\x02\x03", 4},
        {"\x81\xa2op\xa8sys.ping", 12},
    };
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++) {
        zframe_t *reply =
            s_raw_exchange (dealer, (const uint8_t *) dropped[i].bytes, dropped[i].size, 200);
        assert_null (reply);
    }

    //  A flood of hostile frames: memory stays flat and the service keeps answering.
    uint8_t junk[512];
    uint32_t seed = 12345;
    long before = 0;
    for (int round = 0; round < 22000; round++) {
        if (round == 2000) {
            zclock_sleep (300);
            before = harness_rss_kib (pid);
        }
        size_t size = 1 + (round % 200);
        for (size_t j = 0; j < size; j++) {
            seed = seed * 1103515245 + 12345;
            junk[j] = (uint8_t) (seed >> 16);
        }
        if (round % 3 == 0)
            junk[0] = 0xdc + (round % 4); //  containers that lie about their length
        zframe_t *out = zframe_new (junk, size);
        if (zframe_send (&out, dealer, 0))
            zframe_destroy (&out);
        if (round % 500 == 499) {
            //  Let the service drain, then drop any stray replies.
            zclock_sleep (20);
            zframe_t *stray;
            while ((stray = zframe_recv_nowait (dealer)))
                zframe_destroy (&stray);
        }
    }
    st_client_t *client = harness_client (h, "registry", "operator");
    msg_empty_t empty = {0};
    msg_pong_t pong;
    assert_int_equal (st_client_call (client, "sys.ping", NULL, NULL, &msg_empty_desc, &empty,
                                      &msg_pong_desc, &pong, 10000, &err),
                      ST_OK);
    st_msg_clear (&msg_pong_desc, &pong);
    long after = harness_rss_kib (pid);
    print_message ("registry RSS %ld KiB after 2,000 hostile frames, %ld KiB after 22,000\n",
                   before, after);
    assert_true (before > 0 && after > 0);
    assert_true (after - before < 4096);
    st_client_destroy (&client);
    zsock_destroy (&dealer);
    zcert_destroy (&own);
    zcert_destroy (&server);
    harness_destroy (&h);
}

//  A binary older than its database refuses to start rather than run on a schema it does
//  not know.
static void
test_newer_schema_refused (void **state)
{
    harness_t *h = harness_new ("rpc_schema");
    harness_start (h, "registry");
    harness_stop (h, "registry", SIGTERM);
    harness_sql (h,
                 "INSERT INTO registry.schema_migrations (version, name) VALUES (9999, 'future')");
    pid_t pid = harness_spawn (h, "registry");
    int status = 0;
    int64_t until = st_clock_ms () + 20000;
    pid_t done = 0;
    while (done == 0 && st_clock_ms () < until) {
        done = waitpid (pid, &status, WNOHANG);
        zclock_sleep (50);
    }
    if (done == 0)
        harness_stop (h, "registry", SIGKILL);
    else
        harness_stop (h, "registry", 0); //  already reaped: only forget the pid
    assert_int_equal (done, pid);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) != 0);
    char path[512], log[8192] = "";
    snprintf (path, sizeof path, "%s/registry.log", harness_dir (h));
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    size_t got = fread (log, 1, sizeof log - 1, file);
    log[got] = 0;
    fclose (file);
    assert_non_null (strstr (log, "newer than this binary"));
    harness_destroy (&h);
}

//  The database never holds an ID number or a phone in plain text, in any table.
static void
test_no_plain_pii_stored (void **state)
{
    harness_t *h = harness_new ("rpc_pii");
    harness_start (h, "registry");
    st_client_t *client = harness_client (h, "registry", "operator");
    char *skills[] = {"法律"};
    msg_volunteer_register_t body = {.name = "陈志强",
                                     .id_number = (char *) ID_NUMBER,
                                     .phone = (char *) PHONE,
                                     .region = "431022101203",
                                     .skills = {skills, 1},
                                     .has_skills = true};
    msg_volunteer_t volunteer;
    st_error_t err;
    assert_int_equal (st_client_call (client, "volunteer.register", NULL, NULL,
                                      &msg_volunteer_register_desc, &body, &msg_volunteer_desc,
                                      &volunteer, 5000, &err),
                      ST_OK);
    assert_string_equal (volunteer.id_number, "4310**********0414");
    assert_string_equal (volunteer.phone, "138****1234");
    assert_string_equal (volunteer.birth_date, "1985-03-12");
    assert_string_equal (volunteer.gender, "M");
    st_msg_clear (&msg_volunteer_desc, &volunteer);
    //  Every column of every table in the schema, as text and as bytes.
    const char *scan =
        "SELECT count (*) FROM (SELECT to_jsonb (t)::text AS row FROM registry.volunteers t"
        " UNION ALL SELECT to_jsonb (t)::text FROM registry.outbox t"
        " UNION ALL SELECT to_jsonb (t)::text FROM registry.rpc_replies t) rows"
        " WHERE row LIKE '%%%s%%' OR row LIKE '%%%s%%'";
    char sql[1024];
    snprintf (sql, sizeof sql, scan, ID_NUMBER, PHONE);
    assert_string_equal (harness_sql (h, sql), "0");
    const char *bytes = "SELECT count (*) FROM (SELECT id_number_enc AS b FROM registry.volunteers"
                        " UNION ALL SELECT phone_enc FROM registry.volunteers"
                        " UNION ALL SELECT body FROM registry.outbox UNION ALL SELECT reply FROM "
                        "registry.rpc_replies) x"
                        " WHERE position (convert_to ('%s', 'UTF8') IN b) > 0"
                        " OR position (convert_to ('%s', 'UTF8') IN b) > 0";
    snprintf (sql, sizeof sql, bytes, ID_NUMBER, PHONE);
    assert_string_equal (harness_sql (h, sql), "0");
    //  The sanity check of the scan itself: the reply was stored, and the scan finds a value
    //  where there is one. (The stored reply is sealed now, masked forms and all: pii_test.)
    assert_string_equal (harness_sql (h, "SELECT count (*) FROM registry.rpc_replies"), "1");
    snprintf (sql, sizeof sql,
              "SELECT count (*) FROM (SELECT convert_to ('x4310**********0414y', 'UTF8') AS b) x"
              " WHERE position (convert_to ('4310**********0414', 'UTF8') IN b) > 0");
    assert_string_equal (harness_sql (h, sql), "1");
    st_client_destroy (&client);
    harness_destroy (&h);
}

//  The database dropping the service's connection costs nobody anything: the next call
//  reconnects, re-prepares its statements and succeeds.
static void
test_reconnects_after_connection_loss (void **state)
{
    harness_t *h = harness_new ("rpc_reconnect");
    harness_start (h, "registry");
    st_client_t *client = harness_client (h, "registry", "operator");
    char id_number[19];
    st_error_t err;
    for (int round = 0; round < 3; round++) {
        //  Every backend of the registry role goes, as in a database restart or failover.
        harness_sql (h, "SELECT count (pg_terminate_backend (pid)) FROM pg_stat_activity"
                        " WHERE usename = 'registry' AND datname = current_database ()");
        fx_nth_id_number (round, id_number);
        msg_volunteer_register_t body = {.name = "周丽娟",
                                         .id_number = id_number,
                                         .phone = "17707355566",
                                         .region = "431022102105"};
        msg_volunteer_t volunteer;
        assert_int_equal (st_client_call (client, "volunteer.register", NULL, NULL,
                                          &msg_volunteer_register_desc, &body, &msg_volunteer_desc,
                                          &volunteer, 10000, &err),
                          ST_OK);
        st_msg_clear (&msg_volunteer_desc, &volunteer);
        harness_sql (h, "SELECT count (pg_terminate_backend (pid)) FROM pg_stat_activity"
                        " WHERE usename = 'registry' AND datname = current_database ()");
        msg_volunteer_get_t get = {.id = "1"};
        assert_int_equal (st_client_call (client, "volunteer.get", NULL, NULL,
                                          &msg_volunteer_get_desc, &get, &msg_volunteer_desc,
                                          &volunteer, 10000, &err),
                          ST_OK);
        st_msg_clear (&msg_volunteer_desc, &volunteer);
    }
    assert_string_equal (harness_sql (h, "SELECT count (*) FROM registry.volunteers"), "3");
    //  The relay lost its connection too, and still delivers every event.
    int64_t until = st_clock_ms () + 10000;
    while (strcmp (harness_sql (h, "SELECT last_seq FROM registry.outbox_state"), "3") != 0
           && st_clock_ms () < until)
        zclock_sleep (50);
    assert_string_equal (harness_sql (h, "SELECT last_seq FROM registry.outbox_state"), "3");
    st_client_destroy (&client);
    harness_destroy (&h);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_retry_applies_once),
        cmocka_unit_test (test_deadline_refused),
        cmocka_unit_test (test_unlisted_peer_refused),
        cmocka_unit_test (test_peer_rights),
        cmocka_unit_test (test_official_without_region),
        cmocka_unit_test (test_malformed_frames),
        cmocka_unit_test (test_newer_schema_refused),
        cmocka_unit_test (test_no_plain_pii_stored),
        cmocka_unit_test (test_reconnects_after_connection_loss),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
