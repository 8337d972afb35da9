/*  fuzz_decode.c — fuzz target for the decoders: any bytes through st_unpack into a request,
    its body as volunteer.register and as an events page

    Besides "never crash, never leak", it checks what the codec promises for every input:
    a refusal is an invalid_argument with a message and leaves the struct zero; what decodes
    passes st_validate, re-encodes to bytes that decode to the same message and encode to the
    same bytes again, and goes through JSON and back unchanged. A broken promise aborts, which
    libFuzzer (or fuzz_main.c) reports as a crash with the input that caused it.
*/
#include "st_codec.h"
#include "st_json.h"
#include "st_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (bool condition, const char *what, const st_desc_t *desc)
{
    if (!condition) {
        fprintf (stderr, "fuzz_decode: %s (%s)\n", what, desc ? desc->name : "frame");
        abort ();
    }
}

//  A refusal must say what is wrong, as invalid_argument, and leave nothing behind
static void
s_check_refusal (const st_error_t *err, const st_desc_t *desc, const void *msg)
{
    s_check (err->code == ST_INVALID_ARGUMENT, "refusal is not invalid_argument", desc);
    s_check (err->message[0] != 0, "refusal without a message", desc);
    s_check (memchr (err->field, 0, sizeof err->field) != NULL, "field not terminated", desc);
    if (desc) {
        const uint8_t *bytes = msg;
        for (size_t i = 0; i < desc->size; i++)
            s_check (bytes[i] == 0, "refused message not cleared", desc);
    }
}

//  The body of a BODY field as bytes, or false when absent
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

//  True when two messages hold the same values and presence flags, field by field
static bool
s_msg_equal (const st_desc_t *desc, const void *a, const void *b, bool with_bodies)
{
    for (size_t i = 0; i < desc->field_count; i++) {
        const st_field_t *f = &desc->fields[i];
        const char *pa = (const char *) a + f->offset, *pb = (const char *) b + f->offset;
        if (f->has_offset
            && *(const bool *) ((const char *) a + f->has_offset)
                   != *(const bool *) ((const char *) b + f->has_offset))
            return false;
        switch (f->type) {
        case ST_T_STR: {
            const char *sa = *(char *const *) pa, *sb = *(char *const *) pb;
            if (!sa != !sb || (sa && strcmp (sa, sb) != 0))
                return false;
            break;
        }
        case ST_T_INT:
            if (*(const int64_t *) pa != *(const int64_t *) pb)
                return false;
            break;
        case ST_T_BOOL:
            if (*(const bool *) pa != *(const bool *) pb)
                return false;
            break;
        case ST_T_DOUBLE:
            if (memcmp (pa, pb, sizeof (double)) != 0)
                return false;
            break;
        case ST_T_BIN: {
            const st_bin_t *ba = (const st_bin_t *) pa, *bb = (const st_bin_t *) pb;
            if (!ba->data != !bb->data || ba->size != bb->size
                || (ba->size && memcmp (ba->data, bb->data, ba->size) != 0))
                return false;
            break;
        }
        case ST_T_STRS: {
            const st_strs_t *la = (const st_strs_t *) pa, *lb = (const st_strs_t *) pb;
            if (la->count != lb->count)
                return false;
            for (size_t j = 0; j < la->count; j++)
                if (strcmp (la->items[j], lb->items[j]) != 0)
                    return false;
            break;
        }
        case ST_T_MSG:
            if (!s_msg_equal (f->sub, pa, pb, with_bodies))
                return false;
            break;
        case ST_T_MSGS: {
            const st_list_t *la = (const st_list_t *) pa, *lb = (const st_list_t *) pb;
            if (la->count != lb->count)
                return false;
            for (size_t j = 0; j < la->count; j++)
                if (!s_msg_equal (f->sub, (const char *) la->items + j * f->sub->size,
                                  (const char *) lb->items + j * f->sub->size, with_bodies))
                    return false;
            break;
        }
        case ST_T_BODY: {
            if (!with_bodies)
                break;
            msgpack_sbuffer sa, sb;
            bool ha = s_body_bytes ((const st_body_t *) pa, &sa);
            bool hb = s_body_bytes ((const st_body_t *) pb, &sb);
            bool same = ha == hb && sa.size == sb.size
                        && (!sa.size || memcmp (sa.data, sb.data, sa.size) == 0);
            msgpack_sbuffer_destroy (&sa);
            msgpack_sbuffer_destroy (&sb);
            if (!same)
                return false;
            break;
        }
        }
    }
    return true;
}

