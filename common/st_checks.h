/*  st_checks.h — the checks handlers share, each failing the call itself with the field
    named and returning -1 (Redis's habit), so a handler reads as its happy path:
        if (st_require_actor (call, &actor) || st_require_scope (call, actor, "region", r))
            return;  */
#ifndef ST_CHECKS_H_INCLUDED
#define ST_CHECKS_H_INCLUDED

#include "st_scope.h"
#include "st_server.h"

//  Who acts, into *actor; unauthenticated when the request names no one.
int st_require_actor (st_call_t *call, const msg_actor_t **actor);

//  A region code (12 digits, or 15 for a grid) with a valid level.
int st_require_code (st_call_t *call, const char *field, const char *code);

//  The system or an official (region admin, station admin, team leader).
int st_require_official (st_call_t *call, const msg_actor_t *actor);

//  The system anywhere, an official when `region` lies in its scope; `field` names what the
//  region belongs to.
int st_require_scope (st_call_t *call, const msg_actor_t *actor, const char *field,
                      const char *region);

//  A row named by `field` (a site, a parent team, a project, a local category), whose region
//  is `ref_region`, may be used for something in `region`: by the system anywhere; by anyone
//  when the row's region heads a subtree that holds `region` (it stands above what uses it: a
//  county's brigade for a township's detachment, a township's institute for a village's
//  squad); by an official when it lies in their scope. Permission denied naming `field`
//  otherwise: a row of another branch of the tree is not the actor's to use.
bool st_reference_allowed (const msg_actor_t *actor, const char *ref_region, const char *region);
int st_require_reference (st_call_t *call, const msg_actor_t *actor, const char *field,
                          const char *ref_region, const char *region);

//  A positive decimal id of at most 18 digits, nothing else, into *id; false otherwise.
bool st_parse_id (const char *text, int64_t *id);

//  An id given as text; not found (naming `what`) when it is no id of ours.
int st_require_id (st_call_t *call, const char *field, const char *what, const char *text,
                   int64_t *id);

//  An RFC 3339 time with an offset: microseconds into *us, and into `utc` the same instant as
//  text PostgreSQL reads exactly as we did.
int st_require_time (st_call_t *call, const char *field, const char *text, int64_t *us,
                     char utc[40]);

//  True when `value` is one of the NULL-terminated `list`; false for a NULL value.
bool st_one_of (const char *value, const char *const *list);

//  One of a closed list of words; the message lists them.
int st_require_one_of (st_call_t *call, const char *field, const char *value,
                       const char *const *allowed);

#endif
