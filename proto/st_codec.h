/*  st_codec.h — table-driven msgpack codec: messages declared once in *.def, encoded, decoded
    and validated by plain C walking their descriptors (style.md, "proto/").

    A .def declares a message as a field list macro taking (F, M): each field is
    `F##TYPE (M, name, ...)`, and ST_MESSAGE (name, LIST) turns the list into a struct (in
    st_proto.h) and a descriptor (in st_proto.c). Field kinds and their arguments:

        STR    (M, name, req, min_chars, max_chars)     char *            UTF-8, no NUL
        INT    (M, name, req, min, max)                 int64_t + has_
        BOOL   (M, name, req)                           bool + has_
        DOUBLE (M, name, req, min, max)                 double + has_     finite only
        BIN    (M, name, req, min_bytes, max_bytes)     st_bin_t
        STRS   (M, name, req, max_items, min, max)      st_strs_t + has_  list of STR
        MSG    (M, name, req, type)                     type_t + has_     nested map
        MSGS   (M, name, req, type, max_items)          {type_t *items; size_t count} + has_
        BODY   (M, name, req)                           st_body_t         opaque nested map

    Decoded structs own every pointer in them; st_msg_clear releases them.  */
#ifndef ST_CODEC_H_INCLUDED
#define ST_CODEC_H_INCLUDED

#include "st_status.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_REQUIRED true
#define ST_OPTIONAL false

//  Limits every decoder holds to, whatever the message says.
#define ST_CODEC_MAX_DEPTH   8
#define ST_CODEC_MAX_OBJECTS 200000

typedef enum {
    ST_T_STR,
    ST_T_INT,
    ST_T_BOOL,
    ST_T_DOUBLE,
    ST_T_BIN,
    ST_T_STRS,
    ST_T_MSG,
    ST_T_MSGS,
    ST_T_BODY
} st_type_t;

typedef struct {
    uint8_t *data;
    size_t size;
} st_bin_t;

typedef struct {
    char **items;
    size_t count;
} st_strs_t;

typedef struct {
    void *items;
    size_t count;
} st_list_t;

//  An opaque nested map: decoding points `object` into the unpacked tree (valid while it
//  lives); encoding writes `data`/`size`, an already encoded map, verbatim.
typedef struct {
    const msgpack_object *object;
    const uint8_t *data;
    size_t size;
} st_body_t;

typedef struct st_desc_s st_desc_t;

typedef struct {
    const char *name;
    size_t name_len;
    st_type_t type;
    bool required;
    size_t offset;
    size_t has_offset; //  0 when the kind has no has_ flag
    int64_t min, max;  //  INT: value range; STR: characters; BIN: bytes; STRS: per item
    double dmin, dmax; //  DOUBLE range
    size_t max_items;  //  STRS, MSGS
    const st_desc_t *sub;
} st_field_t;

struct st_desc_s {
    const char *name;
    size_t size;
    const st_field_t *fields;
    size_t field_count;
};

//  --- Struct generation (used by st_proto.h) ---
// clang-format off
#define ST_S_STR(M, n, req, lo, hi)          char *n;
#define ST_S_INT(M, n, req, lo, hi)          int64_t n; bool has_##n;
#define ST_S_BOOL(M, n, req)                 bool n; bool has_##n;
#define ST_S_DOUBLE(M, n, req, lo, hi)       double n; bool has_##n;
#define ST_S_BIN(M, n, req, lo, hi)          st_bin_t n;
#define ST_S_STRS(M, n, req, maxn, lo, hi)   st_strs_t n; bool has_##n;
#define ST_S_MSG(M, n, req, T)               T##_t n; bool has_##n;
#define ST_S_MSGS(M, n, req, T, maxn)        struct { T##_t *items; size_t count; } n; bool has_##n;
#define ST_S_BODY(M, n, req)                 st_body_t n;

//  --- Descriptor generation (used by st_proto.c) ---
#define ST_D_(n, kind, req, M)                                                                     \
    .name = #n, .name_len = sizeof #n - 1, .type = kind, .required = req, .offset = offsetof (M, n)
#define ST_D_STR(M, n, req, lo, hi)        {ST_D_ (n, ST_T_STR, req, M), .min = lo, .max = hi},
#define ST_D_INT(M, n, req, lo, hi)        {ST_D_ (n, ST_T_INT, req, M),                           \
                                            .has_offset = offsetof (M, has_##n), .min = lo,        \
                                            .max = hi},
