/*  registry_volunteers.c — volunteers: real-name registration, the profile, a region's list,
    the audited reveal of personal data, status, and transfer between regions. A volunteer
    acts on themself; officials in scope act on them.  */
#include "registry.h"
#include "registry_util.h"
#include "st_checks.h"
#include "st_pii.h"
#include "st_rows.h"
#include "st_log.h"
#include "st_time.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

ST_REGISTRY_VOLUNTEERS_OPS (ST_ROUTE_THUNK)

const st_route_t registry_volunteers_routes[] = {ST_REGISTRY_VOLUNTEERS_OPS (ST_ROUTE_ROW)};
const size_t registry_volunteers_route_count =
    sizeof registry_volunteers_routes / sizeof registry_volunteers_routes[0];

//  Columns of VOLUNTEER_COLUMNS (registry_store.c) read by position; the others fill the
//  reply's fields of the same name (st_rows).
enum { V_ID = 0, V_ID_NUMBER = 2, V_PHONE = 3, V_REGION = 4 };

static const char *const s_slots[] = {"mon_am", "mon_pm", "mon_ev", "tue_am", "tue_pm", "tue_ev",
                                      "wed_am", "wed_pm", "wed_ev", "thu_am", "thu_pm", "thu_ev",
                                      "fri_am", "fri_pm", "fri_ev", "sat_am", "sat_pm", "sat_ev",
                                      "sun_am", "sun_pm", "sun_ev", NULL};
static const char *const s_statuses[] = {"active", "suspended", "left", NULL};

//  ---------------------------------------------------------------------------------------
//  Checks and rows

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

//  The profile fields (MSG_VOLUNTEER_PROFILE) of a registration or an update, two message
//  types with the same field names: S_PROFILE views either, so that one function checks them
//  and one binds them.
typedef struct {
    const st_strs_t *categories;
    bool has_categories;
    const st_strs_t *availability;
    bool has_availability;
    bool has_lat;
    double lat;
    bool has_lon;
    double lon;
    bool has_party_member;
    bool party_member;
    const char *emergency_contact_name;
    const char *emergency_contact_phone;
    const char *insurance_until;
} s_profile_t;

#define S_PROFILE(r)                                                                               \
    (&(const s_profile_t){&(r)->categories, (r)->has_categories, &(r)->availability,               \
                          (r)->has_availability, (r)->has_lat, (r)->lat, (r)->has_lon, (r)->lon,   \
                          (r)->has_party_member, (r)->party_member, (r)->emergency_contact_name,   \
                          (r)->emergency_contact_phone, (r)->insurance_until})

//  Checks the profile fields a registration or an update may carry, for a volunteer of
//  `region` (NULL: not known yet, the categories' regions checked later).
static int
s_check_profile (st_call_t *call, const s_profile_t *p, const char *region)
{
    return registry_require_list (call, "availability", p->availability, s_slots)
           || (p->insurance_until && s_require_date (call, "insurance_until", p->insurance_until))
           || (p->emergency_contact_phone
               && registry_require_phone (call, "emergency_contact_phone",
                                          p->emergency_contact_phone))
           || registry_require_categories (call, "categories", p->categories, region);
}

//  Binds the profile fields in their order in MSG_VOLUNTEER_PROFILE, which volunteer_insert
//  and volunteer_update take last; the emergency contact's phone sealed.
static int
s_bind_profile (st_call_t *call, st_params_t *params, const s_profile_t *p)
{
    registry_text_array_param (params, p->categories, p->has_categories);
    registry_text_array_param (params, p->availability, p->has_availability);
    st_params_double_or_null (params, p->has_lat, p->lat);
    st_params_double_or_null (params, p->has_lon, p->lon);
    st_params_bool_or_null (params, p->has_party_member, p->party_member);
    st_params_text (params, p->emergency_contact_name);
    int rc = 0;
    if (p->emergency_contact_phone)
        rc = registry_seal (call, params, "emergency_contact_phone", p->emergency_contact_phone,
                            false);
    else
        st_params_null (params);
    st_params_text (params, p->insurance_until);
    return rc;
}

