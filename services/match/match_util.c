/*  match_util.c — what match's parts share  */
#include "match_util.h"
#include "st_checks.h"
#include "st_rows.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Admits an actor in `role` acting as itself, or the system acting for one: the id it stands
//  for (`text`, from actor field `field`) into *id.
static int
s_require_self (st_call_t *call, const msg_actor_t *actor, const char *role, const char *field,
                const char *text, int64_t *id)
{
    if (strcmp (actor->role, role) != 0 && strcmp (actor->role, "system") != 0)
        return st_call_fail (call, ST_PERMISSION_DENIED, "actor.role",
                             "role \"%s\" may not do this: a %s may", actor->role, role);
    if (!st_parse_id (text, id))
        return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                             "\"%s\" must name whom the account stands for", field);
    return 0;
}

int
match_require_volunteer (st_call_t *call, const msg_actor_t *actor, int64_t *id)
{
    return s_require_self (call, actor, "volunteer", "actor.volunteer_id", actor->volunteer_id, id);
}

int
match_require_resident (st_call_t *call, const msg_actor_t *actor, int64_t *id)
{
    return s_require_self (call, actor, "resident", "actor.resident_id", actor->resident_id, id);
}

int
match_exec_id (st_call_t *call, const char *statement, int64_t id, PGresult **res)
{
    st_params_t params = {0};
    st_params_int (&params, id);
    return st_call_exec (call, statement, &params, res);
}

int
match_resident_home (st_call_t *call, int64_t id, const char *field, char home[ST_REGION_SIZE])
{
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "resident_home", &params, &res))
        return -1;
    bool known = PQntuples (res) == 1;
    if (known)
        snprintf (home, ST_REGION_SIZE, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (!known)
        return st_call_fail (call, ST_NOT_FOUND, field,
                             "no resident \"%lld\" is known here (a new registration may take a"
                             " moment to arrive)",
                             (long long) id);
    return 0;
}

int
match_require_home (st_call_t *call, int64_t id, const char *field, const char *region)
{
    char home[ST_REGION_SIZE];
    if (match_resident_home (call, id, "actor.resident_id", home))
        return -1;
    //  A grid's code begins with its village's.
    if (strlen (region) != 12 || strncmp (home, region, 12) != 0)
        return st_call_fail (call, ST_PERMISSION_DENIED, field,
                             "a resident asks within their own village (%.12s), not \"%s\"", home,
                             region);
    return 0;
}

int
match_require_free (st_call_t *call, int64_t volunteer, const char *statement, int64_t subject,
                    const char *field)
{
    if (match_exec_id (call, "volunteer_lock", volunteer, NULL))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    st_params_int (&params, subject);
    PGresult *res;
    if (st_call_exec (call, statement, &params, &res))
        return -1;
    int rc = 0;
    if (PQntuples (res) > 0)
        rc = st_call_fail (call, ST_CONFLICT, field,
                           "volunteer is committed to %s at an overlapping time",
                           PQgetvalue (res, 0, 0));
    PQclear (res);
    return rc;
}

//  The request.* event of a request as a reply shows it; `out` borrows from `request`.
msg_request_event_t
match_request_event (const msg_service_request_t *request)
{
    return (msg_request_event_t){.id = request->id,
                                 .title = request->title,
                                 .region = request->region,
                                 .resident_id = request->resident_id,
                                 .earliest_start = request->earliest_start,
                                 .latest_end = request->latest_end,
                                 .urgency = request->urgency,
                                 .headcount = request->headcount,
                                 .has_headcount = true,
                                 .accepted = request->accepted,
                                 .has_accepted = true,
                                 .status = request->status,
                                 .reason = request->reason,
                                 .category = request->category};
}

//  The volunteer ids of a result's first column as a list borrowing from it (the caller frees
//  the list's array only).
st_strs_t
match_ids_of (PGresult *res)
{
    st_strs_t ids = {0};
    ids.count = (size_t) PQntuples (res);
    ids.items = st_calloc (ids.count + 1, sizeof (char *));
    for (size_t i = 0; i < ids.count; i++)
        ids.items[i] = PQgetvalue (res, (int) i, 0);
    return ids;
}

