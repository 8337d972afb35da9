/*  registry_server.c — the registry's ops: one handler per op, each reading as its happy path.
    Every op checks its actor: the system (operators) may do anything; region, station admins
    and team leaders act inside their region subtree; volunteers and residents on themselves.  */
#include "registry_server.h"
#include "registry_store.h"
#include "st_checks.h"
#include "st_crypto.h"
#include "st_pii.h"
#include "st_rows.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

ST_REGISTRY_VOLUNTEERS_OPS (ST_ROUTE_THUNK)
ST_REGISTRY_REGIONS_OPS (ST_ROUTE_THUNK)
ST_REGISTRY_ACCOUNTS_OPS (ST_ROUTE_THUNK)

const st_route_t registry_routes[] = {ST_REGISTRY_VOLUNTEERS_OPS (
    ST_ROUTE_ROW) ST_REGISTRY_REGIONS_OPS (ST_ROUTE_ROW) ST_REGISTRY_ACCOUNTS_OPS (ST_ROUTE_ROW)};
const size_t registry_route_count = sizeof registry_routes / sizeof registry_routes[0];

//  Columns of VOLUNTEER_COLUMNS and RESIDENT_COLUMNS (registry_store.c) read by position; the
//  others fill the reply's fields of the same name (st_rows).
enum { V_ID = 0, V_ID_NUMBER = 2, V_PHONE = 3, V_REGION = 4 };
enum { R_REGION = 3 };

static const char *const s_slots[] = {"mon_am", "mon_pm", "mon_ev", "tue_am", "tue_pm", "tue_ev",
                                      "wed_am", "wed_pm", "wed_ev", "thu_am", "thu_pm", "thu_ev",
                                      "fri_am", "fri_pm", "fri_ev", "sat_am", "sat_pm", "sat_ev",
                                      "sun_am", "sun_pm", "sun_ev", NULL};
static const char *const s_care_tags[] = {"empty_nest_elderly",  "left_behind_child",
                                          "child_in_difficulty", "disabled",
                                          "poor_household",      NULL};
static const char *const s_statuses[] = {"active", "suspended", "left", NULL};
static const char *const s_official_roles[] = {"region_admin", "station_admin", "team_leader",
                                               NULL};

//  ---------------------------------------------------------------------------------------
//  Actors and scope (st_scope.h, st_checks.h). Checks fail the call themselves and return -1.

static int
s_require_actor (st_call_t *call)
{
    const msg_actor_t *actor;
    return st_require_actor (call, &actor);
}

//  The actor must be the system, or an official whose subtree holds `region`.
static int
s_require_official_in_scope (st_call_t *call, const char *region)
{
    const msg_actor_t *actor;
    return st_require_actor (call, &actor) || st_require_scope (call, actor, "region", region);
}

//  The actor must be the volunteer themself, the system, or an official in scope.
static int
s_require_volunteer_access (st_call_t *call, const char *volunteer_id, const char *region)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return -1;
    if (st_actor_is_volunteer (actor, volunteer_id) || st_actor_in_scope (actor, region))
        return 0;
    //  Out of scope looks like absent: nothing tells a stranger the id exists.
    return st_call_fail (call, ST_NOT_FOUND, "id", "no volunteer has id \"%s\"", volunteer_id);
}

static int
s_require_list (st_call_t *call, const char *field, const st_strs_t *list,
                const char *const *allowed)
{
    for (size_t i = 0; i < list->count; i++)
        if (!st_one_of (list->items[i], allowed))
            return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                                 "\"%s[%zu]\" is not one of the known values: \"%s\"", field, i,
                                 list->items[i]);
    return 0;
}

//  A calendar date "YYYY-MM-DD" that exists.
static int
s_require_date (st_call_t *call, const char *field, const char *text)
{
    int y, m, d;
    char tail;
    if (sscanf (text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && strlen (text) == 10) {
        struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
        time_t t = timegm (&tm);
        if (t != (time_t) -1 && tm.tm_year == y - 1900 && tm.tm_mon == m - 1 && tm.tm_mday == d)
            return 0;
    }
    return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                         "\"%s\" must be a date written YYYY-MM-DD", field);
}

static int
s_require_phone (st_call_t *call, const char *field, const char *phone)
{
    const char *why;
    if (st_phone_check (phone, &why))
        return st_call_fail (call, ST_INVALID_ARGUMENT, field, "\"%s\" is not valid: %s", field,
                             why);
    return 0;
}

//  Every code in the list must be a known service category.
static int
s_require_categories (st_call_t *call, const char *field, const st_strs_t *list)
{
    if (list->count == 0)
        return 0;
    st_params_t params = {0};
    st_params_text_array (&params, list->items, list->count);
    PGresult *res;
    if (st_call_exec (call, "categories_known", &params, &res))
        return -1;
    size_t known = (size_t) atol (PQgetvalue (res, 0, 0));
    PQclear (res);
    //  Duplicates count once in the query: compare with the distinct codes given.
    size_t distinct = 0;
    for (size_t i = 0; i < list->count; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp (list->items[i], list->items[j]) == 0;
        distinct += !seen;
    }
    if (known != distinct)
        return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                             "\"%s\" holds a code that is no service category (see category.list)",
                             field);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Personal data

static st_crypto_t *
s_crypto (st_call_t *call)
{
    return st_call_state (call);
}

//  Seals a value into `params` (as bytea), and its keyed hash too when `hash` is given.
//  *sealed is the caller's to free after the statement ran.
static int
s_seal (st_call_t *call, st_params_t *params, const char *field, const char *value,
        uint8_t **sealed, bool hash)
{
    size_t sealed_len;
    if (st_crypto_seal (s_crypto (call), field, value, strlen (value), sealed, &sealed_len))
        return st_call_fail (call, ST_INTERNAL, NULL, "could not encrypt \"%s\"", field);
    st_params_bin (params, *sealed, sealed_len);
    if (hash) {
        uint8_t *digest = st_malloc (ST_CRYPTO_HASH_SIZE);
        st_crypto_hash (s_crypto (call), field, value, strlen (value), digest);
        st_params_bin (params, digest, ST_CRYPTO_HASH_SIZE);
        params->owned[params->count - 1] = (char *) digest; //  freed with the params
    }
    return 0;
}

