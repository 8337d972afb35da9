/*  st_scope.h — regions and who may act where. A region is a 12-digit statistical division
    code (province 2 digits, city 2, county 2, township 3, village 3), or a grid (网格) of a
    village: the village's code and 3 digits more. A city with no counties (东莞, 中山, 儋州)
    has its townships coded with a zero county group: 441900003000. A code's subtree is every
    code that starts with it less its trailing zero groups; an official's scope is the
    subtree of its region.  */
#ifndef ST_SCOPE_H_INCLUDED
#define ST_SCOPE_H_INCLUDED

#include "st_proto.h"

#define ST_REGION_SIZE 16 //  a grid's 15 digits and a NUL

//  The level of a code: 0 province, 1 city, 2 county, 3 township, 4 village, 5 grid; -1 when
//  it is no code (wrong length, a non-digit, a non-zero group after a zero one other than a
//  township's after a zero county group under a city).
int st_region_level (const char *code);

//  "province", "city", "county", "township", "village" or "grid".
const char *st_region_level_name (int level);

//  The parent of a code: its last group zeroed (a grid's parent is its village; a township
//  under a city with no counties has the city). Returns false for a province or a non-code.
bool st_region_parent (const char *code, char out[ST_REGION_SIZE]);

//  The subtree prefix of a code ("431022000000" → "431022"); a shorter digit string is a
//  prefix already and stays as it is.
void st_region_prefix (const char *code, char out[ST_REGION_SIZE]);

//  The codes of a subtree as a text range [low, high), for an index range scan.
void st_region_range (const char *prefix, char low[ST_REGION_SIZE], char high[ST_REGION_SIZE + 1]);

//  True when `region` lies in the subtree `scope` stands for.
bool st_region_within (const char *scope, const char *region);

//  The system (operators), officials (region admin, station admin, team leader), and whether
//  an actor may act on `region`: the system anywhere, an official inside its scope.
bool st_actor_is_system (const msg_actor_t *actor);
bool st_actor_is_official (const msg_actor_t *actor);
bool st_actor_in_scope (const msg_actor_t *actor, const char *region);

//  True when the actor is the volunteer (or resident) with this id, acting as itself.
bool st_actor_is_volunteer (const msg_actor_t *actor, const char *volunteer_id);
bool st_actor_is_resident (const msg_actor_t *actor, const char *resident_id);

#endif