int
match_require_site (st_call_t *call, const msg_actor_t *actor, const char *site_id,
                    const char *region)
{
    int64_t id;
    if (!site_id)
        return 0;
    if (st_require_id (call, "site_id", "site", site_id, &id))
        return -1;
    PGresult *res;
    if (match_exec_id (call, "site_region", id, &res))
        return -1;
    char where[ST_REGION_SIZE] = "";
    bool known = PQntuples (res) == 1;
    if (known)
        snprintf (where, sizeof where, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (!known)
        return st_call_fail (call, ST_NOT_FOUND, "site_id",
                             "no site \"%s\" is known here (a new site may take a moment to "
                             "arrive)",
                             site_id);
    return st_require_reference (call, actor, "site_id", where, region);
}

int
match_require_category (st_call_t *call, const msg_actor_t *actor, const char *category,
                        const char *region)
{
    st_params_t params = {0};
    st_params_text (&params, category);
    PGresult *res;
    if (st_call_exec (call, "category_region", &params, &res))
        return -1;
    char where[ST_REGION_SIZE] = "";
    bool local = PQntuples (res) == 1;
    if (local)
        snprintf (where, sizeof where, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    return local ? st_require_reference (call, actor, "category", where, region) : 0;
}

//  ---------------------------------------------------------------------------------------
//  Check-in codes

//  Crockford's base32: digits and letters a person reads back without doubt.
static const char s_crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
match_code_clock (st_call_t *call, int64_t lifetime_s, match_code_clock_t *clock)
{
    st_params_t params = {0};
    st_params_int (&params, lifetime_s);
    PGresult *res;
    if (st_call_exec (call, "checkin_code_clock", &params, &res))
        return -1;
    *clock = (match_code_clock_t){0};
    size_t length = 0;
    bool read = PQntuples (res) == 1
                && sodium_hex2bin (clock->key, sizeof clock->key, st_row_text (res, 0, "key"),
                                   strlen (st_row_text (res, 0, "key")), NULL, &length, NULL)
                       == 0
                && length == sizeof clock->key;
    if (read) {
        clock->window = st_row_int (res, 0, "code_window");
        snprintf (clock->expires_at, sizeof clock->expires_at, "%s",
                  st_row_text (res, 0, "expires_at"));
    }
    PQclear (res);
    if (!read)
        return st_call_fail (call, ST_INTERNAL, NULL, "could not read the check-in code key");
    return 0;
}

void
match_code_of (const match_code_clock_t *clock, int64_t activity, int64_t window,
               char code[MATCH_CODE_LENGTH + 1])
{
    char message[64];
    int length = snprintf (message, sizeof message, "checkin:%lld:%lld", (long long) activity,
                           (long long) window);
    uint8_t hash[16];
    crypto_generichash (hash, sizeof hash, (const uint8_t *) message, (size_t) length, clock->key,
                        sizeof clock->key);
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits = bits << 8 | hash[i];
    for (int i = 0; i < MATCH_CODE_LENGTH; i++)
        code[i] = s_crockford[(bits >> (5 * i)) & 31];
    code[MATCH_CODE_LENGTH] = '\0';
}

bool
match_code_valid (const match_code_clock_t *clock, int64_t activity, const char *given)
{
    char typed[MATCH_CODE_LENGTH + 1];
    size_t length = 0;
    for (const char *c = given; *c; c++) {
        char upper = (char) (*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
        if (upper == ' ' || upper == '-')
            continue;
        if (upper == 'O')
            upper = '0';
        else if (upper == 'I' || upper == 'L')
            upper = '1';
        if (length == MATCH_CODE_LENGTH || !strchr (s_crockford, upper) || upper == '\0')
            return false;
        typed[length++] = upper;
    }
    if (length != MATCH_CODE_LENGTH)
        return false;
    bool valid = false;
    for (int64_t back = 0; back < 2; back++) {
        char code[MATCH_CODE_LENGTH + 1];
        match_code_of (clock, activity, clock->window - back, code);
        valid |= sodium_memcmp (code, typed, MATCH_CODE_LENGTH) == 0;
    }
    return valid;
}