static void
s_hash (st_call_t *call, const char *field, const char *value, uint8_t out[ST_CRYPTO_HASH_SIZE])
{
    st_crypto_hash (s_crypto (call), field, value, strlen (value), out);
}

//  Opens a sealed column; NULL when it is NULL or does not open. The caller frees.
static char *
s_open (st_call_t *call, PGresult *res, int row, int col, const char *field)
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

//  Opens and masks a sealed column; a value that does not open shows as stars.
static char *
s_open_masked (st_call_t *call, PGresult *res, int row, int col, const char *field, bool id_number)
{
    if (PQgetisnull (res, row, col))
        return NULL;
    char *plain = s_open (call, res, row, col, field);
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

//  ---------------------------------------------------------------------------------------
//  Rows to messages

static void
s_volunteer_from_row (st_call_t *call, PGresult *res, int row, msg_volunteer_t *v)
{
    st_row_to_msg (res, row, &msg_volunteer_desc, v);
    //  The lists are always shown, empty or not.
    v->has_skills = v->has_categories = v->has_availability = true;
    v->id_number =
        s_open_masked (call, res, row, PQfnumber (res, "id_number_enc"), "id_number", true);
    v->phone = s_open_masked (call, res, row, PQfnumber (res, "phone_enc"), "phone", false);
    v->emergency_contact_phone =
        s_open_masked (call, res, row, PQfnumber (res, "emergency_contact_phone_enc"),
                       "emergency_contact_phone", false);
}

//  Writes a volunteer's supply-relevant state as an event (registry_server.h).
void
registry_emit_volunteer (st_call_t *call, const char *topic, const msg_volunteer_t *v)
{
    msg_volunteer_registered_t event = {.id = v->id,
                                        .name = v->name,
                                        .region = v->region,
                                        .skills = v->skills,
                                        .has_skills = true,
                                        .gender = v->gender,
                                        .status = v->status,
                                        .categories = v->categories,
                                        .has_categories = true,
                                        .availability = v->availability,
                                        .has_availability = true,
                                        .lat = v->lat,
                                        .has_lat = v->has_lat,
                                        .lon = v->lon,
                                        .has_lon = v->has_lon,
                                        .party_member = v->party_member,
                                        .has_party_member = true,
                                        .insurance_until = v->insurance_until};
    if (v->birth_date) {
        event.birth_year = atoi (v->birth_date);
        event.has_birth_year = true;
    }
    //  `event` borrows from `v`: not cleared.
    st_call_emit (call, topic, &msg_volunteer_registered_desc, &event);
}

//  A list field of a message as a text[] parameter, NULL when absent (st_db.h's *_or_null
//  forms for a list).
static void
s_text_array_param (st_params_t *params, const st_strs_t *list, bool given)
{
    if (given)
        st_params_text_array (params, list->items, list->count);
    else
        st_params_null (params);
}

//  Checks the profile fields a registration or an update may carry.
#define S_CHECK_PROFILE(call, r)                                                                   \
    (s_require_list (call, "availability", &(r)->availability, s_slots)                            \
     || ((r)->insurance_until && s_require_date (call, "insurance_until", (r)->insurance_until))   \
     || ((r)->emergency_contact_phone                                                              \
         && s_require_phone (call, "emergency_contact_phone", (r)->emergency_contact_phone)))

//  Creates the sign-in account of a volunteer or a resident; the login is the phone.
static int
s_create_person_account (st_call_t *call, const char *role, const char *phone, const char *password,
                         const char *region, const char *volunteer_id, const char *resident_id)
{
    char hash[ST_PASSWORD_HASH_SIZE];
    if (st_password_hash (password, hash))
        return st_call_fail (call, ST_RESOURCE_EXHAUSTED, NULL, "could not hash the password");
    uint8_t login_hash[ST_CRYPTO_HASH_SIZE];
    s_hash (call, "login", phone, login_hash);
    const msg_actor_t *actor = st_call_actor (call);
    st_params_t params = {0};
    st_params_bin (&params, login_hash, sizeof login_hash);
    st_params_null (&params);
    st_params_text (&params, hash);
    st_params_text (&params, role);
    st_params_text (&params, region);
    st_params_text (&params, volunteer_id);
    st_params_text (&params, resident_id);
    st_params_text (&params, actor ? actor->account : "self");
    if (st_call_exec (call, "account_insert", &params, NULL)) {
        if (st_call_code (call) == ST_CONFLICT)
            st_call_fail (call, ST_CONFLICT, "phone", "this phone already signs in to an account");
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  volunteer.register — real-name registration (实名注册): by the person (no actor, through
//  the gateway) or by an official in scope

//  Validates and inserts one registration, for volunteer.register and volunteer.import
//  (registry_server.h).
int
registry_insert_volunteer (st_call_t *call, const msg_volunteer_register_t *request,
                           const char *statement, msg_volunteer_t *reply)
{
    char id_number[40];
    snprintf (id_number, sizeof id_number, "%s", request->id_number);
    st_id_number_normalise (id_number);
    st_id_info_t info;
    const char *why;
    if (st_id_number_check (id_number, &info, &why))
        return st_call_fail (call, ST_INVALID_ARGUMENT, "id_number",
                             "\"id_number\" is not valid: %s", why);
    if (s_require_phone (call, "phone", request->phone)
        || st_require_code (call, "region", request->region) || S_CHECK_PROFILE (call, request)
        || s_require_categories (call, "categories", &request->categories))
        return -1;
    const msg_actor_t *actor = st_call_actor (call);
    if (actor && s_require_official_in_scope (call, request->region))
        return -1;

    char birth_date[11], gender[2] = {info.gender, 0};
    snprintf (birth_date, sizeof birth_date, "%04d-%02d-%02d", info.year, info.month, info.day);
    uint8_t *sealed_id = NULL, *sealed_phone = NULL, *sealed_contact = NULL;
    st_params_t params = {0};
    st_params_text (&params, request->name);
    int rc = s_seal (call, &params, "id_number", id_number, &sealed_id, true);
    sodium_memzero (id_number, sizeof id_number);
    rc = rc ? rc : s_seal (call, &params, "phone", request->phone, &sealed_phone, true);
    PGresult *res = NULL;
    if (rc == 0) {
        st_params_text (&params, request->region);
        st_params_text_array (&params, request->skills.items, request->skills.count);
        st_params_text (&params, gender);
        st_params_text (&params, birth_date);
        s_text_array_param (&params, &request->categories, request->has_categories);
        s_text_array_param (&params, &request->availability, request->has_availability);
        st_params_double_or_null (&params, request->has_lat, request->lat);
        st_params_double_or_null (&params, request->has_lon, request->lon);
        st_params_bool_or_null (&params, request->has_party_member, request->party_member);
        st_params_text (&params, request->emergency_contact_name);
        if (request->emergency_contact_phone)
            rc = s_seal (call, &params, "emergency_contact_phone", request->emergency_contact_phone,
                         &sealed_contact, false);
        else
            st_params_null (&params);
        st_params_text (&params, request->insurance_until);
        if (rc == 0 && st_call_exec (call, statement, &params, &res)
            && st_call_code (call) == ST_CONFLICT)
            //  The only unique key a registration can break is the ID number.
            st_call_fail (call, ST_CONFLICT, "id_number",
                          "a volunteer with this ID number is already registered");
    }
    st_params_clear (&params);
    free (sealed_id);
    free (sealed_phone);
    free (sealed_contact);
    if (st_call_failed (call))
        return -1;
    int created = PQntuples (res) == 1;
    if (created)
        s_volunteer_from_row (call, res, 0, reply);
    PQclear (res);
    return created;
}

static void
s_volunteer_register (st_call_t *call, const msg_volunteer_register_t *request,
                      msg_volunteer_t *reply)
{
    if (registry_insert_volunteer (call, request, "volunteer_insert", reply) != 1)
        return;
    if (request->password
        && s_create_person_account (call, "volunteer", request->phone, request->password,
                                    reply->region, reply->id, NULL))
        return;
    registry_emit_volunteer (call, "volunteer.registered", reply);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.get — one volunteer, personal data masked

//  Loads a volunteer the actor may see into `reply`; `statement` locks it or not.
static int
s_load_volunteer (st_call_t *call, const char *statement, const char *id_text,
                  msg_volunteer_t *reply)
{
    int64_t id = 0;
    if (st_require_id (call, "id", "volunteer", id_text, &id))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, statement, &params, &res))
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return st_call_fail (call, ST_NOT_FOUND, "id", "no volunteer has id \"%s\"", id_text);
    }
    int rc =
        s_require_volunteer_access (call, PQgetvalue (res, 0, V_ID), PQgetvalue (res, 0, V_REGION));
    if (rc == 0)
        s_volunteer_from_row (call, res, 0, reply);
    PQclear (res);
    return rc;
}

static void
s_volunteer_get (st_call_t *call, const msg_volunteer_get_t *request, msg_volunteer_t *reply)
{
    s_load_volunteer (call, "volunteer_get", request->id, reply);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.update — the volunteer or an official in scope changes the profile

static void
s_volunteer_update (st_call_t *call, const msg_volunteer_update_t *request, msg_volunteer_t *reply)
{
    if ((request->phone && s_require_phone (call, "phone", request->phone))
        || S_CHECK_PROFILE (call, request)
        || s_require_categories (call, "categories", &request->categories))
        return;
    msg_volunteer_t current = {0};
    int rc = s_load_volunteer (call, "volunteer_lock", request->id, &current);
    st_msg_clear (&msg_volunteer_desc, &current);
    if (rc)
        return;
    uint8_t *sealed_phone = NULL, *sealed_contact = NULL;
    st_params_t params = {0};
    st_params_text (&params, request->id);
    st_params_text (&params, request->name);
    if (request->phone)
        rc = s_seal (call, &params, "phone", request->phone, &sealed_phone, true);
    else {
        st_params_null (&params);
        st_params_null (&params);
    }
    s_text_array_param (&params, &request->skills, request->has_skills);
    s_text_array_param (&params, &request->categories, request->has_categories);
    s_text_array_param (&params, &request->availability, request->has_availability);
    st_params_double_or_null (&params, request->has_lat, request->lat);
    st_params_double_or_null (&params, request->has_lon, request->lon);
    st_params_bool_or_null (&params, request->has_party_member, request->party_member);
    st_params_text (&params, request->emergency_contact_name);
    if (rc == 0 && request->emergency_contact_phone)
        rc = s_seal (call, &params, "emergency_contact_phone", request->emergency_contact_phone,
                     &sealed_contact, false);
    else
        st_params_null (&params);
    st_params_text (&params, request->insurance_until);
    PGresult *res = NULL;
    if (rc == 0)
        rc = st_call_exec (call, "volunteer_update", &params, &res);
    st_params_clear (&params);
    free (sealed_phone);
    free (sealed_contact);
    if (rc)
        return;
    s_volunteer_from_row (call, res, 0, reply);
    PQclear (res);
    if (request->phone) {
        //  The phone is also the volunteer's login.
        uint8_t login_hash[ST_CRYPTO_HASH_SIZE];
        s_hash (call, "login", request->phone, login_hash);
        st_params_text (&params, request->id);
        st_params_bin (&params, login_hash, sizeof login_hash);
        if (st_call_exec (call, "account_login_hash_update", &params, NULL)) {
            if (st_call_code (call) == ST_CONFLICT)
                st_call_fail (call, ST_CONFLICT, "phone",
                              "this phone already signs in to another account");
            return;
        }
    }
    registry_emit_volunteer (call, "volunteer.updated", reply);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.list — a page of volunteers in a subtree the actor oversees

static void
s_volunteer_list (st_call_t *call, const msg_volunteer_list_t *request, msg_volunteer_page_t *reply)
{
    const msg_actor_t *actor = st_call_actor (call);
    if (s_require_actor (call))
        return;
    const char *region = request->region;
    if (!region && !st_actor_is_system (actor))
        region = actor->region; //  an official's own subtree by default
    if (region && st_require_code (call, "region", region))
        return;
    if (!st_actor_is_system (actor) && s_require_official_in_scope (call, region ? region : ""))
        return;
    if (request->status && st_require_one_of (call, "status", request->status, s_statuses))
        return;
    //  The cursor is the last row's region and id: "431022100201.4711".
    int64_t after = 0;
    char after_region[ST_REGION_SIZE] = "";
    if (request->cursor) {
        const char *dot = strchr (request->cursor, '.');
        char *end = NULL;
        if (dot && dot - request->cursor < ST_REGION_SIZE) {
            memcpy (after_region, request->cursor, (size_t) (dot - request->cursor));
            after_region[dot - request->cursor] = 0;
            after = strtoll (dot + 1, &end, 10);
        }
        if (!end || *end || after < 0 || st_region_level (after_region) < 0) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "cursor", "\"cursor\" is not one we gave");
            return;
        }
    }
    char prefix[ST_REGION_SIZE] = "", low[ST_REGION_SIZE], high[ST_REGION_SIZE + 1];
    if (region)
        st_region_prefix (region, prefix);
    st_region_range (prefix, low, high);
    //  The name filter is a prefix: LIKE's own wildcards in it are taken literally.
    char *like = NULL;
    if (request->q) {
        like = st_malloc (2 * strlen (request->q) + 2);
        char *p = like;
        for (const char *q = request->q; *q; q++) {
            if (*q == '%' || *q == '_' || *q == '\\')
                *p++ = '\\';
            *p++ = *q;
        }
        *p++ = '%';
        *p = 0;
    }
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_text (&params, low);
    st_params_text (&params, high);
    st_params_text (&params, request->skill);
    st_params_text (&params, request->category);
    st_params_text (&params, request->status);
    st_params_text (&params, like);
    st_params_int (&params, after);
    st_params_int (&params, limit + 1); //  one more tells whether a next page exists
    st_params_text (&params, after_region);
    PGresult *res;
    int rc = st_call_exec (call, "volunteer_list", &params, &res);
    free (like);
    if (rc)
        return;
    int rows = PQntuples (res);
    int shown = rows > limit ? (int) limit : rows;
    reply->items.items = st_calloc (shown, sizeof (msg_volunteer_t));
    reply->has_items = true;
    for (int i = 0; i < shown; i++) {
        s_volunteer_from_row (call, res, i, &reply->items.items[i]);
        reply->items.count = i + 1;
    }
    if (rows > limit) {
        char cursor[40];
        snprintf (cursor, sizeof cursor, "%s.%s", PQgetvalue (res, shown - 1, V_REGION),
                  PQgetvalue (res, shown - 1, V_ID));
        reply->next_cursor = st_strdup (cursor);
    }
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.reveal — the unmasked ID number and phone for a region admin in scope, with
//  the reveal written to the audit log first

static void
s_volunteer_reveal (st_call_t *call, const msg_volunteer_reveal_t *request,
                    msg_volunteer_pii_t *reply)
{
    const msg_actor_t *actor = st_call_actor (call);
    if (s_require_actor (call))
        return;
    if (!st_actor_is_system (actor) && strcmp (actor->role, "region_admin") != 0) {
        st_call_fail (call, ST_PERMISSION_DENIED, NULL,
                      "only a region admin may see personal data unmasked");
        return;
    }
    int64_t id = 0;
    if (st_require_id (call, "id", "volunteer", request->id, &id))
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "volunteer_get", &params, &res))
        return;
    if (PQntuples (res) == 0 || !st_actor_in_scope (actor, PQgetvalue (res, 0, V_REGION))) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "id", "no volunteer has id \"%s\"", request->id);
        return;
    }
    st_params_text (&params, actor->account);
    st_params_text (&params, actor->role);
    st_params_int (&params, id);
    st_params_text (&params, request->reason);
    //  No audit record, no reveal.
    if (st_call_exec (call, "pii_reveal_log", &params, NULL) == 0) {
        st_row_to_msg (res, 0, &msg_volunteer_pii_desc, reply); //  the id; the rest is sealed
        reply->id_number = s_open (call, res, 0, V_ID_NUMBER, "id_number");
        reply->phone = s_open (call, res, 0, V_PHONE, "phone");
        if (!reply->id_number || !reply->phone)
            st_call_fail (call, ST_INTERNAL, NULL, "personal data of volunteer %s does not open",
                          request->id);
    }
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.set_status — an official in scope suspends, reinstates or records a departure

