/*  st_checks.c — the checks handlers share  */
#include "st_checks.h"
#include "st_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
st_require_actor (st_call_t *call, const msg_actor_t **actor)
{
    *actor = st_call_actor (call);
    if (!*actor)
        return st_call_fail (call, ST_UNAUTHENTICATED, "actor", "this op needs an actor: sign in");
    return 0;
}

int
st_require_code (st_call_t *call, const char *field, const char *code)
{
    if (st_region_level (code) < 0)
        return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                             "\"%s\" must be a 12-digit statistical division code (15 digits for "
                             "a grid)",
                             field);
    return 0;
}

int
st_require_official (st_call_t *call, const msg_actor_t *actor)
{
    if (!st_actor_is_system (actor) && !st_actor_is_official (actor))
        return st_call_fail (call, ST_PERMISSION_DENIED, "actor.role",
                             "role \"%s\" may not do this: an official may", actor->role);
    return 0;
}

int
st_require_scope (st_call_t *call, const msg_actor_t *actor, const char *field, const char *region)
{
    if (st_require_official (call, actor))
        return -1;
    if (!st_actor_in_scope (actor, region))
        return st_call_fail (call, ST_PERMISSION_DENIED, field,
                             "region \"%s\" is outside the region of account \"%s\"", region,
                             actor->account);
    return 0;
}

bool
st_reference_allowed (const msg_actor_t *actor, const char *ref_region, const char *region)
{
    return st_actor_is_system (actor)
           || (st_region_level (ref_region) >= 0 && st_region_within (ref_region, region))
           || st_actor_in_scope (actor, ref_region);
}

int
st_require_reference (st_call_t *call, const msg_actor_t *actor, const char *field,
                      const char *ref_region, const char *region)
{
    if (!st_reference_allowed (actor, ref_region, region))
        return st_call_fail (call, ST_PERMISSION_DENIED, field,
                             "\"%s\" names something of region \"%s\", outside the region of "
                             "account \"%s\" and not above \"%s\"",
                             field, ref_region ? ref_region : "", actor ? actor->account : "",
                             region ? region : "");
    return 0;
}

bool
st_parse_id (const char *text, int64_t *id)
{
    if (!text || !*text || strlen (text) > 18)
        return false;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    *id = strtoll (text, NULL, 10);
    return *id > 0;
}

int
st_require_id (st_call_t *call, const char *field, const char *what, const char *text, int64_t *id)
{
    if (!st_parse_id (text, id))
        return st_call_fail (call, ST_NOT_FOUND, field, "no %s has id \"%s\"", what,
                             text ? text : "");
    return 0;
}

int
st_require_time (st_call_t *call, const char *field, const char *text, int64_t *us, char utc[40])
{
    if (!st_time_parse (text, us))
        return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                             "\"%s\" must be an RFC 3339 time with an offset, as "
                             "2026-12-01T09:00:00+08:00",
                             field);
    st_time_format_utc (*us, utc);
    return 0;
}

bool
st_one_of (const char *value, const char *const *list)
{
    for (; value && *list; list++)
        if (strcmp (value, *list) == 0)
            return true;
    return false;
}

int
st_require_one_of (st_call_t *call, const char *field, const char *value,
                   const char *const *allowed)
{
    if (st_one_of (value, allowed))
        return 0;
    char list[256] = "";
    for (const char *const *p = allowed; *p; p++)
        snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s",
                  p == allowed ? "" : ", ", *p);
    return st_call_fail (call, ST_INVALID_ARGUMENT, field, "\"%s\" must be one of: %s", field,
                         list);
}
