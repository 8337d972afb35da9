/*  st_codec_test.c — tests of the table-driven msgpack codec and its JSON bridge: round trips of
    the contract's messages, field-named validation errors, hostile frames, clearing, JSON

    Frames are built byte by byte (s_mp below) rather than with st_encode wherever the test is
    about what a peer may send, so that a bug in the encoder cannot hide the same bug in the
    decoder. The suite also runs under Valgrind and ASan+UBSan: every path frees what it takes.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_codec.h"
#include "st_json.h"
#include "st_proto.h"

//  ---------------------------------------------------------------------------------------
//  A test-only message with one field of every kind, DOUBLE and a signed INT range included
//  (no message of the contract has them yet), declared exactly as a .def declares one.

#define T_MESSAGE(m, LIST)                                                                         \
    typedef struct {                                                                               \
        LIST (ST_S_, m##_t) char st_unused_;                                                       \
    } m##_t;                                                                                       \
    static const st_field_t m##_fields[] = {LIST (ST_D_, m##_t){.name = NULL}};                    \
    static const st_desc_t m##_desc = {#m, sizeof (m##_t), m##_fields,                             \
                                       sizeof m##_fields / sizeof m##_fields[0] - 1};

#define T_ITEM(F, M)                                                                               \
    F##STR (M, label, ST_REQUIRED, 1, 8) F##DOUBLE (M, weight, ST_OPTIONAL, -1.0, 1.0)
T_MESSAGE (t_item, T_ITEM)

#define T_ALL(F, M)                                                                                \
    F##STR (M, text, ST_REQUIRED, 1, 10) F##INT (M, count, ST_OPTIONAL, -1000, 1000)               \
        F##BOOL (M, flag, ST_OPTIONAL) F##DOUBLE (M, lat, ST_OPTIONAL, -90.0, 90.0)                \
            F##BIN (M, blob, ST_OPTIONAL, 0, 8) F##STRS (M, tags, ST_OPTIONAL, 3, 1, 4)            \
                F##MSG (M, item, ST_OPTIONAL, t_item) F##MSGS (M, items, ST_OPTIONAL, t_item, 2)   \
                    F##BODY (M, extra, ST_OPTIONAL)
T_MESSAGE (t_all, T_ALL)

//  ---------------------------------------------------------------------------------------
//  Helpers

//  An encoded frame owned by the test (free data)
typedef struct {
    uint8_t *data;
    size_t size;
} s_buf_t;

static void
s_hex_write (msgpack_sbuffer *sb, const char *hex)
{
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned byte;
        assert_int_equal (sscanf (p, "%2x", &byte), 1);
        char c = (char) byte;
        msgpack_sbuffer_write (sb, &c, 1);
        p += 2;
    }
}

//  Builds a msgpack frame from a compact format, byte for byte what a peer could send:
//  `{N` map of N pairs, `[N` array of N items, `s` str (const char *), `S` str with length
//  (const char *, size_t), `i` int, `I` int64_t, `u` uint64_t, `d` double, `t` true, `f` false,
//  `n` nil, `y` bin (const void *, size_t), `x` raw bytes as hex (const char *). Spaces are
//  ignored. The caller frees the result's data.
static s_buf_t
s_mp (const char *format, ...)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init (&sb);
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    va_list args;
    va_start (args, format);
    for (const char *p = format; *p; p++) {
        switch (*p) {
        case ' ':
            break;
        case '{':
        case '[': {
            char *end;
            unsigned long n = strtoul (p + 1, &end, 10);
            assert_true (end > p + 1);
            if (*p == '{')
                msgpack_pack_map (&pk, n);
            else
                msgpack_pack_array (&pk, n);
            p = end - 1;
            break;
        }
        case 's': {
            const char *s = va_arg (args, const char *);
            msgpack_pack_str_with_body (&pk, s, strlen (s));
            break;
        }
        case 'S': {
            const char *s = va_arg (args, const char *);
            size_t len = va_arg (args, size_t);
            msgpack_pack_str_with_body (&pk, s, len);
            break;
        }
        case 'i':
            msgpack_pack_int64 (&pk, va_arg (args, int));
            break;
        case 'I':
            msgpack_pack_int64 (&pk, va_arg (args, int64_t));
            break;
        case 'u':
            msgpack_pack_uint64 (&pk, va_arg (args, uint64_t));
            break;
        case 'd':
            msgpack_pack_double (&pk, va_arg (args, double));
            break;
        case 't':
            msgpack_pack_true (&pk);
            break;
        case 'f':
            msgpack_pack_false (&pk);
            break;
        case 'n':
            msgpack_pack_nil (&pk);
            break;
        case 'y': {
            const void *data = va_arg (args, const void *);
            size_t size = va_arg (args, size_t);
            msgpack_pack_bin_with_body (&pk, data, size);
            break;
        }
        case 'x':
            s_hex_write (&sb, va_arg (args, const char *));
            break;
        default:
            fail_msg ("bad s_mp format character '%c'", *p);
        }
    }
    va_end (args);
    s_buf_t buf = {(uint8_t *) sb.data, sb.size};
    if (!buf.data)
        buf.data = malloc (1);
    return buf;
}

//  Raw bytes from hex, in a buffer of exactly that size (so that ASan sees any over-read)
static s_buf_t
s_hex (const char *hex)
{
    s_buf_t staged = s_mp ("x", hex);
    s_buf_t exact = {malloc (staged.size ? staged.size : 1), staged.size};
    memcpy (exact.data, staged.data, staged.size);
    free (staged.data);
    return exact;
}

//  Returns a malloc'd string of `count` copies of `unit`
static char *
s_repeat (const char *unit, size_t count)
{
    size_t len = strlen (unit);
    char *s = malloc (len * count + 1);
    for (size_t i = 0; i < count; i++)
        memcpy (s + i * len, unit, len);
    s[len * count] = 0;
    return s;
}

static void
s_assert_zeroed (const void *p, size_t size)
{
    const uint8_t *bytes = p;
    for (size_t i = 0; i < size; i++)
        if (bytes[i])
            fail_msg ("byte %zu of the message is 0x%02x, not cleared", i, bytes[i]);
}

static void
s_assert_error (const st_error_t *err, const char *field, const char *message)
{
    assert_int_equal (err->code, ST_INVALID_ARGUMENT);
    assert_string_equal (err->field, field);
    assert_true (strlen (err->message) > 0);
    if (message)
        assert_string_equal (err->message, message);
}

//  Asserts that st_decode refuses the frame (freed here) naming `field`, with the exact
//  message when one is given, and that it leaves `out` cleared
static void
s_assert_rejected (const st_desc_t *desc, s_buf_t frame, const char *field, const char *message)
{
    max_align_t out[1024 / sizeof (max_align_t)];
    assert_true (desc->size <= sizeof out);
    memset (out, 0xab, sizeof out);
    st_error_t err = {ST_OK, "", ""};
    int rc = st_decode (desc, frame.data, frame.size, out, &err);
    free (frame.data);
    assert_int_equal (rc, -1);
    s_assert_error (&err, field, message);
    s_assert_zeroed (out, desc->size);
}

//  Asserts that st_decode accepts the frame (freed here) into out
static void
s_assert_decodes (const st_desc_t *desc, s_buf_t frame, void *out)
{
    st_error_t err = {ST_OK, "", ""};
    int rc = st_decode (desc, frame.data, frame.size, out, &err);
    free (frame.data);
    if (rc != 0)
        fail_msg ("decode failed: field \"%s\": %s", err.field, err.message);
}

//  Asserts that the pre-scan and st_unpack both refuse the frame (freed here); the pre-scan's
//  message must contain `part` when given
static void
s_assert_hostile (s_buf_t frame, const char *part)
{
    st_error_t err = {ST_OK, "", ""};
    assert_int_equal (st_prescan (frame.data, frame.size, &err), -1);
    s_assert_error (&err, "", NULL);
    if (part && !strstr (err.message, part))
        fail_msg ("pre-scan said \"%s\", expected \"%s\"", err.message, part);
    st_error_t err2 = {ST_OK, "", ""};
    st_unpacked_t unpacked;
    assert_int_equal (st_unpack (frame.data, frame.size, &unpacked, &err2), -1);
    assert_false (unpacked.live);
    s_assert_error (&err2, "", err.message);
    free (frame.data);
}

static const uint8_t s_request_id[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                         0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

#define NAME_CN   "欧阳娜娜"
#define ID_NUMBER "11010519491231002X"
#define PHONE     "13800138000"
#define REGION    "360302"
#define SKILL_1   "急救"
#define SKILL_2   "心理疏导"
#define SKILL_3   "手语"

//  The four required fields of volunteer.register, as s_mp pairs
#define REGISTER_PAIRS "ss ss ss ss"
#define REGISTER_ARGS  "name", NAME_CN, "id_number", ID_NUMBER, "phone", PHONE, "region", REGION

//  A volunteer.register body with Chinese text, encoded by hand
static s_buf_t
s_register_frame (void)
{
    return s_mp ("{5 " REGISTER_PAIRS " s[3 sss", REGISTER_ARGS, "skills", SKILL_1, SKILL_2,
                 SKILL_3);
}

//  ---------------------------------------------------------------------------------------
//  Round trips of the contract's messages

//  A request with actor, deadline and a volunteer.register body survives encode and decode
static void
test_request_round_trip (void **state)
{
    s_buf_t body = s_register_frame ();
    msg_request_t request = {
        .v = 1,
        .has_v = true,
        .id = {(uint8_t *) s_request_id, sizeof s_request_id},
        .op = "volunteer.register",
        .actor = {.account = "gateway-01", .role = "operator", .region = "360302001"},
        .has_actor = true,
        .deadline = 1718409600123,
        .has_deadline = true,
        .body = {.data = body.data, .size = body.size},
    };
    st_error_t err = {ST_OK, "", ""};
    assert_int_equal (st_validate (&msg_request_desc, &request, &err), 0);
    uint8_t *data;
    size_t size;
    assert_int_equal (st_encode (&msg_request_desc, &request, &data, &size), 0);

    st_unpacked_t unpacked;
    assert_int_equal (st_unpack (data, size, &unpacked, &err), 0);
    assert_true (unpacked.live);
    msg_request_t out;
    assert_int_equal (st_decode_object (&msg_request_desc, &unpacked.unpacked.data, &out, &err), 0);
    assert_true (out.has_v);
    assert_int_equal (out.v, 1);
    assert_int_equal (out.id.size, 16);
    assert_memory_equal (out.id.data, s_request_id, 16);
    assert_string_equal (out.op, "volunteer.register");
    assert_true (out.has_actor);
    assert_string_equal (out.actor.account, "gateway-01");
    assert_string_equal (out.actor.role, "operator");
    assert_string_equal (out.actor.region, "360302001");
    assert_true (out.has_deadline);
    assert_int_equal (out.deadline, 1718409600123);
    assert_non_null (out.body.object);
    assert_null (out.body.data);

    //  The body is the volunteer.register map, decodable while the tree lives
    msg_volunteer_register_t reg;
    assert_int_equal (st_decode_object (&msg_volunteer_register_desc, out.body.object, &reg, &err),
                      0);
    assert_string_equal (reg.name, NAME_CN);
    assert_string_equal (reg.id_number, ID_NUMBER);
    assert_string_equal (reg.phone, PHONE);
    assert_string_equal (reg.region, REGION);
    assert_true (reg.has_skills);
    assert_int_equal (reg.skills.count, 3);
    assert_string_equal (reg.skills.items[0], SKILL_1);
    assert_string_equal (reg.skills.items[1], SKILL_2);
    assert_string_equal (reg.skills.items[2], SKILL_3);

    //  Re-encoding the decoded request (body packed from the tree) gives the same bytes
    uint8_t *again;
    size_t again_size;
    assert_int_equal (st_encode (&msg_request_desc, &out, &again, &again_size), 0);
    assert_int_equal (again_size, size);
    assert_memory_equal (again, data, size);
    free (again);

    st_msg_clear (&msg_volunteer_register_desc, &reg);
    st_msg_clear (&msg_request_desc, &out);
    st_unpacked_destroy (&unpacked);
    assert_false (unpacked.live);

    //  st_decode of the whole frame keeps every field but cannot keep the body
    assert_int_equal (st_decode (&msg_request_desc, data, size, &out, &err), 0);
    assert_string_equal (out.op, "volunteer.register");
    assert_string_equal (out.actor.role, "operator");
    assert_null (out.body.object);
    assert_null (out.body.data);
    st_msg_clear (&msg_request_desc, &out);
    free (data);
    free (body.data);
}

//  A failed reply carries its msg_error (Chinese message text) and no body; a successful
//  one carries its body and no error
static void
test_reply_round_trip (void **state)
{
    msg_reply_t reply = {
        .v = 1,
        .has_v = true,
        .id = {(uint8_t *) s_request_id, 16},
        .ok = false,
        .has_ok = true,
        .error = {.code = "not_found", .message = "志愿者不存在", .field = "id"},
        .has_error = true,
    };
    uint8_t *data;
    size_t size;
    assert_int_equal (st_encode (&msg_reply_desc, &reply, &data, &size), 0);
    msg_reply_t out;
    s_assert_decodes (&msg_reply_desc, (s_buf_t){data, size}, &out);
    assert_int_equal (out.v, 1);
    assert_memory_equal (out.id.data, s_request_id, 16);
    assert_true (out.has_ok);
    assert_false (out.ok);
    assert_true (out.has_error);
    assert_string_equal (out.error.code, "not_found");
    assert_string_equal (out.error.message, "志愿者不存在");
    assert_string_equal (out.error.field, "id");
    assert_null (out.body.object);
    st_msg_clear (&msg_reply_desc, &out);

    //  ok = true with a body; an empty error message is allowed (min 0) but absent here
    s_buf_t body = s_mp ("{1 si", "now", 42);
    msg_reply_t good = {.v = 1,
                        .has_v = true,
                        .id = {(uint8_t *) s_request_id, 16},
                        .ok = true,
                        .has_ok = true,
                        .body = {.data = body.data, .size = body.size}};
    assert_int_equal (st_encode (&msg_reply_desc, &good, &data, &size), 0);
    st_error_t err;
    st_unpacked_t unpacked;
    assert_int_equal (st_unpack (data, size, &unpacked, &err), 0);
    assert_int_equal (st_decode_object (&msg_reply_desc, &unpacked.unpacked.data, &out, &err), 0);
    assert_true (out.ok);
    assert_false (out.has_error);
    assert_null (out.error.code);
    assert_non_null (out.body.object);
    assert_int_equal (out.body.object->type, MSGPACK_OBJECT_MAP);
    assert_int_equal (out.body.object->via.map.size, 1);
    assert_int_equal (out.body.object->via.map.ptr[0].val.via.u64, 42);
    st_msg_clear (&msg_reply_desc, &out);
    st_unpacked_destroy (&unpacked);
    free (data);
    free (body.data);
}

//  An events page keeps every event's seq, topic, time and binary body, the empty body too
static void
test_events_round_trip (void **state)
{
    uint8_t body0[] = {0x81, 0xa2, 0x69, 0x64, 0x01};
    uint8_t body2[300];
    for (size_t i = 0; i < sizeof body2; i++)
        body2[i] = (uint8_t) (i * 7);
    msg_event_t items[3] = {
        {.seq = 1,
         .has_seq = true,
         .topic = "volunteer.registered",
         .at = 1718409600000,
         .has_at = true,
         .body = {body0, sizeof body0}},
        {.seq = 2,
         .has_seq = true,
         .topic = "志愿者.登记",
         .at = 0,
         .has_at = true,
         .body = {(uint8_t *) "", 0}},
        {.seq = INT64_MAX,
         .has_seq = true,
         .topic = "t",
         .at = INT64_MAX,
         .has_at = true,
         .body = {body2, sizeof body2}},
    };
    msg_events_t events = {
        .events = {items, 3}, .has_events = true, .last_seq = 99, .has_last_seq = true};
    st_error_t err;
    assert_int_equal (st_validate (&msg_events_desc, &events, &err), 0);
    uint8_t *data;
    size_t size;
    assert_int_equal (st_encode (&msg_events_desc, &events, &data, &size), 0);
    msg_events_t out;
    s_assert_decodes (&msg_events_desc, (s_buf_t){data, size}, &out);
    assert_true (out.has_events);
    assert_int_equal (out.events.count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true (out.events.items[i].has_seq);
        assert_int_equal (out.events.items[i].seq, items[i].seq);
        assert_string_equal (out.events.items[i].topic, items[i].topic);
        assert_true (out.events.items[i].has_at);
        assert_int_equal (out.events.items[i].at, items[i].at);
        assert_int_equal (out.events.items[i].body.size, items[i].body.size);
        assert_non_null (out.events.items[i].body.data);
        if (items[i].body.size)
            assert_memory_equal (out.events.items[i].body.data, items[i].body.data,
                                 items[i].body.size);
    }
    assert_true (out.has_last_seq);
    assert_int_equal (out.last_seq, 99);
    st_msg_clear (&msg_events_desc, &out);

    //  An empty page: the required list is present with no items
    msg_events_t empty = {.has_events = true, .last_seq = 7, .has_last_seq = true};
    assert_int_equal (st_encode (&msg_events_desc, &empty, &data, &size), 0);
    s_buf_t expected = s_mp ("{2 s[0 si", "events", "last_seq", 7);
    assert_int_equal (size, expected.size);
    assert_memory_equal (data, expected.data, size);
    free (expected.data);
    s_assert_decodes (&msg_events_desc, (s_buf_t){data, size}, &out);
    assert_true (out.has_events);
    assert_int_equal (out.events.count, 0);
    assert_int_equal (out.last_seq, 7);
    st_msg_clear (&msg_events_desc, &out);
}

//  Chinese names and skills come back byte for byte, and a 50-character name is accepted
static void
test_volunteer_register_round_trip (void **state)
{
    char *long_name = s_repeat ("张", 50);
    char *skills[] = {SKILL_1, SKILL_2, SKILL_3, "普通话"};
    msg_volunteer_register_t reg = {.name = long_name,
                                    .id_number = ID_NUMBER,
                                    .phone = PHONE,
                                    .region = "360302001001",
                                    .skills = {skills, 4},
                                    .has_skills = true};
    st_error_t err;
    assert_int_equal (st_validate (&msg_volunteer_register_desc, &reg, &err), 0);
    uint8_t *data;
    size_t size;
    assert_int_equal (st_encode (&msg_volunteer_register_desc, &reg, &data, &size), 0);
    msg_volunteer_register_t out;
    s_assert_decodes (&msg_volunteer_register_desc, (s_buf_t){data, size}, &out);
    assert_int_equal (strlen (out.name), 150);
    assert_memory_equal (out.name, long_name, 151);
    assert_string_equal (out.id_number, ID_NUMBER);
    assert_string_equal (out.phone, PHONE);
    assert_string_equal (out.region, "360302001001");
    assert_true (out.has_skills);
    assert_int_equal (out.skills.count, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal (out.skills.items[i], skills[i]);
    st_msg_clear (&msg_volunteer_register_desc, &out);

    //  Without the optional skills: absent on the wire and absent after decoding
    reg.name = NAME_CN;
    reg.has_skills = false;
    reg.skills = (st_strs_t){NULL, 0};
    assert_int_equal (st_encode (&msg_volunteer_register_desc, &reg, &data, &size), 0);
    s_buf_t expected = s_mp ("{4 " REGISTER_PAIRS, "name", NAME_CN, "id_number", ID_NUMBER, "phone",
                             PHONE, "region", "360302001001");
    assert_int_equal (size, expected.size);
    assert_memory_equal (data, expected.data, size);
    free (expected.data);
    s_assert_decodes (&msg_volunteer_register_desc, (s_buf_t){data, size}, &out);
    assert_string_equal (out.name, NAME_CN);
    assert_false (out.has_skills);
    assert_int_equal (out.skills.count, 0);
    assert_null (out.skills.items);
    st_msg_clear (&msg_volunteer_register_desc, &out);
    free (long_name);
}

//  A message without fields is the empty map, and any map of unknown keys decodes as it
static void
test_empty_round_trip (void **state)
{
    msg_empty_t empty = {0};
    uint8_t *data;
    size_t size;
    assert_int_equal (st_encode (&msg_empty_desc, &empty, &data, &size), 0);
    assert_int_equal (size, 1);
    assert_int_equal (data[0], 0x80);
    msg_empty_t out;
    s_assert_decodes (&msg_empty_desc, (s_buf_t){data, size}, &out);
    s_assert_decodes (&msg_empty_desc, s_mp ("{2 si ss", "x", 1, "y", "z"), &out);
    s_assert_rejected (&msg_empty_desc, s_hex ("90"), "", "message must be a map");
}

//  Every field kind, DOUBLE included, survives encode and decode with its exact value
static void
test_all_kinds_round_trip (void **state)
{
    uint8_t blob[] = {0x00, 0xff, 0x10};
    char *tags[] = {"甲乙丙丁", "b"};
    t_item_t list[2] = {{.label = "一", .weight = -1.0, .has_weight = true}, {.label = "two"}};
    s_buf_t extra = s_mp ("{1 s[2 in", "k", -5);
    t_all_t all = {
        .text = "文本",
        .count = -1000,
        .has_count = true,
        .flag = false,
        .has_flag = true,
        .lat = 0.1,
        .has_lat = true,
        .blob = {blob, sizeof blob},
        .tags = {tags, 2},
        .has_tags = true,
        .item = {.label = "only", .weight = 0.25, .has_weight = true},
        .has_item = true,
        .items = {list, 2},
        .has_items = true,
        .extra = {.data = extra.data, .size = extra.size},
    };
    st_error_t err;
    assert_int_equal (st_validate (&t_all_desc, &all, &err), 0);
    uint8_t *data;
    size_t size;
    assert_int_equal (st_encode (&t_all_desc, &all, &data, &size), 0);
    st_unpacked_t unpacked;
    assert_int_equal (st_unpack (data, size, &unpacked, &err), 0);
    t_all_t out;
    assert_int_equal (st_decode_object (&t_all_desc, &unpacked.unpacked.data, &out, &err), 0);
    assert_string_equal (out.text, "文本");
    assert_true (out.has_count);
    assert_int_equal (out.count, -1000);
    assert_true (out.has_flag);
    assert_false (out.flag);
    assert_true (out.has_lat);
    assert_true (out.lat == 0.1);
    assert_int_equal (out.blob.size, 3);
    assert_memory_equal (out.blob.data, blob, 3);
    assert_true (out.has_tags);
    assert_int_equal (out.tags.count, 2);
    assert_string_equal (out.tags.items[0], "甲乙丙丁");
    assert_string_equal (out.tags.items[1], "b");
    assert_true (out.has_item);
    assert_string_equal (out.item.label, "only");
    assert_true (out.item.has_weight);
    assert_true (out.item.weight == 0.25);
    assert_true (out.has_items);
    assert_int_equal (out.items.count, 2);
    assert_string_equal (out.items.items[0].label, "一");
    assert_true (out.items.items[0].has_weight);
    assert_true (out.items.items[0].weight == -1.0);
    assert_string_equal (out.items.items[1].label, "two");
    assert_false (out.items.items[1].has_weight);
    assert_non_null (out.extra.object);
    assert_true (out.extra.object->type == MSGPACK_OBJECT_MAP);

    uint8_t *again;
    size_t again_size;
    assert_int_equal (st_encode (&t_all_desc, &out, &again, &again_size), 0);
    assert_int_equal (again_size, size);
    assert_memory_equal (again, data, size);
    free (again);
    st_msg_clear (&t_all_desc, &out);
    st_unpacked_destroy (&unpacked);
    free (data);
    free (extra.data);
}

//  A signed field takes every msgpack integer encoding, positive and negative, of a value
//  in range; a double field takes float32, float64 and integers
static void
test_number_encodings (void **state)
{
    struct {
        const char *hex;
        int64_t value;
    } ints[] = {
        {"00", 0},                             //  positive fixint
        {"7f", 127},                           //  positive fixint, top
        {"ff", -1},                            //  negative fixint
        {"e0", -32},                           //  negative fixint, bottom
        {"cc c8", 200},                        //  uint8
        {"cd 03 e8", 1000},                    //  uint16
        {"ce 00 00 00 05", 5},                 //  uint32
        {"cf 00 00 00 00 00 00 03 e8", 1000},  //  uint64
        {"d0 05", 5},                          //  int8 holding a positive value
        {"d0 80", -128},                       //  int8
        {"d1 fc 18", -1000},                   //  int16
        {"d2 ff ff ff 9c", -100},              //  int32
        {"d3 ff ff ff ff ff ff fc 18", -1000}, //  int64
        {"d3 00 00 00 00 00 00 00 07", 7},     //  int64 holding a positive value
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        t_all_t out;
        s_assert_decodes (&t_all_desc, s_mp ("{2 ss sx", "text", "x", "count", ints[i].hex), &out);
        assert_true (out.has_count);
        if (out.count != ints[i].value)
            fail_msg ("%s decoded as %lld, not %lld", ints[i].hex, (long long) out.count,
                      (long long) ints[i].value);
        st_msg_clear (&t_all_desc, &out);
    }
    struct {
        const char *hex;
        double value;
    } doubles[] = {
        {"ca 3f c0 00 00", 1.5},               //  float32
        {"cb c0 56 80 00 00 00 00 00", -90.0}, //  float64, the lower bound
        {"cb 40 56 80 00 00 00 00 00", 90.0},  //  float64, the upper bound
        {"5a", 90.0},                          //  positive fixint
        {"d0 a6", -90.0},                      //  int8
        {"cf 00 00 00 00 00 00 00 2a", 42.0},  //  uint64
    };
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        t_all_t out;
        s_assert_decodes (&t_all_desc, s_mp ("{2 ss sx", "text", "x", "lat", doubles[i].hex), &out);
        assert_true (out.has_lat);
        if (out.lat != doubles[i].value)
            fail_msg ("%s decoded as %g, not %g", doubles[i].hex, out.lat, doubles[i].value);
        st_msg_clear (&t_all_desc, &out);
    }
    //  The widest values of the contract's own unsigned-range fields
    msg_request_t request;
    s_assert_decodes (&msg_request_desc,
                      s_mp ("{4 si sy ss sx", "v", 1, "id", s_request_id, (size_t) 16, "op", "x",
                            "deadline", "cf 7f ff ff ff ff ff ff ff"),
                      &request);
    assert_int_equal (request.deadline, INT64_MAX);
    st_msg_clear (&msg_request_desc, &request);
}

//  ---------------------------------------------------------------------------------------
//  Validation of received messages

//  A missing required field is named, at the top, inside a nested message and a list item
static void
test_missing_required (void **state)
{
    s_assert_rejected (
        &msg_volunteer_register_desc,
        s_mp ("{3 ss ss ss", "id_number", ID_NUMBER, "phone", PHONE, "region", REGION), "name",
        "\"name\" is required");
    s_assert_rejected (
        &msg_volunteer_register_desc,
        s_mp ("{3 ss ss ss", "name", NAME_CN, "id_number", ID_NUMBER, "phone", PHONE), "region",
        "\"region\" is required");
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{4 si sy ss s{1 ss", "v", 1, "id", s_request_id, (size_t) 16, "op",
                             "x", "actor", "account", "a"),
                       "actor.role", "\"actor.role\" is required");
    s_assert_rejected (&msg_events_desc,
                       s_mp ("{2 s[2 {4 si ss si sy {3 si si sy si", "events", "seq", 1, "topic",
                             "t", "at", 0, "body", "", (size_t) 0, "seq", 2, "at", 0, "body", "",
                             (size_t) 0, "last_seq", 2),
                       "events[1].topic", "\"events[1].topic\" is required");
    s_assert_rejected (&msg_events_desc, s_mp ("{1 s[0", "events"), "last_seq",
                       "\"last_seq\" is required");
    s_assert_rejected (&msg_reply_desc, s_mp ("{2 si sy", "v", 1, "id", s_request_id, (size_t) 16),
                       "ok", "\"ok\" is required");
    s_assert_rejected (&msg_volunteer_desc, s_hex ("80"), "id", "\"id\" is required");
}

//  A bad list item is named by its index: "skills[2]", "events[1]"
static void
test_list_item_errors (void **state)
{
    s_assert_rejected (
        &msg_volunteer_register_desc,
        s_mp ("{5 " REGISTER_PAIRS " s[3 ss s", REGISTER_ARGS, "skills", SKILL_1, SKILL_2, ""),
        "skills[2]", "\"skills[2]\" must not be empty");
    s_assert_rejected (
        &msg_volunteer_register_desc,
        s_mp ("{5 " REGISTER_PAIRS " s[3 ss i", REGISTER_ARGS, "skills", SKILL_1, SKILL_2, 3),
        "skills[2]", "\"skills[2]\" must be a string");
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 " REGISTER_PAIRS " s[2 sn", REGISTER_ARGS, "skills", SKILL_1),
                       "skills[1]", "\"skills[1]\" must be a string");
    char *long_skill = s_repeat ("救", 33);
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 " REGISTER_PAIRS " s[1 s", REGISTER_ARGS, "skills", long_skill),
                       "skills[0]", "\"skills[0]\" must be at most 32 characters");
    free (long_skill);
    s_assert_rejected (&msg_events_desc,
                       s_mp ("{2 s[2 {4 si ss si sy i si", "events", "seq", 1, "topic", "t", "at",
                             0, "body", "", (size_t) 0, 5, "last_seq", 2),
                       "events[1]", "\"events[1]\" must be an object");
    s_assert_rejected (&msg_events_desc,
                       s_mp ("{2 s[1 {4 si ss si ss si", "events", "seq", 1, "topic", "t", "at", 0,
                             "body", "not binary", "last_seq", 2),
                       "events[0].body", "\"events[0].body\" must be binary");
    s_assert_rejected (&msg_events_desc,
                       s_mp ("{2 s[1 {4 si ss si sy si", "events", "seq", 0, "topic", "t", "at", 0,
                             "body", "", (size_t) 0, "last_seq", 2),
                       "events[0].seq",
                       "\"events[0].seq\" must be between 1 and 9223372036854775807");
}

//  A value of the wrong type is refused for every kind, naming the field
static void
test_wrong_types (void **state)
{
    //  The test message: one row per kind, several wrong encodings each
    struct {
        const char *field, *hex, *message;
    } rows[] = {
        {"text", "2a", "\"text\" must be a string"},
        {"text", "c4 01 61", "\"text\" must be a string"},
        {"text", "91 a1 61", "\"text\" must be a string"},
        {"count", "a1 31", "\"count\" must be an integer"},
        {"count", "cb 3f f0 00 00 00 00 00 00", "\"count\" must be an integer"},
        {"count", "c3", "\"count\" must be an integer"},
        {"flag", "01", "\"flag\" must be true or false"},
        {"flag", "a4 74 72 75 65", "\"flag\" must be true or false"},
        {"lat", "a2 31 30", "\"lat\" must be a number"},
        {"lat", "c2", "\"lat\" must be a number"},
        {"lat", "d4 01 00", "\"lat\" must be a number"},
        {"blob", "a2 68 69", "\"blob\" must be binary"},
        {"blob", "92 01 02", "\"blob\" must be binary"},
        {"tags", "a1 61", "\"tags\" must be a list of strings"},
        {"tags", "81 a1 61 a1 62", "\"tags\" must be a list of strings"},
        {"tags", "91 01", "\"tags[0]\" must be a string"},
        {"item", "91 a1 61", "\"item\" must be an object"},
        {"item", "a4 69 74 65 6d", "\"item\" must be an object"},
        {"items", "81 a5 6c 61 62 65 6c a1 61", "\"items\" must be a list of objects"},
        {"items", "91 01", "\"items[0]\" must be an object"},
        {"extra", "a1 78", "\"extra\" must be an object"},
        {"extra", "90", "\"extra\" must be an object"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char field[32];
        const char *close = strchr (rows[i].message + 1, '"');
        snprintf (field, sizeof field, "%.*s", (int) (close - rows[i].message - 1),
                  rows[i].message + 1);
        s_buf_t frame = strcmp (rows[i].field, "text") == 0
                            ? s_mp ("{1 sx", "text", rows[i].hex)
                            : s_mp ("{2 ss sx", "text", "x", rows[i].field, rows[i].hex);
        s_assert_rejected (&t_all_desc, frame, field, rows[i].message);
    }
    //  The contract's messages, one kind each
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{4 si ss ss ss", "name", 42, "id_number", ID_NUMBER, "phone", PHONE,
                             "region", REGION),
                       "name", "\"name\" must be a string");
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{3 ss sy ss", "v", "1", "id", s_request_id, (size_t) 16, "op", "x"),
                       "v", "\"v\" must be an integer");
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{3 si ss ss", "v", 1, "id", "0123456789abcdef", "op", "x"), "id",
                       "\"id\" must be binary");
    s_assert_rejected (&msg_reply_desc,
                       s_mp ("{3 si sy si", "v", 1, "id", s_request_id, (size_t) 16, "ok", 1), "ok",
                       "\"ok\" must be true or false");
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 " REGISTER_PAIRS " ss", REGISTER_ARGS, "skills", SKILL_1),
                       "skills", "\"skills\" must be a list of strings");
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{4 si sy ss s[2 ss", "v", 1, "id", s_request_id, (size_t) 16, "op",
                             "x", "actor", "a", "operator"),
                       "actor", "\"actor\" must be an object");
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{4 si sy ss s{2 si ss", "v", 1, "id", s_request_id, (size_t) 16, "op",
                             "x", "actor", "account", 7, "role", "operator"),
                       "actor.account", "\"actor.account\" must be a string");
    s_assert_rejected (&msg_events_desc, s_mp ("{2 s{0 si", "events", "last_seq", 1), "events",
                       "\"events\" must be a list of objects");
    s_assert_rejected (
        &msg_request_desc,
        s_mp ("{4 si sy ss ss", "v", 1, "id", s_request_id, (size_t) 16, "op", "x", "body", "{}"),
        "body", "\"body\" must be an object");
}

//  Lengths count characters, not bytes: 50 Chinese characters (150 bytes) or 50 four-byte
//  characters (200 bytes) pass, 51 fail
static void
test_string_length_in_characters (void **state)
{
    const char *units[] = {"张", "a", "𠀀", "é"};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        char *fifty = s_repeat (units[u], 50);
        msg_volunteer_register_t out;
        s_assert_decodes (&msg_volunteer_register_desc,
                          s_mp ("{4 " REGISTER_PAIRS, "name", fifty, "id_number", ID_NUMBER,
                                "phone", PHONE, "region", REGION),
                          &out);
        assert_string_equal (out.name, fifty);
        st_msg_clear (&msg_volunteer_register_desc, &out);
        char *fifty_one = s_repeat (units[u], 51);
        s_assert_rejected (&msg_volunteer_register_desc,
                           s_mp ("{4 " REGISTER_PAIRS, "name", fifty_one, "id_number", ID_NUMBER,
                                 "phone", PHONE, "region", REGION),
                           "name", "\"name\" must be at most 50 characters");
        free (fifty);
        free (fifty_one);
    }
    //  Far longer than any 50-character text can be
    char *huge = s_repeat ("a", 100000);
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{4 " REGISTER_PAIRS, "name", huge, "id_number", ID_NUMBER, "phone",
                             PHONE, "region", REGION),
                       "name", "\"name\" must be at most 50 characters");
    free (huge);
    //  Exact-length fields: msg_volunteer.region is 12 characters, no fewer
    s_assert_rejected (
        &msg_volunteer_registered_desc,
        s_mp ("{4 ss ss ss s[0", "id", "1", "name", "n", "region", "36030200100", "skills"),
        "region", "\"region\" must be at least 12 characters");
}

//  An empty string is refused where at least one character is required, kept where not
static void
test_empty_strings (void **state)
{
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{4 " REGISTER_PAIRS, "name", "", "id_number", ID_NUMBER, "phone",
                             PHONE, "region", REGION),
                       "name", "\"name\" must not be empty");
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{4 si sy ss s{2 ss ss", "v", 1, "id", s_request_id, (size_t) 16, "op",
                             "x", "actor", "account", "a", "role", ""),
                       "actor.role", "\"actor.role\" must not be empty");
    //  msg_error.message and msg_actor.region allow the empty string
    msg_error_t error;
    s_assert_decodes (&msg_error_desc, s_mp ("{2 ss ss", "code", "internal", "message", ""),
                      &error);
    assert_non_null (error.message);
    assert_string_equal (error.message, "");
    st_msg_clear (&msg_error_desc, &error);
}

//  Text that is not UTF-8, or holds a NUL, is refused with the field named
static void
test_invalid_utf8 (void **state)
{
    struct {
        const char *bytes;
        size_t len;
        const char *why;
    } bad[] = {
        {"\xc0\xaf", 2, "overlong '/'"},
        {"\xc0\x80", 2, "overlong NUL"},
        {"\xe0\x80\xaf", 3, "overlong three-byte"},
        {"\xe0\x9f\xbf", 3, "overlong three-byte U+07FF"},
        {"\xf0\x8f\xbf\xbf", 4, "overlong four-byte U+FFFF"},
        {"\xc1\xbf", 2, "overlong two-byte U+007F"},
        {"\xf0\x82\x82\xac", 4, "overlong four-byte"},
        {"\xed\xa0\x80", 3, "high surrogate"},
        {"\xed\xbf\xbf", 3, "low surrogate"},
        {"\xf4\x90\x80\x80", 4, "past U+10FFFF"},
        {"\xf8\x88\x80\x80\x80", 5, "five-byte form"},
        {"\xe5\xbc", 2, "truncated sequence"},
        {"\xe5\xbc\xa0\xe4", 4, "truncated at the end"},
        {"\xe5\x41\xa0", 3, "bad continuation"},
        {"\x80", 1, "stray continuation"},
        {"\xff", 1, "0xff"},
        {"\xe5\xbc\xa0\0\xe4\xb8\x89", 7, "NUL inside"},
        {"\0", 1, "only NUL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t chars = 12345;
        if (st_utf8_check (bad[i].bytes, bad[i].len, &chars))
            fail_msg ("st_utf8_check accepted the %s", bad[i].why);
        assert_int_equal (chars, 12345);
        s_assert_rejected (&msg_volunteer_register_desc,
                           s_mp ("{4 sS ss ss ss", "name", bad[i].bytes, bad[i].len, "id_number",
                                 ID_NUMBER, "phone", PHONE, "region", REGION),
                           "name", "\"name\" must be valid UTF-8 text without NUL");
        s_assert_rejected (&msg_volunteer_register_desc,
                           s_mp ("{5 " REGISTER_PAIRS " s[2 sS", REGISTER_ARGS, "skills", SKILL_1,
                                 bad[i].bytes, bad[i].len),
                           "skills[1]", "\"skills[1]\" must be valid UTF-8 text without NUL");
    }
    //  The edges that are valid: U+10FFFF, U+FFFF, U+E000 and U+D7FF, and counts
    struct {
        const char *s;
        size_t chars;
    } good[] = {
        {"\xf4\x8f\xbf\xbf", 1},
        {"\xef\xbf\xbf", 1},
        {"\xee\x80\x80", 1},
        {"\xed\x9f\xbf", 1},
        {"", 0},
        {"张三", 2},
        {"a€𠀀", 3},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t chars = 12345;
        assert_true (st_utf8_check (good[i].s, strlen (good[i].s), &chars));
        assert_int_equal (chars, good[i].chars);
    }
    assert_true (st_utf8_check ("abc", 3, NULL));
}

//  Integers outside a field's range are refused, including a uint64 past INT64_MAX
static void
test_int_out_of_range (void **state)
{
    struct {
        const char *hex;
        const char *message;
    } v_rows[] = {
        {"02", "\"v\" must be between 1 and 1"},
        {"00", "\"v\" must be between 1 and 1"},
        {"ff", "\"v\" must be between 1 and 1"},
        {"d3 80 00 00 00 00 00 00 00", "\"v\" must be between 1 and 1"},
        {"cf ff ff ff ff ff ff ff ff", "\"v\" must be between 1 and 1"},
        {"cf 80 00 00 00 00 00 00 01", "\"v\" must be between 1 and 1"},
    };
    for (size_t i = 0; i < sizeof v_rows / sizeof v_rows[0]; i++)
        s_assert_rejected (
            &msg_request_desc,
            s_mp ("{3 sx sy ss", "v", v_rows[i].hex, "id", s_request_id, (size_t) 16, "op", "x"),
            "v", v_rows[i].message);
    const char *deadline_message = "\"deadline\" must be between 0 and 9223372036854775807";
    s_assert_rejected (
        &msg_request_desc,
        s_mp ("{4 si sy ss si", "v", 1, "id", s_request_id, (size_t) 16, "op", "x", "deadline", -1),
        "deadline", deadline_message);
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{4 si sy ss sx", "v", 1, "id", s_request_id, (size_t) 16, "op", "x",
                             "deadline", "cf 80 00 00 00 00 00 00 00"),
                       "deadline", deadline_message);
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{4 si sy ss su", "v", 1, "id", s_request_id, (size_t) 16, "op", "x",
                             "deadline", UINT64_MAX),
                       "deadline", deadline_message);
    //  Signed ranges, on both sides, in every width
    const char *count_message = "\"count\" must be between -1000 and 1000";
    const char *count_rows[] = {
        "cd 03 e9", "d1 fc 17", "d3 80 00 00 00 00 00 00 00", "cf 7f ff ff ff ff ff ff ff",
        "d2 7f ff ff ff",
        //  uint64 values past INT64_MAX, which a cast would turn into -1 and -1000
        "cf ff ff ff ff ff ff ff ff", "cf ff ff ff ff ff ff fc 18"};
    for (size_t i = 0; i < sizeof count_rows / sizeof count_rows[0]; i++)
        s_assert_rejected (&t_all_desc, s_mp ("{2 ss sx", "text", "x", "count", count_rows[i]),
                           "count", count_message);
    const char *year_message = "\"birth_year\" must be between 1900 and 2200";
    s_assert_rejected (&msg_volunteer_registered_desc,
                       s_mp ("{6 ss ss ss s[0 ss si", "id", "1", "name", "n", "region",
                             "360302001001", "skills", "status", "active", "birth_year", 1899),
                       "birth_year", year_message);
    s_assert_rejected (&msg_volunteer_registered_desc,
                       s_mp ("{6 ss ss ss s[0 ss si", "id", "1", "name", "n", "region",
                             "360302001001", "skills", "status", "active", "birth_year", 2201),
                       "birth_year", year_message);
}

//  Doubles that are not finite or out of range are refused
static void
test_double_limits (void **state)
{
    const char *message = "\"lat\" must be between -90 and 90";
    const char *rows[] = {
        "cb 7f f8 00 00 00 00 00 00", //  NaN
        "cb 7f f0 00 00 00 00 00 00", //  +inf
        "cb ff f0 00 00 00 00 00 00", //  -inf
        "ca 7f c0 00 00",             //  float32 NaN
        "ca 7f 80 00 00",             //  float32 +inf
        "cb 40 56 80 00 00 00 00 01", //  just above 90
        "cb c0 56 80 00 00 00 00 01", //  just below -90
        "5b",                         //  the integer 91
        "cf ff ff ff ff ff ff ff ff", //  a huge integer
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        s_assert_rejected (&t_all_desc, s_mp ("{2 ss sx", "text", "x", "lat", rows[i]), "lat",
                           message);
    s_assert_rejected (&t_all_desc,
                       s_mp ("{2 ss s{2 ss sx", "text", "x", "item", "label", "l", "weight",
                             "cb 3f f0 00 00 00 00 00 01"),
                       "item.weight", "\"item.weight\" must be between -1 and 1");
}

//  Lists longer than declared are refused before any item is read
static void
test_too_many_items (void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init (&sb);
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 5);
    const char *pairs[] = {REGISTER_ARGS};
    for (size_t i = 0; i < 8; i++)
        msgpack_pack_str_with_body (&pk, pairs[i], strlen (pairs[i]));
    msgpack_pack_str_with_body (&pk, "skills", 6);
    msgpack_pack_array (&pk, 21);
    for (int i = 0; i < 21; i++)
        msgpack_pack_str_with_body (&pk, "急救", strlen ("急救"));
    s_assert_rejected (&msg_volunteer_register_desc, (s_buf_t){(uint8_t *) sb.data, sb.size},
                       "skills", "\"skills\" must have at most 20 items");

    //  Twenty is the limit, and accepted
    msgpack_sbuffer_init (&sb);
    msgpack_pack_map (&pk, 5);
    for (size_t i = 0; i < 8; i++)
        msgpack_pack_str_with_body (&pk, pairs[i], strlen (pairs[i]));
    msgpack_pack_str_with_body (&pk, "skills", 6);
    msgpack_pack_array (&pk, 20);
    for (int i = 0; i < 20; i++)
        msgpack_pack_str_with_body (&pk, "急救", strlen ("急救"));
    msg_volunteer_register_t reg;
    s_assert_decodes (&msg_volunteer_register_desc, (s_buf_t){(uint8_t *) sb.data, sb.size}, &reg);
    assert_int_equal (reg.skills.count, 20);
    st_msg_clear (&msg_volunteer_register_desc, &reg);

    //  5001 events, each an (invalid) empty map: refused on the count alone
    msgpack_sbuffer_init (&sb);
    msgpack_pack_map (&pk, 2);
    msgpack_pack_str_with_body (&pk, "events", 6);
    msgpack_pack_array (&pk, 5001);
    for (int i = 0; i < 5001; i++)
        msgpack_pack_map (&pk, 0);
    msgpack_pack_str_with_body (&pk, "last_seq", 8);
    msgpack_pack_int64 (&pk, 1);
    s_assert_rejected (&msg_events_desc, (s_buf_t){(uint8_t *) sb.data, sb.size}, "events",
                       "\"events\" must have at most 5000 items");
    s_assert_rejected (&t_all_desc,
                       s_mp ("{2 ss s[3 {1 ss {1 ss {1 ss", "text", "x", "items", "label", "a",
                             "label", "b", "label", "c"),
                       "items", "\"items\" must have at most 2 items");
}

//  A key given twice is refused, even when one of the values is nil
static void
test_duplicate_keys (void **state)
{
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 " REGISTER_PAIRS " ss", REGISTER_ARGS, "name", "李四"), "name",
                       "\"name\" is given twice");
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 sn " REGISTER_PAIRS, "name", REGISTER_ARGS), "name",
                       "\"name\" is given twice");
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{4 si sy ss s{3 ss ss ss", "v", 1, "id", s_request_id, (size_t) 16,
                             "op", "x", "actor", "account", "a", "role", "r", "role", "r"),
                       "actor.role", "\"actor.role\" is given twice");
    //  A repeated unknown key is someone else's business
    msg_empty_t empty;
    s_assert_decodes (&msg_empty_desc, s_mp ("{2 si si", "x", 1, "x", 2), &empty);
}

//  Unknown keys are skipped whatever their values, at the top and inside nested messages
static void
test_unknown_keys_ignored (void **state)
{
    msg_request_t out;
    s_assert_decodes (&msg_request_desc,
                      s_mp ("{7 si sy ss s{3 ss ss s[1 {1 si sx sx ss", "v", 1, "id", s_request_id,
                            (size_t) 16, "op", "sys.ping", "actor", "account", "a", "role",
                            "operator", "future", "x", 1, "nickname", "c7 03 05 01 02 03", "deep",
                            "91 91 91 91 91 91 c0", "昵称", "小明"),
                      &out);
    assert_int_equal (out.v, 1);
    assert_string_equal (out.op, "sys.ping");
    assert_string_equal (out.actor.account, "a");
    assert_string_equal (out.actor.role, "operator");
    assert_null (out.actor.region);
    assert_false (out.has_deadline);
    st_msg_clear (&msg_request_desc, &out);
    //  Keys compare by full length: neither a prefix nor an extension of a name matches
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{4 ss ss ss ss", "nam", NAME_CN, "id_number", ID_NUMBER, "phone",
                             PHONE, "region", REGION),
                       "name", "\"name\" is required");
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{4 ss ss ss ss", "names", NAME_CN, "id_number", ID_NUMBER, "phone",
                             PHONE, "region", REGION),
                       "name", "\"name\" is required");
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{4 Ss ss ss ss", (const char *) "name\0", (size_t) 5, NAME_CN,
                             "id_number", ID_NUMBER, "phone", PHONE, "region", REGION),
                       "name", "\"name\" is required");
}

//  nil stands for "not given": optional fields stay absent, required ones are missing
static void
test_nil_is_absent (void **state)
{
    msg_request_t out;
    s_assert_decodes (&msg_request_desc,
                      s_mp ("{6 si sy ss sn sn sn", "v", 1, "id", s_request_id, (size_t) 16, "op",
                            "x", "actor", "deadline", "body"),
                      &out);
    assert_false (out.has_actor);
    assert_null (out.actor.account);
    assert_false (out.has_deadline);
    assert_null (out.body.object);
    st_msg_clear (&msg_request_desc, &out);

    msg_volunteer_register_t reg;
    s_assert_decodes (&msg_volunteer_register_desc,
                      s_mp ("{5 " REGISTER_PAIRS " sn", REGISTER_ARGS, "skills"), &reg);
    assert_false (reg.has_skills);
    assert_null (reg.skills.items);
    st_msg_clear (&msg_volunteer_register_desc, &reg);

    s_assert_rejected (
        &msg_volunteer_register_desc,
        s_mp ("{4 sn ss ss ss", "name", "id_number", ID_NUMBER, "phone", PHONE, "region", REGION),
        "name", "\"name\" is required");
    s_assert_rejected (&msg_reply_desc,
                       s_mp ("{3 si sy sn", "v", 1, "id", s_request_id, (size_t) 16, "ok"), "ok",
                       "\"ok\" is required");
    s_assert_rejected (&msg_events_desc, s_mp ("{2 sn si", "events", "last_seq", 1), "events",
                       "\"events\" is required");
}

//  A map key that is not a string is refused, naming the map it sits in
static void
test_non_string_keys (void **state)
{
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 " REGISTER_PAIRS " is", REGISTER_ARGS, 1, "x"), "",
                       "keys must be strings");
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 " REGISTER_PAIRS " ys", REGISTER_ARGS, "name", (size_t) 4, "x"),
                       "", "keys must be strings");
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 " REGISTER_PAIRS " ns", REGISTER_ARGS, "x"), "",
                       "keys must be strings");
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{4 si sy ss s{3 ss ss [0i", "v", 1, "id", s_request_id, (size_t) 16,
                             "op", "x", "actor", "account", "a", "role", "r", 1),
                       "actor", "keys must be strings");
}

//  A frame whose root is not a map is refused by st_unpack and by st_decode_object
static void
test_root_not_a_map (void **state)
{
    const char *roots[] = {"91 01", "a1 61", "01", "c0", "c4 00", "90", "d4 01 00"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        s_buf_t frame = s_hex (roots[i]);
        st_error_t err = {ST_OK, "", ""};
        st_unpacked_t unpacked;
        assert_int_equal (st_prescan (frame.data, frame.size, &err), 0);
        assert_int_equal (st_unpack (frame.data, frame.size, &unpacked, &err), -1);
        assert_false (unpacked.live);
        s_assert_error (&err, "", "message must be a map");
        s_assert_rejected (&msg_empty_desc, frame, "", "message must be a map");
    }
    msgpack_object object = {.type = MSGPACK_OBJECT_ARRAY};
    msg_volunteer_register_t out;
    memset (&out, 0xab, sizeof out);
    st_error_t err;
    assert_int_equal (st_decode_object (&msg_volunteer_register_desc, &object, &out, &err), -1);
    s_assert_error (&err, "", "message must be a map");
    s_assert_zeroed (&out, sizeof out);
}

//  ---------------------------------------------------------------------------------------
//  Hostile frames

//  An empty frame is refused, not read
static void
test_empty_input (void **state)
{
    uint8_t byte = 0x80;
    st_error_t err = {ST_OK, "", ""};
    st_unpacked_t unpacked;
    assert_int_equal (st_unpack (&byte, 0, &unpacked, &err), -1);
    assert_false (unpacked.live);
    s_assert_error (&err, "", "message is empty");
    err = (st_error_t){ST_OK, "", ""};
    assert_int_equal (st_prescan (&byte, 0, &err), -1);
    s_assert_error (&err, "", "message is truncated");
    msg_empty_t out;
    err = (st_error_t){ST_OK, "", ""};
    assert_int_equal (st_decode (&msg_empty_desc, NULL, 0, &out, &err), -1);
    s_assert_error (&err, "", "message is empty");
}

//  Asserts that every strict prefix of the frame (freed here) fails cleanly everywhere
static void
s_assert_every_prefix_fails (s_buf_t frame, const st_desc_t *desc)
{
    for (size_t n = 0; n < frame.size; n++) {
        uint8_t *prefix = malloc (n ? n : 1);
        memcpy (prefix, frame.data, n);
        st_error_t err = {ST_OK, "", ""};
        if (st_prescan (prefix, n, &err) != -1)
            fail_msg ("pre-scan accepted %zu of %zu bytes", n, frame.size);
        s_assert_error (&err, "", NULL);
        st_unpacked_t unpacked;
        err = (st_error_t){ST_OK, "", ""};
        assert_int_equal (st_unpack (prefix, n, &unpacked, &err), -1);
        assert_false (unpacked.live);
        s_assert_error (&err, "", NULL);
        max_align_t out[1024 / sizeof (max_align_t)];
        assert_true (desc->size <= sizeof out);
        memset (out, 0xab, desc->size);
        err = (st_error_t){ST_OK, "", ""};
        assert_int_equal (st_decode (desc, prefix, n, out, &err), -1);
        s_assert_error (&err, "", NULL);
        s_assert_zeroed (out, desc->size);
        free (prefix);
    }
    st_error_t err;
    assert_int_equal (st_prescan (frame.data, frame.size, &err), 0);
    free (frame.data);
}

//  A full request cut at every byte offset is refused cleanly at each one
static void
test_truncated_frames (void **state)
{
    s_buf_t body = s_register_frame ();
    msg_request_t request = {
        .v = 1,
        .has_v = true,
        .id = {(uint8_t *) s_request_id, 16},
        .op = "volunteer.register",
        .actor = {.account = "gateway-01", .role = "operator", .region = "360302"},
        .has_actor = true,
        .deadline = 1718409600123,
        .has_deadline = true,
        .body = {.data = body.data, .size = body.size}};
    s_buf_t frame;
    assert_int_equal (st_encode (&msg_request_desc, &request, &frame.data, &frame.size), 0);
    assert_true (frame.size > 100);
    s_assert_every_prefix_fails (frame, &msg_request_desc);
    free (body.data);
}

//  Values of every msgpack format, one per key of a map: the pre-scan must agree with
//  msgpack-c on each one's length
static const char *const s_every_format[] = {
    "7f",
    "e0",
    "c0",
    "c2",
    "c3", //  scalars
    "ca 3f 80 00 00",
    "cb 3f f0 00 00 00 00 00 00", //  floats
    "cc ff",
    "cd ff ff",
    "ce ff ff ff ff",
    "cf ff ff ff ff ff ff ff ff", //  uints
    "d0 80",
    "d1 80 00",
    "d2 80 00 00 00",
    "d3 80 00 00 00 00 00 00 00", //  ints
    "a3 61 62 63",
    "d9 03 61 62 63",
    "da 00 03 61 62 63",
    "db 00 00 00 03 61 62 63",
    "c4 02 01 02",
    "c5 00 02 01 02",
    "c6 00 00 00 02 01 02", //  bins
    "d4 01 aa",
    "d5 01 aa bb",
    "d6 01 aa bb cc dd",
    "d7 01 00 01 02 03 04 05 06 07",
    "d8 01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f", //  fixexts
    "c7 02 01 aa bb",
    "c8 00 02 01 aa bb",
    "c9 00 00 00 02 01 aa bb", //  exts
    "c7 00 01",
    "c4 00",
    "a0",
    "d9 00", //  empty ones
    "92 01 02",
    "dc 00 02 01 02",
    "dd 00 00 00 02 01 02", //  arrays
    "81 a1 6b 01",
    "de 00 01 a1 6b 01",
    "df 00 00 00 01 a1 6b 01", //  maps
    "90",
    "dc 00 00",
    "80",
    "df 00 00 00 00",
};
#define S_EVERY_FORMAT_COUNT (sizeof s_every_format / sizeof s_every_format[0])

static s_buf_t
s_every_format_frame (void)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init (&sb);
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, S_EVERY_FORMAT_COUNT);
    for (size_t i = 0; i < S_EVERY_FORMAT_COUNT; i++) {
        char key[8];
        snprintf (key, sizeof key, "k%02zu", i);
        msgpack_pack_str_with_body (&pk, key, strlen (key));
        s_hex_write (&sb, s_every_format[i]);
    }
    return (s_buf_t){(uint8_t *) sb.data, sb.size};
}

//  Every msgpack format is skipped correctly by the pre-scan and unpacked; cut anywhere, the
//  same frame is refused
static void
test_every_format (void **state)
{
    s_buf_t frame = s_every_format_frame ();
    st_error_t err;
    assert_int_equal (st_prescan (frame.data, frame.size, &err), 0);
    st_unpacked_t unpacked;
    assert_int_equal (st_unpack (frame.data, frame.size, &unpacked, &err), 0);
    assert_int_equal (unpacked.unpacked.data.via.map.size, S_EVERY_FORMAT_COUNT);
    msg_empty_t empty;
    assert_int_equal (st_decode_object (&msg_empty_desc, &unpacked.unpacked.data, &empty, &err), 0);
    st_unpacked_destroy (&unpacked);
    //  Each format alone as the root is one whole object to the pre-scan
    for (size_t i = 0; i < S_EVERY_FORMAT_COUNT; i++) {
        s_buf_t one = s_hex (s_every_format[i]);
        if (st_prescan (one.data, one.size, &err) != 0)
            fail_msg ("pre-scan refused %s: %s", s_every_format[i], err.message);
        free (one.data);
    }
    s_assert_every_prefix_fails (frame, &msg_empty_desc);
}

//  Whether two trees are the same, type by type, strings and binaries pointing at the same bytes
//  (where an empty one points does not matter, and differs)
static bool
s_same_tree (const msgpack_object *a, const msgpack_object *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case MSGPACK_OBJECT_NIL:
        return true;
    case MSGPACK_OBJECT_BOOLEAN:
        return a->via.boolean == b->via.boolean;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return a->via.u64 == b->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return a->via.i64 == b->via.i64;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return memcmp (&a->via.f64, &b->via.f64, sizeof (double)) == 0;
    case MSGPACK_OBJECT_STR:
        return a->via.str.size == b->via.str.size
               && (!a->via.str.size || a->via.str.ptr == b->via.str.ptr);
    case MSGPACK_OBJECT_BIN:
        return a->via.bin.size == b->via.bin.size
               && (!a->via.bin.size || a->via.bin.ptr == b->via.bin.ptr);
    case MSGPACK_OBJECT_EXT:
        return a->via.ext.type == b->via.ext.type && a->via.ext.size == b->via.ext.size
               && (!a->via.ext.size || a->via.ext.ptr == b->via.ext.ptr);
    case MSGPACK_OBJECT_ARRAY:
        if (a->via.array.size != b->via.array.size)
            return false;
        for (uint32_t i = 0; i < a->via.array.size; i++)
            if (!s_same_tree (&a->via.array.ptr[i], &b->via.array.ptr[i]))
                return false;
        return true;
    case MSGPACK_OBJECT_MAP:
        if (a->via.map.size != b->via.map.size)
            return false;
        for (uint32_t i = 0; i < a->via.map.size; i++)
            if (!s_same_tree (&a->via.map.ptr[i].key, &b->via.map.ptr[i].key)
                || !s_same_tree (&a->via.map.ptr[i].val, &b->via.map.ptr[i].val))
                return false;
        return true;
    }
    return false;
}

//  Asserts that what st_unpack accepts msgpack-c unpacks whole to the same tree; returns
//  whether st_unpack accepted it
static bool
s_assert_unpacks_as_msgpack_c (const uint8_t *data, size_t size)
{
    st_unpacked_t ours;
    st_error_t err;
    if (st_unpack (data, size, &ours, &err))
        return false;
    msgpack_unpacked theirs;
    msgpack_unpacked_init (&theirs);
    size_t offset = 0;
    assert_int_equal (msgpack_unpack_next (&theirs, (const char *) data, size, &offset),
                      MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (offset, size);
    assert_true (s_same_tree (&ours.unpacked.data, &theirs.data));
    msgpack_unpacked_destroy (&theirs);
    st_unpacked_destroy (&ours);
    return true;
}

//  st_unpack builds the tree msgpack-c's unpacker builds: every format, the contract's own
//  frames, and thousands of frames with bytes changed at random (what st_unpack accepts of
//  them)
static void
test_unpack_as_msgpack_c (void **state)
{
    s_buf_t frames[3];
    frames[0] = s_every_format_frame ();
    frames[1] = s_mp ("{4 si sy ss s{3 ss ss [0i", "v", 1, "id", s_request_id, (size_t) 16, "op",
                      "x", "actor", "account", "a", "role", "r", 1);
    char *skills[] = {"急救", "驾驶", "手语"};
    msg_volunteer_register_t request = {.name = "欧阳明华",
                                        .id_number = "431022198503120414",
                                        .phone = "13807351234",
                                        .region = "431022100201",
                                        .skills = {skills, 3},
                                        .has_skills = true,
                                        .lat = -28.5,
                                        .has_lat = true};
    assert_int_equal (
        st_encode (&msg_volunteer_register_desc, &request, &frames[2].data, &frames[2].size), 0);
    uint32_t seed = 24;
    size_t accepted = 0;
    for (size_t f = 0; f < sizeof frames / sizeof frames[0]; f++) {
        assert_true (s_assert_unpacks_as_msgpack_c (frames[f].data, frames[f].size));
        uint8_t *copy = malloc (frames[f].size);
        for (int round = 0; round < 3000; round++) {
            memcpy (copy, frames[f].data, frames[f].size);
            for (int changes = 1 + round % 3; changes > 0; changes--) {
                seed = seed * 1103515245 + 12345;
                size_t at = (seed >> 8) % frames[f].size;
                seed = seed * 1103515245 + 12345;
                copy[at] = (uint8_t) (seed >> 16);
            }
            accepted += s_assert_unpacks_as_msgpack_c (copy, frames[f].size);
        }
        free (copy);
        free (frames[f].data);
    }
    //  Enough of the changed frames stay valid msgpack to compare
    assert_true (accepted > 1000);
}

//  st_pack writes what msgpack-c's own functions write, at every boundary of the header forms
//  (fix, 8, 16 and 32 bits)
static void
test_pack_as_msgpack_c (void **state)
{
    static const size_t lengths[] = {0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536, 70000};
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        size_t n = lengths[l];
        char *text = malloc (n + 1);
        memset (text, 'a', n);
        text[n] = 0;
        uint8_t *blob = malloc (n ? n : 1);
        memset (blob, 0xb5, n);
        char **tags = malloc ((n ? n : 1) * sizeof *tags);
        for (size_t i = 0; i < n; i++)
            tags[i] = i % 2 ? "" : "标签";
        t_all_t all = {.text = text,
                       .count = n % 2 ? -(int64_t) n * 1000 : (int64_t) n * 100000,
                       .has_count = true,
                       .flag = n % 2,
                       .has_flag = true,
                       .lat = (double) n / 3,
                       .has_lat = true,
                       .blob = {blob, n},
                       .tags = {tags, n},
                       .has_tags = true};
        msgpack_sbuffer expected;
        msgpack_packer pk;
        msgpack_sbuffer_init (&expected);
        msgpack_packer_init (&pk, &expected, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 6);
        msgpack_pack_str_with_body (&pk, "text", 4);
        msgpack_pack_str_with_body (&pk, text, n);
        msgpack_pack_str_with_body (&pk, "count", 5);
        msgpack_pack_int64 (&pk, all.count);
        msgpack_pack_str_with_body (&pk, "flag", 4);
        if (all.flag)
            msgpack_pack_true (&pk);
        else
            msgpack_pack_false (&pk);
        msgpack_pack_str_with_body (&pk, "lat", 3);
        msgpack_pack_double (&pk, all.lat);
        msgpack_pack_str_with_body (&pk, "blob", 4);
        msgpack_pack_bin_with_body (&pk, blob, n);
        msgpack_pack_str_with_body (&pk, "tags", 4);
        msgpack_pack_array (&pk, n);
        for (size_t i = 0; i < n; i++)
            msgpack_pack_str_with_body (&pk, tags[i], strlen (tags[i]));
        uint8_t *data;
        size_t size;
        assert_int_equal (st_encode (&t_all_desc, &all, &data, &size), 0);
        assert_int_equal (size, expected.size);
        assert_memory_equal (data, expected.data, size);
        free (data);
        msgpack_sbuffer_destroy (&expected);
        free (text);
        free (blob);
        free (tags);
    }
}

//  Lengths and counts of four billion in a five-byte frame are refused by the pre-scan, so
//  msgpack-c never allocates for them
static void
test_huge_declared_lengths (void **state)
{
    struct {
        const char *hex, *message;
    } rows[] = {
        {"dd ff ff ff ff", "message declares 4294967295 values in 0 bytes"},
        {"df ff ff ff ff", "message declares 8589934590 values in 0 bytes"},
        {"db ff ff ff ff", "message declares 4294967295 bytes with 0 left"},
        {"c6 ff ff ff ff", "message declares 4294967295 bytes with 0 left"},
        {"c9 ff ff ff ff 01", "message declares 4294967296 bytes with 1 left"},
        {"dc ff ff", "message declares 65535 values in 0 bytes"},
        {"de ff ff", "message declares 131070 values in 0 bytes"},
        {"da ff ff", "message declares 65535 bytes with 0 left"},
        {"c5 ff ff", "message declares 65535 bytes with 0 left"},
        {"c8 ff ff 01", "message declares 65536 bytes with 1 left"},
        {"d9 ff", "message declares 255 bytes with 0 left"},
        {"c4 ff", "message declares 255 bytes with 0 left"},
        {"c7 ff 01", "message declares 256 bytes with 1 left"},
        {"bf 61", "message declares 31 bytes with 1 left"},
        {"9f 01", "message declares 15 values in 1 bytes"},
        {"8f 01 01", "message declares 30 values in 2 bytes"},
        //  One item short: the count is checked against the bytes, not trusted
        {"dd 00 00 00 03 01 02", "message declares 3 values in 2 bytes"},
        //  Inside a map, behind valid keys
        {"81 a1 61 dd ff ff ff ff", "message declares 4294967295 values in 0 bytes"},
        {"82 a1 61 01 a1 62 df 7f ff ff ff 01", "message declares 4294967294 values in 1 bytes"},
        {"81 a1 61 db 7f ff ff ff 61", "message declares 2147483647 bytes with 1 left"},
        {"81 a1 61 c6 ff ff ff ff", "message declares 4294967295 bytes with 0 left"},
        {"81 a1 61 c9 ff ff ff ff 01 00", "message declares 4294967296 bytes with 2 left"},
        //  A header cut inside its own length
        {"dd ff ff", "message is truncated"},
        {"c6 00", "message is truncated"},
        {"81 a1 61 d9", "message is truncated"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s_buf_t frame = s_hex (rows[i].hex);
        st_error_t err = {ST_OK, "", ""};
        assert_int_equal (st_prescan (frame.data, frame.size, &err), -1);
        if (strcmp (err.message, rows[i].message) != 0)
            fail_msg ("%s: pre-scan said \"%s\", expected \"%s\"", rows[i].hex, err.message,
                      rows[i].message);
        s_assert_hostile (frame, rows[i].message);
    }
}

//  Nesting is limited to 8 levels: nine nested arrays are refused, eight accepted
static void
test_nesting_depth (void **state)
{
    s_buf_t eight = s_hex ("91 91 91 91 91 91 91 91 01");
    st_error_t err = {ST_OK, "", ""};
    assert_int_equal (st_prescan (eight.data, eight.size, &err), 0);
    free (eight.data);
    eight = s_hex ("91 91 91 91 91 91 91 90");
    assert_int_equal (st_prescan (eight.data, eight.size, &err), 0);
    free (eight.data);
    s_assert_hostile (s_hex ("91 91 91 91 91 91 91 91 91 01"), "message nests deeper than 8");
    s_assert_hostile (s_hex ("91 91 91 91 91 91 91 91 90"), "message nests deeper than 8");

    //  The same through st_unpack and st_decode, under a map root (the map is level one)
    msg_empty_t out;
    s_assert_decodes (&msg_empty_desc, s_hex ("81 a1 61 91 91 91 91 91 91 91 01"), &out);
    s_assert_decodes (&msg_empty_desc, s_hex ("81 a1 61 81 a1 62 81 a1 63 91 91 91 91 80"), &out);
    s_assert_hostile (s_hex ("81 a1 61 91 91 91 91 91 91 91 91 01"), "message nests deeper than 8");
    s_assert_hostile (s_hex ("81 a1 61 81 a1 62 81 a1 63 91 91 91 91 91 80"),
                      "message nests deeper than 8");
    //  Depth counts open containers only: many siblings at level 8 are fine
    s_assert_decodes (&msg_empty_desc, s_hex ("81 a1 61 91 91 91 91 91 93 90 90 90"), &out);
}

//  The reserved byte 0xc1 is refused wherever it appears
static void
test_reserved_byte (void **state)
{
    s_assert_hostile (s_hex ("c1"), "message has an invalid byte 0xc1 at offset 0");
    s_assert_hostile (s_hex ("81 a1 61 c1"), "message has an invalid byte 0xc1 at offset 3");
    s_assert_hostile (s_hex ("81 c1 01"), "message has an invalid byte 0xc1 at offset 1");
    s_assert_hostile (s_hex ("82 a1 61 01 a1 62 92 01 c1"),
                      "message has an invalid byte 0xc1 at offset 8");
}

//  Bytes after the one object of a frame are refused
static void
test_trailing_bytes (void **state)
{
    s_assert_hostile (s_hex ("80 00"), "message has 1 trailing bytes");
    s_assert_hostile (s_hex ("80 80"), "message has 1 trailing bytes");
    s_buf_t frame = s_register_frame ();
    s_buf_t longer = {malloc (frame.size + 3), frame.size + 3};
    memcpy (longer.data, frame.data, frame.size);
    memcpy (longer.data + frame.size, "\xc0\xc0\xc0", 3);
    free (frame.data);
    s_assert_hostile (longer, "message has 3 trailing bytes");
}

//  Frames of more than ST_CODEC_MAX_OBJECTS values are refused, the limit itself accepted
static void
test_too_many_objects (void **state)
{
    //  An array of N nils is N + 1 objects
    size_t n = ST_CODEC_MAX_OBJECTS - 1;
    uint8_t *data = malloc (5 + n + 1);
    data[0] = 0xdd;
    memset (data + 5, 0xc0, n + 1);
    data[1] = (uint8_t) (n >> 24), data[2] = (uint8_t) (n >> 16);
    data[3] = (uint8_t) (n >> 8), data[4] = (uint8_t) n;
    st_error_t err = {ST_OK, "", ""};
    assert_int_equal (st_prescan (data, 5 + n, &err), 0);
    n++;
    data[1] = (uint8_t) (n >> 24), data[2] = (uint8_t) (n >> 16);
    data[3] = (uint8_t) (n >> 8), data[4] = (uint8_t) n;
    assert_int_equal (st_prescan (data, 5 + n, &err), -1);
    s_assert_error (&err, "", "message has too many values");
    free (data);

    //  A map of P pairs {"a": nil} is 2P + 1 objects
    for (size_t pairs = ST_CODEC_MAX_OBJECTS / 2 - 1; pairs <= ST_CODEC_MAX_OBJECTS / 2; pairs++) {
        size_t size = 5 + 3 * pairs;
        s_buf_t frame = {malloc (size), size};
        frame.data[0] = 0xdf;
        frame.data[1] = (uint8_t) (pairs >> 24), frame.data[2] = (uint8_t) (pairs >> 16);
        frame.data[3] = (uint8_t) (pairs >> 8), frame.data[4] = (uint8_t) pairs;
        for (size_t i = 0; i < pairs; i++)
            memcpy (frame.data + 5 + 3 * i, "\xa1\x61\xc0", 3);
        if (2 * pairs + 1 <= ST_CODEC_MAX_OBJECTS) {
            msg_empty_t out;
            s_assert_decodes (&msg_empty_desc, frame, &out);
        } else
            s_assert_hostile (frame, "message has too many values");
    }
}

//  ---------------------------------------------------------------------------------------
//  Validation of hand-filled messages, clearing

//  st_validate refuses what a decoder would refuse, naming the same field
static void
test_validate_hand_filled (void **state)
{
    char *skills[] = {SKILL_1, "", SKILL_3};
    msg_volunteer_register_t reg = {
        .name = NAME_CN, .id_number = ID_NUMBER, .phone = PHONE, .region = REGION};
    st_error_t err = {ST_OK, "", ""};
    assert_int_equal (st_validate (&msg_volunteer_register_desc, &reg, &err), 0);

    reg.skills = (st_strs_t){skills, 3};
    assert_int_equal (st_validate (&msg_volunteer_register_desc, &reg, &err), -1);
    s_assert_error (&err, "skills[1]", "\"skills[1]\" must not be empty");
    skills[1] = "\xed\xa0\x80";
    assert_int_equal (st_validate (&msg_volunteer_register_desc, &reg, &err), -1);
    s_assert_error (&err, "skills[1]", "\"skills[1]\" must be valid UTF-8 text without NUL");
    skills[1] = SKILL_2;
    assert_int_equal (st_validate (&msg_volunteer_register_desc, &reg, &err), 0);

    char *many[21];
    for (size_t i = 0; i < 21; i++)
        many[i] = "x";
    reg.skills = (st_strs_t){many, 21};
    assert_int_equal (st_validate (&msg_volunteer_register_desc, &reg, &err), -1);
    s_assert_error (&err, "skills", "\"skills\" must have at most 20 items");
    reg.skills = (st_strs_t){NULL, 0};

    char *long_name = s_repeat ("张", 51);
    reg.name = long_name;
    assert_int_equal (st_validate (&msg_volunteer_register_desc, &reg, &err), -1);
    s_assert_error (&err, "name", "\"name\" must be at most 50 characters");
    long_name[150] = 0;
    assert_int_equal (st_validate (&msg_volunteer_register_desc, &reg, &err), 0);
    free (long_name);
    reg.name = NAME_CN;
    reg.phone = NULL;
    assert_int_equal (st_validate (&msg_volunteer_register_desc, &reg, &err), -1);
    s_assert_error (&err, "phone", "\"phone\" is required");

    msg_request_t request = {
        .v = 1, .has_v = true, .id = {(uint8_t *) s_request_id, 15}, .op = "x"};
    assert_int_equal (st_validate (&msg_request_desc, &request, &err), -1);
    s_assert_error (&err, "id", "\"id\" must be 16 to 16 bytes");
    request.id.size = 16;
    request.v = 2;
    assert_int_equal (st_validate (&msg_request_desc, &request, &err), -1);
    s_assert_error (&err, "v", "\"v\" must be between 1 and 1");
    request.v = 1;
    request.has_actor = true;
    request.actor.account = "a";
    assert_int_equal (st_validate (&msg_request_desc, &request, &err), -1);
    s_assert_error (&err, "actor.role", "\"actor.role\" is required");
    //  An actor not flagged present is not looked at
    request.has_actor = false;
    assert_int_equal (st_validate (&msg_request_desc, &request, &err), 0);
    request.has_v = false;
    assert_int_equal (st_validate (&msg_request_desc, &request, &err), -1);
    s_assert_error (&err, "v", "\"v\" is required");

    msg_event_t items[2] = {
        {.seq = 1, .has_seq = true, .topic = "t", .has_at = true, .body = {(uint8_t *) "", 0}},
        {.seq = 2, .has_seq = true, .has_at = true, .body = {(uint8_t *) "", 0}}};
    msg_events_t events = {.events = {items, 2}, .last_seq = 2, .has_last_seq = true};
    assert_int_equal (st_validate (&msg_events_desc, &events, &err), -1);
    s_assert_error (&err, "events[1].topic", "\"events[1].topic\" is required");

    t_all_t all = {.text = "x", .lat = NAN, .has_lat = true};
    assert_int_equal (st_validate (&t_all_desc, &all, &err), -1);
    s_assert_error (&err, "lat", "\"lat\" must be between -90 and 90");
    all.lat = INFINITY;
    assert_int_equal (st_validate (&t_all_desc, &all, &err), -1);
    s_assert_error (&err, "lat", "\"lat\" must be between -90 and 90");
    all.lat = -90.0;
    assert_int_equal (st_validate (&t_all_desc, &all, &err), 0);
}

//  st_msg_clear frees a decoded or malloc-filled message and leaves it all zero
static void
test_msg_clear (void **state)
{
    t_all_t all;
    s_assert_decodes (&t_all_desc,
                      s_mp ("{8 ss si st sd sy s[2 ss s{2 ss sd s[2 {1 ss {1 ss", "text", "文本",
                            "count", -3, "flag", "lat", 1.5, "blob", "abc", (size_t) 3, "tags", "a",
                            "b", "item", "label", "l", "weight", 0.5, "items", "label", "x",
                            "label", "y"),
                      &all);
    assert_int_equal (all.items.count, 2);
    st_msg_clear (&t_all_desc, &all);
    s_assert_zeroed (&all, sizeof all);
    st_msg_clear (&t_all_desc, &all); //  clearing twice is harmless
    st_msg_clear (&t_all_desc, NULL);

    //  A hand-filled message owning malloc'd copies
    msg_events_t events = {.has_events = true, .last_seq = 1, .has_last_seq = true};
    events.events.items = st_calloc (2, sizeof (msg_event_t));
    events.events.count = 2;
    for (size_t i = 0; i < 2; i++) {
        events.events.items[i].topic = st_strdup ("volunteer.registered");
        events.events.items[i].body.data = st_malloc (4);
        events.events.items[i].body.size = 4;
    }
    st_msg_clear (&msg_events_desc, &events);
    s_assert_zeroed (&events, sizeof events);

    msg_volunteer_register_t reg = {.name = st_strdup (NAME_CN), .phone = st_strdup (PHONE)};
    reg.skills.items = st_calloc (2, sizeof (char *));
    reg.skills.items[0] = st_strdup (SKILL_1);
    reg.skills.items[1] = st_strndup ("心理疏导XYZ", strlen ("心理疏导"));
    assert_string_equal (reg.skills.items[1], "心理疏导");
    reg.skills.count = 2;
    st_msg_clear (&msg_volunteer_register_desc, &reg);
    s_assert_zeroed (&reg, sizeof reg);
}

//  A decode that fails late, after strings and list items were allocated, frees them all and
//  leaves `out` zero (Valgrind and ASan check the freeing)
static void
test_decode_failure_clears_out (void **state)
{
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 ss ss ss s[3 ss s ss", "name", NAME_CN, "id_number", ID_NUMBER,
                             "region", REGION, "skills", SKILL_1, SKILL_2, "", "phone", PHONE),
                       "skills[2]", "\"skills[2]\" must not be empty");
    s_assert_rejected (&msg_volunteer_register_desc,
                       s_mp ("{5 ss ss ss s[2 ss si", "name", NAME_CN, "id_number", ID_NUMBER,
                             "region", REGION, "skills", SKILL_1, SKILL_2, "phone", 5),
                       "phone", "\"phone\" must be a string");
    s_assert_rejected (&msg_events_desc,
                       s_mp ("{2 si s[2 {4 si ss si sy {4 si si si sy", "last_seq", 2, "events",
                             "seq", 1, "topic", "t", "at", 0, "body", "abc", (size_t) 3, "seq", 2,
                             "topic", 3, "at", 0, "body", "abc", (size_t) 3),
                       "events[1].topic", "\"events[1].topic\" must be a string");
    s_assert_rejected (&msg_request_desc,
                       s_mp ("{4 sy ss s{3 ss ss ss si", "id", s_request_id, (size_t) 16, "op", "x",
                             "actor", "account", "a", "role", "r", "region", "r", "v", 3),
                       "v", "\"v\" must be between 1 and 1");
    s_assert_rejected (&t_all_desc,
                       s_mp ("{5 ss sy s[2 ss s{1 ss s[2 {1 ss {1 si", "text", "x", "blob", "ab",
                             (size_t) 2, "tags", "a", "b", "item", "label", "l", "items", "label",
                             "x", "label", 1),
                       "items[1].label", "\"items[1].label\" must be a string");
}

//  ---------------------------------------------------------------------------------------
//  The JSON bridge

static json_t *
s_json (const char *text)
{
    json_error_t error;
    json_t *json = json_loads (text, 0, &error);
    if (!json)
        fail_msg ("bad test JSON: %s", error.text);
    return json;
}

//  Asserts that the JSON text is refused for desc, naming field with message, out cleared
static void
s_assert_json_rejected (const st_desc_t *desc, const char *text, const char *field,
                        const char *message)
{
    json_t *json = s_json (text);
    max_align_t out[1024 / sizeof (max_align_t)];
    assert_true (desc->size <= sizeof out);
    memset (out, 0xab, desc->size);
    st_error_t err = {ST_OK, "", ""};
    assert_int_equal (st_json_to_msg (desc, json, out, &err), -1);
    json_decref (json);
    s_assert_error (&err, field, message);
    s_assert_zeroed (out, desc->size);
}

//  JSON becomes the same message msgpack would, and back to the same JSON
static void
test_json_round_trip (void **state)
{
    const char *text = "{\"name\": \"欧阳娜娜\", \"id_number\": \"11010519491231002X\", "
                       "\"phone\": \"13800138000\", \"region\": \"360302\", "
                       "\"skills\": [\"急救\", \"心理疏导\", \"手语\"]}";
    json_t *json = s_json (text);
    msg_volunteer_register_t reg;
    st_error_t err;
    assert_int_equal (st_json_to_msg (&msg_volunteer_register_desc, json, &reg, &err), 0);
    assert_string_equal (reg.name, NAME_CN);
    assert_string_equal (reg.id_number, ID_NUMBER);
    assert_string_equal (reg.phone, PHONE);
    assert_string_equal (reg.region, REGION);
    assert_int_equal (reg.skills.count, 3);
    assert_string_equal (reg.skills.items[2], SKILL_3);

    //  The msgpack of the JSON is byte for byte the hand-built frame
    uint8_t *data;
    size_t size;
    assert_int_equal (st_encode (&msg_volunteer_register_desc, &reg, &data, &size), 0);
    s_buf_t expected = s_register_frame ();
    assert_int_equal (size, expected.size);
    assert_memory_equal (data, expected.data, size);
    free (expected.data);
    free (data);

    json_t *back = st_msg_to_json (&msg_volunteer_register_desc, &reg);
    assert_true (json_equal (back, json));
    json_decref (back);
    json_decref (json);
    st_msg_clear (&msg_volunteer_register_desc, &reg);

    //  Nested messages, lists of messages, integers and hex binary
    text = "{\"events\": [{\"seq\": 1, \"topic\": \"a\", \"at\": 1718409600000, \"body\": "
           "\"00ff10\"}, {\"seq\": 9223372036854775807, \"topic\": \"登记\", \"at\": 0, "
           "\"body\": \"\"}], \"last_seq\": 9}";
    json = s_json (text);
    msg_events_t events;
    assert_int_equal (st_json_to_msg (&msg_events_desc, json, &events, &err), 0);
    assert_int_equal (events.events.count, 2);
    assert_int_equal (events.events.items[0].at, 1718409600000);
    assert_int_equal (events.events.items[0].body.size, 3);
    assert_memory_equal (events.events.items[0].body.data, "\x00\xff\x10", 3);
    assert_int_equal (events.events.items[1].seq, INT64_MAX);
    assert_non_null (events.events.items[1].body.data);
    assert_int_equal (events.events.items[1].body.size, 0);
    back = st_msg_to_json (&msg_events_desc, &events);
    assert_true (json_equal (back, json));
    json_decref (back);
    json_decref (json);
    st_msg_clear (&msg_events_desc, &events);

    //  Doubles, booleans and a nested object in the all-kinds message
    text = "{\"text\": \"文本\", \"count\": -1000, \"flag\": true, \"lat\": -12.5, \"blob\": "
           "\"0a0b\", \"tags\": [\"x\"], \"item\": {\"label\": \"l\", \"weight\": 0.25}, "
           "\"items\": [{\"label\": \"m\"}]}";
    json = s_json (text);
    t_all_t all;
    assert_int_equal (st_json_to_msg (&t_all_desc, json, &all, &err), 0);
    assert_true (all.lat == -12.5);
    assert_true (all.flag);
    assert_true (all.item.weight == 0.25);
    back = st_msg_to_json (&t_all_desc, &all);
    assert_true (json_equal (back, json));
    json_decref (back);
    json_decref (json);
    st_msg_clear (&t_all_desc, &all);
    //  A JSON integer is a number where a double is expected
    json = s_json ("{\"text\": \"x\", \"lat\": 45}");
    assert_int_equal (st_json_to_msg (&t_all_desc, json, &all, &err), 0);
    assert_true (all.has_lat);
    assert_true (all.lat == 45.0);
    json_decref (json);
    st_msg_clear (&t_all_desc, &all);
}

//  JSON errors name the field, nested and in lists, and leave `out` cleared
static void
test_json_errors (void **state)
{
    s_assert_json_rejected (&msg_volunteer_register_desc,
                            "{\"name\": 5, \"id_number\": \"1\", \"phone\": \"1\", "
                            "\"region\": \"1\"}",
                            "name", "\"name\" must be a string");
    s_assert_json_rejected (&msg_volunteer_register_desc,
                            "{\"name\": \"n\", \"id_number\": \"1\", \"phone\": \"1\", \"region\": "
                            "\"1\", \"skills\": [\"a\", 3]}",
                            "skills[1]", "\"skills[1]\" must be a string");
    s_assert_json_rejected (&msg_volunteer_register_desc,
                            "{\"name\": \"n\", \"id_number\": \"1\", \"phone\": \"1\", \"region\": "
                            "\"1\", \"skills\": [\"a\", \"\"]}",
                            "skills[1]", "\"skills[1]\" must not be empty");
    s_assert_json_rejected (&msg_volunteer_register_desc,
                            "{\"name\": \"n\", \"id_number\": \"1\", \"phone\": \"1\", \"region\": "
                            "\"1\", \"skills\": \"a\"}",
                            "skills", "\"skills\" must be a list of strings");
    s_assert_json_rejected (&msg_volunteer_register_desc,
                            "{\"id_number\": \"1\", \"phone\": \"1\", \"region\": \"1\"}", "name",
                            "\"name\" is required");
    s_assert_json_rejected (&msg_request_desc,
                            "{\"v\": 1, \"id\": \"00112233445566778899aabbccddeeff\", \"op\": "
                            "\"x\", \"actor\": {\"account\": \"a\", \"role\": 5}}",
                            "actor.role", "\"actor.role\" must be a string");
    s_assert_json_rejected (&msg_request_desc,
                            "{\"v\": 1, \"id\": \"00112233445566778899aabbccddeeff\", \"op\": "
                            "\"x\", \"actor\": {\"account\": \"a\"}}",
                            "actor.role", "\"actor.role\" is required");
    s_assert_json_rejected (&msg_request_desc,
                            "{\"v\": 1, \"id\": \"00112233445566778899aabbccddeeff\", \"op\": "
                            "\"x\", \"actor\": [1]}",
                            "actor", "\"actor\" must be an object");
    s_assert_json_rejected (&msg_request_desc,
                            "{\"v\": \"1\", \"id\": \"00112233445566778899aabbccddeeff\", "
                            "\"op\": \"x\"}",
                            "v", "\"v\" must be an integer");
    s_assert_json_rejected (&msg_request_desc,
                            "{\"v\": 1.0, \"id\": \"00112233445566778899aabbccddeeff\", "
                            "\"op\": \"x\"}",
                            "v", "\"v\" must be an integer");
    s_assert_json_rejected (&msg_request_desc,
                            "{\"v\": 2, \"id\": \"00112233445566778899aabbccddeeff\", "
                            "\"op\": \"x\"}",
                            "v", "\"v\" must be between 1 and 1");
    s_assert_json_rejected (&msg_request_desc,
                            "{\"v\": 1, \"id\": \"00112233445566778899aabbccddeezz\", "
                            "\"op\": \"x\"}",
                            "id", "\"id\" must be a hex string");
    s_assert_json_rejected (&msg_request_desc,
                            "{\"v\": 1, \"id\": \"00112233445566778899aabbccddeef\", "
                            "\"op\": \"x\"}",
                            "id", "\"id\" must be a hex string");
    s_assert_json_rejected (&msg_request_desc,
                            "{\"v\": 1, \"id\": \"00112233445566778899aabbccddee\", "
                            "\"op\": \"x\"}",
                            "id", "\"id\" must be 16 to 16 bytes");
    s_assert_json_rejected (&msg_request_desc, "{\"v\": 1, \"id\": [0], \"op\": \"x\"}", "id",
                            "\"id\" must be a hex string");
    s_assert_json_rejected (&msg_reply_desc,
                            "{\"v\": 1, \"id\": \"00112233445566778899aabbccddeeff\", "
                            "\"ok\": \"true\"}",
                            "ok", "\"ok\" must be true or false");
    s_assert_json_rejected (&msg_events_desc,
                            "{\"events\": [{\"seq\": 1, \"topic\": \"a\", \"at\": 0, \"body\": "
                            "\"\"}, {\"seq\": 2, \"at\": 0, \"body\": \"\"}], \"last_seq\": 2}",
                            "events[1].topic", "\"events[1].topic\" is required");
    s_assert_json_rejected (&msg_events_desc, "{\"events\": [5], \"last_seq\": 2}", "events[0]",
                            "\"events[0]\" must be an object");
    s_assert_json_rejected (&t_all_desc, "{\"text\": \"x\", \"lat\": \"north\"}", "lat",
                            "\"lat\" must be a number");
    s_assert_json_rejected (&t_all_desc, "{\"text\": \"x\", \"lat\": 90.5}", "lat",
                            "\"lat\" must be between -90 and 90");
    s_assert_json_rejected (&t_all_desc, "{\"text\": \"x\", \"item\": {\"label\": \"123456789\"}}",
                            "item.label", "\"item.label\" must be at most 8 characters");
    s_assert_json_rejected (&t_all_desc,
                            "{\"text\": \"x\", \"tags\": [\"a\", \"b\", \"c\", \"d\"]}", "tags",
                            "\"tags\" must have at most 3 items");
    s_assert_json_rejected (&t_all_desc, "{\"text\": \"一二三四五六七八九十零\"}", "text",
                            "\"text\" must be at most 10 characters");

    //  Not an object at all
    json_t *array = s_json ("[1]");
    msg_empty_t empty;
    st_error_t err;
    assert_int_equal (st_json_to_msg (&msg_empty_desc, array, &empty, &err), -1);
    s_assert_error (&err, "", "input must be a JSON object");
    json_decref (array);

    //  A NUL inside a JSON string ("\u0000") is refused
    json_t *json = json_object ();
    json_object_set_new (json, "text", json_stringn ("张\0三", 7));
    t_all_t all;
    memset (&all, 0xab, sizeof all);
    assert_int_equal (st_json_to_msg (&t_all_desc, json, &all, &err), -1);
    s_assert_error (&err, "text", "\"text\" must be text without NUL");
    s_assert_zeroed (&all, sizeof all);
    json_decref (json);
}

//  JSON null is "not given", unknown JSON keys are ignored
static void
test_json_null_absent (void **state)
{
    json_t *json = s_json ("{\"v\": 1, \"id\": \"00112233445566778899AABBCCDDEEFF\", \"op\": "
                           "\"x\", \"actor\": null, \"deadline\": null, \"extra\": {\"a\": 1}}");
    msg_request_t request;
    st_error_t err;
    assert_int_equal (st_json_to_msg (&msg_request_desc, json, &request, &err), 0);
    assert_false (request.has_actor);
    assert_false (request.has_deadline);
    assert_int_equal (request.id.size, 16);
    assert_memory_equal (request.id.data,
                         "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
    json_t *back = st_msg_to_json (&msg_request_desc, &request);
    //  Binary comes back as lower-case hex; absent fields are left out, not null
    assert_string_equal (json_string_value (json_object_get (back, "id")),
                         "00112233445566778899aabbccddeeff");
    assert_null (json_object_get (back, "actor"));
    assert_null (json_object_get (back, "deadline"));
    assert_int_equal (json_object_size (back), 3);
    json_decref (back);
    json_decref (json);
    st_msg_clear (&msg_request_desc, &request);

    s_assert_json_rejected (&msg_volunteer_register_desc,
                            "{\"name\": null, \"id_number\": \"1\", \"phone\": \"1\", \"region\": "
                            "\"1\"}",
                            "name", "\"name\" is required");
    s_assert_json_rejected (&msg_events_desc, "{\"events\": null, \"last_seq\": 1}", "events",
                            "\"events\" is required");
}

//  Chinese text goes JSON → message → JSON byte for byte, with no escaping or normalising
static void
test_json_chinese_bytes (void **state)
{
    //  "é" precomposed and "é" decomposed must both stay as sent
    const char *name = "欧阳娜娜·é·e\xcc\x81·𠀀";
    json_t *json = json_object ();
    json_object_set_new (json, "name", json_string (name));
    json_object_set_new (json, "id_number", json_string (ID_NUMBER));
    json_object_set_new (json, "phone", json_string (PHONE));
    json_object_set_new (json, "region", json_string (REGION));
    msg_volunteer_register_t reg;
    st_error_t err;
    assert_int_equal (st_json_to_msg (&msg_volunteer_register_desc, json, &reg, &err), 0);
    assert_int_equal (strlen (reg.name), strlen (name));
    assert_memory_equal (reg.name, name, strlen (name) + 1);
    json_t *back = st_msg_to_json (&msg_volunteer_register_desc, &reg);
    const char *again = json_string_value (json_object_get (back, "name"));
    assert_int_equal (strlen (again), strlen (name));
    assert_memory_equal (again, name, strlen (name) + 1);
    char *dumped = json_dumps (back, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null (strstr (dumped, name));
    free (dumped);
    json_decref (back);
    json_decref (json);
    st_msg_clear (&msg_volunteer_register_desc, &reg);

    //  Characters, not bytes, on the JSON path too
    char *fifty = s_repeat ("张", 50);
    json = json_pack ("{s:s, s:s, s:s, s:s}", "name", fifty, "id_number", ID_NUMBER, "phone", PHONE,
                      "region", REGION);
    assert_int_equal (st_json_to_msg (&msg_volunteer_register_desc, json, &reg, &err), 0);
    assert_string_equal (reg.name, fifty);
    st_msg_clear (&msg_volunteer_register_desc, &reg);
    json_decref (json);
    free (fifty);
    char *fifty_one = s_repeat ("张", 51);
    json = json_pack ("{s:s, s:s, s:s, s:s}", "name", fifty_one, "id_number", ID_NUMBER, "phone",
                      PHONE, "region", REGION);
    assert_int_equal (st_json_to_msg (&msg_volunteer_register_desc, json, &reg, &err), -1);
    s_assert_error (&err, "name", "\"name\" must be at most 50 characters");
    json_decref (json);
    free (fifty_one);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_request_round_trip),
        cmocka_unit_test (test_reply_round_trip),
        cmocka_unit_test (test_events_round_trip),
        cmocka_unit_test (test_volunteer_register_round_trip),
        cmocka_unit_test (test_empty_round_trip),
        cmocka_unit_test (test_all_kinds_round_trip),
        cmocka_unit_test (test_number_encodings),
        cmocka_unit_test (test_missing_required),
        cmocka_unit_test (test_list_item_errors),
        cmocka_unit_test (test_wrong_types),
        cmocka_unit_test (test_string_length_in_characters),
        cmocka_unit_test (test_empty_strings),
        cmocka_unit_test (test_invalid_utf8),
        cmocka_unit_test (test_int_out_of_range),
        cmocka_unit_test (test_double_limits),
        cmocka_unit_test (test_too_many_items),
        cmocka_unit_test (test_duplicate_keys),
        cmocka_unit_test (test_unknown_keys_ignored),
        cmocka_unit_test (test_nil_is_absent),
        cmocka_unit_test (test_non_string_keys),
        cmocka_unit_test (test_root_not_a_map),
        cmocka_unit_test (test_empty_input),
        cmocka_unit_test (test_truncated_frames),
        cmocka_unit_test (test_every_format),
        cmocka_unit_test (test_unpack_as_msgpack_c),
        cmocka_unit_test (test_pack_as_msgpack_c),
        cmocka_unit_test (test_huge_declared_lengths),
        cmocka_unit_test (test_nesting_depth),
        cmocka_unit_test (test_reserved_byte),
        cmocka_unit_test (test_trailing_bytes),
        cmocka_unit_test (test_too_many_objects),
        cmocka_unit_test (test_validate_hand_filled),
        cmocka_unit_test (test_msg_clear),
        cmocka_unit_test (test_decode_failure_clears_out),
        cmocka_unit_test (test_json_round_trip),
        cmocka_unit_test (test_json_errors),
        cmocka_unit_test (test_json_null_absent),
        cmocka_unit_test (test_json_chinese_bytes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
