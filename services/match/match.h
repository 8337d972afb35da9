/*  match.h — the parts of the match service, each a file with its own op table, and what
    match_main.c assembles from them:
        match_supply.c      what match keeps of registry's people (supply.stats)
        match_activities.c  projects, activities, sign-ups
        match_wishes.c      micro-wishes
        match_dispatch.c    service requests, offers, a region's dispatch settings
        match_round.c       the dispatch round, a background job with its own settings
        match_records.c     service records, hours, a region's figures
    Their SQL is in match_store.c and match_dispatch_store.c.  */
#ifndef MATCH_H_INCLUDED
#define MATCH_H_INCLUDED

#include "match_plan.h"
#include "st_config.h"
#include "st_events.h"
#include "st_server.h"
#include "st_service.h"

//  The op tables of match's parts.
extern const st_route_t match_supply_routes[];
extern const size_t match_supply_route_count;
extern const st_route_t match_activities_routes[];
extern const size_t match_activities_route_count;
extern const st_route_t match_wishes_routes[];
extern const size_t match_wishes_route_count;
extern const st_route_t match_dispatch_routes[];
extern const size_t match_dispatch_route_count;
extern const st_route_t match_records_routes[];
extern const size_t match_records_route_count;

//  What match does with registry's events (match_supply.c).
extern const st_subscription_t match_registry_subscriptions[];
extern const size_t match_registry_subscription_count;
extern const st_subscription_t match_ledger_subscriptions[];
extern const size_t match_ledger_subscription_count;

//  ---------------------------------------------------------------------------------------
//  Sign-ups (match_activities.c), for calls and for the work that follows registry's events

//  Appends a signup.* event: volunteer `volunteer_id`'s sign-up to activity `activity_id` in
//  `status`, with what a notice or a reminder tells of the activity as row `row` of a sign-up
//  statement returned it (title, region, starts_at, ends_at, a waitlist position, what a busy
//  volunteer is committed to); reason may be NULL. Inside the caller's transaction.
st_status_t match_signup_emit (st_db_t *db, const char *topic, const PGresult *res, int row,
                               const char *activity_id, const char *volunteer_id,
                               const char *status, const char *reason, st_error_t *err);

//  `places` places of activity `id` (text `text`) opened: the first in line who are active and
//  free at its time take them, in arrival order (signup.promoted each); one committed
//  elsewhere then, or no longer active, is passed by and stays in line (signup.skipped, reason
//  busy, naming the commitment, or inactive). The caller holds the activity's row lock.
st_status_t match_promote (st_db_t *db, int64_t id, const char *text, int64_t places,
                           st_error_t *err);

//  A volunteer no longer active: their sign-ups to open activities not started yet end
//  (signup.cancelled, reason volunteer_inactive), and the first in line takes each confirmed
//  place freed. Inside the caller's transaction.
st_status_t match_signups_release (st_db_t *db, int64_t volunteer, st_error_t *err);

//  ---------------------------------------------------------------------------------------
//  The dispatch round (match_round.c)

//  The round's settings, STATION_DISPATCH_*: match_round_options declares them for the
//  service's configuration table (--help lists them, a malformed one stops the service).
typedef struct {
    int64_t round_ms;     //  ROUND_MS: a round at least this often
    int64_t wake_ms;      //  WAKE_MS: new demand starts a round, at most this soon after the last
    int64_t township_s;   //  WIDEN_TOWNSHIP_S: a request's search widens to its township then
    int64_t county_s;     //  WIDEN_COUNTY_S: and to its county then (a region may set its own)
    int64_t urgent_s;     //  REPLY_URGENT_S: an urgent request's offer is answered within this
    int64_t normal_s;     //  REPLY_NORMAL_S: a normal one's within this
    int64_t max_demand;   //  MAX_DEMAND: requests a round reads at most, those starting soonest
    int64_t solve_ms;     //  SOLVE_MS: the solver's time in a round
    int64_t horizon_days; //  HORIZON_DAYS: how far ahead a request may start
    int64_t window_days;  //  WINDOW_DAYS: how long a request's window may be
    match_weights_t weights;
    int64_t checkin_code_s; //  CHECKIN_CODE_S: an activity's check-in code lives this long
} match_round_config_t;

