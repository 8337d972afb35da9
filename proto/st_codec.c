/*  st_codec.c — the table-driven msgpack codec: pre-scan, decode, validate, encode, clear  */
#include "st_codec.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------
//  One allocator: out of memory aborts (style.md, "Errors").

void *
st_malloc (size_t size)
{
    void *p = malloc (size ? size : 1);
    if (!p)
        abort ();
    return p;
}

void *
st_calloc (size_t count, size_t size)
{
    void *p = calloc (count ? count : 1, size ? size : 1);
    if (!p)
        abort ();
    return p;
}

char *
st_strndup (const char *s, size_t len)
{
    char *copy = st_malloc (len + 1);
    memcpy (copy, s, len);
    copy[len] = 0;
    return copy;
}

char *
st_strdup (const char *s)
{
    return s ? st_strndup (s, strlen (s)) : NULL;
}

//  ---------------------------------------------------------------------------------------
//  Pre-scan

static inline uint64_t
s_be (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

//  st_prescan, counting the objects into *count.
static int
s_prescan (const uint8_t *data, size_t size, size_t *count, st_error_t *err)
{
    size_t remaining[ST_CODEC_MAX_DEPTH + 1];
    int depth = 0;
    size_t pos = 0, objects = 0;
    remaining[0] = 1;

    while (depth >= 0) {
        if (remaining[depth] == 0) {
            depth--;
            continue;
        }
        remaining[depth]--;
        if (pos >= size)
            return st_error_set (err, ST_INVALID_ARGUMENT, NULL, "message is truncated"), -1;
        if (++objects > ST_CODEC_MAX_OBJECTS)
            return st_error_set (err, ST_INVALID_ARGUMENT, NULL, "message has too many values"), -1;
        uint8_t b = data[pos++];
        size_t left = size - pos;
        uint64_t skip = 0;  //  payload bytes after the header
        uint64_t items = 0; //  child objects, for containers
        bool container = false;
        int width = 0; //  bytes of length or count that follow the tag

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ;
        else if (b >= 0x80 && b <= 0x8f)
            container = true, items = 2 * (uint64_t) (b & 0x0f);
        else if (b >= 0x90 && b <= 0x9f)
            container = true, items = b & 0x0f;
        else if (b >= 0xa0 && b <= 0xbf)
            skip = b & 0x1f;
        else
            switch (b) {
            case 0xc4:
            case 0xd9:
                width = 1;
                break; //  bin8, str8
            case 0xc5:
            case 0xda:
                width = 2;
                break; //  bin16, str16
            case 0xc6:
            case 0xdb:
                width = 4;
                break; //  bin32, str32
            case 0xc7:
                width = 1;
                skip = 1;
                break; //  ext8
            case 0xc8:
                width = 2;
                skip = 1;
                break; //  ext16
            case 0xc9:
                width = 4;
                skip = 1;
                break; //  ext32
            case 0xca:
                skip = 4;
                break; //  float32
            case 0xcb:
                skip = 8;
                break; //  float64
            case 0xcc:
            case 0xd0:
                skip = 1;
                break;
            case 0xcd:
            case 0xd1:
                skip = 2;
                break;
            case 0xce:
            case 0xd2:
                skip = 4;
                break;
            case 0xcf:
            case 0xd3:
                skip = 8;
                break;
            case 0xd4:
                skip = 2;
                break; //  fixext1
            case 0xd5:
                skip = 3;
                break;
            case 0xd6:
                skip = 5;
                break;
            case 0xd7:
                skip = 9;
                break;
            case 0xd8:
                skip = 17;
                break;
            case 0xdc:
                container = true;
                width = 2;
                break; //  array16
            case 0xdd:
                container = true;
                width = 4;
                break; //  array32
            case 0xde:
                container = true;
                width = 2;
                items = 1;
                break; //  map16 (x2 below)
            case 0xdf:
                container = true;
                width = 4;
                items = 1;
                break; //  map32
            default:
                return st_error_set (err, ST_INVALID_ARGUMENT, NULL,
                                     "message has an invalid byte 0x%02x at offset %zu", b,
                                     pos - 1),
                       -1;
            }
        if (width) {
            if (left < (size_t) width)
                return st_error_set (err, ST_INVALID_ARGUMENT, NULL, "message is truncated"), -1;
            uint64_t n = s_be (data + pos, width);
            pos += width;
            left -= width;
            if (container)
                items = items ? 2 * n : n; //  maps hold key and value
            else
                skip += n;
        }
        if (container) {
            //  Every child takes at least one byte: a count larger than the bytes left is a lie.
            if (items > left)
                return st_error_set (err, ST_INVALID_ARGUMENT, NULL,
                                     "message declares %llu values in %zu bytes",
                                     (unsigned long long) items, left),
                       -1;
            if (depth + 1 > ST_CODEC_MAX_DEPTH)
                return st_error_set (err, ST_INVALID_ARGUMENT, NULL, "message nests deeper than %d",
                                     ST_CODEC_MAX_DEPTH),
                       -1;
            remaining[++depth] = (size_t) items;
        } else {
            if (skip > left)
                return st_error_set (err, ST_INVALID_ARGUMENT, NULL,
                                     "message declares %llu bytes with %zu left",
                                     (unsigned long long) skip, left),
                       -1;
            pos += (size_t) skip;
        }
    }
    if (pos != size)
        return st_error_set (err, ST_INVALID_ARGUMENT, NULL, "message has %zu trailing bytes",
                             size - pos),
               -1;
    *count = objects;
    return 0;
}

int
st_prescan (const uint8_t *data, size_t size, st_error_t *err)
{
    size_t count;
    return s_prescan (data, size, &count, err);
}

//  ---------------------------------------------------------------------------------------
//  Unpacking what the pre-scan accepted

//  Builds the object at p as msgpack-c's unpacker does (the same types; strings, binaries
//  and extensions pointing into the bytes), its children taken in order from *next. The
//  bytes have passed the pre-scan: every length fits and nesting is bounded, so nothing is
//  checked again. Returns the byte after the object.
static const uint8_t *
s_build (const uint8_t *p, msgpack_object *o, msgpack_object **next)
{
    uint8_t b = *p++;
    uint64_t n = 0;
    if (b <= 0x7f) {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = b;
        return p;
    }
    if (b >= 0xe0) {
        o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o->via.i64 = (int8_t) b;
        return p;
    }
    if (b <= 0x8f) {
        n = b & 0x0f;
        goto map;
    }
    if (b <= 0x9f) {
        n = b & 0x0f;
        goto array;
    }
    if (b <= 0xbf) {
        n = b & 0x1f;
        goto str;
    }
    switch (b) {
    case 0xc0:
        o->type = MSGPACK_OBJECT_NIL;
        return p;
    case 0xc2:
    case 0xc3:
        o->type = MSGPACK_OBJECT_BOOLEAN;
        o->via.boolean = b == 0xc3;
        return p;
    case 0xc4:
    case 0xc5:
    case 0xc6: {
        int width = 1 << (b - 0xc4);
        n = s_be (p, width);
        p += width;
        o->type = MSGPACK_OBJECT_BIN;
        o->via.bin.size = (uint32_t) n;
        o->via.bin.ptr = (const char *) p;
        return p + n;
    }
    case 0xc7:
    case 0xc8:
    case 0xc9: {
        int width = 1 << (b - 0xc7);
        n = s_be (p, width);
        p += width;
        goto ext;
    }
    case 0xca: {
        uint32_t bits = (uint32_t) s_be (p, 4);
        float f;
        memcpy (&f, &bits, 4);
        o->type = MSGPACK_OBJECT_FLOAT32;
        o->via.f64 = f;
        return p + 4;
    }
    case 0xcb: {
        uint64_t bits = s_be (p, 8);
        double d;
        memcpy (&d, &bits, 8);
        o->type = MSGPACK_OBJECT_FLOAT64;
        o->via.f64 = d;
        return p + 8;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
        int width = 1 << (b - 0xcc);
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = s_be (p, width);
        return p + width;
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        int width = 1 << (b - 0xd0);
        uint64_t bits = s_be (p, width);
        int64_t v;
        if (width == 1)
            v = (int8_t) bits;
        else if (width == 2)
            v = (int16_t) bits;
        else if (width == 4)
            v = (int32_t) bits;
        else
            v = (int64_t) bits;
        //  As msgpack-c: a signed encoding of a value >= 0 is a positive integer.
        if (v >= 0) {
            o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            o->via.u64 = (uint64_t) v;
        } else {
            o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
            o->via.i64 = v;
        }
        return p + width;
    }
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        n = (uint64_t) 1 << (b - 0xd4);
        goto ext;
    case 0xd9:
    case 0xda:
    case 0xdb: {
        int width = 1 << (b - 0xd9);
        n = s_be (p, width);
        p += width;
        goto str;
    }
    case 0xdc:
    case 0xdd: {
        int width = b == 0xdc ? 2 : 4;
        n = s_be (p, width);
        p += width;
        goto array;
    }
    default: { //  0xde, 0xdf: the pre-scan refused every other byte
        int width = b == 0xde ? 2 : 4;
        n = s_be (p, width);
        p += width;
        goto map;
    }
    }
str:
    o->type = MSGPACK_OBJECT_STR;
    o->via.str.size = (uint32_t) n;
    o->via.str.ptr = (const char *) p;
    return p + n;
ext:
    o->type = MSGPACK_OBJECT_EXT;
    o->via.ext.type = (int8_t) *p;
    o->via.ext.size = (uint32_t) n;
    o->via.ext.ptr = (const char *) p + 1;
    return p + 1 + n;
array:
    o->type = MSGPACK_OBJECT_ARRAY;
    o->via.array.size = (uint32_t) n;
    o->via.array.ptr = *next;
    *next += n;
    for (uint64_t i = 0; i < n; i++)
        p = s_build (p, &o->via.array.ptr[i], next);
    return p;
map:
    o->type = MSGPACK_OBJECT_MAP;
    o->via.map.size = (uint32_t) n;
    o->via.map.ptr = (msgpack_object_kv *) *next;
    *next += 2 * n;
    for (uint64_t i = 0; i < n; i++) {
        p = s_build (p, &o->via.map.ptr[i].key, next);
        p = s_build (p, &o->via.map.ptr[i].val, next);
    }
    return p;
}

//  Pre-scans the bytes then builds their tree into `root`, its children in `local` when
//  `local_count` objects hold them, else in a block returned in *block (the caller frees it).
//  The root must be a map. Returns 0, or -1 with err set.
static int
s_unpack (const uint8_t *data, size_t size, msgpack_object *root, msgpack_object *local,
          size_t local_count, msgpack_object **block, st_error_t *err)
{
    *block = NULL;
    if (size == 0)
        return st_error_set (err, ST_INVALID_ARGUMENT, NULL, "message is empty"), -1;
    size_t count;
    if (s_prescan (data, size, &count, err))
        return -1;
    if (data[0] < 0x80 || data[0] > 0x8f) {
        if (data[0] != 0xde && data[0] != 0xdf)
            return st_error_set (err, ST_INVALID_ARGUMENT, NULL, "message must be a map"), -1;
    }
    msgpack_object none;
    msgpack_object *children = local ? local : &none;
    if (count - 1 > local_count)
        children = *block = st_malloc ((count - 1) * sizeof (msgpack_object));
    msgpack_object *next = children;
    s_build (data, root, &next);
    assert (next <= children + (count - 1));
    return 0;
}

int
st_unpack (const uint8_t *data, size_t size, st_unpacked_t *out, st_error_t *err)
{
    out->live = false;
    memset (&out->unpacked, 0, sizeof out->unpacked);
    if (s_unpack (data, size, &out->unpacked.data, NULL, 0, &out->block, err))
        return -1;
    out->live = true;
    return 0;
}

void
st_unpacked_destroy (st_unpacked_t *self)
{
    if (self && self->live) {
        free (self->block);
        self->block = NULL;
        self->live = false;
    }
}

//  ---------------------------------------------------------------------------------------
//  Value checks shared by decoding and validation

bool
st_utf8_check (const char *s, size_t len, size_t *chars)
{
    const uint8_t *p = (const uint8_t *) s, *end = p + len;
    size_t count = 0;
    while (p < end) {
        //  Eight ASCII bytes at a time, none of them NUL: the common case for names and codes.
        if (end - p >= 8) {
            uint64_t w;
            memcpy (&w, p, 8);
            if (!(w & 0x8080808080808080ull)
                && !((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)) {
                p += 8;
                count += 8;
                continue;
            }
        }
        uint8_t c = *p;
        int n;
        uint32_t cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            p++;
            count++;
            continue;
        }
        //  Three bytes, as Chinese text is, spelled out: the same checks as the loop below.
        if ((c & 0xf0) == 0xe0 && end - p > 2 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
            cp = (uint32_t) (c & 0x0f) << 12 | (uint32_t) (p[1] & 0x3f) << 6 | (p[2] & 0x3f);
            if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
                return false;
            p += 3;
            count++;
            continue;
        }
        if ((c & 0xe0) == 0xc0)
            n = 1, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0)
            n = 2, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0)
            n = 3, cp = c & 0x07;
        else
            return false;
        if (end - p <= n)
            return false;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        //  Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
            || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        p += n + 1;
        count++;
    }
    if (chars)
        *chars = count;
    return true;
}