//  Fills a volunteer from a row of VOLUNTEER_COLUMNS, the birth date whole (the events need
//  its year): s_volunteer_shown cuts it to what the actor may see before the reply goes.
static void
s_volunteer_from_row (st_call_t *call, PGresult *res, int row, msg_volunteer_t *v)
{
    st_row_to_msg (res, row, &msg_volunteer_desc, v);
    if (v->birth_date && strlen (v->birth_date) >= 4) {
        char decade[8];
        snprintf (decade, sizeof decade, "%.3s0s", v->birth_date);
        v->birth_decade = st_strdup (decade);
    }
    //  The lists are always shown, empty or not.
    v->has_skills = v->has_categories = v->has_availability = true;
    v->id_number =
        registry_open_masked (call, res, row, PQfnumber (res, "id_number_enc"), "id_number", true);
    v->phone = registry_open_masked (call, res, row, PQfnumber (res, "phone_enc"), "phone", false);
    v->emergency_contact_phone =
        registry_open_masked (call, res, row, PQfnumber (res, "emergency_contact_phone_enc"),
                              "emergency_contact_phone", false);
    v->email = registry_open_email_masked (call, res, row, PQfnumber (res, "email_enc"));
}

//  Whether the actor may see a volunteer's birth date: those who may see personal data
//  unmasked (the system, a region admin: the op has checked the scope), the volunteer
//  themself, and a person registering themself (no actor). The birth date, the region (the
//  county) and the masked ID number together give the whole ID number back.
static bool
s_may_see_birth_date (st_call_t *call, const char *volunteer_id)
{
    const msg_actor_t *actor = st_call_actor (call);
    return !actor || st_actor_is_system (actor) || strcmp (actor->role, "region_admin") == 0
           || st_actor_is_volunteer (actor, volunteer_id);
}

//  Cuts a volunteer about to be replied to down to what the actor may see: others than
//  s_may_see_birth_date's get the decade of birth (birth_decade, "1980s") alone, which
//  leaves hundreds of ID numbers matching the mask; an age band would not, as it moves on the
//  birthday and so tells it.
static void
s_volunteer_shown (st_call_t *call, msg_volunteer_t *v)
{
    if (!v->birth_date || s_may_see_birth_date (call, v->id))
        return;
    free (v->birth_date);
    v->birth_date = NULL;
}

//  The event of a volunteer's supply-relevant state (registry.h).
void
registry_volunteer_event (const msg_volunteer_t *v, msg_volunteer_registered_t *event)
{
    *event = (msg_volunteer_registered_t){.id = v->id,
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
        event->birth_year = atoi (v->birth_date);
        event->has_birth_year = true;
    }
}

//  Writes a volunteer's supply-relevant state as an event (registry.h).
void
registry_emit_volunteer (st_call_t *call, const char *topic, const msg_volunteer_t *v)
{
    msg_volunteer_registered_t event;
    registry_volunteer_event (v, &event);
    //  `event` borrows from `v`: not cleared.
    st_call_emit (call, topic, &msg_volunteer_registered_desc, &event);
}

//  Loads a volunteer the actor may see into `reply`; `statement` locks it or not.
static int
s_load_volunteer (st_call_t *call, const char *statement, const char *id_text,
                  msg_volunteer_t *reply)
{
    int64_t id;
    PGresult *res;
    if (registry_row_by_id (call, statement, "volunteer", id_text, &id, &res))
        return -1;
    int rc =
        s_require_volunteer_access (call, PQgetvalue (res, 0, V_ID), PQgetvalue (res, 0, V_REGION));
    if (rc == 0)
        s_volunteer_from_row (call, res, 0, reply);
    PQclear (res);
    return rc;
}