extern const st_option_t match_round_options[];
extern const size_t match_round_option_count;

//  The settings from a loaded table that holds match_round_options.
void match_round_config (const st_option_t *options, size_t count, match_round_config_t *config);

//  What one round did and how long its parts took.
typedef struct {
    int64_t requests;      //  requests short of volunteers
    int64_t pairs;         //  candidate pairings generated
    int64_t missing;       //  headcount missing over all of them
    int64_t cared_missing; //  of which for residents cared for first
    int64_t offers;        //  offers made (one per unit of headcount served)
    int64_t served;        //  = offers
    int64_t cared_served;  //  of which for residents cared for first
    int64_t cost;        //  the optimum's total cost, unserved penalties included (0 when stopped)
    bool bounded;        //  the demand read reached MAX_DEMAND: later requests wait
    bool stopped;        //  the solver ran out of SOLVE_MS: the flow so far was offered
    double upkeep_ms;    //  expiring, giving up, completing, no-shows
    double candidate_ms; //  demand and candidate queries
    double read_ms;      //  of which the plan's four queries
    double walk_ms;      //  of which fitting and ranking in memory
    double mark_ms;      //  marking the requests that found no candidate
    double graph_ms;     //  building the network
    double solve_ms;     //  mcf_solve
    double offer_ms;     //  writing the offers and their events
    double insert_ms;    //  of which the offers' statement (rows, requests to matching)
    double events_ms;    //  of which their offer.made events (encode, outbox)
    double record_ms;    //  keeping what it did for dispatch.rounds
    double commit_ms;    //  COMMIT
    bool held;           //  it held the dispatch lock (another replica's round ran otherwise)
} match_round_stats_t;

//  Runs one round on `db` in one transaction (expire, unfilled, complete, no-shows, offer), on
//  the replica holding the dispatch lock only. stats may be NULL.
st_status_t match_round_run (st_db_t *db, const match_round_config_t *config,
                             match_round_stats_t *stats, st_error_t *err);

//  When rounds run: on the clock (ROUND_MS after the last ended) and when new demand wakes
//  the dispatcher (a notification on channel MATCH_ROUND_CHANNEL, sent by the commit of a
//  request entering dispatch or an offer declined, withdrawn or lapsed: migration 0023), then
//  at once, or WAKE_MS after the last round ended if that is later. Notifications sent by the
//  round's own connection (its own expiries and withdrawals) do not wake it.
#define MATCH_ROUND_CHANNEL "match.dispatch"
typedef struct {
    double ended_ms; //  when the last round ended (monotonic ms), 0 before the first
    bool woken;      //  new demand came since the last round began
    int64_t rounds;  //  rounds run (the lock held or not)
} match_round_clock_t;

//  Runs a round on `db` when one is due (`woken`: a notification came in), and returns the
//  ms until the next is due; stats (may be NULL) says what the round did, *ran whether one
//  ran. `db` should LISTEN on MATCH_ROUND_CHANNEL; the notifications that came in during the
//  round are read here.
int64_t match_round_next (st_db_t *db, const match_round_config_t *config,
                          match_round_clock_t *clock, bool woken, match_round_stats_t *stats,
                          bool *ran);

//  The service's tick_due: match_round_next with the settings `state` holds, logging a slow
//  round (the ticker calls it at once when notified).
int64_t match_round_due (st_db_t *db, void *state);

//  A volunteer no longer active: their pending offers, and their accepted offers of requests
//  not started yet, are withdrawn (offer.withdrawn each); those requests go back to matching.
//  Inside the caller's transaction.
st_status_t match_round_release (st_db_t *db, int64_t volunteer, st_error_t *err);

#endif