static int
s_check_str (const st_field_t *f, const char *path, const char *s, size_t len, int64_t lo,
             int64_t hi, st_error_t *err)
{
    size_t chars;
    //  A character takes at most 4 bytes: refuse absurd lengths before walking them.
    if (hi > 0 && len > (size_t) hi * 4)
        return st_error_set (err, ST_INVALID_ARGUMENT, path,
                             "\"%s\" must be at most %lld characters", path, (long long) hi),
               -1;
    if (!st_utf8_check (s, len, &chars))
        return st_error_set (err, ST_INVALID_ARGUMENT, path,
                             "\"%s\" must be valid UTF-8 text without NUL", path),
               -1;
    if ((int64_t) chars < lo)
        return st_error_set (err, ST_INVALID_ARGUMENT, path,
                             lo == 1 ? "\"%s\" must not be empty"
                                     : "\"%s\" must be at least %lld characters",
                             path, (long long) lo),
               -1;
    if (hi > 0 && (int64_t) chars > hi)
        return st_error_set (err, ST_INVALID_ARGUMENT, path,
                             "\"%s\" must be at most %lld characters", path, (long long) hi),
               -1;
    (void) f;
    return 0;
}

static int
s_check_int (const st_field_t *f, const char *path, int64_t v, st_error_t *err)
{
    if (v < f->min || v > f->max)
        return st_error_set (err, ST_INVALID_ARGUMENT, path, "\"%s\" must be between %lld and %lld",
                             path, (long long) f->min, (long long) f->max),
               -1;
    return 0;
}