//  ---------------------------------------------------------------------------------------
//  volunteer.register — real-name registration (实名注册): by the person (no actor, through
//  the gateway) or by an official in scope

//  Validates one registration and binds its row (registry.h).
int
registry_volunteer_params (st_call_t *call, const msg_volunteer_register_t *request,
                           st_params_t *params, char text[16])
{
    char id_number[40];
    snprintf (id_number, sizeof id_number, "%s", request->id_number);
    st_id_number_normalise (id_number);
    st_id_info_t info;
    const char *why;
    if (st_id_number_check (id_number, &info, &why))
        return st_call_fail (call, ST_INVALID_ARGUMENT, "id_number",
                             "\"id_number\" is not valid: %s", why);
    if (registry_require_phone (call, "phone", request->phone)
        || (request->email && registry_require_email (call, "email", request->email))
        || st_require_code (call, "region", request->region)
        || s_check_profile (call, S_PROFILE (request), request->region))
        return -1;
    const msg_actor_t *actor = st_call_actor (call);
    if (actor && registry_require_official_in_scope (call, request->region))
        return -1;

    char *gender = text, *birth_date = text + 2;
    gender[0] = info.gender;
    gender[1] = 0;
    snprintf (birth_date, 11, "%04d-%02d-%02d", info.year, info.month, info.day);
    st_params_text (params, request->name);
    int rc = registry_seal (call, params, "id_number", id_number, true);
    sodium_memzero (id_number, sizeof id_number);
    rc = rc ? rc : registry_seal (call, params, "phone", request->phone, true);
    if (rc == 0) {
        st_params_text (params, request->region);
        st_params_text_array (params, request->skills.items, request->skills.count);
        st_params_text (params, gender);
        st_params_text (params, birth_date);
        rc = s_bind_profile (call, params, S_PROFILE (request));
    }
    rc = rc ? rc : registry_seal_or_null (call, params, "email", request->email);
    if (rc)
        st_params_clear (params);
    return rc;
}

//  Validates and inserts one registration, for volunteer.register (registry.h).
int
registry_insert_volunteer (st_call_t *call, const msg_volunteer_register_t *request,
                           const char *statement, msg_volunteer_t *reply)
{
    st_params_t params = {0};
    char text[16];
    if (registry_volunteer_params (call, request, &params, text))
        return -1;
    //  The only unique key a registration can break is the ID number.
    PGresult *res = NULL;
    int rc = registry_exec_unique (call, statement, &params, &res, "id_number",
                                   "a volunteer with this ID number is already registered");
    st_params_clear (&params);
    if (rc)
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
        && registry_create_person_account (call, "volunteer", request->phone, request->password,
                                           reply->region, reply->id, NULL))
        return;
    registry_emit_volunteer (call, "volunteer.registered", reply);
    s_volunteer_shown (call, reply);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.get — one volunteer, personal data masked

