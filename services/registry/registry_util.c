/*  registry_util.c — what registry's parts share (registry_util.h)  */
#include "registry.h"
#include "registry_util.h"
#include "st_checks.h"
#include "st_pii.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------
//  Checks

int
registry_require_official_in_scope (st_call_t *call, const char *region)
{
    const msg_actor_t *actor;
    return st_require_actor (call, &actor) || st_require_scope (call, actor, "region", region);
}

int
registry_require_region_admin (st_call_t *call, const msg_actor_t *actor, const char *message)
{
    if (!st_actor_is_system (actor) && strcmp (actor->role, "region_admin") != 0)
        return st_call_fail (call, ST_PERMISSION_DENIED, NULL, "%s", message);
    return 0;
}

int
registry_require_list (st_call_t *call, const char *field, const st_strs_t *list,
                       const char *const *allowed)
{
    for (size_t i = 0; i < list->count; i++)
        if (!st_one_of (list->items[i], allowed))
            return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                                 "\"%s[%zu]\" is not one of the known values: \"%s\"", field, i,
                                 list->items[i]);
    return 0;
}

int
registry_require_phone (st_call_t *call, const char *field, const char *phone)
{
    const char *why;
    if (st_phone_check (phone, &why))
        return st_call_fail (call, ST_INVALID_ARGUMENT, field, "\"%s\" is not valid: %s", field,
                             why);
    return 0;
}

int
registry_require_email (st_call_t *call, const char *field, const char *email)
{
    const char *why;
    if (st_email_check (email, &why))
        return st_call_fail (call, ST_INVALID_ARGUMENT, field, "\"%s\" is not valid: %s", field,
                             why);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Statements

int
registry_exec_text (st_call_t *call, const char *statement, const char *text, PGresult **res)
{
    st_params_t params = {0};
    st_params_text (&params, text);
    return st_call_exec (call, statement, &params, res);
}

int
registry_exec_found (st_call_t *call, const char *statement, st_params_t *params, PGresult **res,
                     const char *field, const char *format, ...)
{
    PGresult *rows;
    if (st_call_exec (call, statement, params, &rows))
        return -1;
    if (PQntuples (rows) > 0) {
        if (res)
            *res = rows;
        else
            PQclear (rows);
        return 0;
    }
    PQclear (rows);
    char message[sizeof ((st_error_t){0}).message];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    return st_call_fail (call, ST_NOT_FOUND, field, "%s", message);
}

int
registry_row_by_id (st_call_t *call, const char *statement, const char *kind, const char *id_text,
                    int64_t *id, PGresult **res)
{
    if (st_require_id (call, "id", kind, id_text, id))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, *id);
    return registry_exec_found (call, statement, &params, res, "id", "no %s has id \"%s\"", kind,
                                id_text);
}

int
registry_exec_unique (st_call_t *call, const char *statement, st_params_t *params, PGresult **res,
                      const char *field, const char *format, ...)
{
    if (st_call_exec (call, statement, params, res) == 0)
        return 0;
    if (st_call_code (call) == ST_CONFLICT) {
        char message[sizeof ((st_error_t){0}).message];
        va_list args;
        va_start (args, format);
        vsnprintf (message, sizeof message, format, args);
        va_end (args);
        st_call_fail (call, ST_CONFLICT, field, "%s", message);
    }
    return -1;
}

void
registry_text_array_param (st_params_t *params, const st_strs_t *list, bool given)
{
    if (given)
        st_params_text_array (params, list->items, list->count);
    else
        st_params_null (params);
}

//  ---------------------------------------------------------------------------------------
//  Personal data

static st_crypto_t *
s_crypto (st_call_t *call)
{
    const registry_state_t *state = st_call_state (call);
    return state->crypto;
}

int
registry_seal (st_call_t *call, st_params_t *params, const char *field, const char *value,
               bool hash)
{
    uint8_t *sealed;
    size_t sealed_len;
    if (st_crypto_seal (s_crypto (call), field, value, strlen (value), &sealed, &sealed_len))
        return st_call_fail (call, ST_INTERNAL, NULL, "could not encrypt \"%s\"", field);
    st_params_bin_take (params, sealed, sealed_len);
    if (hash) {
        uint8_t *digest = st_malloc (ST_CRYPTO_HASH_SIZE);
        registry_hash (call, field, value, digest);
        st_params_bin_take (params, digest, ST_CRYPTO_HASH_SIZE);
    }
    return 0;
}

int
registry_seal_or_null (st_call_t *call, st_params_t *params, const char *field, const char *value)
{
    if (value)
        return registry_seal (call, params, field, value, false);
    st_params_null (params);
    return 0;
}

void
registry_hash (st_call_t *call, const char *field, const char *value,
               uint8_t out[ST_CRYPTO_HASH_SIZE])
{
    st_crypto_hash (s_crypto (call), field, value, strlen (value), out);
}

void
registry_hash_bytes (st_call_t *call, const char *field, const void *value, size_t len,
                     uint8_t out[ST_CRYPTO_HASH_SIZE])
{
    st_crypto_hash (s_crypto (call), field, value, len, out);
}

char *
registry_open (st_call_t *call, PGresult *res, int row, int col, const char *field)
{
    if (PQgetisnull (res, row, col))
        return NULL;
    size_t len;
    unsigned char *sealed =
        PQunescapeBytea ((const unsigned char *) PQgetvalue (res, row, col), &len);
    char *plain = NULL;
    if (!sealed || st_crypto_open (s_crypto (call), field, sealed, len, &plain))
        plain = NULL;
    PQfreemem (sealed);
    return plain;
}

char *
registry_open_masked (st_call_t *call, PGresult *res, int row, int col, const char *field,
                      bool id_number)
{
    if (PQgetisnull (res, row, col))
        return NULL;
    char *plain = registry_open (call, res, row, col, field);
    char masked[32] = "****";
    if (plain) {
        if (id_number)
            st_mask_id_number (plain, masked, sizeof masked);
        else
            st_mask_phone (plain, masked, sizeof masked);
        sodium_memzero (plain, strlen (plain));
        free (plain);
    }
    return st_strdup (masked);
}

char *
registry_open_email_masked (st_call_t *call, PGresult *res, int row, int col)
{
    if (col < 0 || PQgetisnull (res, row, col))
        return NULL;
    char *plain = registry_open (call, res, row, col, "email");
    char masked[ST_EMAIL_MASK_SIZE] = "***";
    if (plain) {
        st_mask_email (plain, masked, sizeof masked);
        sodium_memzero (plain, strlen (plain));
        free (plain);
    }
    return st_strdup (masked);
}