static int
s_check_double (const st_field_t *f, const char *path, double v, st_error_t *err)
{
    if (!isfinite (v) || v < f->dmin || v > f->dmax)
        return st_error_set (err, ST_INVALID_ARGUMENT, path, "\"%s\" must be between %g and %g",
                             path, f->dmin, f->dmax),
               -1;
    return 0;
}

static int
s_check_bin (const st_field_t *f, const char *path, size_t size, st_error_t *err)
{
    if ((int64_t) size < f->min || (f->max > 0 && (int64_t) size > f->max))
        return st_error_set (err, ST_INVALID_ARGUMENT, path, "\"%s\" must be %lld to %lld bytes",
                             path, (long long) f->min, (long long) f->max),
               -1;
    return 0;
}

static int
s_type_error (const char *path, const char *what, st_error_t *err)
{
    st_error_set (err, ST_INVALID_ARGUMENT, path, "\"%s\" must be %s", path, what);
    return -1;
}

//  Joins a prefix and a field name ("actor" + "role" → "actor.role"), truncating to fit.
//  On the decode path for every field, so no printf.
static void
s_path (char *buf, size_t size, const char *prefix, const char *name)
{
    size_t used = 0;
    for (const char *p = prefix ? prefix : ""; *p && used + 1 < size; p++)
        buf[used++] = *p;
    if (used && used + 1 < size)
        buf[used++] = '.';
    for (const char *p = name; *p && used + 1 < size; p++)
        buf[used++] = *p;
    buf[used] = 0;
}