static void
s_volunteer_set_status (st_call_t *call, const msg_volunteer_set_status_t *request,
                        msg_volunteer_t *reply)
{
    if (st_require_one_of (call, "status", request->status, s_statuses))
        return;
    msg_volunteer_t current = {0};
    int rc = s_load_volunteer (call, "volunteer_lock", request->id, &current);
    bool official = rc == 0 && s_require_official_in_scope (call, current.region) == 0;
    st_msg_clear (&msg_volunteer_desc, &current);
    if (!official)
        return;
    st_params_t params = {0};
    st_params_text (&params, request->id);
    st_params_text (&params, request->status);
    PGresult *res;
    if (st_call_exec (call, "volunteer_set_status", &params, &res))
        return;
    s_volunteer_from_row (call, res, 0, reply);
    PQclear (res);
    st_params_text (&params, request->id);
    st_params_text (&params, request->status);
    st_params_text (&params, request->reason);
    st_params_text (&params, st_call_actor (call)->account);
    if (st_call_exec (call, "volunteer_status_log", &params, NULL))
        return;
    registry_emit_volunteer (call, "volunteer.status_changed", reply);
}

//  ---------------------------------------------------------------------------------------
//  region.create and region.get

static int
s_region_children (st_call_t *call, const char *code, msg_region_t *reply)
{
    st_params_t params = {0};
    st_params_text (&params, code);
    PGresult *res;
    if (st_call_exec (call, "region_children", &params, &res))
        return -1;
    st_rows_to_list (res, &msg_region_child_desc, (st_list_t *) &reply->children,
                     &reply->has_children);
    PQclear (res);
    return 0;
}

