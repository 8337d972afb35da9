/*  match_round.c — the dispatch round (派单): a background job, run by the service's ticker on
    its own connection, in one transaction and on the replica holding the dispatch lock. It
    expires lapsed offers, gives up on requests whose start has come short of volunteers
    (unfilled, with a reason a person can act on), completes staffed requests whose service is
    over and confirmed, ends those nobody turned up to, and offers the open demand to fitting
    volunteers by a minimum-cost flow (matching.md; candidates and costs from match_plan.c).  */
#include "match.h"
#include "match_dispatch_store.h"
#include "match_util.h"
#include "solver/mcf.h"
#include "st_log.h"
#include "st_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  ---------------------------------------------------------------------------------------
//  Settings

const st_option_t match_round_options[] = {
    ST_OPTION_WHOLE ("dispatch-round-ms", "STATION_DISPATCH_ROUND_MS", "2000", 50, 600000,
                     "a dispatch round at least this often (ms)"),
    ST_OPTION_WHOLE ("dispatch-wake-ms", "STATION_DISPATCH_WAKE_MS", "200", 0, 600000,
                     "new demand (a request, an offer declined) starts a round at once, or this "
                     "long (ms) after the last round ended if that is later"),
    ST_OPTION_WHOLE ("dispatch-widen-township-s", "STATION_DISPATCH_WIDEN_TOWNSHIP_S", "60", 1,
                     30 * 86400,
                     "a request's search widens from its village to its township after this "
                     "(s; a region may set its own)"),
    ST_OPTION_WHOLE ("dispatch-widen-county-s", "STATION_DISPATCH_WIDEN_COUNTY_S", "300", 1,
                     30 * 86400, "and to its county after this (s; a region may set its own)"),
    ST_OPTION_WHOLE ("dispatch-reply-urgent-s", "STATION_DISPATCH_REPLY_URGENT_S", "600", 1,
                     30 * 86400, "an offer of an urgent request is answered within this (s)"),
    ST_OPTION_WHOLE ("dispatch-reply-normal-s", "STATION_DISPATCH_REPLY_NORMAL_S", "7200", 1,
                     30 * 86400, "an offer of a normal request is answered within this (s)"),
    ST_OPTION_WHOLE ("dispatch-cost-metres", "STATION_DISPATCH_COST_METRES", "10", 1, 100000000,
                     "metres of distance per unit of cost"),
    ST_OPTION_WHOLE ("dispatch-cost-unknown", "STATION_DISPATCH_COST_UNKNOWN", "500", 0, 100000000,
                     "the distance cost when either side has no location"),
    ST_OPTION_WHOLE ("dispatch-cost-other-village", "STATION_DISPATCH_COST_OTHER_VILLAGE", "2000",
                     0, 100000000, "added when the volunteer lives outside the request's village"),
    ST_OPTION_WHOLE ("dispatch-cost-recent-hour", "STATION_DISPATCH_COST_RECENT_HOUR", "100", 0,
                     100000000, "per hour worked in the last 30 days"),
    ST_OPTION_WHOLE ("dispatch-cost-generalist", "STATION_DISPATCH_COST_GENERALIST", "200", 0,
                     100000000, "added when the volunteer did not name the request's category"),
    ST_OPTION_WHOLE ("dispatch-cost-unanswered", "STATION_DISPATCH_COST_UNANSWERED", "3000", 0,
                     100000000, "times the share of the volunteer's offers left to lapse"),
    ST_OPTION_WHOLE ("dispatch-cost-no-show", "STATION_DISPATCH_COST_NO_SHOW", "5000", 0, 100000000,
                     "times the share of commitments with no check-in"),
    ST_OPTION_WHOLE ("dispatch-cost-unserved", "STATION_DISPATCH_COST_UNSERVED", "100000", 0,
                     100000000, "leaving one place of a request unserved"),
    ST_OPTION_WHOLE ("dispatch-cost-urgent", "STATION_DISPATCH_COST_URGENT", "400000", 0, 100000000,
                     "added to that for an urgent request"),
    ST_OPTION_WHOLE ("dispatch-cost-cared", "STATION_DISPATCH_COST_CARED", "300000", 0, 100000000,
                     "added to that when the resident is in a group cared for first"),
    ST_OPTION_WHOLE ("dispatch-max-demand", "STATION_DISPATCH_MAX_DEMAND", "1000", 1, 10000000,
                     "a round offers at most this many requests, those starting soonest; the "
                     "rest wait for later rounds"),
    ST_OPTION_WHOLE ("dispatch-solve-ms", "STATION_DISPATCH_SOLVE_MS", "500", 0, 600000,
                     "a round's solver stops after this (ms) and offers the part of the "
                     "assignment found so far"),
    ST_OPTION_WHOLE ("dispatch-horizon-days", "STATION_DISPATCH_HORIZON_DAYS", "90", 1, 3650,
                     "a request may start at most this many days ahead"),
    ST_OPTION_WHOLE ("dispatch-window-days", "STATION_DISPATCH_WINDOW_DAYS", "7", 1, 366,
                     "a request's window (earliest start to latest end) spans at most this "
                     "many days"),
    ST_OPTION_WHOLE ("checkin-code-s", "STATION_CHECKIN_CODE_S", "300", 30, 86400,
                     "an activity's check-in code changes this often (s); the one before "
                     "it is still accepted"),
};
const size_t match_round_option_count = sizeof match_round_options / sizeof match_round_options[0];