static bool *
s_has (const st_field_t *f, void *msg)
{
    return f->has_offset ? (bool *) ((char *) msg + f->has_offset) : NULL;
}

static bool
s_present (const st_field_t *f, const void *msg)
{
    const char *at = (const char *) msg + f->offset;
    switch (f->type) {
    case ST_T_STR:
        return *(char *const *) at != NULL;
    case ST_T_BIN:
        return ((const st_bin_t *) at)->data != NULL;
    case ST_T_BODY:
        return ((const st_body_t *) at)->object || ((const st_body_t *) at)->data;
    case ST_T_STRS:
    case ST_T_MSGS:
        return *(const bool *) ((const char *) msg + f->has_offset)
               || ((const st_list_t *) at)->count > 0;
    default:
        return *(const bool *) ((const char *) msg + f->has_offset);
    }
}

//  Refuses a list of more than f->max_items items. Returns 0, or -1 with err set.
static int
s_check_items (const st_field_t *f, const char *path, size_t count, st_error_t *err)
{
    if (count > f->max_items)
        return st_error_set (err, ST_INVALID_ARGUMENT, path, "\"%s\" must have at most %zu items",
                             path, f->max_items),
               -1;
    return 0;
}

//  Writes the path of a list's item ("skills" + 2 → "skills[2]").
static void
s_item_path (char *buf, size_t size, const char *path, size_t index)
{
    snprintf (buf, size, "%s[%zu]", path, index);
}

//  ---------------------------------------------------------------------------------------
//  Lists, decoded alike from msgpack and from JSON

//  Starts list field f (STRS or MSGS) of msg with `count` items: checks the count, allocates
//  the zeroed items into the list and sets has_. Returns the items, or NULL with err set.
static char *
s_list_begin (const st_field_t *f, void *msg, const char *path, size_t count, st_error_t *err)
{
    if (s_check_items (f, path, count, err))
        return NULL;
    char *at = (char *) msg + f->offset;
    char *items = st_calloc (count, f->type == ST_T_STRS ? sizeof (char *) : f->sub->size);
    if (f->type == ST_T_STRS)
        ((st_strs_t *) at)->items = (char **) items;
    else
        ((st_list_t *) at)->items = items;
    *s_has (f, msg) = true;
    return items;
}

