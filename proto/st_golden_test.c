/*  st_golden_test.c — golden byte vectors that freeze the wire: every message declared in the
    .def files, with every field filled with a fixed value, must encode to the hex checked in
    as proto/golden.txt, and that hex must decode back to the same message.

    The file is found as $STATION_SOURCE_DIR/proto/golden.txt (ctest sets the variable).
    To regenerate after a deliberate change of the wire (an appended field, a new message):

        STATION_GOLDEN_UPDATE=1 STATION_SOURCE_DIR=$PWD build/bin/st_golden_test

    This rewrites proto/golden.txt and the fuzzing seeds in tests/fuzz/corpus/ (requests built
    from the same samples), then checks them as usual. Review the diff: a changed line for a
    message that already existed means peers of the old version can no longer read us.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "st_codec.h"
#include "st_proto.h"

//  ---------------------------------------------------------------------------------------
//  The samples: fixed values in every field, optional ones included, lists of two or more
//  where the message allows it. Body fields are filled at start-up with encoded samples.

static const uint8_t s_id[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0xff};
static const uint8_t s_event_body_a[] = {0x81, 0xa2, 0x69, 0x64, 0xa2, 0x34, 0x32};
static const uint8_t s_event_body_b[] = {0x00, 0xff, 0x7f, 0x80, 0xc1};
static char *s_skills[] = {"急救", "心理疏导", "手语"};

static msg_actor_t s_msg_actor = {.account = "a-1024",
                                  .role = "volunteer",
                                  .region = "360302001",
                                  .volunteer_id = "42",
                                  .resident_id = "7"};

static msg_request_t s_msg_request = {.v = 1,
                                      .has_v = true,
                                      .id = {(uint8_t *) s_id, sizeof s_id},
                                      .op = "volunteer.register",
                                      .actor = {.account = "a-1024",
                                                .role = "resident",
                                                .region = "360302001",
                                                .volunteer_id = "42",
                                                .resident_id = "7"},
                                      .has_actor = true,
                                      .deadline = 1718409605000,
                                      .has_deadline = true,
                                      .trace = "office-pc.42"};

static msg_error_t s_msg_error = {
    .code = "invalid_argument", .message = "姓名不能超过50个字", .field = "name"};

static msg_reply_t s_msg_reply = {
    .v = 1,
    .has_v = true,
    .id = {(uint8_t *) s_id, sizeof s_id},
    .ok = false,
    .has_ok = true,
    .error = {.code = "invalid_argument", .message = "姓名不能超过50个字", .field = "name"},
    .has_error = true};

static msg_empty_t s_msg_empty;

static msg_pong_t s_msg_pong = {.service = "registry",
                                .version = "0.1.0",
                                .peer = "gateway-01",
                                .now = 1718409600000,
                                .has_now = true};

static msg_events_read_t s_msg_events_read = {
    .after = 41, .has_after = true, .max = 100, .has_max = true};

static msg_event_t s_msg_event = {.seq = 42,
                                  .has_seq = true,
                                  .topic = "volunteer.registered",
                                  .at = 1718409600000,
                                  .has_at = true,
                                  .body = {(uint8_t *) s_event_body_a, sizeof s_event_body_a}};

static msg_event_t s_event_items[] = {
    {.seq = 42,
     .has_seq = true,
     .topic = "volunteer.registered",
     .at = 1718409600000,
     .has_at = true,
     .body = {(uint8_t *) s_event_body_a, sizeof s_event_body_a}},
    {.seq = 43,
     .has_seq = true,
     .topic = "志愿者.登记",
     .at = 1718409601234,
     .has_at = true,
     .body = {(uint8_t *) s_event_body_b, sizeof s_event_body_b}},
};
static msg_events_t s_msg_events = {
    .events = {s_event_items, 2}, .has_events = true, .last_seq = 43, .has_last_seq = true};

static msg_parked_event_t s_msg_parked_event = {.publisher = "registry",
                                                .seq = 7,
                                                .has_seq = true,
                                                .topic = "volunteer.registered",
                                                .reason = "无法应用: 区域不存在",
                                                .at = 1718409600000,
                                                .has_at = true};

static msg_cursor_t s_msg_cursor = {.publisher = "registry", .seq = 43, .has_seq = true};

static msg_parked_event_t s_parked_items[] = {
    {.publisher = "registry",
     .seq = 7,
     .has_seq = true,
     .topic = "volunteer.registered",
     .reason = "无法应用: 区域不存在",
     .at = 1718409600000,
     .has_at = true},
    {.publisher = "match",
     .seq = 9,
     .has_seq = true,
     .topic = "supply.changed",
     .reason = "",
     .at = 1718409700000,
     .has_at = true},
};
static msg_cursor_t s_cursor_items[] = {
    {.publisher = "registry", .seq = 43, .has_seq = true},
    {.publisher = "match", .seq = 0, .has_seq = true},
};
static msg_parked_t s_msg_parked = {.events = {s_parked_items, 2},
                                    .has_events = true,
                                    .cursors = {s_cursor_items, 2},
                                    .has_cursors = true};

static msg_events_lag_t s_msg_events_lag = {.last_seq = 43,
                                            .has_last_seq = true,
                                            .unsequenced = 2,
                                            .has_unsequenced = true,
                                            .parked = 1,
                                            .has_parked = true,
                                            .cursors = {s_cursor_items, 2},
                                            .has_cursors = true};

#include "golden_registry_volunteers.inc"
#include "golden_registry_regions.inc"
#include "golden_registry_accounts.inc"
#include "golden_registry_import.inc"
#include "golden_registry_contacts.inc"
#include "golden_match.inc"
#include "golden_match_dispatch.inc"
#include "golden_match_records.inc"
#include "golden_ledger_books.inc"
#include "golden_ledger_rules.inc"
#include "golden_ledger_reports.inc"
#include "golden_ledger_shop.inc"
#include "golden_notify.inc"
#include "golden_notify_delivery.inc"

//  Every sample, in the order of golden.txt
#define S_VECTORS(X)                                                                               \
    X (msg_actor)                                                                                  \
    X (msg_request)                                                                                \
    X (msg_error)                                                                                  \
    X (msg_reply)                                                                                  \
    X (msg_empty)                                                                                  \
    X (msg_pong)                                                                                   \
    X (msg_events_read)                                                                            \
    X (msg_event)                                                                                  \
    X (msg_events)                                                                                 \
    X (msg_parked_event)                                                                           \
    X (msg_cursor)                                                                                 \
    X (msg_parked)                                                                                 \
    X (msg_events_lag)                                                                             \
    S_VECTORS_REGISTRY_VOLUNTEERS (X)                                                              \
    S_VECTORS_REGISTRY_REGIONS (X)                                                                 \
    S_VECTORS_REGISTRY_ACCOUNTS (X)                                                                \
    S_VECTORS_REGISTRY_IMPORT (X)                                                                  \
    S_VECTORS_REGISTRY_CONTACTS (X)                                                                \
    S_VECTORS_MATCH (X)                                                                            \
    S_VECTORS_DISPATCH (X)                                                                         \
    S_VECTORS_RECORDS (X)                                                                          \
    S_VECTORS_LEDGER_BOOKS (X)                                                                     \
    S_VECTORS_LEDGER_RULES (X)                                                                     \
    S_VECTORS_LEDGER_REPORTS (X)                                                                   \
    S_VECTORS_LEDGER_SHOP (X)                                                                      \
    S_VECTORS_NOTIFY (X)                                                                           \
    S_VECTORS_NOTIFY_DELIVERY (X)

typedef struct {
    const char *name;
    const st_desc_t *desc;
    const void *sample;
} s_vector_t;

#define S_VECTOR_DEFINE(m) static const s_vector_t s_vector_##m = {#m, &m##_desc, &s_##m};
S_VECTORS (S_VECTOR_DEFINE)
#define S_VECTOR_POINTER(m) &s_vector_##m,
static const s_vector_t *const s_vectors[] = {S_VECTORS (S_VECTOR_POINTER)};
#define S_VECTOR_COUNT (sizeof s_vectors / sizeof s_vectors[0])

//  Every message the .def files declare, whether or not it has a sample
#define ST_MESSAGE(m, LIST) &m##_desc,
static const st_desc_t *const s_declared[] = {
#include "envelope.def"
#include "registry_volunteers.def"
#include "registry_regions.def"
#include "registry_accounts.def"
#include "registry_import.def"
#include "registry_contacts.def"
#include "match_supply.def"
#include "match_activities.def"
#include "match_wishes.def"
#include "match_dispatch.def"
#include "match_records.def"
#include "ledger_books.def"
#include "ledger_rules.def"
#include "ledger_reports.def"
#include "ledger_shop.def"
#include "notify_inbox.def"
#include "notify_reminders.def"
#include "notify_delivery.def"
};
#undef ST_MESSAGE
#define S_DECLARED_COUNT (sizeof s_declared / sizeof s_declared[0])

//  ---------------------------------------------------------------------------------------
//  Helpers

//  Encoded samples that bodies point to, owned here
static uint8_t *s_request_body, *s_reply_body;

static char *
s_to_hex (const uint8_t *data, size_t size)
{
    char *hex = malloc (2 * size + 1);
    for (size_t i = 0; i < size; i++)
        snprintf (hex + 2 * i, 3, "%02x", data[i]);
    hex[2 * size] = 0;
    return hex;
}

//  Returns bytes for lower-case hex, or NULL when it is not hex
static uint8_t *
s_from_hex (const char *hex, size_t *size)
{
    size_t len = strlen (hex);
    if (len % 2)
        return NULL;
    uint8_t *data = malloc (len / 2 + 1);
    for (size_t i = 0; i < len / 2; i++) {
        unsigned byte;
        if (sscanf (hex + 2 * i, "%2x", &byte) != 1) {
            free (data);
            return NULL;
        }
        data[i] = (uint8_t) byte;
    }
    *size = len / 2;
    return data;
}

static char *
s_source_path (const char *relative)
{
    const char *root = getenv ("STATION_SOURCE_DIR");
    if (!root || !*root)
        fail_msg ("STATION_SOURCE_DIR is not set (ctest sets it to the source tree)");
    size_t size = strlen (root) + strlen (relative) + 2;
    char *path = malloc (size);
    snprintf (path, size, "%s/%s", root, relative);
    return path;
}

//  The body of a BODY field as bytes: its own encoding, or the tree it points into packed
//  again. Returns false when the field is absent.
static bool
s_body_bytes (const st_body_t *body, msgpack_sbuffer *sb)
{
    msgpack_sbuffer_init (sb);
    if (body->data) {
        msgpack_sbuffer_write (sb, (const char *) body->data, body->size);
        return true;
    }
    if (body->object) {
        msgpack_packer pk;
        msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
        msgpack_pack_object (&pk, *body->object);
        return true;
    }
    return false;
}

//  Compares two messages field by field, presence flags included; on the first difference
//  writes its path to `where` and returns false
static bool
s_msg_equal (const st_desc_t *desc, const void *a, const void *b, const char *prefix, char *where,
             size_t where_size)
{
    for (size_t i = 0; i < desc->field_count; i++) {
        const st_field_t *f = &desc->fields[i];
        const char *pa = (const char *) a + f->offset, *pb = (const char *) b + f->offset;
        char path[160];
        snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", f->name);
        bool same = true;
        if (f->has_offset
            && *(const bool *) ((const char *) a + f->has_offset)
                   != *(const bool *) ((const char *) b + f->has_offset))
            same = false;
        else
            switch (f->type) {
            case ST_T_STR: {
                const char *sa = *(char *const *) pa, *sb = *(char *const *) pb;
                same = (!sa && !sb) || (sa && sb && strcmp (sa, sb) == 0);
                break;
            }
            case ST_T_INT:
                same = *(const int64_t *) pa == *(const int64_t *) pb;
                break;
            case ST_T_BOOL:
                same = *(const bool *) pa == *(const bool *) pb;
                break;
            case ST_T_DOUBLE:
                same = memcmp (pa, pb, sizeof (double)) == 0;
                break;
            case ST_T_BIN: {
                const st_bin_t *ba = (const st_bin_t *) pa, *bb = (const st_bin_t *) pb;
                same = !ba->data == !bb->data && ba->size == bb->size
                       && (!ba->size || memcmp (ba->data, bb->data, ba->size) == 0);
                break;
            }
            case ST_T_STRS: {
                const st_strs_t *la = (const st_strs_t *) pa, *lb = (const st_strs_t *) pb;
                same = la->count == lb->count;
                for (size_t j = 0; same && j < la->count; j++)
                    same = strcmp (la->items[j], lb->items[j]) == 0;
                break;
            }
            case ST_T_MSG:
                if (!s_msg_equal (f->sub, pa, pb, path, where, where_size))
                    return false;
                break;
            case ST_T_MSGS: {
                const st_list_t *la = (const st_list_t *) pa, *lb = (const st_list_t *) pb;
                same = la->count == lb->count;
                for (size_t j = 0; same && j < la->count; j++) {
                    char item_path[192];
                    snprintf (item_path, sizeof item_path, "%s[%zu]", path, j);
                    if (!s_msg_equal (f->sub, (const char *) la->items + j * f->sub->size,
                                      (const char *) lb->items + j * f->sub->size, item_path, where,
                                      where_size))
                        return false;
                }
                break;
            }
            case ST_T_BODY: {
                msgpack_sbuffer sa, sb;
                bool ha = s_body_bytes ((const st_body_t *) pa, &sa);
                bool hb = s_body_bytes ((const st_body_t *) pb, &sb);
                same = ha == hb && sa.size == sb.size
                       && (!sa.size || memcmp (sa.data, sb.data, sa.size) == 0);
                msgpack_sbuffer_destroy (&sa);
                msgpack_sbuffer_destroy (&sb);
                break;
            }
            }
        if (!same) {
            snprintf (where, where_size, "%s", path);
            return false;
        }
    }
    return true;
}

//  Asserts that every field of the message, nested ones included, is present
static void
s_assert_filled (const st_desc_t *desc, const void *msg, const char *prefix)
{
    for (size_t i = 0; i < desc->field_count; i++) {
        const st_field_t *f = &desc->fields[i];
        const char *at = (const char *) msg + f->offset;
        bool filled;
        switch (f->type) {
        case ST_T_STR:
            filled = *(char *const *) at != NULL;
            break;
        case ST_T_BIN:
            filled = ((const st_bin_t *) at)->data && ((const st_bin_t *) at)->size > 0;
            break;
        case ST_T_BODY:
            filled = ((const st_body_t *) at)->data != NULL;
            break;
        case ST_T_STRS:
        case ST_T_MSGS:
            filled = *(const bool *) ((const char *) msg + f->has_offset)
                     && ((const st_list_t *) at)->count > 0;
            break;
        default:
            filled = *(const bool *) ((const char *) msg + f->has_offset);
            break;
        }
        if (!filled)
            fail_msg ("the sample leaves %s%s%s unset", prefix, *prefix ? "." : "", f->name);
        if (f->type == ST_T_MSG)
            s_assert_filled (f->sub, at, f->name);
        if (f->type == ST_T_MSGS) {
            const st_list_t *list = (const st_list_t *) at;
            for (size_t j = 0; j < list->count; j++)
                s_assert_filled (f->sub, (const char *) list->items + j * f->sub->size, f->name);
        }
    }
}

//  The seed corpus of tests/fuzz: requests whose bodies are what fuzz_decode decodes them as
typedef struct {
    const char *file;
    uint8_t *data;
    size_t size;
} s_seed_t;

#define S_SEED_COUNT 4
static s_seed_t s_seeds[S_SEED_COUNT];

static void
s_make_seeds (void)
{
    static const char *const files[S_SEED_COUNT] = {
        "request_register.msgpack", "request_events.msgpack", "request_ping.msgpack",
        "request_every_format.msgpack"};
    msg_request_t request = s_msg_request;
    uint8_t *body;
    size_t body_size;
    //  1: the golden request, a volunteer.register body
    assert_int_equal (st_encode (&msg_request_desc, &request, &s_seeds[0].data, &s_seeds[0].size),
                      0);
    //  2: an events page as the body
    assert_int_equal (st_encode (&msg_events_desc, &s_msg_events, &body, &body_size), 0);
    request.op = "events.read";
    request.body = (st_body_t){.data = body, .size = body_size};
    assert_int_equal (st_encode (&msg_request_desc, &request, &s_seeds[1].data, &s_seeds[1].size),
                      0);
    free (body);
    //  3: only the required fields
    msg_request_t ping = {.v = 1, .has_v = true, .id = {(uint8_t *) s_id, 16}, .op = "sys.ping"};
    assert_int_equal (st_encode (&msg_request_desc, &ping, &s_seeds[2].data, &s_seeds[2].size), 0);
    //  4: a register body with unknown keys holding every msgpack format
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init (&sb);
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    //  The sample's own pairs (a fixmap) spliced after a map16 header that also counts the
    //  eleven extra pairs below
    st_pack (&pk, &msg_volunteer_register_desc, &s_msg_volunteer_register);
    assert_int_equal ((uint8_t) sb.data[0] & 0xf0, 0x80);
    size_t pairs = (uint8_t) sb.data[0] & 0x0f;
    sb.data[0] = (char) 0xde; //  map16 header: 0xde, count high byte, count low byte
    msgpack_sbuffer_write (&sb, "\0\0", 2);
    memmove (sb.data + 3, sb.data + 1, sb.size - 3);
    sb.data[1] = 0;
    sb.data[2] = (char) (pairs + 11);
    static const char *const extra[] = {
        "a3 6e 69 6c c0",                   //  "nil": nil
        "a1 66 ca 3f c0 00 00",             //  float32
        "a1 64 cb 40 09 21 fb 54 44 2d 18", //  float64
        "a1 75 cf 00 00 00 01 00 00 00 00", //  uint64
        "a1 69 d3 ff ff ff ff ff ff ff fe", //  int64
        "a1 62 c4 03 00 01 02",             //  bin8
        "a1 65 c7 02 05 aa bb",             //  ext8
        "a1 78 d6 ff 66 6c 8e 80",          //  timestamp32
        "a1 61 dc 00 02 c2 c3",             //  array16 of booleans
        "a1 6d de 00 01 a1 6b 91 80",       //  map16, nested
        "a1 73 da 00 03 e4 b8 ad",          //  str16 "中"
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        for (const char *p = extra[i]; *p; p += p[2] == ' ' ? 3 : 2) {
            unsigned byte;
            assert_int_equal (sscanf (p, "%2x", &byte), 1);
            char c = (char) byte;
            msgpack_sbuffer_write (&sb, &c, 1);
        }
    request.op = "volunteer.register";
    request.body = (st_body_t){.data = (uint8_t *) sb.data, .size = sb.size};
    assert_int_equal (st_encode (&msg_request_desc, &request, &s_seeds[3].data, &s_seeds[3].size),
                      0);
    msgpack_sbuffer_destroy (&sb);
    for (size_t i = 0; i < S_SEED_COUNT; i++)
        s_seeds[i].file = files[i];
}

//  ---------------------------------------------------------------------------------------
//  golden.txt

typedef struct {
    char *name;
    char *hex;
} s_line_t;

static s_line_t *s_lines;
static size_t s_line_count;
static char *s_load_error;

//  Reads golden.txt into s_lines; '#' lines and blank lines are comments
static void
s_load_golden (void)
{
    char *path = s_source_path ("proto/golden.txt");
    FILE *file = fopen (path, "r");
    if (!file) {
        size_t size = strlen (path) + 64;
        s_load_error = malloc (size);
        snprintf (s_load_error, size, "could not open %s: %s", path, strerror (errno));
        free (path);
        return;
    }
    free (path);
    char *line = NULL;
    size_t capacity = 0;
    ssize_t len;
    while ((len = getline (&line, &capacity, file)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0 || line[0] == '#')
            continue;
        char *space = strchr (line, ' ');
        s_lines = realloc (s_lines, (s_line_count + 1) * sizeof *s_lines);
        s_lines[s_line_count].name = strndup (line, space ? (size_t) (space - line) : (size_t) len);
        s_lines[s_line_count].hex = strdup (space ? space + 1 : "");
        s_line_count++;
    }
    free (line);
    fclose (file);
}

static void
s_free_golden (void)
{
    for (size_t i = 0; i < s_line_count; i++) {
        free (s_lines[i].name);
        free (s_lines[i].hex);
    }
    free (s_lines);
    s_lines = NULL;
    s_line_count = 0;
    free (s_load_error);
    s_load_error = NULL;
}

static const char *
s_golden_hex (const char *name)
{
    if (s_load_error)
        fail_msg ("%s", s_load_error);
    for (size_t i = 0; i < s_line_count; i++)
        if (strcmp (s_lines[i].name, name) == 0)
            return s_lines[i].hex;
    fail_msg ("golden.txt has no vector for %s (run with STATION_GOLDEN_UPDATE=1)", name);
    return NULL;
}

//  Writes golden.txt and the seed corpus from the samples (STATION_GOLDEN_UPDATE=1)
static int
s_update (void)
{
    char *path = s_source_path ("proto/golden.txt");
    char *tmp = malloc (strlen (path) + 5);
    sprintf (tmp, "%s.new", path);
    FILE *file = fopen (tmp, "w");
    if (!file) {
        fprintf (stderr, "could not write %s: %s\n", tmp, strerror (errno));
        return -1;
    }
    fprintf (file, "# golden.txt — the wire frozen: one message per line, its name and the hex "
                   "of its sample\n# written by st_golden_test with STATION_GOLDEN_UPDATE=1; "
                   "never edit by hand\n");
    for (size_t i = 0; i < S_VECTOR_COUNT; i++) {
        uint8_t *data;
        size_t size;
        if (st_encode (s_vectors[i]->desc, s_vectors[i]->sample, &data, &size))
            return -1;
        char *hex = s_to_hex (data, size);
        fprintf (file, "%s %s\n", s_vectors[i]->name, hex);
        free (hex);
        free (data);
    }
    if (fclose (file) || rename (tmp, path)) {
        fprintf (stderr, "could not write %s: %s\n", path, strerror (errno));
        return -1;
    }
    fprintf (stderr, "wrote %s\n", path);
    free (tmp);
    free (path);

    char *parent = s_source_path ("tests/fuzz");
    mkdir (parent, 0777);
    free (parent);
    char *dir = s_source_path ("tests/fuzz/corpus");
    mkdir (dir, 0777);
    for (size_t i = 0; i < S_SEED_COUNT; i++) {
        size_t size = strlen (dir) + strlen (s_seeds[i].file) + 2;
        char *seed_path = malloc (size);
        snprintf (seed_path, size, "%s/%s", dir, s_seeds[i].file);
        FILE *seed = fopen (seed_path, "wb");
        if (!seed || fwrite (s_seeds[i].data, 1, s_seeds[i].size, seed) != s_seeds[i].size
            || fclose (seed)) {
            fprintf (stderr, "could not write %s: %s\n", seed_path, strerror (errno));
            return -1;
        }
        fprintf (stderr, "wrote %s\n", seed_path);
        free (seed_path);
    }
    free (dir);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Tests

//  A message added to a .def file without a golden sample is caught here
static void
test_every_message_has_a_vector (void **state)
{
    for (size_t i = 0; i < S_DECLARED_COUNT; i++) {
        size_t found = 0;
        for (size_t j = 0; j < S_VECTOR_COUNT; j++)
            if (s_vectors[j]->desc == s_declared[i]) {
                found++;
                assert_string_equal (s_vectors[j]->name, s_declared[i]->name);
            }
        if (found != 1)
            fail_msg ("%s has %zu golden samples in st_golden_test.c, not one", s_declared[i]->name,
                      found);
    }
    assert_int_equal (S_VECTOR_COUNT, S_DECLARED_COUNT);
}

//  golden.txt holds exactly one well-formed line per message and nothing else
static void
test_golden_file_is_complete (void **state)
{
    if (s_load_error)
        fail_msg ("%s", s_load_error);
    for (size_t i = 0; i < s_line_count; i++) {
        size_t known = 0;
        for (size_t j = 0; j < S_VECTOR_COUNT; j++)
            known += strcmp (s_vectors[j]->name, s_lines[i].name) == 0;
        if (known != 1)
            fail_msg ("golden.txt line %zu names \"%s\", which is no message", i + 1,
                      s_lines[i].name);
        for (size_t k = 0; k < i; k++)
            if (strcmp (s_lines[k].name, s_lines[i].name) == 0)
                fail_msg ("golden.txt has two lines for %s", s_lines[i].name);
        size_t size;
        uint8_t *data = s_from_hex (s_lines[i].hex, &size);
        if (!data || size == 0)
            fail_msg ("golden.txt line for %s is not hex", s_lines[i].name);
        free (data);
    }
    assert_int_equal (s_line_count, S_VECTOR_COUNT);
}

//  Every sample fills every field, so the vectors pin the encoding of each one
static void
test_samples_fill_every_field (void **state)
{
    for (size_t i = 0; i < S_VECTOR_COUNT; i++) {
        s_assert_filled (s_vectors[i]->desc, s_vectors[i]->sample, "");
        st_error_t err;
        if (st_validate (s_vectors[i]->desc, s_vectors[i]->sample, &err))
            fail_msg ("the %s sample is invalid: %s", s_vectors[i]->name, err.message);
    }
}

//  The comparison used below notices a change in any kind of field
static void
test_comparison_detects_changes (void **state)
{
    char where[192];
    msg_request_t request = s_msg_request;
    assert_true (
        s_msg_equal (&msg_request_desc, &s_msg_request, &request, "", where, sizeof where));
    request.actor.region = "360302002";
    assert_false (
        s_msg_equal (&msg_request_desc, &s_msg_request, &request, "", where, sizeof where));
    assert_string_equal (where, "actor.region");
    request = s_msg_request;
    request.body.size--;
    assert_false (
        s_msg_equal (&msg_request_desc, &s_msg_request, &request, "", where, sizeof where));
    assert_string_equal (where, "body");
    msg_events_t events = s_msg_events;
    msg_event_t items[2] = {s_event_items[0], s_event_items[1]};
    items[1].body.size--;
    events.events.items = items;
    assert_false (s_msg_equal (&msg_events_desc, &s_msg_events, &events, "", where, sizeof where));
    assert_string_equal (where, "events[1].body");
    msg_volunteer_t volunteer = s_msg_volunteer;
    char *skills[] = {"急救", "心理疏导", "手话"};
    volunteer.skills.items = skills;
    assert_false (
        s_msg_equal (&msg_volunteer_desc, &s_msg_volunteer, &volunteer, "", where, sizeof where));
    assert_string_equal (where, "skills");
    msg_pong_t pong = s_msg_pong;
    pong.has_now = false;
    assert_false (s_msg_equal (&msg_pong_desc, &s_msg_pong, &pong, "", where, sizeof where));
    assert_string_equal (where, "now");
}

//  One message: its sample encodes to the checked-in bytes, and those bytes decode to it
static void
test_vector (void **state)
{
    const s_vector_t *vector = *state;
    const char *golden = s_golden_hex (vector->name);
    uint8_t *data;
    size_t size;
    assert_int_equal (st_encode (vector->desc, vector->sample, &data, &size), 0);
    char *hex = s_to_hex (data, size);
    if (strcmp (hex, golden) != 0)
        fail_msg ("%s encodes as\n  %s\nbut golden.txt has\n  %s\n(if the change is intended, "
                  "run with STATION_GOLDEN_UPDATE=1)",
                  vector->name, hex, golden);
    free (hex);
    free (data);

    size_t golden_size;
    uint8_t *golden_data = s_from_hex (golden, &golden_size);
    assert_non_null (golden_data);
    st_unpacked_t unpacked;
    st_error_t err;
    if (st_unpack (golden_data, golden_size, &unpacked, &err))
        fail_msg ("the golden %s does not unpack: %s", vector->name, err.message);
    max_align_t out[1024 / sizeof (max_align_t)];
    assert_true (vector->desc->size <= sizeof out);
    if (st_decode_object (vector->desc, &unpacked.unpacked.data, out, &err))
        fail_msg ("the golden %s does not decode: \"%s\": %s", vector->name, err.field,
                  err.message);
    char where[192];
    if (!s_msg_equal (vector->desc, vector->sample, out, "", where, sizeof where))
        fail_msg ("the golden %s decodes with a different %s", vector->name, where);
    //  What was decoded encodes to the same bytes again
    assert_int_equal (st_encode (vector->desc, out, &data, &size), 0);
    assert_int_equal (size, golden_size);
    assert_memory_equal (data, golden_data, size);
    free (data);
    st_msg_clear (vector->desc, out);
    st_unpacked_destroy (&unpacked);
    free (golden_data);
}

//  The fuzzing seeds in tests/fuzz/corpus are current requests of the wire
static void
test_fuzz_seeds (void **state)
{
    char *dir = s_source_path ("tests/fuzz/corpus");
    for (size_t i = 0; i < S_SEED_COUNT; i++) {
        size_t path_size = strlen (dir) + strlen (s_seeds[i].file) + 2;
        char *path = malloc (path_size);
        snprintf (path, path_size, "%s/%s", dir, s_seeds[i].file);
        FILE *file = fopen (path, "rb");
        if (!file)
            fail_msg ("could not open %s: %s (run with STATION_GOLDEN_UPDATE=1)", path,
                      strerror (errno));
        uint8_t *data = malloc (s_seeds[i].size + 1);
        size_t size = fread (data, 1, s_seeds[i].size + 1, file);
        fclose (file);
        if (size != s_seeds[i].size || memcmp (data, s_seeds[i].data, size) != 0)
            fail_msg ("%s is stale (run with STATION_GOLDEN_UPDATE=1)", path);
        msg_request_t request;
        st_error_t err;
        assert_int_equal (st_decode (&msg_request_desc, data, size, &request, &err), 0);
        st_msg_clear (&msg_request_desc, &request);
        free (data);
        free (path);
    }
    free (dir);
}

int
main (void)
{
    //  Bodies: the request carries the volunteer.register sample, the reply a volunteer
    assert_int_equal (st_encode (&msg_volunteer_register_desc, &s_msg_volunteer_register,
                                 &s_request_body, &s_msg_request.body.size),
                      0);
    s_msg_request.body.data = s_request_body;
    assert_int_equal (
        st_encode (&msg_volunteer_desc, &s_msg_volunteer, &s_reply_body, &s_msg_reply.body.size),
        0);
    s_msg_reply.body.data = s_reply_body;
    s_make_seeds ();

    const char *update = getenv ("STATION_GOLDEN_UPDATE");
    if (update && strcmp (update, "1") == 0 && s_update ())
        return 1;
    s_load_golden ();

#define S_VECTOR_TEST(m)                                                                           \
    {.name = "vector " #m, .test_func = test_vector, .initial_state = (void *) &s_vector_##m},
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_message_has_a_vector),
        cmocka_unit_test (test_golden_file_is_complete),
        cmocka_unit_test (test_samples_fill_every_field),
        cmocka_unit_test (test_comparison_detects_changes),
        S_VECTORS (S_VECTOR_TEST) cmocka_unit_test (test_fuzz_seeds),
    };
    int failed = cmocka_run_group_tests (tests, NULL, NULL);
    s_free_golden ();
    for (size_t i = 0; i < S_SEED_COUNT; i++)
        free (s_seeds[i].data);
    free (s_request_body);
    free (s_reply_body);
    return failed;
}