static void
s_volunteer_get (st_call_t *call, const msg_volunteer_get_t *request, msg_volunteer_t *reply)
{
    if (s_load_volunteer (call, "volunteer_get", request->id, reply) == 0)
        s_volunteer_shown (call, reply);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.update — the volunteer or an official in scope changes the profile

static void
s_volunteer_update (st_call_t *call, const msg_volunteer_update_t *request, msg_volunteer_t *reply)
{
    //  An email given empty removes the address.
    bool email_removed = request->email && !*request->email;
    if ((request->phone && registry_require_phone (call, "phone", request->phone))
        || (request->email && !email_removed
            && registry_require_email (call, "email", request->email))
        || s_check_profile (call, S_PROFILE (request), NULL))
        return;
    msg_volunteer_t current = {0};
    int rc = s_load_volunteer (call, "volunteer_lock", request->id, &current);
    if (rc == 0)
        rc = registry_require_categories (call, "categories", &request->categories, current.region);
    st_msg_clear (&msg_volunteer_desc, &current);
    if (rc)
        return;
    st_params_t params = {0};
    st_params_text (&params, request->id);
    st_params_text (&params, request->name);
    if (request->phone)
        rc = registry_seal (call, &params, "phone", request->phone, true);
    else {
        st_params_null (&params);
        st_params_null (&params);
    }
    registry_text_array_param (&params, &request->skills, request->has_skills);
    rc = rc ? rc : s_bind_profile (call, &params, S_PROFILE (request));
    rc = rc ? rc
            : registry_seal_or_null (call, &params, "email", email_removed ? NULL : request->email);
    st_params_bool (&params, email_removed);
    PGresult *res = NULL;
    if (rc == 0)
        rc = st_call_exec (call, "volunteer_update", &params, &res);
    st_params_clear (&params);
    if (rc)
        return;
    s_volunteer_from_row (call, res, 0, reply);
    PQclear (res);
    if (request->phone) {
        //  The phone is also the volunteer's login.
        uint8_t login_hash[ST_CRYPTO_HASH_SIZE];
        registry_hash (call, "login", request->phone, login_hash);
        st_params_text (&params, request->id);
        st_params_bin (&params, login_hash, sizeof login_hash);
        if (registry_exec_unique (call, "account_login_hash_update", &params, NULL, "phone",
                                  "this phone already signs in to another account"))
            return;
    }
    registry_emit_volunteer (call, "volunteer.updated", reply);
    s_volunteer_shown (call, reply);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.list — a page of volunteers in a subtree the actor oversees

static void
s_volunteer_list (st_call_t *call, const msg_volunteer_list_t *request, msg_volunteer_page_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    const char *region = request->region;
    if (!region && !st_actor_is_system (actor))
        region = actor->region; //  an official's own subtree by default
    if (region && st_require_code (call, "region", region))
        return;
    if (!st_actor_is_system (actor)
        && registry_require_official_in_scope (call, region ? region : ""))
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
    //  The page starts at (low, 0) when the cursor is before the subtree (or absent): below
    //  the subtree, the index scan would start where the cursor says and walk every region
    //  before it to reach `low`. Every code in the subtree is `low` or above it, every id above
    //  0.
    if (strcmp (after_region, low) < 0) {
        snprintf (after_region, sizeof after_region, "%s", low);
        after = 0;
    }
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
    int rc = st_call_exec (call, request->skill ? "volunteer_list_skill" : "volunteer_list",
                           &params, &res);
    free (like);
    if (rc)
        return;
    int rows = PQntuples (res);
    int shown = rows > limit ? (int) limit : rows;
    reply->items.items = st_calloc (shown, sizeof (msg_volunteer_t));
    reply->has_items = true;
    for (int i = 0; i < shown; i++) {
        s_volunteer_from_row (call, res, i, &reply->items.items[i]);
        s_volunteer_shown (call, &reply->items.items[i]);
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
//  volunteer.stats — how many volunteers a region subtree has, for officials in its scope
//  (the figures of reports: no one is named)

static void
s_volunteer_stats (st_call_t *call, const msg_volunteer_stats_query_t *request,
                   msg_volunteer_stats_t *reply)
{
    const msg_actor_t *actor;
    int64_t from_us = 0, to_us = 0;
    char from[40] = "", to[40];
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    if ((request->from && st_require_time (call, "from", request->from, &from_us, from))
        || (request->to && st_require_time (call, "to", request->to, &to_us, to)))
        return;
    if (!request->to) {
        to_us = st_now_ms () * 1000;
        st_time_format_utc (to_us, to);
    }
    if (request->from && from_us >= to_us) {
        st_call_fail (call, ST_INVALID_ARGUMENT, request->to ? "to" : "from",
                      "\"to\" (%s) must come after \"from\" (%s)", to, from);
        return;
    }
    char prefix[ST_REGION_SIZE], low[ST_REGION_SIZE], high[ST_REGION_SIZE + 1];
    st_region_prefix (request->region, prefix);
    st_region_range (prefix, low, high);
    st_params_t params = {0};
    st_params_text (&params, low);
    st_params_text (&params, high);
    st_params_text (&params, to);
    st_params_text (&params, request->from ? from : NULL);
    st_params_text (&params, request->region);
    st_call_exec_reply (call, "volunteer_stats", &params, &msg_volunteer_stats_desc, reply);
}

//  ---------------------------------------------------------------------------------------
//  volunteer.reveal — the unmasked ID number and phone for a region admin in scope, with
//  the reveal written to the audit log first

static void
s_volunteer_reveal (st_call_t *call, const msg_volunteer_reveal_t *request,
                    msg_volunteer_pii_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor)
        || registry_require_region_admin (call, actor,
                                          "only a region admin may see personal data unmasked"))
        return;
    int64_t id;
    PGresult *res;
    if (registry_row_by_id (call, "volunteer_get", "volunteer", request->id, &id, &res))
        return;
    if (!st_actor_in_scope (actor, PQgetvalue (res, 0, V_REGION))) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "id", "no volunteer has id \"%s\"", request->id);
        return;
    }
    st_params_t params = {0};
    st_params_text (&params, actor->account);
    st_params_text (&params, actor->role);
    st_params_int (&params, id);
    st_params_text (&params, request->reason);
    //  No audit record, no reveal.
    if (st_call_exec (call, "pii_reveal_log", &params, NULL) == 0) {
        st_row_to_msg (res, 0, &msg_volunteer_pii_desc, reply); //  the id; the rest is sealed
        reply->id_number = registry_open (call, res, 0, V_ID_NUMBER, "id_number");
        reply->phone = registry_open (call, res, 0, V_PHONE, "phone");
        int email = PQfnumber (res, "email_enc");
        reply->email = registry_open (call, res, 0, email, "email");
        if (!reply->id_number || !reply->phone || (!PQgetisnull (res, 0, email) && !reply->email))
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
    bool official = rc == 0 && registry_require_official_in_scope (call, current.region) == 0;
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
    s_volunteer_shown (call, reply);
}

//  ---------------------------------------------------------------------------------------
//  Transfer (转移接续): the volunteer consents, the destination's admin moves them; the
//  volunteer id stays, so history, hours, points and stars follow it

static void
s_volunteer_request_transfer (st_call_t *call, const msg_transfer_request_t *request,
                              msg_volunteer_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_code (call, "region", request->region))
        return;
    //  Consent is the volunteer's own: nobody gives it for them.
    if (!(strcmp (actor->role, "volunteer") == 0 && actor->volunteer_id
          && strcmp (actor->volunteer_id, request->id) == 0)) {
        st_call_fail (call, ST_PERMISSION_DENIED, "id",
                      "only the volunteer asks to be transferred");
        return;
    }
    if (registry_require_region_exists (call, "region", request->region)
        || s_load_volunteer (call, "volunteer_lock", request->id, reply))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->id);
    st_params_text (&params, request->region);
    st_params_text (&params, request->reason);
    if (st_call_exec (call, "transfer_request_put", &params, NULL))
        return;
    s_volunteer_shown (call, reply);
}

