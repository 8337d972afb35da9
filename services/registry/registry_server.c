/*  registry_server.c — the registry's ops: one handler per op, each reading as its happy path  */
#include "registry_server.h"
#include "registry_store.h"
#include "st_crypto.h"
#include "st_pii.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ST_REGISTRY_OPS (ST_ROUTE_THUNK)

const st_route_t registry_routes[] = {ST_REGISTRY_OPS (ST_ROUTE_ROW)};
const size_t registry_route_count = sizeof registry_routes / sizeof registry_routes[0];

//  ---------------------------------------------------------------------------------------
//  Checks that send the error themselves (Redis's habit): each returns -1 when it failed.

static int
s_require_region (st_call_t *call, const char *field, const char *code)
{
    bool digits = strlen (code) == 12;
    for (const char *p = code; digits && *p; p++)
        digits = *p >= '0' && *p <= '9';
    if (!digits)
        return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                             "\"%s\" must be a 12-digit statistical division code", field);
    return 0;
}

//  Parses an id given as text; -1 (and the call failed as not found) when it is no id of ours.
static int
s_require_id (st_call_t *call, const char *field, const char *text, int64_t *id)
{
    char *end;
    long long v = strtoll (text, &end, 10);
    if (end == text || *end || v <= 0)
        return st_call_fail (call, ST_NOT_FOUND, field, "no volunteer has id \"%s\"", text);
    *id = v;
    return 0;
}

//  Seals a personal-data value and computes its keyed hash into `params`.
static void
s_seal (st_call_t *call, st_params_t *params, const char *field, const char *value,
        uint8_t **sealed, uint8_t hash[ST_CRYPTO_HASH_SIZE])
{
    st_crypto_t *crypto = st_call_state (call);
    size_t sealed_len;
    if (st_crypto_seal (crypto, field, value, strlen (value), sealed, &sealed_len)) {
        st_call_fail (call, ST_INTERNAL, NULL, "could not encrypt \"%s\"", field);
        *sealed = NULL;
        return;
    }
    st_crypto_hash (crypto, field, value, strlen (value), hash);
    st_params_bin (params, *sealed, sealed_len);
    st_params_bin (params, hash, ST_CRYPTO_HASH_SIZE);
}

//  Opens a sealed column from a result and masks it; an unreadable value shows as stars.
static char *
s_open_masked (st_call_t *call, PGresult *res, int row, int col, const char *field)
{
    size_t len;
    unsigned char *sealed =
        PQunescapeBytea ((const unsigned char *) PQgetvalue (res, row, col), &len);
    char *plain = NULL;
    char masked[32] = "****";
    if (sealed && st_crypto_open (st_call_state (call), field, sealed, len, &plain) == 0) {
        if (strcmp (field, "id_number") == 0)
            st_mask_id_number (plain, masked, sizeof masked);
        else
            st_mask_phone (plain, masked, sizeof masked);
        sodium_memzero (plain, strlen (plain));
    }
    free (plain);
    PQfreemem (sealed);
    return st_strdup (masked);
}

static char *
s_optional (PGresult *res, int row, int col)
{
    return PQgetisnull (res, row, col) ? NULL : st_strdup (PQgetvalue (res, row, col));
}

//  Parses a text[] value as PostgreSQL prints it ({a,"b c"}) into a list.
static void
s_parse_text_array (const char *text, st_strs_t *out)
{
    size_t len = strlen (text), n = 0;
    out->items = st_calloc (len / 2 + 1, sizeof (char *));
    const char *p = text + (*text == '{');
    while (*p && *p != '}') {
        char *item = st_malloc (len + 1), *q = item;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                *q++ = *p;
            }
            if (*p == '"')
                p++;
        } else
            while (*p && *p != ',' && *p != '}')
                *q++ = *p++;
        *q = 0;
        out->items[n++] = item;
        if (*p == ',')
            p++;
    }
    out->count = n;
}

//  ---------------------------------------------------------------------------------------
//  volunteer.register — real-name registration (实名注册)

