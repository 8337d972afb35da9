/*  match_dispatch_store.c — the SQL of service requests, offers and dispatch rounds:
    statements named after what runs them  */
#include "match_dispatch_store.h"

#include <string.h>

//  What every statement returning a request selects (table alias r): a column of each name
//  msg_service_request declares (st_rows), and whether its window has started.
#define S_REQ_COLUMNS                                                                              \
    "r.id, r.category, r.title, r.description, r.region, r.lat, r.lon,"                            \
    " rfc3339 (r.earliest_start) AS earliest_start, rfc3339 (r.latest_end) AS latest_end,"         \
    " r.duration_minutes, r.headcount, r.skills, r.urgency, r.resident_id, r.status, r.accepted,"  \
    " r.reason, rfc3339 (r.created_at) AS created_at, r.min_stars, r.insurance_required,"          \
    " rfc3339 (r.staffed_at) AS staffed_at, r.rating, r.rating_comment AS comment,"                \
    " r.earliest_start <= now () AS started, r.address"
//  What every statement returning an offer selects (offer o, its request r): msg_offer's
//  fields, whether its deadline has passed (lapsed) and whether its request is still open or
//  matching (live).
#define S_OFFER_COLUMNS                                                                            \
    "o.id, o.request_id, o.volunteer_id, r.title, r.region,"                                       \
    " rfc3339 (r.earliest_start) AS earliest_start, rfc3339 (r.latest_end) AS latest_end,"         \
    " rfc3339 (o.deadline) AS deadline, o.status, rfc3339 (o.created_at) AS created_at,"           \
    " o.deadline <= now () AS lapsed, r.status IN ('open', 'matching') AS live"
//  The live requests a round may offer, with their missing headcount (pending offers
//  count), for plan_demand; a condition on r may follow.
#define S_DEMAND_ROWS                                                                              \
    "SELECT r.id, r.earliest_start,"                                                               \
    " r.headcount - r.accepted - (SELECT count (*) FROM offers p"                                  \
    " WHERE p.request_id = r.id AND p.status = 'pending') AS missing"                              \
    " FROM requests r WHERE r.status IN ('open', 'matching') AND r.earliest_start > now ()"        \
    " AND r.slots <> ''"
//  How long a request that found no candidate goes behind the others (30 rounds at the
//  default round of 2 s).
#define S_BEHIND "interval '1 minute'"