void
match_round_config (const st_option_t *options, size_t count, match_round_config_t *config)
{
#define S_GET(name) st_config_whole (options, count, name)
    *config = (match_round_config_t){
        .round_ms = S_GET ("dispatch-round-ms"),
        .wake_ms = S_GET ("dispatch-wake-ms"),
        .township_s = S_GET ("dispatch-widen-township-s"),
        .county_s = S_GET ("dispatch-widen-county-s"),
        .urgent_s = S_GET ("dispatch-reply-urgent-s"),
        .normal_s = S_GET ("dispatch-reply-normal-s"),
        .max_demand = S_GET ("dispatch-max-demand"),
        .solve_ms = S_GET ("dispatch-solve-ms"),
        .horizon_days = S_GET ("dispatch-horizon-days"),
        .window_days = S_GET ("dispatch-window-days"),
        .weights = {.metres_per_unit = S_GET ("dispatch-cost-metres"),
                    .unknown_distance = S_GET ("dispatch-cost-unknown"),
                    .other_village = S_GET ("dispatch-cost-other-village"),
                    .per_recent_hour = S_GET ("dispatch-cost-recent-hour"),
                    .generalist = S_GET ("dispatch-cost-generalist"),
                    .unanswered = S_GET ("dispatch-cost-unanswered"),
                    .no_show = S_GET ("dispatch-cost-no-show"),
                    .unserved = S_GET ("dispatch-cost-unserved"),
                    .urgent = S_GET ("dispatch-cost-urgent"),
                    .cared = S_GET ("dispatch-cost-cared")},
        .checkin_code_s = S_GET ("checkin-code-s"),
    };
#undef S_GET
}

//  ---------------------------------------------------------------------------------------
//  The round

//  Emits `topic` for every offer a statement returned, in one statement (a round's thousands
//  of offer.made were as many INSERTs).
static st_status_t
s_round_emit_offers (st_db_t *db, PGresult *res, const char *topic, st_error_t *err)
{
    int rows = PQntuples (res);
    if (rows == 0)
        return ST_OK;
    msg_offer_t *offers = st_calloc ((size_t) rows, sizeof (msg_offer_t));
    const void **bodies = st_calloc ((size_t) rows, sizeof (void *));
    for (int row = 0; row < rows; row++) {
        st_row_to_msg (res, row, &msg_offer_desc, &offers[row]);
        bodies[row] = &offers[row];
    }
    st_status_t rc = st_outbox_append_many (db, topic, &msg_offer_desc, bodies, (size_t) rows, err);
    for (int row = 0; row < rows; row++)
        st_msg_clear (&msg_offer_desc, &offers[row]);
    free (bodies);
    free (offers);
    return rc;
}

