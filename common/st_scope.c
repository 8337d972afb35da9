/*  st_scope.c — regions and who may act where  */
#include "st_scope.h"

#include <stdio.h>
#include <string.h>

static const int s_group_end[] = {2, 4, 6, 9, 12, 15};
enum { S_CITY = 1, S_TOWNSHIP = 3 };
static const char *const s_levels[] = {"province", "city", "county", "township", "village", "grid"};

int
st_region_level (const char *code)
{
    size_t len = code ? strlen (code) : 0;
    if (len != 12 && len != 15)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (code[i] < '0' || code[i] > '9')
            return -1;
    int level = -1, groups = len == 15 ? 6 : 5;
    for (int g = 0, start = 0; g < groups; start = s_group_end[g++]) {
        bool zero = true;
        for (int i = start; i < s_group_end[g]; i++)
            zero = zero && code[i] == '0';
        if (!zero) {
            //  A non-zero group follows a non-zero one, or a township follows a city whose
            //  county group is zero: cities with no counties (不设区的地级市, 东莞 4419, 中山
            //  4420, 儋州 4604) code their townships straight under the city, 441900003000.
            if (level != g - 1 && !(g == S_TOWNSHIP && level == S_CITY))
                return -1;
            level = g;
        }
    }
    //  A grid names a grid of a village: neither part may be zero.
    return groups == 6 && level != 5 ? -1 : level;
}

const char *
st_region_level_name (int level)
{
    return level >= 0 && level <= 5 ? s_levels[level] : "none";
}

bool
st_region_parent (const char *code, char out[ST_REGION_SIZE])
{
    int level = st_region_level (code);
    if (level <= 0)
        return false;
    snprintf (out, ST_REGION_SIZE, "%.12s", code);
    if (level < 5)
        memset (out + s_group_end[level - 1], '0', s_group_end[level] - s_group_end[level - 1]);
    return true;
}

void
st_region_prefix (const char *code, char out[ST_REGION_SIZE])
{
    snprintf (out, ST_REGION_SIZE, "%s", code ? code : "");
    int level = st_region_level (code);
    if (level >= 0)
        out[s_group_end[level]] = 0;
}

void
st_region_range (const char *prefix, char low[ST_REGION_SIZE], char high[ST_REGION_SIZE + 1])
{
    snprintf (low, ST_REGION_SIZE, "%s", prefix);
    snprintf (high, ST_REGION_SIZE + 1, "%s", prefix);
    size_t len = strlen (high);
    if (len == 0)
        snprintf (high, ST_REGION_SIZE + 1, ":"); //  past every digit
    else
        high[len - 1]++; //  '9' becomes ':', still above every digit
}

bool
st_region_within (const char *scope, const char *region)
{
    char prefix[ST_REGION_SIZE];
    st_region_prefix (scope, prefix);
    return *prefix && region && strncmp (region, prefix, strlen (prefix)) == 0;
}

bool
st_actor_is_system (const msg_actor_t *actor)
{
    return actor && strcmp (actor->role, "system") == 0;
}

bool
st_actor_is_official (const msg_actor_t *actor)
{
    return actor
           && (strcmp (actor->role, "region_admin") == 0
               || strcmp (actor->role, "station_admin") == 0
               || strcmp (actor->role, "team_leader") == 0);
}

bool
st_actor_in_scope (const msg_actor_t *actor, const char *region)
{
    if (st_actor_is_system (actor))
        return true;
    return st_actor_is_official (actor) && st_region_level (actor->region) >= 0
           && st_region_within (actor->region, region);
}

bool
st_actor_is_volunteer (const msg_actor_t *actor, const char *volunteer_id)
{
    return actor && strcmp (actor->role, "volunteer") == 0 && actor->volunteer_id && volunteer_id
           && strcmp (actor->volunteer_id, volunteer_id) == 0;
}

bool
st_actor_is_resident (const msg_actor_t *actor, const char *resident_id)
{
    return actor && strcmp (actor->role, "resident") == 0 && actor->resident_id && resident_id
           && strcmp (actor->resident_id, resident_id) == 0;
}