static void
s_region_create (st_call_t *call, const msg_region_create_t *request, msg_region_t *reply)
{
    if (st_require_code (call, "code", request->code))
        return;
    int level = st_region_level (request->code);
    char parent[ST_REGION_SIZE];
    bool has_parent = st_region_parent (request->code, parent);
    //  Only the admin of the parent region (or the system) adds a region under it.
    if (s_require_official_in_scope (call, has_parent ? parent : request->code))
        return;
    const msg_actor_t *actor = st_call_actor (call);
    if (!st_actor_is_system (actor) && strcmp (actor->role, "region_admin") != 0) {
        st_call_fail (call, ST_PERMISSION_DENIED, NULL, "only a region admin may add regions");
        return;
    }
    PGresult *res;
    st_params_t params = {0};
    if (has_parent) {
        st_params_text (&params, parent);
        if (st_call_exec (call, "region_exists", &params, &res))
            return;
        bool exists = PQntuples (res) > 0;
        PQclear (res);
        //  A city may stand alone: provinces are often not kept.
        if (!exists && level > 1) {
            st_call_fail (call, ST_FAILED_PRECONDITION, "code",
                          "parent region \"%s\" does not exist yet", parent);
            return;
        }
        has_parent = exists;
    }
    st_params_text (&params, request->code);
    st_params_text (&params, request->name);
    st_params_text (&params, st_region_level_name (level));
    st_params_text (&params, has_parent ? parent : NULL);
    if (st_call_exec (call, "region_insert", &params, &res)) {
        if (st_call_code (call) == ST_CONFLICT)
            st_call_fail (call, ST_CONFLICT, "code", "region \"%s\" exists already", request->code);
        return;
    }
    st_row_to_msg (res, 0, &msg_region_desc, reply);
    PQclear (res);
    reply->has_children = true;
}