#define ST_D_BOOL(M, n, req)               {ST_D_ (n, ST_T_BOOL, req, M),                          \
                                            .has_offset = offsetof (M, has_##n)},
#define ST_D_DOUBLE(M, n, req, lo, hi)     {ST_D_ (n, ST_T_DOUBLE, req, M),                        \
                                            .has_offset = offsetof (M, has_##n), .dmin = lo,       \
                                            .dmax = hi},
#define ST_D_BIN(M, n, req, lo, hi)        {ST_D_ (n, ST_T_BIN, req, M), .min = lo, .max = hi},
#define ST_D_STRS(M, n, req, maxn, lo, hi) {ST_D_ (n, ST_T_STRS, req, M),                          \
                                            .has_offset = offsetof (M, has_##n), .min = lo,        \
                                            .max = hi, .max_items = maxn},
#define ST_D_MSG(M, n, req, T)             {ST_D_ (n, ST_T_MSG, req, M),                           \
                                            .has_offset = offsetof (M, has_##n), .sub = &T##_desc},
#define ST_D_MSGS(M, n, req, T, maxn)      {ST_D_ (n, ST_T_MSGS, req, M),                          \
                                            .has_offset = offsetof (M, has_##n), .sub = &T##_desc, \
                                            .max_items = maxn},
#define ST_D_BODY(M, n, req)               {ST_D_ (n, ST_T_BODY, req, M)},
// clang-format on

//  --- Unpacking ---

//  A frame unpacked after the bounded pre-scan; release with st_unpacked_destroy. The tree is
//  msgpack-c's (unpacked.data), built by the codec in one block (unpacked.zone stays NULL);
//  strings and binaries point into the frame, which must outlive it.
typedef struct {
    msgpack_unpacked unpacked;
    msgpack_object *block;
    bool live;
} st_unpacked_t;

//  Walks the bytes without allocating: every declared length and count must fit in the bytes
//  left, nesting at most ST_CODEC_MAX_DEPTH, at most ST_CODEC_MAX_OBJECTS objects, one object
//  filling the buffer exactly. Returns 0 or -1 with err filled.
int st_prescan (const uint8_t *data, size_t size, st_error_t *err);

//  Pre-scans then unpacks one msgpack object into the tree msgpack-c's unpacker would give.
//  The root must be a map.
//  Returns 0 or -1 with err filled; on success call st_unpacked_destroy.
int st_unpack (const uint8_t *data, size_t size, st_unpacked_t *out, st_error_t *err);
void st_unpacked_destroy (st_unpacked_t *self);

//  Decodes a map object into `out` (zeroed first) by the descriptor, validating types, ranges,
//  lengths, UTF-8 and required fields; unknown keys are ignored, duplicate keys rejected.
//  On error `out` is cleared and err names the field ("skills[2]", "actor.role").
int st_decode_object (const st_desc_t *desc, const msgpack_object *object, void *out,
                      st_error_t *err);

//  st_unpack + st_decode_object for a whole frame (no BODY fields survive this: use the pair).
int st_decode (const st_desc_t *desc, const uint8_t *data, size_t size, void *out, st_error_t *err);

//  Decodes one item of a list for st_decode_list: item `index` of `array` (the list as its wire
//  format holds it) into `item` (a char * for STRS, a zeroed message of f->sub for MSGS),
//  named `path` in errors. Returns 0, or -1 with err set.
typedef int (st_item_fn) (const st_field_t *f, const void *array, size_t index, void *item,
                          const char *path, int depth, st_error_t *err);

//  Decodes list field f (STRS or MSGS) of `msg` from an array of `count` items, for the msgpack
//  and the JSON decoder alike: checks the count against f->max_items, allocates the items, sets
//  has_, then decodes each item with decode_item under its path ("skills[2]"). Returns 0, or
//  -1 with err set; what was decoded stays in msg for st_msg_clear.
int st_decode_list (const st_field_t *f, void *msg, const char *path, size_t count,
                    st_item_fn *decode_item, const void *array, int depth, st_error_t *err);

//  Releases everything a decoded (or hand-filled, malloc-owned) message owns; zeroes it.
void st_msg_clear (const st_desc_t *desc, void *msg);

//  --- Packing ---

//  Packs a message as a map: pointer fields when non-NULL, flagged fields when has_ is set,
//  list fields when has_ is set or they have items.
void st_pack (msgpack_packer *pk, const st_desc_t *desc, const void *msg);

//  Encodes into a fresh buffer the caller frees with free(). Returns 0, or -1 out of memory.
int st_encode (const st_desc_t *desc, const void *msg, uint8_t **data, size_t *size);

//  Validates a hand-filled message the way st_decode_object validates a received one.
int st_validate (const st_desc_t *desc, const void *msg, st_error_t *err);

//  Returns true when the bytes are valid UTF-8 without NUL; counts code points into *chars.
bool st_utf8_check (const char *s, size_t len, size_t *chars);

//  Duplicates helpers that abort on out-of-memory (one allocator, style.md "Errors").
void *st_malloc (size_t size);
void *st_calloc (size_t count, size_t size);
char *st_strdup (const char *s);
char *st_strndup (const char *s, size_t len);

#endif