int
st_decode_list (const st_field_t *f, void *msg, const char *path, size_t count,
                st_item_fn *decode_item, const void *array, int depth, st_error_t *err)
{
    assert (f->type == ST_T_STRS || f->type == ST_T_MSGS);
    char *items = s_list_begin (f, msg, path, count, err);
    if (!items)
        return -1;
    bool strs = f->type == ST_T_STRS;
    size_t size = strs ? sizeof (char *) : f->sub->size;
    char *at = (char *) msg + f->offset;
    for (size_t i = 0; i < count; i++) {
        char item_path[160];
        s_item_path (item_path, sizeof item_path, path, i);
        //  Counted before it is decoded, so that st_msg_clear frees what a failed item holds.
        if (strs)
            ((st_strs_t *) at)->count = i + 1;
        else
            ((st_list_t *) at)->count = i + 1;
        if (decode_item (f, array, i, items + i * size, item_path, depth, err))
            return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Decoding

static int s_decode_map (const st_desc_t *desc, const msgpack_object *object, void *out,
                         const char *prefix, int depth, st_error_t *err);

static int
s_decode_str (const st_field_t *f, const char *path, const msgpack_object *v, int64_t lo,
              int64_t hi, char **out, st_error_t *err)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return s_type_error (path, "a string", err);
    if (s_check_str (f, path, v->via.str.ptr, v->via.str.size, lo, hi, err))
        return -1;
    *out = st_strndup (v->via.str.ptr, v->via.str.size);
    return 0;
}

//  Decodes item `index` of msgpack array `array` into `item`, a message of f->sub; for
//  st_decode_list.
static int
s_decode_item (const st_field_t *f, const void *array, size_t index, void *item, const char *path,
               int depth, st_error_t *err)
{
    const msgpack_object *v = &((const msgpack_object *) array)->via.array.ptr[index];
    if (v->type != MSGPACK_OBJECT_MAP)
        return s_type_error (path, "an object", err);
    return s_decode_map (f->sub, v, item, path, depth + 1, err);
}

static int
s_decode_field (const st_field_t *f, const char *path, const msgpack_object *v, void *out,
                int depth, st_error_t *err)
{
    char *at = (char *) out + f->offset;
    bool *has = s_has (f, out);
    switch (f->type) {
    case ST_T_STR:
        return s_decode_str (f, path, v, f->min, f->max, (char **) at, err);
    case ST_T_INT: {
        int64_t value;
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            if (v->via.u64 > (uint64_t) INT64_MAX)
                return st_error_set (err, ST_INVALID_ARGUMENT, path,
                                     "\"%s\" must be between %lld and %lld", path,
                                     (long long) f->min, (long long) f->max),
                       -1;
            value = (int64_t) v->via.u64;
        } else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            value = v->via.i64;
        else
            return s_type_error (path, "an integer", err);
        if (s_check_int (f, path, value, err))
            return -1;
        *(int64_t *) at = value;
        *has = true;
        return 0;
    }
    case ST_T_BOOL:
        if (v->type != MSGPACK_OBJECT_BOOLEAN)
            return s_type_error (path, "true or false", err);
        *(bool *) at = v->via.boolean;
        *has = true;
        return 0;
    case ST_T_DOUBLE: {
        double value;
        if (v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32)
            value = v->via.f64;
        else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            value = (double) v->via.u64;
        else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            value = (double) v->via.i64;
        else
            return s_type_error (path, "a number", err);
        if (s_check_double (f, path, value, err))
            return -1;
        *(double *) at = value;
        *has = true;
        return 0;
    }
    case ST_T_BIN: {
        if (v->type != MSGPACK_OBJECT_BIN)
            return s_type_error (path, "binary", err);
        if (s_check_bin (f, path, v->via.bin.size, err))
            return -1;
        st_bin_t *bin = (st_bin_t *) at;
        bin->data = st_malloc (v->via.bin.size);
        memcpy (bin->data, v->via.bin.ptr, v->via.bin.size);
        bin->size = v->via.bin.size;
        return 0;
    }
    case ST_T_STRS: {
        if (v->type != MSGPACK_OBJECT_ARRAY)
            return s_type_error (path, "a list of strings", err);
        //  Not st_decode_list: this loop is hot, and spells out an item's path only when it is
        //  wrong.
        if (!s_list_begin (f, out, path, v->via.array.size, err))
            return -1;
        st_strs_t *list = (st_strs_t *) at;
        for (uint32_t i = 0; i < v->via.array.size; i++) {
            const msgpack_object *item = &v->via.array.ptr[i];
            if (item->type == MSGPACK_OBJECT_STR
                && s_check_str (f, NULL, item->via.str.ptr, item->via.str.size, f->min, f->max,
                                NULL)
                       == 0) {
                list->items[i] = st_strndup (item->via.str.ptr, item->via.str.size);
                list->count = i + 1;
                continue;
            }
            char item_path[160];
            s_item_path (item_path, sizeof item_path, path, i);
            return s_decode_str (f, item_path, item, f->min, f->max, &list->items[i], err);
        }
        return 0;
    }
    case ST_T_MSG:
        if (v->type != MSGPACK_OBJECT_MAP)
            return s_type_error (path, "an object", err);
        *has = true;
        return s_decode_map (f->sub, v, at, path, depth + 1, err);
    case ST_T_MSGS:
        if (v->type != MSGPACK_OBJECT_ARRAY)
            return s_type_error (path, "a list of objects", err);
        return st_decode_list (f, out, path, v->via.array.size, s_decode_item, v, depth, err);
    case ST_T_BODY:
        if (v->type != MSGPACK_OBJECT_MAP)
            return s_type_error (path, "an object", err);
        ((st_body_t *) at)->object = v;
        return 0;
    }
    return s_type_error (path, "known", err);
}