static void
s_region_get (st_call_t *call, const msg_region_get_t *request, msg_region_t *reply)
{
    if (st_require_code (call, "code", request->code))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->code);
    PGresult *res;
    if (st_call_exec (call, "region_get", &params, &res))
        return;
    if (PQntuples (res) == 0) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "code", "no region has code \"%s\"", request->code);
        return;
    }
    st_row_to_msg (res, 0, &msg_region_desc, reply);
    PQclear (res);
    s_region_children (call, request->code, reply);
}

//  ---------------------------------------------------------------------------------------
//  account.create and session.login

static void
s_account_create (st_call_t *call, const msg_account_create_t *request, msg_account_t *reply)
{
    if (st_require_one_of (call, "role", request->role, s_official_roles))
        return;
    for (const char *p = request->login; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr ("._-@", *p))) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "login",
                          "\"login\" may hold only a-z, 0-9, \".\", \"_\", \"-\" and \"@\"");
            return;
        }
    if (st_phone_check (request->login, NULL) == 0) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "login",
                      "\"login\" must not be a phone number: phones are volunteers' logins");
        return;
    }
    if (st_require_code (call, "region", request->region)
        || s_require_official_in_scope (call, request->region))
        return;
    const msg_actor_t *actor = st_call_actor (call);
    if (!st_actor_is_system (actor) && strcmp (actor->role, "region_admin") != 0) {
        st_call_fail (call, ST_PERMISSION_DENIED, NULL, "only a region admin may create accounts");
        return;
    }
    st_params_t params = {0};
    st_params_text (&params, request->region);
    PGresult *res;
    if (st_call_exec (call, "region_exists", &params, &res))
        return;
    bool exists = PQntuples (res) > 0;
    PQclear (res);
    if (!exists) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "region", "no region has code \"%s\"",
                      request->region);
        return;
    }
    char hash[ST_PASSWORD_HASH_SIZE];
    if (st_password_hash (request->password, hash)) {
        st_call_fail (call, ST_RESOURCE_EXHAUSTED, NULL, "could not hash the password");
        return;
    }
    uint8_t login_hash[ST_CRYPTO_HASH_SIZE];
    s_hash (call, "login", request->login, login_hash);
    st_params_bin (&params, login_hash, sizeof login_hash);
    st_params_text (&params, request->login);
    st_params_text (&params, hash);
    st_params_text (&params, request->role);
    st_params_text (&params, request->region);
    st_params_null (&params);
    st_params_null (&params);
    st_params_text (&params, actor->account);
    if (st_call_exec (call, "account_insert", &params, &res)) {
        if (st_call_code (call) == ST_CONFLICT)
            st_call_fail (call, ST_CONFLICT, "login", "login \"%s\" is taken", request->login);
        return;
    }
    st_row_to_msg (res, 0, &msg_account_desc, reply);
    PQclear (res);
}

#define S_LOGIN_ATTEMPTS 5

//  Not a write op: each statement commits on its own, so a failed attempt counts.
static void
s_session_login (st_call_t *call, const msg_session_login_t *request, msg_account_t *reply)
{
    uint8_t login_hash[ST_CRYPTO_HASH_SIZE];
    s_hash (call, "login", request->login, login_hash);
    st_params_t params = {0};
    st_params_bin (&params, login_hash, sizeof login_hash);
    PGresult *res;
    if (st_call_exec (call, "login_failures_get", &params, &res))
        return;
    int failures = PQntuples (res) ? atoi (PQgetvalue (res, 0, 0)) : 0;
    PQclear (res);
    if (failures >= S_LOGIN_ATTEMPTS) {
        st_call_fail (call, ST_RESOURCE_EXHAUSTED, "login",
                      "too many failed sign-ins: try again in 15 minutes");
        return;
    }
    st_params_bin (&params, login_hash, sizeof login_hash);
    if (st_call_exec (call, "account_by_login", &params, &res))
        return;
    //  An unknown login costs the same time as a wrong password.
    static const char dummy[] = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                                "9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";
    bool known = PQntuples (res) == 1;
    bool ok = st_password_verify (known ? PQgetvalue (res, 0, 6) : dummy, request->password);
    if (known && ok) {
        st_row_to_msg (res, 0, &msg_account_desc, reply);
        PQclear (res);
        st_params_bin (&params, login_hash, sizeof login_hash);
        st_call_exec (call, "login_failures_clear", &params, NULL);
        return;
    }
    PQclear (res);
    st_params_bin (&params, login_hash, sizeof login_hash);
    st_params_text (&params, st_call_id (call));
    if (st_call_exec (call, "login_failures_add", &params, NULL))
        return;
    st_call_fail (call, ST_UNAUTHENTICATED, NULL, "login or password is wrong");
}