static void
s_volunteer_transfer (st_call_t *call, const msg_transfer_t *request, msg_volunteer_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_code (call, "region", request->region)
        || registry_require_official_in_scope (call, request->region))
        return;
    int64_t id;
    PGresult *res;
    if (registry_row_by_id (call, "volunteer_lock", "volunteer", request->id, &id, &res))
        return;
    char from[ST_REGION_SIZE];
    snprintf (from, sizeof from, "%s", PQgetvalue (res, 0, V_REGION));
    PQclear (res);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, request->region);
    st_params_text (&params, actor->account ? actor->account : "system");
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
        int rc = registry_load_team (call, "team_lock", request->team_ids.items[i], &team);
        bool inside = rc == 0 && strncmp (team.region, prefix, strlen (prefix)) == 0;
        bool in_scope = rc == 0 && st_actor_in_scope (actor, team.region);
        st_msg_clear (&msg_team_desc, &team);
        if (rc)
            return;
        if (!in_scope) {
            st_call_fail (call, ST_PERMISSION_DENIED, "team_ids",
                          "team \"%s\" is outside the region of account \"%s\"",
                          request->team_ids.items[i], actor->account);
            return;
        }
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
    st_params_text (&params, actor->account);
    if (st_call_exec (call, "transfer_log", &params, NULL))
        return;
    msg_volunteer_transferred_t event = {.id = reply->id,
                                         .from_region = from,
                                         .to_region = reply->region,
                                         .team_ids = request->team_ids,
                                         .has_team_ids = true};
    st_call_emit (call, "volunteer.transferred", &msg_volunteer_transferred_desc, &event);
    registry_emit_volunteer (call, "volunteer.updated", reply);
    s_volunteer_shown (call, reply);
}