st_status_t
match_round_release (st_db_t *db, int64_t volunteer, st_error_t *err)
{
    match_dispatch_store_prepare (db);
    //  Their offers' requests first, as every path takes them (match_dispatch_store.c).
    st_params_t lock = {0};
    st_params_int (&lock, volunteer);
    st_status_t rc = st_db_exec (db, "dispatch_release_lock", &lock, NULL, err);
    st_params_clear (&lock);
    static const char *const statements[] = {"dispatch_withdraw_volunteer",
                                             "dispatch_release_volunteer"};
    for (size_t i = 0; i < 2 && rc == ST_OK; i++) {
        st_params_t params = {0};
        st_params_int (&params, volunteer);
        PGresult *res;
        rc = st_db_exec (db, statements[i], &params, &res, err);
        st_params_clear (&params);
        if (rc == ST_OK) {
            rc = s_round_emit_offers (db, res, "offer.withdrawn", err);
            PQclear (res);
        }
    }
    return rc;
}

//  Offers past their deadline expire; their requests stay in matching for the next offer.
static st_status_t
s_round_expire (st_db_t *db, st_error_t *err)
{
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_expire", NULL, &res, err);
    if (rc != ST_OK)
        return rc;
    rc = s_round_emit_offers (db, res, "offer.expired", err);
    PQclear (res);
    return rc;
}

//  Requests whose start has come without full staffing become unfilled, with a reason; their
//  pending offers are withdrawn.
static st_status_t
s_round_unfill (st_db_t *db, const match_round_config_t *settings, st_error_t *err)
{
    st_params_t params = {0};
    st_params_int (&params, settings->township_s);
    st_params_int (&params, settings->county_s);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_unfill", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    for (int row = 0; row < PQntuples (res) && rc == ST_OK; row++) {
        msg_service_request_t request = {0};
        st_row_to_msg (res, row, &msg_service_request_desc, &request);
        st_params_int (&params, atoll (request.id));
        st_params_bool (&params, false);
        PGresult *withdrawn;
        rc = st_db_exec (db, "dispatch_withdraw", &params, &withdrawn, err);
        st_params_clear (&params);
        if (rc == ST_OK) {
            rc = s_round_emit_offers (db, withdrawn, "offer.withdrawn", err);
            PQclear (withdrawn);
        }
        msg_request_event_t event = match_request_event (&request);
        if (rc == ST_OK)
            rc = st_outbox_append (db, "request.unfilled", &msg_request_event_desc, &event, err);
        st_msg_clear (&msg_service_request_desc, &request);
    }
    PQclear (res);
    return rc;
}

//  Candidates per request, nearest first.
#define S_CANDIDATES_MAX 50