static int
s_check_required (const st_desc_t *desc, const void *msg, const char *prefix, st_error_t *err)
{
    for (size_t i = 0; i < desc->field_count; i++) {
        const st_field_t *f = &desc->fields[i];
        if (f->required && !s_present (f, msg)) {
            char path[128];
            s_path (path, sizeof path, prefix, f->name);
            return st_error_set (err, ST_INVALID_ARGUMENT, path, "\"%s\" is required", path), -1;
        }
    }
    return 0;
}

static int
s_decode_map (const st_desc_t *desc, const msgpack_object *object, void *out, const char *prefix,
              int depth, st_error_t *err)
{
    assert (desc->field_count <= 64);
    if (depth > ST_CODEC_MAX_DEPTH)
        return st_error_set (err, ST_INVALID_ARGUMENT, prefix, "message nests too deep"), -1;
    uint64_t seen = 0;
    const msgpack_object_map *map = &object->via.map;
    //  Keys mostly come in the order of the fields (st_pack writes them so): the search for
    //  each starts after the field the last one named, and wraps around.
    size_t next = 0;
    for (uint32_t k = 0; k < map->size; k++) {
        const msgpack_object *key = &map->ptr[k].key;
        const msgpack_object *value = &map->ptr[k].val;
        if (key->type != MSGPACK_OBJECT_STR)
            return st_error_set (err, ST_INVALID_ARGUMENT, prefix, "keys must be strings"), -1;
        for (size_t j = 0; j < desc->field_count; j++) {
            size_t i = next + j < desc->field_count ? next + j : next + j - desc->field_count;
            const st_field_t *f = &desc->fields[i];
            if (f->name_len != key->via.str.size
                || memcmp (f->name, key->via.str.ptr, key->via.str.size) != 0)
                continue;
            char path[128];
            s_path (path, sizeof path, prefix, f->name);
            if (seen & (1ull << i))
                return st_error_set (err, ST_INVALID_ARGUMENT, path, "\"%s\" is given twice", path),
                       -1;
            seen |= 1ull << i;
            next = i + 1;
            //  nil stands for "not given", as JSON null does.
            if (value->type != MSGPACK_OBJECT_NIL
                && s_decode_field (f, path, value, out, depth, err))
                return -1;
            break;
        }
        //  Unknown keys are ignored, so that versions can roll.
    }
    return s_check_required (desc, out, prefix, err);
}

int
st_decode_object (const st_desc_t *desc, const msgpack_object *object, void *out, st_error_t *err)
{
    memset (out, 0, desc->size);
    if (object->type != MSGPACK_OBJECT_MAP)
        return st_error_set (err, ST_INVALID_ARGUMENT, NULL, "message must be a map"), -1;
    if (s_decode_map (desc, object, out, "", 1, err)) {
        st_msg_clear (desc, out);
        return -1;
    }
    return 0;
}

int
st_decode (const st_desc_t *desc, const uint8_t *data, size_t size, void *out, st_error_t *err)
{
    //  A message's tree on the stack when it is small, as most are.
    msgpack_object_kv local[32];
    msgpack_object root, *block;
    memset (out, 0, desc->size);
    if (s_unpack (data, size, &root, (msgpack_object *) local, 2 * 32, &block, err))
        return -1;
    int rc = st_decode_object (desc, &root, out, err);
    //  BODY fields would point into the released tree.
    for (size_t i = 0; rc == 0 && i < desc->field_count; i++)
        if (desc->fields[i].type == ST_T_BODY)
            ((st_body_t *) ((char *) out + desc->fields[i].offset))->object = NULL;
    free (block);
    return rc;
}

//  ---------------------------------------------------------------------------------------
//  Clearing