//  ---------------------------------------------------------------------------------------
//  transfer.request, transfer.list, transfer.decline — transfer requests as the pages show
//  them: asked by the volunteer, listed and declined by the destination's officials

//  A transfer request row (TRANSFER_COLUMNS of registry_store.c) into `item`.
static void
s_transfer_from_row (PGresult *res, int row, msg_transfer_item_t *item)
{
    st_row_to_msg (res, row, &msg_transfer_item_desc, item);
    item->volunteer.id = st_strdup (st_row_text (res, row, "volunteer_id"));
    item->volunteer.name = st_strdup (st_row_text (res, row, "volunteer_name"));
    item->volunteer.region = st_strdup (st_row_text (res, row, "volunteer_region"));
    item->has_volunteer = true;
}

//  Transfer request `id` into `item` (locked when `lock`). Returns -1 when the call failed.
static int
s_transfer_load (st_call_t *call, int64_t id, bool lock, msg_transfer_item_t *item,
                 char volunteer_region[ST_REGION_SIZE])
{
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, lock ? "transfer_request_lock" : "transfer_request_get", &params, &res))
        return -1;
    if (PQntuples (res) == 1) {
        s_transfer_from_row (res, 0, item);
        if (volunteer_region)
            snprintf (volunteer_region, ST_REGION_SIZE, "%s",
                      st_row_text (res, 0, "volunteer_region"));
    }
    int found = PQntuples (res) == 1;
    PQclear (res);
    return found ? 0 : 1;
}

static void
s_transfer_request (st_call_t *call, const msg_transfer_ask_t *request, msg_transfer_item_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    //  Consent is the volunteer's own: nobody asks for them.
    if (strcmp (actor->role, "volunteer") != 0 || !actor->volunteer_id) {
        st_call_fail (call, ST_PERMISSION_DENIED, NULL, "only a volunteer asks to be transferred");
        return;
    }
    if (st_require_code (call, "to_region", request->to_region)
        || registry_require_region_exists (call, "to_region", request->to_region))
        return;
    msg_volunteer_t volunteer = {0};
    int rc = s_load_volunteer (call, "volunteer_lock", actor->volunteer_id, &volunteer);
    bool here = rc == 0 && strcmp (volunteer.region, request->to_region) == 0;
    st_msg_clear (&msg_volunteer_desc, &volunteer);
    if (rc)
        return;
    if (here) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "to_region", "you are in region \"%s\" already",
                      request->to_region);
        return;
    }
    st_params_t params = {0};
    st_params_text (&params, actor->volunteer_id);
    st_params_text (&params, request->to_region);
    st_params_text (&params, request->reason);
    PGresult *res;
    if (st_call_exec (call, "transfer_request_put", &params, &res))
        return;
    int64_t id = atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    s_transfer_load (call, id, false, reply, NULL);
}

static const char *const s_transfer_statuses[] = {"pending", "accepted", "declined", NULL};