//  ---------------------------------------------------------------------------------------
//  resident.register and resident.get

static void
s_resident_from_row (st_call_t *call, PGresult *res, msg_resident_t *r)
{
    st_row_to_msg (res, 0, &msg_resident_desc, r);
    r->has_care_tags = true;
    r->phone = s_open_masked (call, res, 0, PQfnumber (res, "phone_enc"), "phone", false);
}

static void
s_resident_register (st_call_t *call, const msg_resident_register_t *request, msg_resident_t *reply)
{
    if (s_require_phone (call, "phone", request->phone)
        || st_require_code (call, "region", request->region)
        || s_require_list (call, "care_tags", &request->care_tags, s_care_tags))
        return;
    const msg_actor_t *actor = st_call_actor (call);
    if (actor && s_require_official_in_scope (call, request->region))
        return;
    uint8_t *sealed = NULL;
    st_params_t params = {0};
    st_params_text (&params, request->name);
    PGresult *res = NULL;
    int rc = s_seal (call, &params, "phone", request->phone, &sealed, true);
    if (rc == 0) {
        st_params_text (&params, request->region);
        st_params_text (&params, request->address);
        st_params_double_or_null (&params, request->has_lat, request->lat);
        st_params_double_or_null (&params, request->has_lon, request->lon);
        s_text_array_param (&params, &request->care_tags, request->has_care_tags);
        rc = st_call_exec (call, "resident_insert", &params, &res);
    }
    st_params_clear (&params);
    free (sealed);
    if (rc)
        return;
    s_resident_from_row (call, res, reply);
    PQclear (res);
    if (request->password
        && s_create_person_account (call, "resident", request->phone, request->password,
                                    reply->region, NULL, reply->id))
        return;
    msg_resident_registered_t event = {.id = reply->id,
                                       .region = reply->region,
                                       .lat = reply->lat,
                                       .has_lat = reply->has_lat,
                                       .lon = reply->lon,
                                       .has_lon = reply->has_lon,
                                       .care_tags = reply->care_tags,
                                       .has_care_tags = true};
    st_call_emit (call, "resident.registered", &msg_resident_registered_desc, &event);
}

static void
s_resident_get (st_call_t *call, const msg_resident_get_t *request, msg_resident_t *reply)
{
    int64_t id = 0;
    if (s_require_actor (call) || st_require_id (call, "id", "resident", request->id, &id))
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "resident_get", &params, &res))
        return;
    const msg_actor_t *actor = st_call_actor (call);
    bool self = PQntuples (res) == 1 && strcmp (actor->role, "resident") == 0 && actor->resident_id
                && strcmp (actor->resident_id, request->id) == 0;
    if (PQntuples (res) == 0
        || !(self || st_actor_in_scope (actor, PQgetvalue (res, 0, R_REGION)))) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "id", "no resident has id \"%s\"", request->id);
        return;
    }
    s_resident_from_row (call, res, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  category.list and category.create — service categories are data

static void
s_category_list (st_call_t *call, const msg_category_list_t *request, msg_categories_t *reply)
{
    if (request->region && st_require_code (call, "region", request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->region);
    PGresult *res;
    if (st_call_exec (call, "category_list", &params, &res))
        return;
    st_rows_to_list (res, &msg_category_desc, (st_list_t *) &reply->items, &reply->has_items);
    PQclear (res);
}

static void
s_category_create (st_call_t *call, const msg_category_t *request, msg_category_t *reply)
{
    const msg_actor_t *actor = st_call_actor (call);
    if (s_require_actor (call))
        return;
    //  A region admin's category belongs to its region; the system's are national.
    const char *region = st_actor_is_system (actor) ? request->region : actor->region;
    if (!st_actor_is_system (actor) && strcmp (actor->role, "region_admin") != 0) {
        st_call_fail (call, ST_PERMISSION_DENIED, NULL, "only a region admin adds categories");
        return;
    }
    if (region && st_require_code (call, "region", region))
        return;
    for (const char *p = request->code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
            || (p == request->code && !(*p >= 'a' && *p <= 'z'))) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "code",
                          "\"code\" must start with a-z and hold only a-z, 0-9 and \"_\"");
            return;
        }
    st_params_t params = {0};
    st_params_text (&params, request->code);
    st_params_text (&params, request->name);
    st_params_text (&params, region);
    PGresult *res;
    if (st_call_exec (call, "category_insert", &params, &res)) {
        if (st_call_code (call) == ST_CONFLICT)
            st_call_fail (call, ST_CONFLICT, "code", "category \"%s\" exists already",
                          request->code);
        return;
    }
    st_row_to_msg (res, 0, &msg_category_desc, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  site.create and site.get — practice sites hang on regions

static const char *const s_site_kinds[] = {"centre", "institute", "station", "point", NULL};

//  The region must exist: sites and teams hang on known regions.
static int
s_require_region_exists (st_call_t *call, const char *field, const char *code)
{
    st_params_t params = {0};
    st_params_text (&params, code);
    PGresult *res;
    if (st_call_exec (call, "region_exists", &params, &res))
        return -1;
    bool exists = PQntuples (res) > 0;
    PQclear (res);
    if (!exists)
        return st_call_fail (call, ST_FAILED_PRECONDITION, field, "no region has code \"%s\"",
                             code);
    return 0;
}

static void
s_site_create (st_call_t *call, const msg_site_create_t *request, msg_site_t *reply)
{
    if (st_require_one_of (call, "kind", request->kind, s_site_kinds))
        return;
    if (st_require_code (call, "region", request->region)
        || s_require_official_in_scope (call, request->region))
        return;
    const msg_actor_t *actor = st_call_actor (call);
    if (strcmp (actor->role, "team_leader") == 0) {
        st_call_fail (call, ST_PERMISSION_DENIED, NULL, "team leaders do not add sites");
        return;
    }
    if (s_require_region_exists (call, "region", request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->name);
    st_params_text (&params, request->kind);
    st_params_text (&params, request->region);
    st_params_text (&params, request->address);
    st_params_double_or_null (&params, request->has_lat, request->lat);
    st_params_double_or_null (&params, request->has_lon, request->lon);
    st_params_text (&params, request->opening_hours);
    PGresult *res;
    if (st_call_exec (call, "site_insert", &params, &res))
        return;
    st_row_to_msg (res, 0, &msg_site_desc, reply);
    PQclear (res);
}

static void
s_site_get (st_call_t *call, const msg_site_get_t *request, msg_site_t *reply)
{
    int64_t id = 0;
    if (st_require_id (call, "id", "site", request->id, &id))
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "site_get", &params, &res))
        return;
    if (PQntuples (res) == 0)
        st_call_fail (call, ST_NOT_FOUND, "id", "no site has id \"%s\"", request->id);
    else
        st_row_to_msg (res, 0, &msg_site_desc, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  team.create, team.get, team.add_member, team.remove_member

static const char *const s_team_levels[] = {"demonstration", "brigade", "detachment",
                                            "squad",         "unit",    NULL};
static const char *const s_member_roles[] = {"member", "leader", "info_officer", NULL};

//  Loads a team and its members into `reply`; `statement` locks the team row or not.
static int
s_load_team (st_call_t *call, const char *statement, const char *id_text, msg_team_t *reply)
{
    int64_t id = 0;
    if (st_require_id (call, "id", "team", id_text, &id))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, statement, &params, &res))
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return st_call_fail (call, ST_NOT_FOUND, "id", "no team has id \"%s\"", id_text);
    }
    st_row_to_msg (res, 0, &msg_team_desc, reply);
    PQclear (res);
    st_params_int (&params, id);
    if (st_call_exec (call, "team_members", &params, &res))
        return -1;
    st_rows_to_list (res, &msg_member_desc, (st_list_t *) &reply->members, &reply->has_members);
    PQclear (res);
    return 0;
}