static void
s_volunteer_register (st_call_t *call, const msg_volunteer_register_t *request,
                      msg_volunteer_t *reply)
{
    char id_number[40];
    snprintf (id_number, sizeof id_number, "%s", request->id_number);
    st_id_number_normalise (id_number);
    st_id_info_t info;
    const char *why;
    if (st_id_number_check (id_number, &info, &why)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "id_number", "\"id_number\" is not valid: %s",
                      why);
        return;
    }
    if (st_phone_check (request->phone, &why)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "phone", "\"phone\" is not valid: %s", why);
        return;
    }
    if (s_require_region (call, "region", request->region))
        return;

    char birth_date[11], gender[2] = {info.gender, 0};
    snprintf (birth_date, sizeof birth_date, "%04d-%02d-%02d", info.year, info.month, info.day);
    uint8_t *id_sealed = NULL, *phone_sealed = NULL;
    uint8_t id_hash[ST_CRYPTO_HASH_SIZE], phone_hash[ST_CRYPTO_HASH_SIZE];
    char id_masked[32];
    st_mask_id_number (id_number, id_masked, sizeof id_masked);
    st_params_t params = {0};
    st_params_text (&params, request->name);
    s_seal (call, &params, "id_number", id_number, &id_sealed, id_hash);
    s_seal (call, &params, "phone", request->phone, &phone_sealed, phone_hash);
    sodium_memzero (id_number, sizeof id_number);
    PGresult *res = NULL;
    if (!st_call_failed (call)) {
        st_params_text (&params, request->region);
        st_params_text_array (&params, request->skills.items, request->skills.count);
        st_params_text (&params, gender);
        st_params_text (&params, birth_date);
        if (st_call_exec (call, "volunteer_insert", &params, &res) &&
            st_call_code (call) == ST_CONFLICT) {
            //  The only unique key a registration can break is the ID number.
            st_call_fail (call, ST_CONFLICT, "id_number",
                          "a volunteer with this ID number is already registered");
        }
    }
    st_params_clear (&params);
    free (id_sealed);
    free (phone_sealed);
    if (st_call_failed (call))
        return;

    reply->id = st_strdup (PQgetvalue (res, 0, 0));
    reply->created_at = st_strdup (PQgetvalue (res, 0, 1));
    PQclear (res);
    reply->name = st_strdup (request->name);
    reply->id_number = st_strdup (id_masked);
    char masked[32];
    st_mask_phone (request->phone, masked, sizeof masked);
    reply->phone = st_strdup (masked);
    reply->region = st_strdup (request->region);
    reply->skills.items = st_calloc (request->skills.count, sizeof (char *));
    for (size_t i = 0; i < request->skills.count; i++)
        reply->skills.items[i] = st_strdup (request->skills.items[i]);
    reply->skills.count = request->skills.count;
    reply->has_skills = true;
    reply->gender = st_strdup (gender);
    reply->birth_date = st_strdup (birth_date);
    reply->status = st_strdup ("active");

    msg_volunteer_registered_t event = {.id = reply->id,
                                        .name = reply->name,
                                        .region = reply->region,
                                        .skills = reply->skills,
                                        .has_skills = true,
                                        .gender = reply->gender,
                                        .birth_year = info.year,
                                        .has_birth_year = true,
                                        .status = reply->status};
    //  `event` borrows from `reply`: not cleared.
    st_call_emit (call, "volunteer.registered", &msg_volunteer_registered_desc, &event);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.get — one volunteer, personal data masked

static void
s_volunteer_get (st_call_t *call, const msg_volunteer_get_t *request, msg_volunteer_t *reply)
{
    int64_t id = 0;
    if (s_require_id (call, "id", request->id, &id))
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "volunteer_get", &params, &res))
        return;
    if (PQntuples (res) == 0) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "id", "no volunteer has id \"%s\"", request->id);
        return;
    }
    reply->id = st_strdup (PQgetvalue (res, 0, 0));
    reply->name = st_strdup (PQgetvalue (res, 0, 1));
    reply->id_number = s_open_masked (call, res, 0, 2, "id_number");
    reply->phone = s_open_masked (call, res, 0, 3, "phone");
    reply->region = st_strdup (PQgetvalue (res, 0, 4));
    s_parse_text_array (PQgetvalue (res, 0, 5), &reply->skills);
    reply->has_skills = true;
    reply->gender = s_optional (res, 0, 6);
    reply->birth_date = s_optional (res, 0, 7);
    reply->status = st_strdup (PQgetvalue (res, 0, 8));
    reply->created_at = st_strdup (PQgetvalue (res, 0, 9));
    PQclear (res);
}
