/*  match_dispatch_store.c — the SQL of service requests, offers and dispatch rounds:
    statements named after what runs them, columns in the order of match_dispatch_store.h  */
#include "match_dispatch_store.h"

#include <string.h>

//  What every statement returning a request selects (table alias r).
#define S_REQ_COLUMNS                                                                              \
    "r.id, r.category, r.title, r.description, r.region, r.lat, r.lon,"                            \
    " rfc3339 (r.earliest_start), rfc3339 (r.latest_end), r.duration_minutes, r.headcount,"        \
    " to_json (r.skills), r.urgency, r.resident_id, r.status, r.accepted, r.reason,"               \
    " rfc3339 (r.created_at), r.earliest_start <= now ()"
//  What every statement returning an offer selects (offer o, its request r).
#define S_OFFER_COLUMNS                                                                            \
    "o.id, o.request_id, o.volunteer_id, r.title, r.region, rfc3339 (r.earliest_start),"           \
    " rfc3339 (r.latest_end), rfc3339 (o.deadline), o.status, rfc3339 (o.created_at),"             \
    " o.deadline <= now (), r.status IN ('open', 'matching')"
//  The requests a round still staffs: live, not started, and short of volunteers counting
//  the accepted and the pending offers ($1, $2: the widening delays in seconds).
#define S_DEMAND                                                                                   \
    "SELECT r.id, r.region, r.skills, r.category, r.earliest_start, r.latest_end, r.urgency,"      \
    " coalesce (r.lat, res.lat) AS lat, coalesce (r.lon, res.lon) AS lon,"                         \
    " coalesce (cardinality (res.care_tags), 0) > 0 AS cared,"                                     \
    " dispatch_slot (r.earliest_start) AS slot,"                                                   \
    " dispatch_area (r.region, extract (epoch FROM now () - r.created_at), $1, $2) AS area,"       \
    " r.headcount - r.accepted - (SELECT count (*) FROM offers p WHERE p.request_id = r.id"        \
    " AND p.status = 'pending') AS missing"                                                        \
    " FROM requests r LEFT JOIN residents res ON res.id = r.resident_id"                           \
    " WHERE r.status IN ('open', 'matching') AND r.earliest_start > now ()"

//  A candidate volunteer s of request d (dispatch_candidates), and whether s fits d (beside
//  the area searched): active, every skill, the category (or none stated), free in the slot,
//  no overlapping commitment, never offered this request, no other offer pending. (coalesce
//  keeps the skills index out of the planner's reach: reading every holder of a common skill
//  costs a round far more than walking the nearest volunteers.)
#define S_CANDIDATE                                                                                \
    "s.volunteer_id, coalesce (geo_metres (d.lat, d.lon, s.lat, s.lon), -1) AS metres,"            \
    " s.region = d.region AS own_village,"                                                         \
    " (SELECT count (*) FROM offers a WHERE a.volunteer_id = s.volunteer_id"                       \
    " AND a.status = 'accepted' AND a.answered_at > now () - interval '30 days') AS recent"        \
    " FROM supply s"
#define S_FITS                                                                                     \
    "s.status = 'active' AND coalesce (s.skills, '{}') @> d.skills"                                \
    " AND (cardinality (s.categories) = 0 OR d.category = ANY (s.categories))"                     \
    " AND d.slot = ANY (s.availability)"                                                           \
    " AND NOT EXISTS (SELECT 1 FROM commitments m WHERE m.volunteer_id = s.volunteer_id"           \
    " AND m.during && tstzrange (d.earliest_start, d.latest_end))"                                 \
    " AND NOT EXISTS (SELECT 1 FROM offers p WHERE p.request_id = d.id"                            \
    " AND p.volunteer_id = s.volunteer_id)"                                                        \
    " AND NOT EXISTS (SELECT 1 FROM offers p WHERE p.volunteer_id = s.volunteer_id"                \
    " AND p.status = 'pending')"

