/*  registry.h — the parts of the registry service, each a file with its own op table, and what
    registry_main.c assembles from them:
        registry_volunteers.c  volunteers: registration, profile, list, reveal, status, transfer
        registry_regions.c     regions, service categories, practice sites, teams
        registry_accounts.c    officials' accounts, sign-in, residents
        registry_import.c      bulk imports of volunteers and regions from spreadsheets
        registry_contacts.c    people's phones and e-mail addresses, for the notify service alone
    What several parts use is in registry_util.c, their SQL in registry_store.c. Every op
    checks its actor: the system (operators) may do anything; region, station admins and team
    leaders act inside their region subtree; volunteers and residents on themselves.  */
#ifndef REGISTRY_H_INCLUDED
#define REGISTRY_H_INCLUDED

#include "st_crypto.h"
#include "st_scope.h"
#include "st_server.h"

//  What handlers reach with st_call_state: the personal-data keys, and how failed sign-ins
//  slow down further attempts at one login (registry_main.c's settings). Read only once the
//  service runs, so its worker threads share it.
typedef struct {
    st_crypto_t *crypto;
    int64_t login_free_failures; //  failures in a row before attempts must wait
    int64_t login_delay_ms;      //  the first wait; it doubles with each further failure
    int64_t login_delay_max_ms;  //  the longest wait, however many failures
    int64_t login_quiet_ms;      //  failures older than this are forgotten
} registry_state_t;

//  The op tables of registry's parts.
extern const st_route_t registry_volunteers_routes[];
extern const size_t registry_volunteers_route_count;
extern const st_route_t registry_regions_routes[];
extern const size_t registry_regions_route_count;
extern const st_route_t registry_accounts_routes[];
extern const size_t registry_accounts_route_count;
extern const st_route_t registry_import_routes[];
extern const size_t registry_import_route_count;
extern const st_route_t registry_contacts_routes[];
extern const size_t registry_contacts_route_count;

//  ---------------------------------------------------------------------------------------
//  Volunteers (registry_volunteers.c), which imports register too

//  Validates a registration and inserts it with `statement`: volunteer_insert (a person
//  registered already is a conflict) or volunteer_insert_new (skipped). Returns 1 when it
//  created the volunteer (reply filled), 0 when skipped, -1 when the call failed.
int registry_insert_volunteer (st_call_t *call, const msg_volunteer_register_t *request,
                               const char *statement, msg_volunteer_t *reply);

//  Validates a registration and binds the 18 parameters of volunteer_insert into `params`
//  (its personal data sealed and hashed), for an import that inserts many rows in one
//  statement; `text` holds what they borrow besides the request (the gender and the birth
//  date), kept by the caller as long as the parameters. Returns -1 when the call failed.
int registry_volunteer_params (st_call_t *call, const msg_volunteer_register_t *request,
                               st_params_t *params, char text[16]);

//  The event registry_emit_volunteer writes for `v`, borrowing from it.
void registry_volunteer_event (const msg_volunteer_t *v, msg_volunteer_registered_t *event);

//  Writes a volunteer's supply-relevant state as an event (never the ID number or phone).
void registry_emit_volunteer (st_call_t *call, const char *topic, const msg_volunteer_t *v);

//  ---------------------------------------------------------------------------------------
//  Regions and categories (registry_regions.c), on which people, sites and teams hang

//  Whether region `code` exists, into *exists. Returns -1 when the call failed.
int registry_region_exists (st_call_t *call, const char *code, bool *exists);

//  Binds the row of a new region `code` for region_insert or region_insert_new: code, name,
//  level and parent (looked up; left out when a city's province is not kept). The parent's
//  code is written to `parent`, which the params borrow until the statement runs. Returns 1,
//  binding nothing, when a county or below has no registered parent; -1 when the call failed.
int registry_region_row (st_call_t *call, const char *code, const char *name,
                         char parent[ST_REGION_SIZE], st_params_t *params);

//  The region must exist: a failed precondition naming `field` otherwise.
int registry_require_region_exists (st_call_t *call, const char *field, const char *code);

//  Every code in the list must be a known service category, and, when `region` is given
//  (what the categories are for), a region's own category must be the actor's to use there
//  (st_require_reference): permission denied naming `field` otherwise.
int registry_require_categories (st_call_t *call, const char *field, const st_strs_t *list,
                                 const char *region);

//  Loads team `id_text` and its members into `reply`; `statement` (team_get, team_lock) locks
//  the team row or not. Not found, naming "id", when there is no such team.
int registry_load_team (st_call_t *call, const char *statement, const char *id_text,
                        msg_team_t *reply);

//  ---------------------------------------------------------------------------------------
//  Accounts (registry_accounts.c)

//  Creates the sign-in account of a volunteer or a resident (`role`); the login is the phone.
//  A phone that signs in already is a conflict naming "phone".
int registry_create_person_account (st_call_t *call, const char *role, const char *phone,
                                    const char *password, const char *region,
                                    const char *volunteer_id, const char *resident_id);

#endif
