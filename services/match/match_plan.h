/*  match_plan.h — what a dispatch round solves: the open demand and, for each request, its
    fitting candidates with the cost of offering it to each (matching.md).

    The database says what is true (demand, supply, commitments, offers made); the plan reads
    it in four plain queries and does the fitting and ranking in memory, where checking a
    volunteer against a request costs nanoseconds rather than an index probe.  */
#ifndef MATCH_PLAN_H_INCLUDED
#define MATCH_PLAN_H_INCLUDED

#include "st_db.h"

#include <stdbool.h>
#include <stdint.h>

//  The weights of a pairing's cost (integers; one unit is ten metres of travel). Each is a
//  setting, STATION_DISPATCH_COST_<NAME> (match_round.c declares them; README lists them).
typedef struct {
    int64_t metres_per_unit;  //  METRES: distance costs one unit per this many metres
    int64_t unknown_distance; //  UNKNOWN: the distance cost when either side has no location
    int64_t other_village;    //  OTHER_VILLAGE: added when the volunteer lives elsewhere
    int64_t per_recent_hour;  //  RECENT_HOUR: per hour of work in the last 30 days (fairness)
    int64_t generalist;       //  GENERALIST: added when the volunteer did not name the category
    int64_t unanswered;       //  UNANSWERED: times the share of offers left to lapse (90 days)
    int64_t no_show;          //  NO_SHOW: times the share of accepted requests not turned up to
    int64_t unserved;         //  UNSERVED: leaving one place of a request unserved
    int64_t urgent;           //  URGENT: added to that when the request is urgent
    int64_t cared;            //  CARED: added when its resident is in a group cared for first
} match_weights_t;

//  A request short of volunteers.
typedef struct {
    int64_t id;
    int32_t missing; //  headcount less accepted and pending offers
    bool urgent;
    bool cared;
    int64_t penalty; //  of each place left unserved
} match_demand_t;

//  A fitting volunteer for demand[request], and what offering it to them costs.
typedef struct {
    int32_t request;
    int64_t volunteer_id;
    int64_t cost;
} match_pair_t;

typedef struct {
    match_demand_t *demand; //  by request id
    int32_t requests;
    int32_t demand_read; //  rows of the demand read (requests above, and those with no slot)
    match_pair_t *pairs; //  grouped by request in demand's order, nearest first
    int32_t pair_count;
    int32_t volunteers; //  active volunteers with no pending offer in the areas searched
    double read_ms;     //  the four queries
    double walk_ms;     //  fitting and ranking in memory
} match_plan_t;

//  Reads the open demand, at most `max_demand` requests (those starting soonest, that fall in a
//  slot volunteers can state), and generates at most `limit` candidates a request, nearest first,
//  within the area each request has widened to (its village, after township_s seconds its
//  township, after county_s its county; a region's settings override both). Candidates fit
//  every hard rule: active, every skill, the category (or none named), free in the request's
//  slot, no overlapping commitment, insured where required, stars enough, never offered the
//  request before, no offer pending. Inside the caller's transaction.
st_status_t match_plan_build (st_db_t *db, const match_weights_t *weights, int township_s,
                              int county_s, int limit, int64_t max_demand, match_plan_t *plan,
                              st_error_t *err);

void match_plan_clear (match_plan_t *plan);

#endif