static const st_statement_t s_statements[] = {
    //  resident.registered: the replica takes the newest state, never an older one.
    {"dispatch_resident_upsert",
     "INSERT INTO residents (id, region, lat, lon, care_tags, registry_seq)"
     " VALUES ($1, $2, $3, $4, coalesce ($5::text[], '{}'), $6)"
     " ON CONFLICT (id) DO UPDATE SET region = EXCLUDED.region, lat = EXCLUDED.lat,"
     " lon = EXCLUDED.lon, care_tags = EXCLUDED.care_tags, registry_seq = EXCLUDED.registry_seq,"
     " updated_at = now () WHERE residents.registry_seq < EXCLUDED.registry_seq"},

    //  request.create
    {"dispatch_request_insert",
     "WITH g AS (SELECT $17 AND coalesce ((region_settings_of ($4)).review_required, false)"
     " AS review),"
     " r AS (INSERT INTO requests (category, title, description, region, lat, lon,"
     " earliest_start, latest_end, duration_minutes, headcount, skills, urgency, resident_id,"
     " created_by, min_stars, insurance_required, status, published_at, address)"
     " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce ($11::text[], '{}'), $12, $13,"
     " $14, $15, $16, CASE WHEN g.review THEN 'review' ELSE 'open' END,"
     " CASE WHEN g.review THEN NULL ELSE now () END, $18 FROM g RETURNING *)"
     " SELECT " S_REQ_COLUMNS " FROM r"},
    //  Beneficiary fairness: one resident's requests at a time ($1), those of category $2 on
    //  the local day of $4 that are or may still be served, and the limit in force at $3.
    {"dispatch_resident_lock",
     "SELECT pg_advisory_xact_lock (hashtextextended ('station.match.resident:' || $1, 0))"},
    {"dispatch_daily_count",
     "SELECT count (*) AS used, (SELECT daily_limit FROM region_settings_of ($3)) AS daily_limit"
     " FROM requests"
     " WHERE resident_id = $1 AND category = $2"
     " AND status NOT IN ('cancelled', 'rejected', 'unfilled')"
     " AND earliest_start >= date_trunc ('day', $4::timestamptz, 'Asia/Shanghai')"
     " AND earliest_start < date_trunc ('day', $4::timestamptz, 'Asia/Shanghai')"
     " + interval '1 day'"},
    //  request.review: approved enters dispatch (widening counts from now), rejected keeps
    //  the reason.
    {"dispatch_request_review",
     "WITH r AS (UPDATE requests SET status = CASE WHEN $2 THEN 'open' ELSE 'rejected' END,"
     " published_at = CASE WHEN $2 THEN now () END, reason = CASE WHEN $2 THEN NULL ELSE $3 END,"
     " reviewed_by = $4, updated_at = now () WHERE id = $1 AND status = 'review' RETURNING *)"
     " SELECT " S_REQ_COLUMNS " FROM r"},
    //  request.rate
    {"dispatch_request_rate",
     "WITH r AS (UPDATE requests SET rating = $2, rating_comment = $3, rated_at = now (),"
     " updated_at = now () WHERE id = $1 AND rating IS NULL RETURNING *)"
     " SELECT " S_REQ_COLUMNS " FROM r"},
    //  Who served a request (their hours confirmed), and who is to serve it (accepted).
    {"dispatch_request_served",
     "SELECT DISTINCT volunteer_id FROM service_records WHERE request_id = $1"
     " AND status = 'confirmed' ORDER BY volunteer_id"},
    {"dispatch_request_serving",
     "SELECT volunteer_id FROM offers WHERE request_id = $1 AND status = 'accepted'"
     " ORDER BY volunteer_id"},
    //  settings.set: fields not given ($2..$6 NULL) keep what the region had; those named in
    //  $8 (never given too) become NULL, inherited from the regions above.
    {"dispatch_settings_set",
     "INSERT INTO region_settings AS g (region, review_required, daily_limit, widen_township_s,"
     " widen_county_s, checkin_radius_m, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7)"
     " ON CONFLICT (region) DO UPDATE SET"
     " review_required = CASE WHEN 'review_required' = ANY ($8::text[]) THEN NULL"
     " ELSE coalesce (EXCLUDED.review_required, g.review_required) END,"
     " daily_limit = CASE WHEN 'daily_limit' = ANY ($8) THEN NULL"
     " ELSE coalesce (EXCLUDED.daily_limit, g.daily_limit) END,"
     " widen_township_s = CASE WHEN 'widen_township_s' = ANY ($8) THEN NULL"
     " ELSE coalesce (EXCLUDED.widen_township_s, g.widen_township_s) END,"
     " widen_county_s = CASE WHEN 'widen_county_s' = ANY ($8) THEN NULL"
     " ELSE coalesce (EXCLUDED.widen_county_s, g.widen_county_s) END,"
     " checkin_radius_m = CASE WHEN 'checkin_radius_m' = ANY ($8) THEN NULL"
     " ELSE coalesce (EXCLUDED.checkin_radius_m, g.checkin_radius_m) END,"
     " updated_by = EXCLUDED.updated_by, updated_at = now ()"},
    {"dispatch_settings_get",
     "SELECT review_required, daily_limit, widen_township_s, widen_county_s, checkin_radius_m"
     " FROM region_settings_of ($1)"},
    //  request.get, request.cancel
    {"dispatch_request_get", "SELECT " S_REQ_COLUMNS " FROM requests r WHERE r.id = $1"},
    //  request.list: $1 a subtree's code prefix or NULL, $2 a resident or NULL, $3 a status or
    //  NULL, newest first below id $4, $5 at most.
    {"dispatch_request_list",
     "SELECT " S_REQ_COLUMNS " FROM requests r"
     " WHERE ($1::text IS NULL OR (r.region ~>=~ $1 AND r.region ~<~ ($1 || ':')))"
     " AND ($2::bigint IS NULL OR r.resident_id = $2) AND ($3::text IS NULL OR r.status = $3)"
     " AND r.id < $4 ORDER BY r.id DESC LIMIT $5"},
    //  The same for a county's (6) or a township's (9) prefix $1 and no resident ($2 unused):
    //  the page's ids from their index alone (requests_county_id, requests_township_id),
    //  then its rows.
    {"dispatch_request_list_6",
     "SELECT " S_REQ_COLUMNS " FROM requests r WHERE r.id = ANY (ARRAY (SELECT id FROM requests"
     " WHERE left (region, 6) = $1 AND $2::bigint IS NULL AND ($3::text IS NULL OR status = $3)"
     " AND id < $4 ORDER BY id DESC LIMIT $5)) ORDER BY r.id DESC"},
    {"dispatch_request_list_9",
     "SELECT " S_REQ_COLUMNS " FROM requests r WHERE r.id = ANY (ARRAY (SELECT id FROM requests"
     " WHERE left (region, 9) = $1 AND $2::bigint IS NULL AND ($3::text IS NULL OR status = $3)"
     " AND id < $4 ORDER BY id DESC LIMIT $5)) ORDER BY r.id DESC"},
    //  The same of one status $3 (requests_county_status_id, requests_township_status_id).
    {"dispatch_request_list_6s",
     "SELECT " S_REQ_COLUMNS " FROM requests r WHERE r.id = ANY (ARRAY (SELECT id FROM requests"
     " WHERE left (region, 6) = $1 AND $2::bigint IS NULL AND status = $3"
     " AND id < $4 ORDER BY id DESC LIMIT $5)) ORDER BY r.id DESC"},
    {"dispatch_request_list_9s",
     "SELECT " S_REQ_COLUMNS " FROM requests r WHERE r.id = ANY (ARRAY (SELECT id FROM requests"
     " WHERE left (region, 9) = $1 AND $2::bigint IS NULL AND status = $3"
     " AND id < $4 ORDER BY id DESC LIMIT $5)) ORDER BY r.id DESC"},
    {"dispatch_request_lock",
     "SELECT " S_REQ_COLUMNS " FROM requests r WHERE r.id = $1 FOR UPDATE"},
    //  Who serves a request: the accepted volunteers, and the pending offers when $2 (at most
    //  the headcount each; declines and lapses are nobody's business but the dispatcher's).
    {"dispatch_assignments",
     "SELECT o.volunteer_id, s.name, o.status FROM offers o JOIN supply s"
     " ON s.volunteer_id = o.volunteer_id WHERE o.request_id = $1"
     " AND (o.status = 'accepted' OR ($2 AND o.status = 'pending')) ORDER BY o.id"},
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
     "SELECT " S_OFFER_COLUMNS ", r.category, r.description, r.duration_minutes, r.address"
     " FROM offers o JOIN requests r ON r.id = o.request_id"
     " WHERE o.volunteer_id = $1 AND ($2::text IS NULL OR o.status = $2)"
     " ORDER BY o.id DESC LIMIT 1000"},
    //  offer.accept, offer.decline: the offer and its request locked while the handler checks,
    //  the request first (the rows are locked in the order named: a cancel locks the request,
    //  then withdraws its offers).
    {"dispatch_offer_lock",
     "SELECT " S_OFFER_COLUMNS " FROM offers o JOIN requests r ON r.id = o.request_id"
     " WHERE o.id = $1 FOR UPDATE OF r, o"},
    //  What the volunteer ($1) has promised at the time of request $2: a request accepted
    //  or an activity they are confirmed for (a commitment too), named.
    {"dispatch_overlap",
     "SELECT coalesce ('request ' || x.request_id, 'activity ' || x.activity_id)"
     " FROM requests r, commitment_clash ($1, r.earliest_start, r.latest_end, NULL) x"
     " WHERE r.id = $2"},
    {"dispatch_commit",
     "INSERT INTO commitments (volunteer_id, request_id, during)"
     " SELECT $1, id, tstzrange (earliest_start, latest_end) FROM requests WHERE id = $2"},
    {"dispatch_offer_answer",
     "WITH o AS (UPDATE offers SET status = $2, answered_at = now ()"
     " WHERE id = $1 AND status = 'pending' RETURNING *)"
     " SELECT " S_OFFER_COLUMNS " FROM o JOIN requests r ON r.id = o.request_id"},
    {"dispatch_request_accepted",
     "WITH r AS (UPDATE requests SET accepted = accepted + 1, updated_at = now (),"
     " status = CASE WHEN accepted + 1 >= headcount THEN 'staffed' ELSE 'matching' END,"
     " staffed_at = CASE WHEN accepted + 1 >= headcount THEN now () END"
     " WHERE id = $1 RETURNING *) SELECT " S_REQ_COLUMNS " FROM r"},

    //  offer.assign: volunteer $1 as request $2 needs them: known to match (no row otherwise),
    //  their region and status, whether they have the stars and the insurance it asks, and
    //  their offer of it if any.
    {"dispatch_assign_volunteer",
     "SELECT s.region, s.status, s.stars >= r.min_stars AS stars_ok,"
     " (NOT r.insurance_required OR (s.insurance_until IS NOT NULL AND s.insurance_until"
     " >= (r.latest_end AT TIME ZONE 'Asia/Shanghai')::date)) AS insured, o.status AS offer"
     " FROM supply s JOIN requests r ON r.id = $2 LEFT JOIN offers o ON o.request_id = r.id"
     " AND o.volunteer_id = s.volunteer_id WHERE s.volunteer_id = $1"},
    //  offer.assign: the accepted offer (a new one, or the volunteer's earlier one of the
    //  request answered now), with who assigned them ($3, $4) and why ($5).
    {"dispatch_assign",
     "WITH o AS (INSERT INTO offers (request_id, volunteer_id, status, deadline, answered_at)"
     " VALUES ($2, $1, 'accepted', now (), now ()) ON CONFLICT (request_id, volunteer_id)"
     " DO UPDATE SET status = 'accepted', answered_at = now () WHERE offers.status <> 'accepted'"
     " RETURNING *),"
     " a AS (INSERT INTO manual_assignments (offer_id, request_id, volunteer_id, actor,"
     " actor_role, reason) SELECT id, request_id, volunteer_id, $3, $4, $5 FROM o)"
     " SELECT " S_OFFER_COLUMNS " FROM o JOIN requests r ON r.id = o.request_id"},

    //  The end of a round that did something: what it did to each request it touched (the
    //  offers it made, pending still, and the requests it made unfilled carry this
    //  transaction's now (); both found by partial indexes),
    //  kept for dispatch.rounds; $1 how long it took (ms), $2 whether new demand woke it.
    {"dispatch_round_record",
     "WITH t AS (SELECT request_id AS id FROM offers WHERE status = 'pending'"
     " AND created_at = now ()"
     " UNION SELECT id FROM requests WHERE status = 'unfilled' AND updated_at = now ()),"
     " d AS (INSERT INTO dispatch_rounds (at, took_ms, woken) SELECT now (), $1, $2"
     " WHERE EXISTS (SELECT 1 FROM t) RETURNING id),"
     " w AS (SELECT request_id, count (*) FILTER (WHERE created_at = now ()) AS offered,"
     " count (*) AS waiting FROM offers WHERE status = 'pending'"
     " AND request_id IN (SELECT id FROM t) GROUP BY request_id)"
     " INSERT INTO dispatch_round_requests (round_id, request_id, region, offered, waiting,"
     " status, reason)"
     " SELECT d.id, q.id, q.region, coalesce (w.offered, 0), coalesce (w.waiting, 0),"
     " q.status, q.reason FROM d, requests q LEFT JOIN w ON w.request_id = q.id"
     " WHERE q.id IN (SELECT id FROM t)"},
    {"dispatch_round_prune", "DELETE FROM dispatch_rounds WHERE at < now () - interval '14 days'"
                             " OR id <= (SELECT max (id) - 10000 FROM dispatch_rounds)"},
    //  dispatch.rounds: the rounds that touched requests of subtree $1 (a code prefix), newest
    //  first below id $2 (NULL: from the newest), $3 at most, with their figures there.
    {"dispatch_rounds",
     "SELECT d.id, rfc3339 (d.at) AS at, sum (i.offered) AS offered, sum (i.waiting) AS waiting,"
     " count (*) FILTER (WHERE i.status = 'unfilled') AS unfilled,"
     " (extract (epoch FROM d.at) * 1000)::bigint AS at_ms, d.took_ms"
     " FROM dispatch_rounds d JOIN dispatch_round_requests i ON i.round_id = d.id"
     " WHERE i.region ~>=~ $1 AND i.region ~<~ ($1 || ':') AND ($2::bigint IS NULL OR d.id < $2)"
     " GROUP BY d.id ORDER BY d.id DESC LIMIT $3"},
    //  ... and the requests of subtree $1 each of rounds $2 touched, as they were then.
    {"dispatch_round_requests",
     "SELECT i.round_id, i.request_id, q.title, i.region, i.offered, i.waiting, i.status,"
     " i.reason FROM dispatch_round_requests i JOIN requests q ON q.id = i.request_id"
     " WHERE i.round_id = ANY ($2::bigint[]) AND i.region ~>=~ $1 AND i.region ~<~ ($1 || ':')"
     " ORDER BY i.round_id DESC, i.request_id"},

    //  A volunteer no longer active (volunteer.status_changed): their pending offers are
    //  withdrawn, and so are their accepted offers of requests not started yet, which go
    //  back to matching with the commitment released.
    {"dispatch_release_volunteer",
     "WITH a AS (SELECT o.id, o.request_id FROM offers o JOIN requests r ON r.id = o.request_id"
     " WHERE o.volunteer_id = $1 AND o.status = 'accepted' AND r.earliest_start > now ()"
     " AND r.status IN ('open', 'matching', 'staffed') FOR UPDATE OF r, o),"
     " c AS (DELETE FROM commitments m USING a WHERE m.request_id = a.request_id"
     " AND m.volunteer_id = $1),"
     " q AS (UPDATE requests r SET accepted = r.accepted - 1, status = 'matching',"
     " staffed_at = NULL, updated_at = now () FROM a WHERE r.id = a.request_id),"
     " w AS (UPDATE offers o SET status = 'withdrawn', answered_at = now () FROM a"
     " WHERE o.id = a.id RETURNING o.*)"
     " SELECT " S_OFFER_COLUMNS " FROM w o JOIN requests r ON r.id = o.request_id ORDER BY o.id"},
    //  Before both: the requests of the volunteer's pending and accepted offers, in id order,
    //  so that no offer of theirs is locked before its request (as dispatch_expire).
    {"dispatch_release_lock",
     "SELECT id FROM requests WHERE id IN (SELECT request_id FROM offers WHERE volunteer_id = $1"
     " AND status IN ('pending', 'accepted')) ORDER BY id FOR NO KEY UPDATE"},
    {"dispatch_withdraw_volunteer",
     "WITH o AS (UPDATE offers SET status = 'withdrawn', answered_at = now ()"
     " WHERE volunteer_id = $1 AND status = 'pending' RETURNING *)"
     " SELECT " S_OFFER_COLUMNS " FROM o JOIN requests r ON r.id = o.request_id ORDER BY o.id"},
    //  The round's events (the server's own outbox_append may not be on this connection).
    {"dispatch_outbox_append", "INSERT INTO outbox (topic, body) VALUES ($1, $2)"},
    //  The round: only the holder of this lock runs it, until its transaction ends.
    {"dispatch_lock", "SELECT pg_try_advisory_xact_lock (hashtext ('station.match.dispatch'))"},
    //  A round whose replica dies or is cut off must not hold the lock (and every other
    //  replica's rounds) for the hours TCP takes to notice: the server ends a statement or an
    //  idle transaction after a minute, and probes a silent peer within half a minute. No JIT:
    //  compiling the plan's queries took longer (0.4 s at 10,000 requests) than running them;
    //  room to sort a county's offers in memory (4 MB spilled 20,000 to disk).
    {"dispatch_limits", "SELECT set_config ('statement_timeout', '60s', true),"
                        " set_config ('jit', 'off', true), set_config ('work_mem', '64MB', true),"
                        " set_config ('idle_in_transaction_session_timeout', '60s', true),"
                        " set_config ('tcp_keepalives_idle', '10', true),"
                        " set_config ('tcp_keepalives_interval', '5', true),"
                        " set_config ('tcp_keepalives_count', '3', true)"},
    //  Offers past their deadline expire, each request locked before its offers: every path
    //  takes a request, then its offers (a cancel locks the request and withdraws its offers;
    //  a round that locked an offer, then waited for its request, deadlocked with one: issue
    //  24). In id order, as dispatch_release_lock.
    {"dispatch_expire",
     "WITH q AS (SELECT id FROM requests WHERE id IN (SELECT request_id FROM offers"
     " WHERE status = 'pending' AND deadline <= now ()) ORDER BY id FOR SHARE),"
     " o AS (UPDATE offers p SET status = 'expired', answered_at = now () FROM q"
     " WHERE p.request_id = q.id AND p.status = 'pending' AND p.deadline <= now ()"
     " RETURNING p.*)"
     " SELECT " S_OFFER_COLUMNS " FROM o JOIN requests r ON r.id = o.request_id ORDER BY o.id"},
    //  Requests whose start has come short of volunteers, with a reason a person can act on
    //  (cut to the 500 characters a request shows; $1, $2: the widening delays, to name the
    //  widest region searched).
    {"dispatch_unfill",
     "WITH r AS (UPDATE requests q SET status = 'unfilled', updated_at = now (),"
     " reason = CASE WHEN status = 'review' THEN 'not reviewed before its start'"
     " ELSE left (format ('%s of %s volunteers accepted in time (%s declined, %s let the offer"
     " lapse): no other active volunteer with skills %s%s%s within region %s free on %s',"
     " accepted, headcount,"
     " (SELECT count (*) FROM offers o WHERE o.request_id = q.id AND o.status = 'declined'),"
     " (SELECT count (*) FROM offers o WHERE o.request_id = q.id AND o.status = 'expired'),"
     " CASE WHEN cardinality (skills) = 0 THEN '(any)' ELSE array_to_string (skills, ', ') END,"
     " CASE WHEN min_stars > 0 THEN format (', %s stars or more', min_stars) ELSE '' END,"
     " CASE WHEN insurance_required THEN ', insured' ELSE '' END,"
     " dispatch_area (region, extract (epoch FROM now () - published_at),"
     " coalesce ((region_settings_of (region)).widen_township_s, $1),"
     " coalesce ((region_settings_of (region)).widen_county_s, $2)),"
     " coalesce (nullif (replace (slots, E'\\x1f', ', '),"
     " ''), 'no slot (the window lies outside 06:00-22:00)')),"
     " 500) END"
     " WHERE status IN ('review', 'open', 'matching') AND earliest_start <= now () RETURNING *)"
     " SELECT " S_REQ_COLUMNS " FROM r ORDER BY r.id"},
    //  Staffed requests nobody checked in to, a day after their window: not served.
    {"dispatch_no_show",
     "WITH r AS (UPDATE requests q SET status = 'unfilled', updated_at = now (),"
     " reason = 'nobody checked in' WHERE status = 'staffed'"
     " AND latest_end <= now () - interval '1 day'"
     " AND NOT EXISTS (SELECT 1 FROM service_records c WHERE c.request_id = q.id) RETURNING *)"
     " SELECT " S_REQ_COLUMNS " FROM r ORDER BY r.id"},
    //  Staffed requests with every record of theirs confirmed (one at least), once their
    //  window has passed or every volunteer who accepted has hours confirmed: completed, and
    //  the resident may rate them.
    {"dispatch_complete",
     "WITH r AS (UPDATE requests q SET status = 'completed', updated_at = now ()"
     " WHERE status = 'staffed'"
     " AND EXISTS (SELECT 1 FROM service_records c WHERE c.request_id = q.id"
     " AND c.status = 'confirmed')"
     " AND NOT EXISTS (SELECT 1 FROM service_records c WHERE c.request_id = q.id"
     " AND c.status <> 'confirmed')"
     " AND (latest_end <= now () OR NOT EXISTS (SELECT 1 FROM offers o"
     " WHERE o.request_id = q.id AND o.status = 'accepted' AND NOT EXISTS"
     " (SELECT 1 FROM service_records c WHERE c.request_id = q.id"
     " AND c.volunteer_id = o.volunteer_id AND c.status = 'confirmed'))) RETURNING *)"
     " SELECT " S_REQ_COLUMNS " FROM r ORDER BY r.id"},
    //  The offers a round makes: parallel arrays of request, volunteer and cost; the
    //  deadline by urgency ($4 normal, $5 urgent seconds), never after the start. Each
    //  request is locked once, not once an offer: an open one by its move to matching (u),
    //  which waits for a cancel in flight and skips a request cancelled meanwhile; one
    //  already matching by a share lock (s), which waits for a cancel or an accept in flight.
    //  (A share lock of every offer's request row, then the update of the open ones, was a
    //  third of the offers' time at 20,000 offers: issue 24.)
    {"dispatch_offer_insert",
     "WITH u AS (UPDATE requests SET status = 'matching', updated_at = now ()"
     " WHERE id IN (SELECT unnest ($1::bigint[])) AND status = 'open'"
     " AND earliest_start > now () RETURNING id, earliest_start, urgency),"
     " s AS (SELECT id, earliest_start, urgency FROM requests"
     " WHERE id IN (SELECT unnest ($1::bigint[])) AND status = 'matching'"
     " AND earliest_start > now () FOR SHARE),"
     " o AS (INSERT INTO offers (request_id, volunteer_id, cost, deadline)"
     " SELECT x.r, x.v, x.c, least (q.earliest_start, now () + make_interval (secs =>"
     " CASE WHEN q.urgency = 'urgent' THEN $5::integer ELSE $4::integer END))"
     " FROM unnest ($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS x (r, v, c, n)"
     " JOIN (SELECT * FROM u UNION ALL SELECT * FROM s) q ON q.id = x.r ORDER BY x.n"
     " RETURNING *)"
     " SELECT " S_OFFER_COLUMNS " FROM o JOIN requests r ON r.id = o.request_id ORDER BY o.id"},

    //  The requests a round marks as having found no candidate at all ($1), and those that
    //  found some ($2): the first go behind in plan_demand for a while.
    //  A join with the two lists (a scan testing every row against both arrays took seconds
    //  at 10,000 requests).
    {"dispatch_no_candidates",
     "UPDATE requests r SET no_candidates_at = CASE WHEN x.none THEN now () END"
     " FROM (SELECT unnest ($1::bigint[]) AS id, true AS none"
     " UNION ALL SELECT unnest ($2::bigint[]), false) x"
     " WHERE r.id = x.id AND (x.none OR r.no_candidates_at IS NOT NULL)"},

    //  A round's plan (match_plan.c): columns named as match_plan.c reads them.
    //  Requests in dispatch not started yet, in a slot volunteers can state, and short of
    //  volunteers (counting the offers pending): the $3 starting soonest (the rest wait for
    //  later rounds; the index requests_live reads them in that order and stops there), by
    //  id: missing headcount, priority, where to search ($1, $2: the platform's widening
    //  delays, a region's settings before them, read once a region), the slot, what the
    //  volunteers need. Those whose places all have offers out search nothing. A request
    //  that found no candidate in the last minute (no_candidates_at, dispatch_no_candidates)
    //  comes after every other, soonest first among them, so that requests nobody can fill
    //  cannot take every place of every round; they still fill the places left. Each region's
    //  settings once (MATERIALIZED: inlined, a nested loop read them again for every request;
    //  LATERAL: (region_settings_of (region)).* called the function once a column).
    {"plan_demand",
     "WITH b AS (SELECT id, missing FROM ("
     "(SELECT id, missing, earliest_start, false AS behind FROM (" S_DEMAND_ROWS
     " AND (r.no_candidates_at IS NULL OR r.no_candidates_at <= now () - " S_BEHIND ")) d"
     " WHERE missing > 0 ORDER BY earliest_start, id LIMIT $3) UNION ALL"
     " (SELECT id, missing, earliest_start, true FROM (" S_DEMAND_ROWS
     " AND r.no_candidates_at > now () - " S_BEHIND ") d"
     " WHERE missing > 0 ORDER BY earliest_start, id LIMIT $3)) u"
     " ORDER BY behind, earliest_start, id LIMIT $3),"
     " g AS MATERIALIZED (SELECT x.region, s.widen_township_s, s.widen_county_s"
     " FROM (SELECT DISTINCT r.region FROM b JOIN requests r ON r.id = b.id) x,"
     " LATERAL region_settings_of (x.region) s)"
     " SELECT r.id, b.missing,"
     " r.urgency = 'urgent' AS urgent, coalesce (cardinality (res.care_tags), 0) > 0 AS cared,"
     " r.region,"
     " dispatch_area (r.region, extract (epoch FROM now () - r.published_at),"
     " coalesce (g.widen_township_s, $1), coalesce (g.widen_county_s, $2)) AS area,"
     " r.slots AS slot,"
     " array_to_string (r.skills, E'\\x1f') AS skills,"
     " r.category,"
     " coalesce (r.lat, res.lat) AS lat, coalesce (r.lon, res.lon) AS lon,"
     " extract (epoch FROM r.earliest_start) AS start_s,"
     " extract (epoch FROM r.latest_end) AS end_s, r.min_stars, r.insurance_required"
     " FROM b JOIN requests r ON r.id = b.id LEFT JOIN residents res ON res.id = r.resident_id"
     " LEFT JOIN g ON g.region = r.region ORDER BY r.id"},
    //  Active volunteers of the areas $1 (none inside another): where
    //  they live, what they can do and when, stars, the end of their insurance's last day,
    //  hours of work in the last 30 days (requests accepted, activity hours confirmed), the
    //  share of their offers of the last 90 days left to lapse, and the share of what they
    //  promised in the last 90 days, now past, where they never checked in: requests they
    //  accepted (offered in those days) and activities they were confirmed for (ended in
    //  those days, not cancelled), counted alike.
    {"plan_supply",
     "WITH work AS (SELECT volunteer_id, sum (hours) AS hours FROM ("
     " SELECT o.volunteer_id, r.duration_minutes / 60.0 AS hours FROM offers o"
     " JOIN requests r ON r.id = o.request_id WHERE o.status = 'accepted'"
     " AND o.created_at > now () - interval '30 days'"
     " UNION ALL SELECT volunteer_id, hours FROM service_records WHERE status = 'confirmed'"
     " AND activity_id IS NOT NULL AND confirmed_at > now () - interval '30 days') w"
     " GROUP BY volunteer_id),"
     " lapses AS (SELECT volunteer_id,"
     " avg (CASE WHEN status = 'expired' THEN 1.0 ELSE 0.0 END) AS share FROM offers"
     " WHERE created_at > now () - interval '90 days' AND status <> 'pending'"
     " GROUP BY volunteer_id),"
     " past AS (SELECT o.volunteer_id, NOT EXISTS (SELECT 1 FROM service_records c"
     " WHERE c.request_id = o.request_id AND c.volunteer_id = o.volunteer_id) AS missed"
     " FROM offers o JOIN requests r ON r.id = o.request_id WHERE o.status = 'accepted'"
     " AND o.created_at > now () - interval '90 days' AND r.latest_end < now ()"
     " UNION ALL SELECT s.volunteer_id, NOT EXISTS (SELECT 1 FROM service_records c"
     " WHERE c.activity_id = s.activity_id AND c.volunteer_id = s.volunteer_id)"
     " FROM activities a JOIN signups s ON s.activity_id = a.id AND s.status = 'confirmed'"
     " WHERE a.status <> 'cancelled' AND a.ends_at < now ()"
     " AND a.ends_at > now () - interval '90 days'),"
     " no_shows AS (SELECT volunteer_id, avg (missed::integer)::float8 AS share FROM past"
     " GROUP BY volunteer_id)"
     " SELECT s.volunteer_id, s.region, s.lat, s.lon, array_to_string (s.skills, E'\\x1f') AS "
     "skills,"
     " array_to_string (s.categories, E'\\x1f') AS categories,"
     " array_to_string (s.availability, E'\\x1f') AS availability,"
     " s.stars, coalesce (extract (epoch FROM (s.insurance_until + 1)::timestamp"
     " AT TIME ZONE 'Asia/Shanghai'), 0) AS insured_until, coalesce (w.hours, 0) AS hours,"
     " coalesce (l.share, 0) AS lapsed,"
     " coalesce (n.share, 0) AS no_show"
     " FROM unnest ($1::text[]) a (area)"
     " JOIN supply s ON s.region ~>=~ a.area AND s.region ~<~ (a.area || ':')"
     " LEFT JOIN work w ON w.volunteer_id = s.volunteer_id"
     " LEFT JOIN lapses l ON l.volunteer_id = s.volunteer_id"
     " LEFT JOIN no_shows n ON n.volunteer_id = s.volunteer_id"
     " WHERE s.status = 'active'"},
    //  The volunteers with an offer pending (offers_one_pending), whom plan_supply's reader
    //  leaves out: an anti-join there went quadratic whenever the planner thought offers
    //  empty (after a truncate, before autovacuum's next look).
    {"plan_pending",
     "SELECT volunteer_id FROM offers WHERE status = 'pending' ORDER BY volunteer_id"},
    //  What volunteers have promised overlapping [$1, $2) (epoch seconds), by volunteer: the
    //  requests they accepted and the activities they are confirmed for, both commitments.
    {"plan_commitments",
     "SELECT volunteer_id, extract (epoch FROM lower (during)) AS start_s,"
     " extract (epoch FROM upper (during)) AS end_s FROM commitments"
     " WHERE during && tstzrange (to_timestamp ($1), to_timestamp ($2)) ORDER BY 1"},
    //  Whom each request in demand ($1) was offered already, whatever the answer.
    {"plan_offered",
     "SELECT request_id, volunteer_id FROM offers WHERE request_id = ANY ($1::bigint[])"
     " ORDER BY request_id, volunteer_id"},
};

void
match_dispatch_store_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
}
