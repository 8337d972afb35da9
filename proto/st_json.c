/*  st_json.c — JSON objects to and from messages, walking the descriptors  */
#include "st_json.h"

#include <stdio.h>
#include <string.h>

static int s_to_msg (const st_desc_t *desc, const json_t *json, void *out, const char *prefix,
                     int depth, st_error_t *err);

static int
s_fail (st_error_t *err, const char *path, const char *what)
{
    st_error_set (err, ST_INVALID_ARGUMENT, path, "\"%s\" must be %s", path, what);
    return -1;
}

static int
s_string (const json_t *v, const char *path, char **out, st_error_t *err)
{
    if (!json_is_string (v))
        return s_fail (err, path, "a string");
    size_t len = json_string_length (v);
    const char *s = json_string_value (v);
    if (strlen (s) != len)
        return s_fail (err, path, "text without NUL");
    *out = st_strndup (s, len);
    return 0;
}

static int
s_hex_value (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Decodes item `index` of JSON array `array` into `item`, a string or a message of f->sub;
//  for st_decode_list.
static int
s_item (const st_field_t *f, const void *array, size_t index, void *item, const char *path,
        int depth, st_error_t *err)
{
    const json_t *v = json_array_get ((const json_t *) array, index);
    if (f->type == ST_T_STRS)
        return s_string (v, path, (char **) item, err);
    if (!json_is_object (v))
        return s_fail (err, path, "an object");
    return s_to_msg (f->sub, v, item, path, depth + 1, err);
}

static int
s_field (const st_field_t *f, const json_t *v, void *out, const char *path, int depth,
         st_error_t *err)
{
    char *at = (char *) out + f->offset;
    bool *has = f->has_offset ? (bool *) ((char *) out + f->has_offset) : NULL;
    switch (f->type) {
    case ST_T_STR:
        return s_string (v, path, (char **) at, err);
    case ST_T_INT:
        if (!json_is_integer (v))
            return s_fail (err, path, "an integer");
        *(int64_t *) at = json_integer_value (v);
        *has = true;
        return 0;
    case ST_T_BOOL:
        if (!json_is_boolean (v))
            return s_fail (err, path, "true or false");
        *(bool *) at = json_is_true (v);
        *has = true;
        return 0;
    case ST_T_DOUBLE:
        if (!json_is_number (v))
            return s_fail (err, path, "a number");
        *(double *) at = json_number_value (v);
        *has = true;
        return 0;
    case ST_T_BIN: {
        if (!json_is_string (v))
            return s_fail (err, path, "a hex string");
        const char *s = json_string_value (v);
        size_t len = json_string_length (v);
        if (len % 2)
            return s_fail (err, path, "a hex string");
        st_bin_t *bin = (st_bin_t *) at;
        bin->data = st_malloc (len / 2);
        bin->size = len / 2;
        for (size_t i = 0; i < len / 2; i++) {
            int hi = s_hex_value (s[2 * i]), lo = s_hex_value (s[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return s_fail (err, path, "a hex string");
            bin->data[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
    }
    case ST_T_STRS:
        if (!json_is_array (v))
            return s_fail (err, path, "a list of strings");
        return st_decode_list (f, out, path, json_array_size (v), s_item, v, depth, err);
    case ST_T_MSG:
        if (!json_is_object (v))
            return s_fail (err, path, "an object");
        *has = true;
        return s_to_msg (f->sub, v, at, path, depth + 1, err);
    case ST_T_MSGS:
        if (!json_is_array (v))
            return s_fail (err, path, "a list of objects");
        return st_decode_list (f, out, path, json_array_size (v), s_item, v, depth, err);
    case ST_T_BODY:
        return 0;
    }
    return s_fail (err, path, "known");
}

static int
s_to_msg (const st_desc_t *desc, const json_t *json, void *out, const char *prefix, int depth,
          st_error_t *err)
{
    if (depth > ST_CODEC_MAX_DEPTH)
        return st_error_set (err, ST_INVALID_ARGUMENT, prefix, "input nests too deep"), -1;
    for (size_t i = 0; i < desc->field_count; i++) {
        const st_field_t *f = &desc->fields[i];
        const json_t *v = json_object_get (json, f->name);
        if (!v || json_is_null (v))
            continue;
        char path[128];
        if (*prefix)
            snprintf (path, sizeof path, "%s.%s", prefix, f->name);
        else
            snprintf (path, sizeof path, "%s", f->name);
        if (s_field (f, v, out, path, depth, err))
            return -1;
    }
    return 0;
}

int
st_json_to_msg (const st_desc_t *desc, const json_t *json, void *out, st_error_t *err)
{
    memset (out, 0, desc->size);
    if (!json_is_object (json))
        return st_error_set (err, ST_INVALID_ARGUMENT, NULL, "input must be a JSON object"), -1;
    if (s_to_msg (desc, json, out, "", 1, err) || st_validate (desc, out, err)) {
        st_msg_clear (desc, out);
        return -1;
    }
    return 0;
}

//  A list field (STRS or MSGS) at `at` as a new JSON array, or NULL when it is absent: no
//  has_ flag and no items.
static json_t *
s_list_to_json (const st_field_t *f, const char *at, bool has)
{
    const st_strs_t *strs = f->type == ST_T_STRS ? (const st_strs_t *) at : NULL;
    const st_list_t *list = strs ? NULL : (const st_list_t *) at;
    size_t count = strs ? strs->count : list->count;
    if (!has && !count)
        return NULL;
    json_t *array = json_array ();
    for (size_t j = 0; j < count; j++)
        json_array_append_new (
            array, strs ? json_string (strs->items[j])
                        : st_msg_to_json (f->sub, (const char *) list->items + j * f->sub->size));
    return array;
}

json_t *
st_msg_to_json (const st_desc_t *desc, const void *msg)
{
    json_t *object = json_object ();
    for (size_t i = 0; i < desc->field_count; i++) {
        const st_field_t *f = &desc->fields[i];
        const char *at = (const char *) msg + f->offset;
        const bool has =
            f->has_offset ? *(const bool *) ((const char *) msg + f->has_offset) : false;
        json_t *v = NULL;
        switch (f->type) {
        case ST_T_STR:
            if (*(char *const *) at)
                v = json_string (*(char *const *) at);
            break;
        case ST_T_INT:
            if (has)
                v = json_integer (*(const int64_t *) at);
            break;
        case ST_T_BOOL:
            if (has)
                v = json_boolean (*(const bool *) at);
            break;
        case ST_T_DOUBLE:
            if (has)
                v = json_real (*(const double *) at);
            break;
        case ST_T_BIN: {
            const st_bin_t *bin = (const st_bin_t *) at;
            if (!bin->data)
                break;
            char *hex = st_malloc (bin->size * 2 + 1);
            for (size_t j = 0; j < bin->size; j++)
                snprintf (hex + 2 * j, 3, "%02x", bin->data[j]);
            hex[bin->size * 2] = 0;
            v = json_string (hex);
            free (hex);
            break;
        }
        case ST_T_STRS:
        case ST_T_MSGS:
            v = s_list_to_json (f, at, has);
            break;
        case ST_T_MSG:
            if (has)
                v = st_msg_to_json (f->sub, at);
            break;
        case ST_T_BODY:
            break;
        }
        if (v)
            json_object_set_new (object, f->name, v);
    }
    return object;
}
