/*  match_util.h — what match's parts share: actor checks for volunteers and residents acting as
    themselves, and readers of result columns.  */
#ifndef MATCH_UTIL_H_INCLUDED
#define MATCH_UTIL_H_INCLUDED

#include "st_scope.h"
#include "st_server.h"

//  Admits a volunteer (resident) acting as itself, or the system acting for one; the id it
//  stands for into *id. Fails the call and returns -1 otherwise.
int match_require_volunteer (st_call_t *call, const msg_actor_t *actor, int64_t *id);
int match_require_resident (st_call_t *call, const msg_actor_t *actor, int64_t *id);

//  Where resident `id` lives (their region code, a village's or a grid's) into `home`; fails
//  the call naming `field` when match does not know them (yet: registry's event may still be
//  on its way). Returns -1 when the call failed.
int match_resident_home (st_call_t *call, int64_t id, const char *field, char home[ST_REGION_SIZE]);

//  A resident asks for what is in their own village: `region` must be the village `home` lies
//  in. Fails the call naming `field` otherwise.
int match_require_home (st_call_t *call, int64_t id, const char *field, const char *region);

//  What an activity, project or request for `region` names of registry's must be the actor's
//  to use there (st_require_reference): site `site_id` (NULL: none), which match must know
//  (from registry's site.created: not found naming "site_id" otherwise), and `category`, when
//  it is a region's own (from category.created; national and unknown ones are free text
//  here). Permission denied naming the field otherwise. Returns -1 when the call failed.
int match_require_site (st_call_t *call, const msg_actor_t *actor, const char *site_id,
                        const char *region);
int match_require_category (st_call_t *call, const msg_actor_t *actor, const char *category,
                            const char *region);

//  Takes volunteer `volunteer`'s turn (their promises are made one at a time) and runs
//  `statement` ($1 the volunteer, $2 `subject`), which names what they are committed to at an
//  overlapping time; fails the call as a conflict naming `field` when it names anything.
int match_require_free (st_call_t *call, int64_t volunteer, const char *statement, int64_t subject,
                        const char *field);

//  Activities' check-in codes (activity.checkin_code, record.checkin): a code is
//  MATCH_CODE_LENGTH Crockford base32 characters (no I, L, O or U) of a keyed BLAKE2b of the
//  activity and a time window (the database's clock divided by the code's lifetime), under
//  the key match keeps in checkin_key. The current and the previous window are accepted.
#define MATCH_CODE_LENGTH 6
typedef struct {
    uint8_t key[32];
    int64_t window;      //  the current window
    char expires_at[40]; //  when it ends (RFC 3339)
} match_code_clock_t;

//  Reads the key and the current window of codes living `lifetime_s` seconds into *clock.
//  Fails the call and returns -1 when it cannot.
int match_code_clock (st_call_t *call, int64_t lifetime_s, match_code_clock_t *clock);

//  The code of activity `activity` in window `window` into `code` (NUL-terminated).
void match_code_of (const match_code_clock_t *clock, int64_t activity, int64_t window,
                    char code[MATCH_CODE_LENGTH + 1]);

//  True when `given` (any case; O read as 0, I and L as 1, spaces and dashes skipped) is the
//  code of activity `activity` in the current window or the one before.
bool match_code_valid (const match_code_clock_t *clock, int64_t activity, const char *given);

//  Runs a statement with one id parameter inside the call; *res is the caller's.
int match_exec_id (st_call_t *call, const char *statement, int64_t id, PGresult **res);

//  The request.* event of a request as a reply shows it; the event borrows from `request`.
msg_request_event_t match_request_event (const msg_service_request_t *request);

//  The ids of a result's first column as a list borrowing from it (the caller frees the
//  list's array only).
st_strs_t match_ids_of (PGresult *res);

#endif