void
st_msg_clear (const st_desc_t *desc, void *msg)
{
    if (!msg)
        return;
    for (size_t i = 0; i < desc->field_count; i++) {
        const st_field_t *f = &desc->fields[i];
        char *at = (char *) msg + f->offset;
        switch (f->type) {
        case ST_T_STR:
            free (*(char **) at);
            break;
        case ST_T_BIN:
            free (((st_bin_t *) at)->data);
            break;
        case ST_T_STRS: {
            st_strs_t *list = (st_strs_t *) at;
            for (size_t j = 0; j < list->count; j++)
                free (list->items[j]);
            free (list->items);
            break;
        }
        case ST_T_MSG:
            st_msg_clear (f->sub, at);
            break;
        case ST_T_MSGS: {
            st_list_t *list = (st_list_t *) at;
            for (size_t j = 0; j < list->count; j++)
                st_msg_clear (f->sub, (char *) list->items + j * f->sub->size);
            free (list->items);
            break;
        }
        default:
            break;
        }
    }
    memset (msg, 0, desc->size);
}

//  ---------------------------------------------------------------------------------------
//  Validation of hand-filled messages (the JSON bridge and our own replies)

int st_validate (const st_desc_t *desc, const void *msg, st_error_t *err);

static int s_validate_map (const st_desc_t *desc, const void *msg, const char *prefix,
                           st_error_t *err);

//  Validates list field f (STRS or MSGS) at `at`: its count, then each item under its path.
static int
s_validate_list (const st_field_t *f, const char *at, const char *path, st_error_t *err)
{
    const st_strs_t *strs = f->type == ST_T_STRS ? (const st_strs_t *) at : NULL;
    const st_list_t *list = strs ? NULL : (const st_list_t *) at;
    size_t count = strs ? strs->count : list->count;
    if (s_check_items (f, path, count, err))
        return -1;
    for (size_t j = 0; j < count; j++) {
        char item_path[160];
        s_item_path (item_path, sizeof item_path, path, j);
        if (strs
            && s_check_str (f, item_path, strs->items[j], strlen (strs->items[j]), f->min, f->max,
                            err))
            return -1;
        if (list
            && s_validate_map (f->sub, (const char *) list->items + j * f->sub->size, item_path,
                               err))
            return -1;
    }
    return 0;
}

static int
s_validate_map (const st_desc_t *desc, const void *msg, const char *prefix, st_error_t *err)
{
    for (size_t i = 0; i < desc->field_count; i++) {
        const st_field_t *f = &desc->fields[i];
        const char *at = (const char *) msg + f->offset;
        char path[128];
        s_path (path, sizeof path, prefix, f->name);
        if (!s_present (f, msg)) {
            if (f->required)
                return st_error_set (err, ST_INVALID_ARGUMENT, path, "\"%s\" is required", path),
                       -1;
            continue;
        }
        switch (f->type) {
        case ST_T_STR: {
            const char *s = *(char *const *) at;
            if (s_check_str (f, path, s, strlen (s), f->min, f->max, err))
                return -1;
            break;
        }
        case ST_T_INT:
            if (s_check_int (f, path, *(const int64_t *) at, err))
                return -1;
            break;
        case ST_T_DOUBLE:
            if (s_check_double (f, path, *(const double *) at, err))
                return -1;
            break;
        case ST_T_BIN:
            if (s_check_bin (f, path, ((const st_bin_t *) at)->size, err))
                return -1;
            break;
        case ST_T_STRS:
        case ST_T_MSGS:
            if (s_validate_list (f, at, path, err))
                return -1;
            break;
        case ST_T_MSG:
            if (s_validate_map (f->sub, at, path, err))
                return -1;
            break;
        default:
            break;
        }
    }
    return 0;
}

int
st_validate (const st_desc_t *desc, const void *msg, st_error_t *err)
{
    return s_validate_map (desc, msg, "", err);
}

//  ---------------------------------------------------------------------------------------
//  Packing

//  The packer writes through a buffer of its own: one call of the packer's callback for a
//  whole small message instead of two a value. Headers are written as msgpack-c writes them
//  (the smallest form that holds the length); numbers and nested opaque maps go through
//  msgpack-c's own functions, writing into the same buffer.
typedef struct {
    msgpack_packer *pk; //  where the bytes go
    msgpack_packer own; //  msgpack-c's functions writing into `buffer`
    size_t used;
    char buffer[1024];
} s_out_t;

static void
s_out_flush (s_out_t *out)
{
    if (out->used)
        out->pk->callback (out->pk->data, out->buffer, out->used);
    out->used = 0;
}

static inline void
s_out_put (s_out_t *out, const void *data, size_t size)
{
    if (size > sizeof out->buffer - out->used) {
        s_out_flush (out);
        if (size >= sizeof out->buffer) {
            out->pk->callback (out->pk->data, data, size);
            return;
        }
    }
    memcpy (out->buffer + out->used, data, size);
    out->used += size;
}

static int
s_out_write (void *data, const char *buf, size_t len)
{
    s_out_put (data, buf, len);
    return 0;
}