//  Checks the promises about a message that decoded: it validates, its encoding decodes to
//  the same message, that encodes to the same bytes, and (without bodies) JSON keeps it
static void
s_check_decoded (const st_desc_t *desc, const void *msg)
{
    st_error_t err = {ST_OK, "", ""};
    s_check (st_validate (desc, msg, &err) == 0, "decoded message does not validate", desc);

    uint8_t *first, *second;
    size_t first_size, second_size;
    s_check (st_encode (desc, msg, &first, &first_size) == 0, "encoding failed", desc);
    st_unpacked_t unpacked;
    s_check (st_unpack (first, first_size, &unpacked, &err) == 0, "re-encoding does not unpack",
             desc);
    _Alignas(max_align_t) uint8_t again[1024];
    s_check (desc->size <= sizeof again, "message larger than the test buffer", desc);
    s_check (st_decode_object (desc, &unpacked.unpacked.data, again, &err) == 0,
             "re-encoding does not decode", desc);
    s_check (s_msg_equal (desc, msg, again, true), "re-encoding decodes to another message", desc);
    s_check (st_encode (desc, again, &second, &second_size) == 0, "encoding failed", desc);
    s_check (second_size == first_size && memcmp (first, second, first_size) == 0,
             "encoding is not stable", desc);
    st_msg_clear (desc, again);
    st_unpacked_destroy (&unpacked);
    free (first);
    free (second);

    bool has_body = false;
    for (size_t i = 0; i < desc->field_count; i++)
        has_body |= desc->fields[i].type == ST_T_BODY;
    if (!has_body) {
        json_t *json = st_msg_to_json (desc, msg);
        s_check (json != NULL, "no JSON for a message", desc);
        int rc = st_json_to_msg (desc, json, again, &err);
        json_decref (json);
        s_check (rc == 0, "JSON of a decoded message is refused", desc);
        s_check (s_msg_equal (desc, msg, again, false), "JSON changes the message", desc);
        st_msg_clear (desc, again);
    }
}

//  Decodes an object as desc and checks the outcome either way
static void
s_decode (const st_desc_t *desc, const msgpack_object *object)
{
    _Alignas(max_align_t) uint8_t msg[1024];
    st_error_t err = {ST_OK, "", ""};
    memset (msg, 0xa5, desc->size);
    if (st_decode_object (desc, object, msg, &err) == 0) {
        s_check_decoded (desc, msg);
        st_msg_clear (desc, msg);
        for (size_t i = 0; i < desc->size; i++)
            s_check (msg[i] == 0, "cleared message not zero", desc);
    } else
        s_check_refusal (&err, desc, msg);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    st_error_t err = {ST_OK, "", ""};
    int prescan = st_prescan (data, size, &err);
    if (prescan)
        s_check_refusal (&err, NULL, NULL);

    st_unpacked_t unpacked;
    err = (st_error_t){ST_OK, "", ""};
    if (st_unpack (data, size, &unpacked, &err)) {
        s_check_refusal (&err, NULL, NULL);
        s_check (!unpacked.live, "refused frame left live", NULL);
        msg_request_t request;
        err = (st_error_t){ST_OK, "", ""};
        s_check (st_decode (&msg_request_desc, data, size, &request, &err) == -1,
                 "st_decode accepts what st_unpack refuses", &msg_request_desc);
        s_check_refusal (&err, &msg_request_desc, &request);
        return 0;
    }
    s_check (prescan == 0, "st_unpack accepts what the pre-scan refuses", NULL);
    s_check (unpacked.unpacked.data.type == MSGPACK_OBJECT_MAP, "root is not a map", NULL);

    msg_request_t request;
    memset (&request, 0xa5, sizeof request);
    if (st_decode_object (&msg_request_desc, &unpacked.unpacked.data, &request, &err) == 0) {
        s_check_decoded (&msg_request_desc, &request);
        if (request.body.object) {
            s_decode (&msg_volunteer_register_desc, request.body.object);
            s_decode (&msg_events_desc, request.body.object);
        }
        st_msg_clear (&msg_request_desc, &request);
        const uint8_t *bytes = (const uint8_t *) &request;
        for (size_t i = 0; i < sizeof request; i++)
            s_check (bytes[i] == 0, "cleared request not zero", &msg_request_desc);
        //  The one-call decoder agrees, and keeps no pointer into the released tree
        s_check (st_decode (&msg_request_desc, data, size, &request, &err) == 0,
                 "st_decode refuses what st_decode_object accepts", &msg_request_desc);
        s_check (request.body.object == NULL, "st_decode kept a body", &msg_request_desc);
        st_msg_clear (&msg_request_desc, &request);
    } else
        s_check_refusal (&err, &msg_request_desc, &request);

    //  The body messages as roots too, so that mutations reach them in one step
    s_decode (&msg_volunteer_register_desc, &unpacked.unpacked.data);
    s_decode (&msg_events_desc, &unpacked.unpacked.data);
    st_unpacked_destroy (&unpacked);
    s_check (!unpacked.live, "destroyed frame still live", NULL);
    return 0;
}