static const struct {
    const char *name;
    const char *sql;
} s_statements[] = {
    //  resident.registered: the replica takes the newest state, never an older one.
    {"dispatch_resident_upsert",
     "INSERT INTO residents (id, region, lat, lon, care_tags, registry_seq)"
     " VALUES ($1, $2, $3, $4, coalesce ($5::text[], '{}'), $6)"
     " ON CONFLICT (id) DO UPDATE SET region = EXCLUDED.region, lat = EXCLUDED.lat,"
     " lon = EXCLUDED.lon, care_tags = EXCLUDED.care_tags, registry_seq = EXCLUDED.registry_seq,"
     " updated_at = now () WHERE residents.registry_seq < EXCLUDED.registry_seq"},

    //  request.create
    {"dispatch_request_insert",
     "WITH r AS (INSERT INTO requests (category, title, description, region, lat, lon,"
     " earliest_start, latest_end, duration_minutes, headcount, skills, urgency, resident_id,"
     " created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
     " coalesce ($11::text[], '{}'), $12, $13, $14) RETURNING *)"
     " SELECT " S_REQ_COLUMNS " FROM r"},
    //  request.get, request.cancel
    {"dispatch_request_get", "SELECT " S_REQ_COLUMNS " FROM requests r WHERE r.id = $1"},
    {"dispatch_request_lock",
     "SELECT " S_REQ_COLUMNS " FROM requests r WHERE r.id = $1 FOR UPDATE"},
    {"dispatch_assignments",
     "SELECT o.volunteer_id, s.name, o.status FROM offers o JOIN supply s"
     " ON s.volunteer_id = o.volunteer_id WHERE o.request_id = $1 ORDER BY o.id"},
    {"dispatch_request_cancel",
     "WITH r AS (UPDATE requests SET status = 'cancelled', updated_at = now () WHERE id = $1"
     " RETURNING *) SELECT " S_REQ_COLUMNS " FROM r"},
    //  Pending offers of a request withdrawn (cancelled, staffed or unfilled), and the
    //  accepted ones too when $2 (cancelled: their volunteers are told).
    {"dispatch_withdraw",
     "WITH o AS (UPDATE offers SET status = 'withdrawn', answered_at = now ()"
     " WHERE request_id = $1 AND (status = 'pending' OR ($2 AND status = 'accepted'))"
     " RETURNING *)"
     " SELECT " S_OFFER_COLUMNS " FROM o JOIN requests r ON r.id = o.request_id ORDER BY o.id"},
    //  A cancelled request frees its volunteers' time.
    {"dispatch_release", "DELETE FROM commitments WHERE request_id = $1"},

    //  offer.list: $2 NULL for every status.
    {"dispatch_offer_list",
     "SELECT " S_OFFER_COLUMNS " FROM offers o JOIN requests r ON r.id = o.request_id"
     " WHERE o.volunteer_id = $1 AND ($2::text IS NULL OR o.status = $2)"
     " ORDER BY o.id DESC LIMIT 1000"},
    //  offer.accept, offer.decline: the offer and its request locked while the handler checks.
    {"dispatch_offer_lock",
     "SELECT " S_OFFER_COLUMNS " FROM offers o JOIN requests r ON r.id = o.request_id"
     " WHERE o.id = $1 FOR UPDATE OF o, r"},
    {"dispatch_overlap",
     "SELECT c.request_id FROM commitments c, requests r WHERE c.volunteer_id = $1"
     " AND r.id = $2 AND c.during && tstzrange (r.earliest_start, r.latest_end) LIMIT 1"},
    {"dispatch_commit",
     "INSERT INTO commitments (volunteer_id, request_id, during)"
     " SELECT $1, id, tstzrange (earliest_start, latest_end) FROM requests WHERE id = $2"},
    {"dispatch_offer_answer",
     "WITH o AS (UPDATE offers SET status = $2, answered_at = now ()"
     " WHERE id = $1 AND status = 'pending' RETURNING *)"
     " SELECT " S_OFFER_COLUMNS " FROM o JOIN requests r ON r.id = o.request_id"},
    {"dispatch_request_accepted",
     "WITH r AS (UPDATE requests SET accepted = accepted + 1, updated_at = now (),"
     " status = CASE WHEN accepted + 1 >= headcount THEN 'staffed' ELSE 'matching' END"
     " WHERE id = $1 RETURNING *) SELECT " S_REQ_COLUMNS " FROM r"},

    //  The round's events (the server's own outbox_append may not be on this connection).
    {"dispatch_outbox_append", "INSERT INTO outbox (topic, body) VALUES ($1, $2)"},
    //  The round: only the holder of this lock runs it, until its transaction ends.
    {"dispatch_lock", "SELECT pg_try_advisory_xact_lock (hashtext ('station.match.dispatch'))"},
    {"dispatch_expire",
     "WITH o AS (UPDATE offers SET status = 'expired', answered_at = now ()"
     " WHERE status = 'pending' AND deadline <= now () RETURNING *)"
     " SELECT " S_OFFER_COLUMNS " FROM o JOIN requests r ON r.id = o.request_id ORDER BY o.id"},
    //  Requests whose start has come short of volunteers, with a reason a person can act on
    //  ($1, $2: the widening delays, to name the widest region searched).
    {"dispatch_unfill",
     "WITH r AS (UPDATE requests SET status = 'unfilled', updated_at = now (),"
     " reason = format ('%s of %s volunteers accepted in time: no other active volunteer"
     " with skills %s within region %s free on %s',"
     " accepted, headcount,"
     " CASE WHEN cardinality (skills) = 0 THEN '(any)' ELSE array_to_string (skills, ', ') END,"
     " dispatch_area (region, extract (epoch FROM now () - created_at), $1, $2),"
     " coalesce (dispatch_slot (earliest_start), 'no slot (the start lies outside 06:00-22:00)'))"
     " WHERE status IN ('open', 'matching') AND earliest_start <= now () RETURNING *)"
     " SELECT " S_REQ_COLUMNS " FROM r ORDER BY r.id"},
    //  The candidate query's plan: with whole-table scans and sorts off for the candidate
    //  query, the planner (whose estimates of these filters are poor) walks the
    //  indexes nearest first and stops at the limit instead of reading whole townships; and
    //  the costs this makes up would make JIT compile for a second.
    {"dispatch_plan_walk",
     "SELECT set_config ('enable_seqscan', 'off', true),"
     " set_config ('enable_bitmapscan', 'off', true), set_config ('enable_sort', 'off', true),"
     " set_config ('jit', 'off', true)"},
    {"dispatch_plan_default",
     "SELECT set_config (name, reset_val, true) FROM pg_settings"
     " WHERE name IN ('enable_seqscan', 'enable_bitmapscan', 'enable_sort', 'jit')"},
    //  Open demand: request id, missing headcount, urgent, whether its resident is cared for.
    {"dispatch_demand", "SELECT id, missing, urgency = 'urgent', cared FROM (" S_DEMAND ") d"
                        " WHERE missing > 0 ORDER BY id"},
    //  Candidates of every request in demand, nearest first, at most $3 each: request,
    //  volunteer, metres (-1 unknown), whether in the request's own village, offers accepted
    //  in the last 30 days. A village's volunteers are few: they are read by the region index
    //  (a range in its own operators) and sorted. A township's or a county's are many: the
    //  geo index walks them nearest first until $3 fit (the region test is kept out of index
    //  reach so that the planner walks).
    {"dispatch_candidates",
     "WITH d AS MATERIALIZED (SELECT * FROM (" S_DEMAND ") x WHERE missing > 0)"
     " SELECT d.id, c.volunteer_id, c.metres, c.own_village, c.recent FROM d"
     " CROSS JOIN LATERAL ((SELECT " S_CANDIDATE " WHERE length (d.area) >= 12"
     " AND s.region ~>=~ d.area AND s.region ~<~ (d.area || ':') AND " S_FITS
     " ORDER BY geo_metres (d.lat, d.lon, s.lat, s.lon) NULLS LAST, s.volunteer_id LIMIT $3)"
     " UNION ALL (SELECT " S_CANDIDATE " WHERE length (d.area) < 12"
     " AND left (s.region, length (d.area)) = d.area AND " S_FITS
     " ORDER BY geo_point (s.lat, s.lon) <-> geo_point (d.lat, d.lon)"
     " LIMIT $3)) c ORDER BY d.id, c.metres"},
    //  The offers a round makes: parallel arrays of request, volunteer and cost; the
    //  deadline by urgency ($4 normal, $5 urgent seconds), never after the start. The share
    //  lock waits for a cancel or an accept in flight, and a request cancelled meanwhile
    //  gets no offer.
    {"dispatch_offer_insert",
     "WITH o AS (INSERT INTO offers (request_id, volunteer_id, cost, deadline)"
     " SELECT x.r, x.v, x.c, least (q.earliest_start, now () + make_interval (secs =>"
     " CASE WHEN q.urgency = 'urgent' THEN $5::integer ELSE $4::integer END))"
     " FROM unnest ($1::bigint[], $2::bigint[], $3::bigint[]) AS x (r, v, c)"
     " JOIN requests q ON q.id = x.r WHERE q.status IN ('open', 'matching')"
     " AND q.earliest_start > now () FOR SHARE OF q RETURNING *),"
     " m AS (UPDATE requests SET status = 'matching', updated_at = now ()"
     " WHERE id IN (SELECT request_id FROM o) AND status = 'open')"
     " SELECT " S_OFFER_COLUMNS " FROM o JOIN requests r ON r.id = o.request_id ORDER BY o.id"},
};

void
match_dispatch_store_prepare (st_db_t *db)
{
    for (size_t i = 0; i < sizeof s_statements / sizeof s_statements[0]; i++)
        st_db_statement (db, s_statements[i].name, s_statements[i].sql);
}

const char *
match_dispatch_store_sql (const char *name)
{
    for (size_t i = 0; i < sizeof s_statements / sizeof s_statements[0]; i++)
        if (strcmp (s_statements[i].name, name) == 0)
            return s_statements[i].sql;
    return NULL;
}