static void
s_team_create (st_call_t *call, const msg_team_create_t *request, msg_team_t *reply)
{
    if (st_require_one_of (call, "level", request->level, s_team_levels))
        return;
    char *category[] = {request->category};
    st_strs_t categories = {category, 1};
    if (st_require_code (call, "region", request->region)
        || s_require_official_in_scope (call, request->region)
        || s_require_categories (call, "category", &categories)
        || s_require_region_exists (call, "region", request->region))
        return;
    int64_t site = 0, parent = 0;
    if ((request->site_id && st_require_id (call, "id", "site", request->site_id, &site))
        || (request->parent_id && st_require_id (call, "id", "team", request->parent_id, &parent)))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->name);
    st_params_text (&params, request->level);
    st_params_text (&params, request->category);
    st_params_text (&params, request->region);
    st_params_text (&params, request->site_id);
    st_params_text (&params, request->parent_id);
    PGresult *res;
    if (st_call_exec (call, "team_insert", &params, &res)) {
        if (st_call_code (call) == ST_FAILED_PRECONDITION)
            st_call_fail (call, ST_NOT_FOUND, request->site_id ? "site_id" : "parent_id",
                          "the site or parent team does not exist");
        return;
    }
    char id[24];
    snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (s_load_team (call, "team_get", id, reply))
        return;
    msg_team_created_t event = {.id = reply->id,
                                .name = reply->name,
                                .level = reply->level,
                                .category = reply->category,
                                .region = reply->region};
    st_call_emit (call, "team.created", &msg_team_created_desc, &event);
}

static void
s_team_get (st_call_t *call, const msg_team_get_t *request, msg_team_t *reply)
{
    if (s_require_actor (call) || s_load_team (call, "team_get", request->id, reply))
        return;
    const msg_actor_t *actor = st_call_actor (call);
    bool member = false;
    for (size_t i = 0; i < reply->members.count && actor->volunteer_id; i++)
        member = member || strcmp (reply->members.items[i].volunteer_id, actor->volunteer_id) == 0;
    if (!member && !st_actor_in_scope (actor, reply->region))
        st_call_fail (call, ST_NOT_FOUND, "id", "no team has id \"%s\"", request->id);
}

//  An official in scope, or a leader of this very team, manages its members.
static int
s_require_team_manager (st_call_t *call, const msg_team_t *team)
{
    const msg_actor_t *actor = st_call_actor (call);
    if (st_actor_in_scope (actor, team->region))
        return 0;
    if (strcmp (actor->role, "volunteer") == 0 && actor->volunteer_id) {
        st_params_t params = {0};
        st_params_text (&params, team->id);
        st_params_text (&params, actor->volunteer_id);
        PGresult *res;
        if (st_call_exec (call, "team_leads", &params, &res))
            return -1;
        bool leads = PQntuples (res) > 0;
        PQclear (res);
        if (leads)
            return 0;
    }
    return st_call_fail (call, ST_PERMISSION_DENIED, "team_id",
                         "only the team's leader or an official in scope manages its members");
}