static void
s_transfer_list (st_call_t *call, const msg_transfer_list_t *request, msg_transfer_page_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    const char *status = request->status ? request->status : "pending";
    if (st_require_one_of (call, "status", status, s_transfer_statuses))
        return;
    //  A volunteer reads their own; an official the requests to their subtree (or the part
    //  of it named); the system any.
    bool own = strcmp (actor->role, "volunteer") == 0;
    if (own && !actor->volunteer_id) {
        st_call_fail (call, ST_PERMISSION_DENIED, NULL, "no volunteer stands for this account");
        return;
    }
    if (!own && !st_actor_is_system (actor) && st_require_official (call, actor))
        return;
    const char *region = request->region;
    if (!region && st_actor_is_official (actor))
        region = actor->region;
    if (region && st_require_code (call, "region", region))
        return;
    if (region && st_actor_is_official (actor) && st_require_scope (call, actor, "region", region))
        return;
    int64_t after = 0;
    if (request->cursor && !st_parse_id (request->cursor, &after)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "cursor", "\"cursor\" is not one we gave");
        return;
    }
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_text (&params, status);
    //  The parameters point at these until the statement runs.
    char prefix[ST_REGION_SIZE], low[ST_REGION_SIZE], high[ST_REGION_SIZE + 1];
    if (region) {
        st_region_prefix (region, prefix);
        st_region_range (prefix, low, high);
        st_params_text (&params, low);
        st_params_text (&params, high);
    } else {
        st_params_null (&params);
        st_params_null (&params);
    }
    if (own)
        st_params_text (&params, actor->volunteer_id);
    else
        st_params_null (&params);
    st_params_int_or_null (&params, request->cursor != NULL, after);
    st_params_int (&params, limit + 1);
    PGresult *res;
    if (st_call_exec (call, "transfer_request_list", &params, &res))
        return;
    int rows = PQntuples (res), shown = rows > limit ? (int) limit : rows;
    reply->items.items = st_calloc (shown ? shown : 1, sizeof (msg_transfer_item_t));
    for (int r = 0; r < shown; r++)
        s_transfer_from_row (res, r, &reply->items.items[r]);
    reply->items.count = shown;
    reply->has_items = true;
    if (rows > shown)
        reply->next_cursor = st_strdup (st_row_text (res, shown - 1, "id"));
    PQclear (res);
}

static void
s_transfer_decline (st_call_t *call, const msg_transfer_decline_t *request,
                    msg_transfer_item_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_id (call, "id", "transfer request", request->id, &id))
        return;
    char from[ST_REGION_SIZE] = "";
    int rc = s_transfer_load (call, id, true, reply, from);
    if (rc < 0)
        return;
    //  A request to a region outside the caller's scope is not theirs to know of.
    if (rc > 0 || !st_actor_in_scope (actor, reply->to_region)) {
        st_call_fail (call, ST_NOT_FOUND, "id", "no transfer request has id \"%s\"", request->id);
        return;
    }
    if (strcmp (reply->status, "pending") != 0) {
        st_call_fail (call, ST_CONFLICT, "id", "transfer request \"%s\" was %s already",
                      request->id, reply->status);
        return;
    }
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, actor->account ? actor->account : "system");
    st_params_text (&params, request->reason);
    if (st_call_exec (call, "transfer_request_decline", &params, NULL))
        return;
    st_msg_clear (&msg_transfer_item_desc, reply);
    memset (reply, 0, sizeof *reply);
    if (s_transfer_load (call, id, false, reply, NULL))
        return;
    msg_transfer_declined_t event = {.id = reply->id,
                                     .volunteer_id = reply->volunteer.id,
                                     .from_region = from,
                                     .to_region = reply->to_region,
                                     .reason = (char *) request->reason};
    st_call_emit (call, "volunteer.transfer_declined", &msg_transfer_declined_desc, &event);
}