//  A map, array, str or bin header: `fix` (0x80, 0x90, 0xa0, 0 for bin) holds counts below
//  `fix_limit` in its low bits; then the 8-bit form (str and bin), then 16 and 32 bits.
static inline void
s_out_head (s_out_t *out, uint8_t fix, size_t fix_limit, uint8_t tag8, uint8_t tag16, uint8_t tag32,
            size_t n)
{
    uint8_t head[5];
    if (n < fix_limit)
        head[0] = fix | (uint8_t) n, s_out_put (out, head, 1);
    else if (tag8 && n < 256)
        head[0] = tag8, head[1] = (uint8_t) n, s_out_put (out, head, 2);
    else if (n < 65536)
        head[0] = tag16, head[1] = (uint8_t) (n >> 8), head[2] = (uint8_t) n,
        s_out_put (out, head, 3);
    else
        head[0] = tag32, head[1] = (uint8_t) (n >> 24), head[2] = (uint8_t) (n >> 16),
        head[3] = (uint8_t) (n >> 8), head[4] = (uint8_t) n, s_out_put (out, head, 5);
}

#define S_MAP(out, n)   s_out_head (out, 0x80, 16, 0, 0xde, 0xdf, n)
#define S_ARRAY(out, n) s_out_head (out, 0x90, 16, 0, 0xdc, 0xdd, n)
#define S_STR(out, n)   s_out_head (out, 0xa0, 32, 0xd9, 0xda, 0xdb, n)
#define S_BIN(out, n)   s_out_head (out, 0, 0, 0xc4, 0xc5, 0xc6, n)

static inline void
s_out_str (s_out_t *out, const char *s, size_t len)
{
    S_STR (out, len);
    s_out_put (out, s, len);
}

static void
s_pack (s_out_t *out, const st_desc_t *desc, const void *msg)
{
    //  Which fields are present, found once (a descriptor has at most 64 fields).
    assert (desc->field_count <= 64);
    uint64_t present = 0;
    size_t count = 0;
    for (size_t i = 0; i < desc->field_count; i++)
        if (s_present (&desc->fields[i], msg))
            present |= 1ull << i, count++;
    S_MAP (out, count);
    for (size_t i = 0; i < desc->field_count; i++) {
        if (!(present & (1ull << i)))
            continue;
        const st_field_t *f = &desc->fields[i];
        const char *at = (const char *) msg + f->offset;
        s_out_str (out, f->name, f->name_len);
        switch (f->type) {
        case ST_T_STR: {
            const char *s = *(char *const *) at;
            s_out_str (out, s, strlen (s));
            break;
        }
        case ST_T_INT:
            msgpack_pack_int64 (&out->own, *(const int64_t *) at);
            break;
        case ST_T_BOOL: {
            uint8_t b = *(const bool *) at ? 0xc3 : 0xc2;
            s_out_put (out, &b, 1);
            break;
        }
        case ST_T_DOUBLE:
            msgpack_pack_double (&out->own, *(const double *) at);
            break;
        case ST_T_BIN: {
            const st_bin_t *bin = (const st_bin_t *) at;
            S_BIN (out, bin->size);
            s_out_put (out, bin->data, bin->size);
            break;
        }
        case ST_T_STRS: {
            const st_strs_t *list = (const st_strs_t *) at;
            S_ARRAY (out, list->count);
            for (size_t j = 0; j < list->count; j++)
                s_out_str (out, list->items[j], strlen (list->items[j]));
            break;
        }
        case ST_T_MSG:
            s_pack (out, f->sub, at);
            break;
        case ST_T_MSGS: {
            const st_list_t *list = (const st_list_t *) at;
            S_ARRAY (out, list->count);
            for (size_t j = 0; j < list->count; j++)
                s_pack (out, f->sub, (const char *) list->items + j * f->sub->size);
            break;
        }
        case ST_T_BODY: {
            const st_body_t *body = (const st_body_t *) at;
            if (body->data)
                s_out_put (out, body->data, body->size);
            else
                msgpack_pack_object (&out->own, *body->object);
            break;
        }
        }
    }
}

void
st_pack (msgpack_packer *pk, const st_desc_t *desc, const void *msg)
{
    s_out_t out;
    out.pk = pk;
    out.used = 0;
    msgpack_packer_init (&out.own, &out, s_out_write);
    s_pack (&out, desc, msg);
    s_out_flush (&out);
}

int
st_encode (const st_desc_t *desc, const void *msg, uint8_t **data, size_t *size)
{
    msgpack_sbuffer buffer;
    msgpack_packer pk;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    st_pack (&pk, desc, msg);
    if (!buffer.data) {
        msgpack_sbuffer_destroy (&buffer);
        return -1;
    }
    *data = (uint8_t *) buffer.data;
    *size = buffer.size;
    return 0;
}