static void
s_team_change_member (st_call_t *call, const msg_team_member_t *request, msg_team_t *reply,
                      bool add)
{
    const char *role = request->role ? request->role : "member";
    if (add && st_require_one_of (call, "role", role, s_member_roles))
        return;
    msg_team_t team = {0};
    int rc = s_require_actor (call);
    if (rc == 0)
        rc = s_load_team (call, "team_lock", request->team_id, &team);
    if (rc == 0)
        rc = s_require_team_manager (call, &team);
    //  The volunteer must exist; a member is named by id, nothing more is shown.
    int64_t volunteer_id = 0;
    if (rc == 0)
        rc = st_require_id (call, "id", "volunteer", request->volunteer_id, &volunteer_id);
    if (rc == 0) {
        st_params_t params = {0};
        st_params_int (&params, volunteer_id);
        PGresult *res;
        rc = st_call_exec (call, "volunteer_get", &params, &res);
        if (rc == 0) {
            bool found = PQntuples (res) > 0;
            PQclear (res);
            if (!found)
                rc = st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"",
                                   request->volunteer_id);
        }
    }
    if (rc == 0) {
        st_params_t params = {0};
        st_params_text (&params, team.id);
        st_params_int (&params, volunteer_id);
        if (add) {
            st_params_text (&params, role);
            rc = st_call_exec (call, "membership_upsert", &params, NULL);
        } else {
            PGresult *res;
            rc = st_call_exec (call, "membership_delete", &params, &res);
            if (rc == 0) {
                bool removed = PQntuples (res) > 0;
                PQclear (res);
                if (!removed)
                    rc = st_call_fail (call, ST_NOT_FOUND, "volunteer_id",
                                       "volunteer \"%s\" is not in team \"%s\"",
                                       request->volunteer_id, team.id);
            }
        }
    }
    st_msg_clear (&msg_team_desc, &team);
    if (rc || s_load_team (call, "team_get", request->team_id, reply))
        return;
    msg_membership_changed_t event = {.team_id = reply->id,
                                      .volunteer_id = (char *) request->volunteer_id,
                                      .role = add ? (char *) role : NULL};
    st_call_emit (call, "membership.changed", &msg_membership_changed_desc, &event);
}

static void
s_team_add_member (st_call_t *call, const msg_team_member_t *request, msg_team_t *reply)
{
    s_team_change_member (call, request, reply, true);
}

static void
s_team_remove_member (st_call_t *call, const msg_team_member_t *request, msg_team_t *reply)
{
    s_team_change_member (call, request, reply, false);
}

//  ---------------------------------------------------------------------------------------
//  Transfer (转移接续): the volunteer consents, the destination's admin moves them; the
//  volunteer id stays, so history, hours, points and stars follow it

static void
s_volunteer_request_transfer (st_call_t *call, const msg_transfer_request_t *request,
                              msg_volunteer_t *reply)
{
    const msg_actor_t *actor = st_call_actor (call);
    if (s_require_actor (call) || st_require_code (call, "region", request->region))
        return;
    //  Consent is the volunteer's own: nobody gives it for them.
    if (!(strcmp (actor->role, "volunteer") == 0 && actor->volunteer_id
          && strcmp (actor->volunteer_id, request->id) == 0)) {
        st_call_fail (call, ST_PERMISSION_DENIED, "id",
                      "only the volunteer asks to be transferred");
        return;
    }
    if (s_require_region_exists (call, "region", request->region)
        || s_load_volunteer (call, "volunteer_lock", request->id, reply))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->id);
    st_params_text (&params, request->region);
    st_call_exec (call, "transfer_request_put", &params, NULL);
}

static void
s_volunteer_transfer (st_call_t *call, const msg_transfer_t *request, msg_volunteer_t *reply)
{
    if (s_require_actor (call) || st_require_code (call, "region", request->region)
        || s_require_official_in_scope (call, request->region))
        return;
    int64_t id = 0;
    if (st_require_id (call, "id", "volunteer", request->id, &id))
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "volunteer_lock", &params, &res))
        return;
    if (PQntuples (res) == 0) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "id", "no volunteer has id \"%s\"", request->id);
        return;
    }
    char from[ST_REGION_SIZE];
    snprintf (from, sizeof from, "%s", PQgetvalue (res, 0, V_REGION));
    PQclear (res);
    st_params_int (&params, id);
    st_params_text (&params, request->region);
    if (st_call_exec (call, "transfer_request_take", &params, &res))
        return;
    bool consented = PQntuples (res) > 0;
    PQclear (res);
    if (!consented) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "id",
                      "the volunteer has not asked to move to \"%s\"", request->region);
        return;
    }
    st_params_int (&params, id);
    st_params_text (&params, request->region);
    if (st_call_exec (call, "volunteer_move", &params, &res))
        return;
    s_volunteer_from_row (call, res, 0, reply);
    PQclear (res);
    char prefix[ST_REGION_SIZE], low[ST_REGION_SIZE], high[ST_REGION_SIZE + 1];
    st_region_prefix (request->region, prefix);
    st_region_range (prefix, low, high);
    st_params_int (&params, id);
    st_params_text (&params, low);
    st_params_text (&params, high);
    if (st_call_exec (call, "memberships_leave", &params, NULL))
        return;
    for (size_t i = 0; i < request->team_ids.count; i++) {
        msg_team_t team = {0};
        int rc = s_load_team (call, "team_lock", request->team_ids.items[i], &team);
        bool inside = rc == 0 && strncmp (team.region, prefix, strlen (prefix)) == 0;
        st_msg_clear (&msg_team_desc, &team);
        if (rc)
            return;
        if (!inside) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "team_ids",
                          "team \"%s\" is not in the destination region",
                          request->team_ids.items[i]);
            return;
        }
        st_params_text (&params, request->team_ids.items[i]);
        st_params_int (&params, id);
        st_params_text (&params, "member");
        if (st_call_exec (call, "membership_upsert", &params, NULL))
            return;
    }
    st_params_int (&params, id);
    st_params_text (&params, from);
    st_params_text (&params, request->region);
    st_params_text (&params, st_call_actor (call)->account);
    if (st_call_exec (call, "transfer_log", &params, NULL))
        return;
    msg_volunteer_transferred_t event = {.id = reply->id,
                                         .from_region = from,
                                         .to_region = reply->region,
                                         .team_ids = request->team_ids,
                                         .has_team_ids = true};
    st_call_emit (call, "volunteer.transferred", &msg_volunteer_transferred_desc, &event);
    registry_emit_volunteer (call, "volunteer.updated", reply);
}