//  Milliseconds of a monotonic clock, for the round's figures.
static double
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
s_compare_ids (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  An array literal of numbers, "{1,2,3}", the caller frees.
static char *
s_literal (const int64_t *values, int32_t count)
{
    size_t room = 3 + (size_t) count * 21, length = 1;
    char *text = st_malloc (room);
    text[0] = '{';
    for (int32_t i = 0; i < count; i++)
        length += (size_t) snprintf (text + length, room - length, "%s%lld", i ? "," : "",
                                     (long long) values[i]);
    snprintf (text + length, room - length, "}");
    return text;
}

//  Makes the offers chosen (parallel arrays) with their deadlines, each with offer.made.
static st_status_t
s_round_make (st_db_t *db, const match_round_config_t *settings, const int64_t *requests,
              const int64_t *volunteers, const int64_t *costs, int32_t count,
              match_round_stats_t *stats, st_error_t *err)
{
    double began = s_ms ();
    char *lists[3] = {s_literal (requests, count), s_literal (volunteers, count),
                      s_literal (costs, count)};
    st_params_t params = {0};
    for (int k = 0; k < 3; k++)
        st_params_text (&params, lists[k]);
    st_params_int (&params, settings->normal_s);
    st_params_int (&params, settings->urgent_s);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_offer_insert", &params, &res, err);
    st_params_clear (&params);
    for (int k = 0; k < 3; k++)
        free (lists[k]);
    stats->insert_ms = s_ms () - began;
    if (rc != ST_OK)
        return rc;
    began = s_ms ();
    rc = s_round_emit_offers (db, res, "offer.made", err);
    PQclear (res);
    stats->events_ms = s_ms () - began;
    return rc;
}

//  Runs `statement`, which moves requests on and returns them, and emits `topic` for each;
//  with `served`, the event names the volunteers who served it.
static st_status_t
s_round_requests (st_db_t *db, const char *statement, const char *topic, bool served,
                  st_error_t *err)
{
    PGresult *res;
    st_status_t rc = st_db_exec (db, statement, NULL, &res, err);
    for (int row = 0; rc == ST_OK && row < PQntuples (res); row++) {
        msg_service_request_t request = {0};
        st_row_to_msg (res, row, &msg_service_request_desc, &request);
        msg_request_event_t event = match_request_event (&request);
        PGresult *volunteers = NULL;
        if (served) {
            st_params_t params = {0};
            st_params_int (&params, atoll (request.id));
            rc = st_db_exec (db, "dispatch_request_served", &params, &volunteers, err);
            st_params_clear (&params);
            if (rc == ST_OK) {
                event.volunteer_ids = match_ids_of (volunteers);
                event.has_volunteer_ids = true;
            }
        }
        if (rc == ST_OK)
            rc = st_outbox_append (db, topic, &msg_request_event_desc, &event, err);
        free (event.volunteer_ids.items);
        PQclear (volunteers);
        st_msg_clear (&msg_service_request_desc, &request);
    }
    PQclear (res);
    return rc;
}

//  Marks the requests of the plan that found no candidate at all, and unmarks those that
//  found some: the first go behind the others in the next rounds' demand (plan_demand).
static st_status_t
s_round_mark_unfillable (st_db_t *db, const match_plan_t *plan, st_error_t *err)
{
    bool *found = st_calloc ((size_t) plan->requests + 1, sizeof (bool));
    for (int32_t i = 0; i < plan->pair_count; i++)
        found[plan->pairs[i].request] = true;
    int64_t *ids[2];
    int32_t counts[2] = {0, 0};
    for (int k = 0; k < 2; k++)
        ids[k] = st_calloc ((size_t) plan->requests + 1, sizeof (int64_t));
    for (int32_t i = 0; i < plan->requests; i++) {
        int k = found[i] ? 1 : 0;
        ids[k][counts[k]++] = plan->demand[i].id;
    }
    st_params_t params = {0};
    char *lists[2];
    for (int k = 0; k < 2; k++) {
        lists[k] = s_literal (ids[k], counts[k]);
        st_params_text (&params, lists[k]);
    }
    st_status_t rc = st_db_exec (db, "dispatch_no_candidates", &params, NULL, err);
    st_params_clear (&params);
    for (int k = 0; k < 2; k++) {
        free (lists[k]);
        free (ids[k]);
    }
    free (found);
    return rc;
}

//  Builds the round's plan (the soonest open demand, candidates and their costs: match_plan),
//  solves the network within the solver's budget and makes an offer for every pairing with
//  flow. A solve stopped at its budget leaves a basis whose flow is within every capacity, and
//  a request node sends at most what its source arc brings (its missing headcount); only a
//  volunteer node may take more than one unit, passing the rest to the solver's artificial
//  root. So the pairings with flow, each volunteer's first kept and the others dropped, are an
//  assignment every hard rule allows (if not the cheapest): those are offered, the rest waits
//  for the next round, and every offer is written in the round's one transaction.
static st_status_t
s_round_offer (st_db_t *db, const match_round_config_t *settings, match_round_stats_t *stats,
               st_error_t *err)
{
    double began = s_ms ();
    match_plan_t plan;
    double graph_began;
    st_status_t rc = match_plan_build (db, &settings->weights, (int) settings->township_s,
                                       (int) settings->county_s, S_CANDIDATES_MAX,
                                       settings->max_demand, &plan, err);
    if (rc != ST_OK)
        return rc;
    stats->candidate_ms = s_ms () - began;
    stats->read_ms = plan.read_ms;
    stats->walk_ms = plan.walk_ms;
    stats->requests = plan.requests;
    stats->pairs = plan.pair_count;
    stats->bounded = plan.demand_read >= settings->max_demand;
    if (plan.requests == 0) {
        match_plan_clear (&plan);
        return ST_OK;
    }
    began = s_ms ();
    rc = s_round_mark_unfillable (db, &plan, err);
    stats->mark_ms = s_ms () - began;
    if (rc != ST_OK) {
        match_plan_clear (&plan);
        return rc;
    }
    //  Nodes: 0 source, 1 sink, 2.. requests (the plan's order), then volunteers (sorted).
    graph_began = s_ms ();
    int32_t pairs = plan.pair_count, requests = plan.requests;
    int64_t *volunteer_ids = st_calloc ((size_t) pairs + 1, sizeof (int64_t));
    for (int32_t i = 0; i < pairs; i++)
        volunteer_ids[i] = plan.pairs[i].volunteer_id;
    qsort (volunteer_ids, (size_t) pairs, sizeof (int64_t), s_compare_ids);
    int32_t volunteers = 0;
    for (int32_t i = 0; i < pairs; i++)
        if (volunteers == 0 || volunteer_ids[volunteers - 1] != volunteer_ids[i])
            volunteer_ids[volunteers++] = volunteer_ids[i];

    mcf_t *network = mcf_new (2 + requests + volunteers, 2 * requests + pairs + volunteers);
    int64_t total = 0;
    for (int32_t i = 0; i < requests; i++) {
        const match_demand_t *demand = &plan.demand[i];
        if (demand->cared)
            stats->cared_missing += demand->missing;
        mcf_add_arc (network, 0, 2 + i, demand->missing, 0);
        mcf_add_arc (network, 2 + i, 1, demand->missing, demand->penalty);
        total += demand->missing;
    }
    stats->missing = total;
    int32_t first_pair_arc = mcf_arcs (network);
    int32_t *volunteer_of = st_calloc ((size_t) pairs + 1, sizeof (int32_t));
    for (int32_t i = 0; i < pairs; i++) {
        const match_pair_t *pair = &plan.pairs[i];
        int64_t *at = bsearch (&pair->volunteer_id, volunteer_ids, (size_t) volunteers,
                               sizeof (int64_t), s_compare_ids);
        volunteer_of[i] = (int32_t) (at - volunteer_ids);
        mcf_add_arc (network, 2 + pair->request, 2 + requests + volunteer_of[i], 1, pair->cost);
    }
    for (int32_t v = 0; v < volunteers; v++)
        mcf_add_arc (network, 2 + requests + v, 1, 1, 0);
    mcf_set_supply (network, 0, total);
    mcf_set_supply (network, 1, -total);
    mcf_set_time_limit (network, (double) settings->solve_ms);
    began = s_ms ();
    stats->graph_ms = began - graph_began;
    mcf_status_t solved = mcf_solve (network);
    stats->solve_ms = s_ms () - began;
    stats->stopped = solved == MCF_STOPPED;

    //  An offer for every pairing with flow: at most one a volunteer, at most the missing
    //  headcount a request (what an optimum keeps by itself, a stopped solve by these checks).
    int64_t *chosen[3];
    for (int k = 0; k < 3; k++)
        chosen[k] = st_calloc ((size_t) pairs + 1, sizeof (int64_t));
    bool *taken = st_calloc ((size_t) volunteers + 1, sizeof (bool));
    int32_t *given = st_calloc ((size_t) requests + 1, sizeof (int32_t));
    int32_t made = 0;
    if (solved == MCF_OPTIMAL || solved == MCF_STOPPED) {
        for (int32_t i = 0; i < pairs; i++) {
            const match_pair_t *pair = &plan.pairs[i];
            if (mcf_flow (network, first_pair_arc + i) <= 0 || taken[volunteer_of[i]]
                || given[pair->request] >= plan.demand[pair->request].missing)
                continue;
            taken[volunteer_of[i]] = true;
            given[pair->request]++;
            chosen[0][made] = plan.demand[pair->request].id;
            chosen[1][made] = pair->volunteer_id;
            chosen[2][made] = pair->cost;
            made++;
            if (plan.demand[pair->request].cared)
                stats->cared_served++;
        }
        if (solved == MCF_OPTIMAL)
            stats->cost = mcf_total_cost (network);
        else
            st_warn ("dispatch round: the solver stopped at its budget of %lld ms"
                     " (STATION_DISPATCH_SOLVE_MS) after %lld pivots, %d requests and %d"
                     " candidates; offering the %d pairings found so far, the rest wait for"
                     " the next round",
                     (long long) settings->solve_ms, (long long) mcf_pivots (network), requests,
                     pairs, made);
    } else
        rc = st_error_set (err, ST_INTERNAL, NULL, "dispatch network: %s", mcf_status_str (solved));
    mcf_destroy (&network);
    match_plan_clear (&plan);
    free (volunteer_ids);
    free (volunteer_of);
    free (taken);
    free (given);
    stats->offers = stats->served = made;
    began = s_ms ();
    if (rc == ST_OK && made > 0)
        rc = s_round_make (db, settings, chosen[0], chosen[1], chosen[2], made, stats, err);
    stats->offer_ms = s_ms () - began;
    for (int k = 0; k < 3; k++)
        free (chosen[k]);
    return rc;
}

//  Keeps what the round did to each request it touched, for dispatch.rounds (a round that did
//  nothing leaves no row), and prunes the oldest.
static st_status_t
s_round_record (st_db_t *db, double took_ms, bool woken, st_error_t *err)
{
    st_params_t params = {0};
    st_params_int (&params, (int64_t) took_ms);
    st_params_bool (&params, woken);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_round_record", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    bool recorded = atoi (PQcmdTuples (res)) > 0;
    PQclear (res);
    return recorded ? st_db_exec (db, "dispatch_round_prune", NULL, NULL, err) : ST_OK;
}

//  One round: expire, give up, offer. Returns ST_OK also when another replica holds the
//  lock (and this one does nothing).
static st_status_t
s_round (st_db_t *db, const match_round_config_t *settings, bool woken, match_round_stats_t *stats,
         st_error_t *err)
{
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_limits", NULL, NULL, err);
    if (rc == ST_OK)
        rc = st_db_exec (db, "dispatch_lock", NULL, &res, err);
    if (rc != ST_OK)
        return rc;
    bool held = PQgetvalue (res, 0, 0)[0] == 't';
    PQclear (res);
    if (!held)
        return ST_OK;
    stats->held = true;
    double began = s_ms ();
    rc = s_round_expire (db, err);
    if (rc == ST_OK)
        rc = s_round_unfill (db, settings, err);
    if (rc == ST_OK)
        //  Staffed requests whose service is over and confirmed are completed (the resident
        //  may rate them now).
        rc = s_round_requests (db, "dispatch_complete", "request.completed", true, err);
    if (rc == ST_OK)
        //  Staffed requests nobody turned up to, a day after their window, end unfilled (the
        //  resident is told; the reliability cost counts the no-shows).
        rc = s_round_requests (db, "dispatch_no_show", "request.unfilled", false, err);
    stats->upkeep_ms = s_ms () - began;
    if (rc == ST_OK)
        rc = s_round_offer (db, settings, stats, err);
    double recorded = s_ms ();
    if (rc == ST_OK)
        rc = s_round_record (db, recorded - began, woken, err);
    stats->record_ms = s_ms () - recorded;
    return rc;
}

//  One round in its own transaction; `woken` records why it ran.
static st_status_t
s_round_run (st_db_t *db, const match_round_config_t *config, bool woken,
             match_round_stats_t *stats, st_error_t *err)
{
    match_round_stats_t ignored;
    if (!stats)
        stats = &ignored;
    memset (stats, 0, sizeof *stats);
    match_dispatch_store_prepare (db);
    st_status_t rc = st_db_run (db, "BEGIN", err);
    if (rc != ST_OK)
        return rc;
    rc = s_round (db, config, woken, stats, err);
    st_error_t ended;
    if (rc != ST_OK) {
        st_db_run (db, "ROLLBACK", &ended);
        return rc;
    }
    double began = s_ms ();
    rc = st_db_run (db, "COMMIT", err);
    stats->commit_ms = s_ms () - began;
    return rc;
}

st_status_t
match_round_run (st_db_t *db, const match_round_config_t *config, match_round_stats_t *stats,
                 st_error_t *err)
{
    return s_round_run (db, config, false, stats, err);
}

//  True when a notification from another connection came in on `db` (the round's own
//  expiries and withdrawals notify too, and are no news to it); reads every one waiting.
static bool
s_notified (st_db_t *db)
{
    PGconn *conn = st_db_conn (db);
    if (!conn)
        return false;
    bool notified = false;
    PQconsumeInput (conn);
    PGnotify *note;
    while ((note = PQnotifies (conn))) {
        if (note->be_pid != PQbackendPID (conn) && strcmp (note->relname, MATCH_ROUND_CHANNEL) == 0)
            notified = true;
        PQfreemem (note);
    }
    return notified;
}

int64_t
match_round_next (st_db_t *db, const match_round_config_t *config, match_round_clock_t *clock,
                  bool woken, match_round_stats_t *stats, bool *ran)
{
    *ran = false;
    clock->woken = clock->woken || woken;
    int64_t gap = config->wake_ms < config->round_ms ? config->wake_ms : config->round_ms;
    double now = s_ms (), due = clock->ended_ms + (double) (clock->woken ? gap : config->round_ms);
    if (clock->ended_ms > 0 && now < due)
        return (int64_t) (due - now) + 1;
    bool cause = clock->woken;
    clock->woken = false;
    st_error_t err = {0};
    match_round_stats_t ignored;
    if (!stats)
        stats = &ignored;
    if (s_round_run (db, config, cause, stats, &err) != ST_OK)
        st_warn ("dispatch round rolled back after %.0f ms: %s", s_ms () - now, err.message);
    clock->ended_ms = s_ms ();
    clock->rounds++;
    *ran = true;
    //  What committed while the round ran may not be in its snapshot: another round soon.
    if (s_notified (db))
        clock->woken = true;
    return clock->woken ? gap : config->round_ms;
}

int64_t
match_round_due (st_db_t *db, void *state)
{
    //  The ticker's alone (one thread): it calls before the time this returned only when
    //  notified, so an early call is a wake.
    static match_round_clock_t clock;
    static double promised;
    const match_round_config_t *config = state;
    bool woken = clock.rounds > 0 && s_ms () + 1 < promised;
    match_round_stats_t stats = {0};
    bool ran;
    double began = s_ms ();
    int64_t due = match_round_next (db, config, &clock, woken, &stats, &ran);
    promised = s_ms () + (double) due;
    //  A round slower than a second keeps offers pending past their deadlines: say where the
    //  time went.
    double took = s_ms () - began;
    if (ran && (took > 1000 || stats.offers > 0))
        st_log (took > 1000 ? ST_LOG_WARN : ST_LOG_DEBUG, NULL,
                "dispatch round%s: %lld requests%s, %lld candidates, %lld offers in %.0f ms"
                " (upkeep %.0f, candidates %.0f, solve %.0f, offers %.0f)",
                stats.held ? "" : " (another replica's ran)", (long long) stats.requests,
                stats.bounded ? " (STATION_DISPATCH_MAX_DEMAND: later ones wait)" : "",
                (long long) stats.pairs, (long long) stats.offers, took, stats.upkeep_ms,
                stats.candidate_ms, stats.solve_ms, stats.offer_ms);
    return due;
}
