/*  match_store.c — the match service's SQL: statements named after what runs them  */
#include "match_store.h"

//  What every statement returning a project, an activity or a wish selects: a column of each
//  name the reply declares (st_rows), and for activities whether it has started and ended.
#define S_PROJECT_COLUMNS "id, name, category, region, theme, rfc3339 (created_at) AS created_at"
#define S_ACTIVITY_COLUMNS                                                                         \
    "id, title, category, theme, project_id, site_id, region, rfc3339 (starts_at) AS starts_at,"   \
    " rfc3339 (ends_at) AS ends_at, capacity, rfc3339 (signup_closes_at) AS signup_closes_at,"     \
    " min_stars, skills, insurance_required, confirmed, waitlisted, status, cancel_reason,"        \
    " rfc3339 (created_at) AS created_at, lat, lon, starts_at <= now () AS started,"               \
    " ends_at <= now () AS ended, manual"
#define S_WISH_COLUMNS                                                                             \
    "id, title, description, region, resident_id, volunteer_id, status,"                           \
    " rfc3339 (created_at) AS created_at, rfc3339 (claimed_at) AS claimed_at,"                     \
    " rfc3339 (fulfilled_at) AS fulfilled_at, rfc3339 (confirmed_at) AS confirmed_at"
//  What a sign-up's event tells of its activity (a).
#define S_SIGNUP_ACTIVITY                                                                          \
    "a.title, a.region, rfc3339 (a.starts_at) AS starts_at, rfc3339 (a.ends_at) AS ends_at"

static const st_statement_t s_statements[] = {
    //  volunteer.registered: the replica takes the newest state, never an older one.
    {"supply_upsert",
     "INSERT INTO supply (volunteer_id, name, region, skills, gender, birth_year, status,"
     " registry_seq, categories, availability, lat, lon, insurance_until, stars)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce ($9::text[], '{}'),"
     " coalesce ($10::text[], '{}'), $11, $12, $13,"
     " coalesce ((SELECT stars FROM ledger_stars WHERE volunteer_id = $1), 0))"
     " ON CONFLICT (volunteer_id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region,"
     " skills = EXCLUDED.skills, gender = EXCLUDED.gender, birth_year = EXCLUDED.birth_year,"
     " status = EXCLUDED.status, registry_seq = EXCLUDED.registry_seq,"
     " categories = EXCLUDED.categories, availability = EXCLUDED.availability,"
     " lat = EXCLUDED.lat, lon = EXCLUDED.lon, insurance_until = EXCLUDED.insurance_until,"
     " updated_at = now ()"
     " WHERE supply.registry_seq < EXCLUDED.registry_seq RETURNING status"},
    //  star.reached (the ledger): stars only grow; a volunteer match does not know yet takes
    //  them from ledger_stars when registry's event arrives.
    {"supply_stars",
     "WITH s AS (INSERT INTO ledger_stars (volunteer_id, stars, ledger_seq) VALUES ($1, $2, $3)"
     " ON CONFLICT (volunteer_id) DO UPDATE SET stars = greatest (ledger_stars.stars,"
     " EXCLUDED.stars), ledger_seq = EXCLUDED.ledger_seq RETURNING volunteer_id, stars)"
     " UPDATE supply SET stars = s.stars FROM s WHERE supply.volunteer_id = s.volunteer_id"},
    //  supply.stats: $1 is the subtree's code prefix (digits only, so no LIKE wildcards).
    {"supply_stats",
     "SELECT count (*), count (*) FILTER (WHERE status = 'active'),"
     " (SELECT coalesce (max (seq), 0) FROM consumer_cursors WHERE publisher = 'registry')"
     " FROM supply WHERE region LIKE $1 || '%'"},

    //  project.create
    {"project_insert", "INSERT INTO projects (name, category, region, theme, created_by)"
                       " VALUES ($1, $2, $3, $4, $5) RETURNING " S_PROJECT_COLUMNS},
    //  activity.create: where the project named is (no row: there is none).
    {"project_region", "SELECT region FROM projects WHERE id = $1"},
    //  registry's site.created and category.created; an event applies once, a late one
    //  changes nothing.
    {"site_upsert", "INSERT INTO sites (site_id, region, registry_seq) VALUES ($1, $2, $3)"
                    " ON CONFLICT (site_id) DO UPDATE SET region = EXCLUDED.region,"
                    " registry_seq = EXCLUDED.registry_seq"
                    " WHERE sites.registry_seq < EXCLUDED.registry_seq"},
    {"category_upsert", "INSERT INTO categories (code, region, registry_seq) VALUES ($1, $2, $3)"
                        " ON CONFLICT (code) DO UPDATE SET region = EXCLUDED.region,"
                        " registry_seq = EXCLUDED.registry_seq"
                        " WHERE categories.registry_seq < EXCLUDED.registry_seq"},
    {"site_region", "SELECT region FROM sites WHERE site_id = $1"},
    {"category_region", "SELECT region FROM categories WHERE code = $1 AND region IS NOT NULL"},
    {"activity_insert",
     "INSERT INTO activities (title, category, theme, project_id, site_id, region, starts_at,"
     " ends_at, capacity, signup_closes_at, min_stars, skills, insurance_required, created_by,"
     " lat, lon) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
     " RETURNING " S_ACTIVITY_COLUMNS},
    //  activity.get
    {"activity_get", "SELECT " S_ACTIVITY_COLUMNS " FROM activities WHERE id = $1"},
    //  activity.list: open activities not ended, soonest first; $1 the volunteer whose sign-up
    //  each row shows; $2 a subtree prefix they lie in, or $3 a region they lie above (or at);
    //  $4 a category; $5, $6 bounds of the start; $7 the last id of the page before; $8 the
    //  page's size; $9 only while sign-up is open.
    {"activity_list",
     "SELECT " S_ACTIVITY_COLUMNS ", my.my_signup, my.my_position FROM activities a"
     " LEFT JOIN LATERAL (SELECT s.status AS my_signup, CASE WHEN s.status = 'waitlisted' THEN"
     " (SELECT count (*) + 1 FROM signups w WHERE w.activity_id = a.id"
     " AND w.status = 'waitlisted' AND w.arrival < s.arrival) END AS my_position"
     " FROM signups s WHERE s.activity_id = a.id AND s.volunteer_id = $1"
     " AND s.status <> 'cancelled') my ON true"
     " WHERE a.status = 'open' AND a.ends_at > now ()"
     " AND ($2::text IS NULL OR (a.region ~>=~ $2 AND a.region ~<~ ($2 || ':')))"
     " AND ($3::text IS NULL OR $3 LIKE region_subtree (a.region) || '%')"
     " AND ($4::text IS NULL OR a.category = $4)"
     " AND ($5::timestamptz IS NULL OR a.starts_at >= $5)"
     " AND ($6::timestamptz IS NULL OR a.starts_at < $6)"
     " AND ($7::bigint IS NULL OR (a.starts_at, a.id) > (SELECT c.starts_at, c.id FROM activities c"
     " WHERE c.id = $7))"
     " AND (NOT $9 OR a.signup_closes_at > now ())"
     " ORDER BY a.starts_at, a.id LIMIT $8"},
    //  activity.list near lat $10, lon $11: the same rows nearest first (geo_metres, exact
    //  within a county), those with no place (or all, with no $10, $11) last, the nearer
    //  (deeper) region first, then soonest; the cursor's row keyed the same way.
    {"activity_near",
     "WITH k AS (SELECT a.*, geo_metres (a.lat, a.lon, $10::float8, $11::float8) AS distance_m,"
     " length (region_subtree (a.region)) AS depth FROM activities a"
     " WHERE a.status = 'open' AND a.ends_at > now ()"
     " AND ($2::text IS NULL OR (a.region ~>=~ $2 AND a.region ~<~ ($2 || ':')))"
     " AND ($3::text IS NULL OR $3 LIKE region_subtree (a.region) || '%')"
     " AND ($4::text IS NULL OR a.category = $4)"
     " AND ($5::timestamptz IS NULL OR a.starts_at >= $5)"
     " AND ($6::timestamptz IS NULL OR a.starts_at < $6)"
     " AND (NOT $9 OR a.signup_closes_at > now ())),"
     " c AS (SELECT coalesce (geo_metres (lat, lon, $10::float8, $11::float8), 'Infinity') AS d,"
     " - length (region_subtree (region)) AS depth, starts_at, id FROM activities WHERE id = $7)"
     " SELECT " S_ACTIVITY_COLUMNS ", distance_m, my.my_signup, my.my_position FROM k a"
     " LEFT JOIN LATERAL (SELECT s.status AS my_signup, CASE WHEN s.status = 'waitlisted' THEN"
     " (SELECT count (*) + 1 FROM signups w WHERE w.activity_id = a.id"
     " AND w.status = 'waitlisted' AND w.arrival < s.arrival) END AS my_position"
     " FROM signups s WHERE s.activity_id = a.id AND s.volunteer_id = $1"
     " AND s.status <> 'cancelled') my ON true"
     " WHERE $7::bigint IS NULL OR (coalesce (a.distance_m, 'Infinity'), - a.depth, a.starts_at,"
     " a.id) > (SELECT d, depth, starts_at, id FROM c)"
     " ORDER BY coalesce (a.distance_m, 'Infinity'), a.depth DESC, a.starts_at, a.id LIMIT $8"},
    {"supply_region", "SELECT region FROM supply WHERE volunteer_id = $1"},
    //  schedule.list: volunteer $1's commitments not yet over, soonest first, after commitment
    //  $2 (the page before's last), $3 of them.
    {"schedule_list",
     "SELECT c.id AS commitment, CASE WHEN c.request_id IS NOT NULL THEN 'request' ELSE"
     " 'activity' END AS kind, coalesce (c.request_id, c.activity_id)::text AS id,"
     " coalesce (r.title, a.title) AS title, rfc3339 (lower (c.during)) AS starts_at,"
     " rfc3339 (upper (c.during)) AS ends_at, coalesce (r.region, a.region) AS region"
     " FROM commitments c LEFT JOIN requests r ON r.id = c.request_id"
     " LEFT JOIN activities a ON a.id = c.activity_id"
     " WHERE c.volunteer_id = $1 AND upper (c.during) > now ()"
     " AND ($2::bigint IS NULL OR (lower (c.during), c.id) > (SELECT lower (k.during), k.id"
     " FROM commitments k WHERE k.id = $2))"
     " ORDER BY lower (c.during), c.id LIMIT $3"},
    //  activity.cancel: the row lock keeps sign-ups out until the cancellation commits.
    {"activity_lock", "SELECT " S_ACTIVITY_COLUMNS " FROM activities WHERE id = $1 FOR UPDATE"},
    //  activity.update: the fields given ($2..$8; NULL keeps), the constraints checking the
    //  whole; then the first $2 in line confirmed (the count trigger keeps up).
    {"activity_update",
     "UPDATE activities SET title = coalesce ($2, title), starts_at = coalesce ($3, starts_at),"
     " ends_at = coalesce ($4, ends_at), signup_closes_at = coalesce ($5, signup_closes_at),"
     " capacity = coalesce ($6, capacity), lat = coalesce ($7, lat), lon = coalesce ($8, lon)"
     " WHERE id = $1 RETURNING " S_ACTIVITY_COLUMNS},
    //  activity.update and activity.withdraw: $2 places of activity $1 opened go to the first
    //  in line free then (activity_promote of 0010_signup_commitments.sql): a row per volunteer
    //  reached, in arrival order, with outcome promoted or busy (a busy one's position and
    //  what they are committed to, as the event names them).
    {"activity_promote",
     "SELECT p.volunteer AS volunteer_id, p.outcome, p.queue_position AS position,"
     " p.busy_request AS busy_request_id, p.busy_activity AS busy_activity_id, " S_SIGNUP_ACTIVITY
     " FROM activity_promote ($1, $2) WITH ORDINALITY p JOIN activities a ON a.id = $1"
     " ORDER BY p.ordinality"},
    //  A volunteer no longer active ($1): their live sign-ups to open activities not started
    //  end, each returned with what it was (was) and its activity (locked, for promotion).
    {"signup_release_volunteer",
     "WITH live AS (SELECT s.id, s.status FROM signups s JOIN activities a ON a.id = s.activity_id"
     " WHERE s.volunteer_id = $1 AND s.status <> 'cancelled' AND a.status = 'open'"
     " AND a.starts_at > now () ORDER BY a.id FOR UPDATE OF s, a),"
     " ended AS (UPDATE signups s SET status = 'cancelled', cancel_reason = 'volunteer_inactive',"
     " updated_at = clock_timestamp () FROM live WHERE s.id = live.id"
     " RETURNING s.activity_id, s.volunteer_id, live.status AS was)"
     " SELECT e.activity_id, e.volunteer_id, e.was, " S_SIGNUP_ACTIVITY
     " FROM ended e JOIN activities a ON a.id = e.activity_id ORDER BY e.activity_id"},
    //  activity.update moving activity $1 to [$2, $3): the first volunteer confirmed for it
    //  who is committed to something else then, and what, named.
    {"activity_clash",
     "SELECT s.volunteer_id, coalesce ('request ' || x.request_id, 'activity ' || x.activity_id)"
     " FROM signups s, commitment_clash (s.volunteer_id, $2, $3, s.activity_id) x"
     " WHERE s.activity_id = $1 AND s.status = 'confirmed' ORDER BY s.arrival LIMIT 1"},
    {"activity_cancel_signups",
     "WITH ended AS (UPDATE signups SET status = 'cancelled', cancel_reason = 'activity_cancelled',"
     " updated_at = clock_timestamp () WHERE activity_id = $1 AND status <> 'cancelled'"
     " RETURNING volunteer_id, arrival)"
     " SELECT e.volunteer_id, " S_SIGNUP_ACTIVITY " FROM ended e JOIN activities a ON a.id = $1"
     " ORDER BY e.arrival"},
    {"activity_cancel",
     "UPDATE activities SET status = 'cancelled', cancel_reason = $2, cancelled_at = now ()"
     " WHERE id = $1 RETURNING " S_ACTIVITY_COLUMNS},
    //  One volunteer's promises are made one at a time (an accept, a sign-up): each checks
    //  the other's table, so two at once could both pass.
    {"volunteer_lock",
     "SELECT pg_advisory_xact_lock (hashtextextended ('station.match.volunteer:' || $1, 0))"},
    //  activity.signup: a request volunteer $1 accepted or another activity they are
    //  confirmed for overlapping activity $2, named. Only for an activity open to sign-up:
    //  one closed or cancelled is refused for that first.
    {"activity_busy", "SELECT coalesce ('request ' || x.request_id, 'activity ' || x.activity_id)"
                      " FROM activities a, commitment_clash ($1, a.starts_at, a.ends_at, a.id) x"
                      " WHERE a.id = $2 AND a.status = 'open' AND now () <= a.signup_closes_at"},
    //  activity.signup and activity.withdraw: plpgsql functions of 0003_activities.sql (as
    //  0010_signup_commitments.sql has them now), which take the activity's row lock.
    {"activity_signup_run",
     "SELECT outcome, detail, queue_position AS position, act_title AS title, act_region AS region,"
     " rfc3339 (act_starts_at) AS starts_at, rfc3339 (act_ends_at) AS ends_at"
     " FROM activity_signup ($1, $2)"},
    {"activity_withdraw_run",
     "SELECT outcome, detail, act_title AS title, act_region AS region,"
     " rfc3339 (act_starts_at) AS starts_at, rfc3339 (act_ends_at) AS ends_at"
     " FROM activity_withdraw ($1, $2)"},

    //  wish.create
    //  Where a resident lives, as registry's resident.registered told match.
    {"resident_home", "SELECT region FROM residents WHERE id = $1"},
    {"wish_insert", "INSERT INTO wishes (title, description, region, resident_id)"
                    " VALUES ($1, $2, $3, $4) RETURNING " S_WISH_COLUMNS},
    //  wish.claim: a plpgsql function of 0003_activities.sql (exactly one claimant).
    {"wish_claim_run", "SELECT outcome, detail FROM wish_claim ($1, $2)"},
    {"wish_get", "SELECT " S_WISH_COLUMNS " FROM wishes WHERE id = $1"},
    //  wish.fulfil and wish.confirm: the row is locked while the handler checks who and when.
    {"wish_lock", "SELECT " S_WISH_COLUMNS " FROM wishes WHERE id = $1 FOR UPDATE"},
    {"wish_fulfil", "UPDATE wishes SET status = 'fulfilled', fulfilled_at = now ()"
                    " WHERE id = $1 AND status = 'claimed' RETURNING " S_WISH_COLUMNS},
    {"wish_confirm", "UPDATE wishes SET status = 'confirmed', confirmed_at = now ()"
                     " WHERE id = $1 AND status = 'fulfilled' RETURNING " S_WISH_COLUMNS},
    //  Check-in codes: the key, the current window of codes living $1 seconds and its end.
    {"checkin_code_clock",
     "SELECT encode (key, 'hex') AS key, floor (extract (epoch FROM now ()) / $1)::bigint"
     " AS code_window, rfc3339 (to_timestamp ((floor (extract (epoch FROM now ()) / $1) + 1) * $1))"
     " AS expires_at FROM checkin_key"},

//  Service records: a column of each name msg_service_record declares (st_rows).
#define S_RECORD_COLUMNS                                                                           \
    "r.id, r.volunteer_id, r.activity_id, r.request_id, r.region,"                                 \
    " to_char (r.checkin_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS checkin_at,"  \
    " to_char (r.checkout_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS "            \
    "checkout_at,"                                                                                 \
    " r.minutes, r.status, r.hours, r.completed_by, r.completion_reason, r.confirmed_by,"          \
    " r.manual"
    //  The activity a volunteer checks in to, with their sign-up's status (NULL: none),
    //  whether check-in is open at $3, metres from its place to ($4, $5) (NULL when either is
    //  unknown), the check-in radius in force there (NULL: none) and whether the place is
    //  known.
    {"record_activity",
     "SELECT a.region, a.status, s.status AS signup,"
     " ($3::timestamptz BETWEEN a.starts_at - interval '1 hour' AND a.ends_at) AS open,"
     " round (geo_metres (a.lat, a.lon, $4, $5)) AS metres,"
     " (region_settings_of (a.region)).checkin_radius_m AS radius,"
     " a.lat IS NOT NULL AND a.lon IS NOT NULL AS placed"
     " FROM activities a LEFT JOIN signups s ON s.activity_id = a.id AND s.volunteer_id = $2"
     " AND s.status <> 'cancelled' WHERE a.id = $1"},
    //  The request a volunteer checks in to: its region, whether they accepted it, whether
    //  check-in is open at $3, metres from its place to ($4, $5) (NULL when either is
    //  unknown), the check-in radius in force there (NULL: none) and whether the place is
    //  known.
    {"record_request",
     "SELECT q.region, EXISTS (SELECT 1 FROM offers o WHERE o.request_id = q.id"
     " AND o.volunteer_id = $2 AND o.status = 'accepted') AS accepted,"
     " ($3::timestamptz BETWEEN q.earliest_start - interval '1 hour' AND q.latest_end) AS open,"
     " round (geo_metres (coalesce (q.lat, res.lat), coalesce (q.lon, res.lon), $4, $5))"
     " AS metres, (region_settings_of (q.region)).checkin_radius_m AS radius,"
     " coalesce (q.lat, res.lat) IS NOT NULL AND coalesce (q.lon, res.lon) IS NOT NULL AS placed"
     " FROM requests q LEFT JOIN residents res ON res.id = q.resident_id WHERE q.id = $1"},
    {"record_checkin", "INSERT INTO service_records AS r (volunteer_id, activity_id, request_id,"
                       " region, checkin_at) VALUES ($1, $2, $5, $3, $4)"
                       " RETURNING " S_RECORD_COLUMNS},
    //  The minutes that count end 30 minutes after the schedule at the latest, and never
    //  exceed the time scheduled by more than those 30 minutes.
    {"record_checkout",
     "UPDATE service_records r SET checkout_at = $3, status = 'closed',"
     " minutes = least (record_minutes (r.checkin_at, $3, s.starts_at, s.ends_at,"
     " interval '30 minutes'), extract (epoch FROM s.scheduled) / 60 + 30),"
     " completed_by = $4, completion_reason = $5"
     " FROM record_schedules s WHERE s.record_id = r.id AND r.id = $1 AND r.status = 'open'"
     " AND $3::timestamptz >= r.checkin_at AND ($2::bigint IS NULL OR r.volunteer_id = $2)"
     " RETURNING " S_RECORD_COLUMNS},
    {"record_release", "DELETE FROM commitments WHERE volunteer_id = $1 AND request_id = $2"},
    {"record_open", "SELECT id FROM service_records WHERE volunteer_id = $1"
                    " AND (activity_id = $2 OR request_id = $3) AND status = 'open'"},
    {"record_get",
     "SELECT " S_RECORD_COLUMNS ", s.category, s.theme"
     " FROM service_records r JOIN record_schedules s ON s.record_id = r.id WHERE r.id = $1"
     " FOR UPDATE OF r"},
    //  Confirmed hours: those given, else the minutes counted; never past the time scheduled
    //  and its margin, nor a day (a longer activity is served, and checked in to, day by day).
    {"record_confirm",
     "UPDATE service_records r SET status = 'confirmed', confirmed_by = $2, confirmed_at = now (),"
     " hours = round (least (coalesce ($3::numeric, r.minutes / 60.0),"
     " extract (epoch FROM s.scheduled + interval '30 minutes') / 3600, 24)::numeric, 2)"
     " FROM record_schedules s WHERE s.record_id = r.id AND r.id = $1 AND r.status = 'closed'"
     " RETURNING " S_RECORD_COLUMNS},
    //  Whom a request served, and whether they are cared for first (service.completed).
    {"record_resident",
     "SELECT q.resident_id, coalesce (cardinality (res.care_tags), 0) > 0 FROM requests q"
     " LEFT JOIN residents res ON res.id = q.resident_id WHERE q.id = $1"},
    //  activity.backfill: volunteers $1 as the actor may name them (known here: region).
    {"backfill_volunteers",
     "SELECT x.v AS volunteer_id, s.region FROM unnest ($1::bigint[]) WITH ORDINALITY x (v, n)"
     " LEFT JOIN supply s ON s.volunteer_id = x.v ORDER BY x.n"},
    //  ... the past activity, manual, its capacity the number of records ($9), entered by $10.
    {"backfill_activity",
     "INSERT INTO activities (title, category, project_id, site_id, region, starts_at, ends_at,"
     " capacity, signup_closes_at, created_by, manual) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
     " $6, $9, true) RETURNING " S_ACTIVITY_COLUMNS},
    {"backfill_audit", "INSERT INTO backfills (activity_id, actor, actor_role, reason, records)"
                       " VALUES ($1, $2, $3, $4, $5)"},
    //  ... and its records, confirmed by $4: volunteers $2 with hours $3, over the activity's
    //  whole time, in the order given.
    {"backfill_records",
     "INSERT INTO service_records AS r (volunteer_id, activity_id, region, checkin_at,"
     " checkout_at, minutes, status, hours, confirmed_by, confirmed_at, manual)"
     " SELECT x.v, a.id, a.region, a.starts_at, a.ends_at, round (x.h * 60), 'confirmed', x.h,"
     " $4, now (), true FROM activities a,"
     " unnest ($2::bigint[], $3::numeric[]) WITH ORDINALITY x (v, h, n) WHERE a.id = $1"
     " ORDER BY x.n RETURNING " S_RECORD_COLUMNS},
    {"record_list", "SELECT " S_RECORD_COLUMNS " FROM service_records r WHERE r.activity_id = $1"
                    " AND ($2::bigint IS NULL OR r.volunteer_id = $2) ORDER BY r.id"},
    {"record_list_request",
     "SELECT " S_RECORD_COLUMNS " FROM service_records r WHERE r.request_id = $1"
     " AND ($2::bigint IS NULL OR r.volunteer_id = $2) ORDER BY r.id"},
    //  record.list by region: the subtree whose codes start with $1, checked in in [$2, $3)
    //  (NULL: open), after id $4, at most $5.
    {"record_list_region",
     "SELECT " S_RECORD_COLUMNS " FROM service_records r WHERE r.region ~>=~ $1"
     " AND r.region ~<~ ($1 || ':') AND ($2::timestamptz IS NULL OR r.checkin_at >= $2)"
     " AND ($3::timestamptz IS NULL OR r.checkin_at < $3) AND r.id > $4 ORDER BY r.id LIMIT $5"},
#undef S_RECORD_COLUMNS

//  stats.region: the figures of the subtree whose codes start with $1 over [$2, $3), shown
//  for region $4 (columns named as msg_region_stats's fields). An activity counts when it
//  starts in the period and is not cancelled; a project when it was created in the period
//  or has such an activity (in the subtree, either).
#define S_IN_SUBTREE " region ~>=~ $1 AND region ~<~ ($1 || ':')"
    {"stats_region",
     "SELECT $4::text AS region, rfc3339 ($2) AS \"from\", rfc3339 ($3) AS \"to\","
     " p.projects, a.activities, w.volunteers, w.person_times, w.hours, q.requests, q.fill_rate,"
     " q.median_minutes_to_staff, q.ratings, q.mean_rating FROM"
     " (SELECT count (*) AS activities FROM activities WHERE" S_IN_SUBTREE
     " AND starts_at >= $2 AND starts_at < $3 AND status <> 'cancelled') a,"
     " (SELECT count (*) AS projects FROM (SELECT id FROM projects WHERE" S_IN_SUBTREE
     " AND created_at >= $2 AND created_at < $3 UNION SELECT project_id FROM activities"
     " WHERE" S_IN_SUBTREE " AND starts_at >= $2 AND starts_at < $3 AND status <> 'cancelled'"
     " AND project_id IS NOT NULL) x) p,"
     " (SELECT count (DISTINCT volunteer_id) AS volunteers, count (*) AS person_times,"
     " coalesce (sum (hours), 0)::float8 AS hours FROM service_records"
     " WHERE" S_IN_SUBTREE " AND checkin_at >= $2 AND checkin_at < $3"
     " AND status = 'confirmed') w,"
     " (SELECT count (*) AS requests,"
     " (count (*) FILTER (WHERE status IN ('staffed', 'completed')))::float8"
     " / nullif (count (*) FILTER (WHERE status IN ('staffed', 'completed', 'unfilled')), 0)"
     " AS fill_rate,"
     " percentile_cont (0.5) WITHIN GROUP (ORDER BY extract (epoch FROM staffed_at - published_at)"
     " / 60) AS median_minutes_to_staff, count (rating) AS ratings,"
     " avg (rating)::float8 AS mean_rating FROM requests"
     " WHERE" S_IN_SUBTREE " AND created_at >= $2 AND created_at < $3) q"},
    //  stats.teams: the teams of subtree $1, ranked by their current members' hours confirmed
    //  of records checked in in [$2, $3); at most $4.
    {"stats_teams",
     "SELECT rank () OVER (ORDER BY coalesce (sum (r.hours), 0) DESC) AS rank,"
     " t.team_id::text AS team_id, t.name, t.region, count (DISTINCT m.volunteer_id) AS members,"
     " count (r.id) AS person_times, coalesce (sum (r.hours), 0)::float8 AS hours"
     " FROM teams t LEFT JOIN team_members m ON m.team_id = t.team_id AND m.role IS NOT NULL"
     " LEFT JOIN service_records r ON r.volunteer_id = m.volunteer_id AND r.status = 'confirmed'"
     " AND r.checkin_at >= $2 AND r.checkin_at < $3"
     " WHERE t.region ~>=~ $1 AND t.region ~<~ ($1 || ':') GROUP BY t.team_id"
     " ORDER BY hours DESC, t.team_id LIMIT $4"},
    //  stats.themes: the themes of subtree $1's activities starting in [$2, $3), not cancelled,
    //  with the hours confirmed of their records.
    //  An activity's theme is its own, else its project's (a back-entered one has only the
    //  project's).
    {"stats_themes",
     "SELECT coalesce (a.theme, p.theme) AS theme, count (*) AS activities,"
     " coalesce (sum (r.n), 0) AS person_times, coalesce (sum (r.hours), 0)::float8 AS hours"
     " FROM activities a LEFT JOIN projects p ON p.id = a.project_id"
     " LEFT JOIN LATERAL (SELECT count (*) AS n, sum (hours) AS hours FROM service_records"
     " WHERE activity_id = a.id AND status = 'confirmed') r ON true"
     " WHERE a.region ~>=~ $1 AND a.region ~<~ ($1 || ':') AND a.starts_at >= $2"
     " AND a.starts_at < $3 AND a.status <> 'cancelled'"
     " AND coalesce (a.theme, p.theme) IS NOT NULL"
     " GROUP BY 1 ORDER BY activities DESC, hours DESC, theme LIMIT 100"},
    {"stats_quarter",
     "SELECT to_char (date_trunc ('quarter', now (), 'Asia/Shanghai') AT TIME ZONE 'UTC',"
     " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"},
    //  What match knows of registry's teams and memberships (registry_seq: newer only).
    {"team_upsert",
     "INSERT INTO teams (team_id, name, region, registry_seq) VALUES ($1, $2, $3, $4)"
     " ON CONFLICT (team_id) DO UPDATE SET name = EXCLUDED.name,"
     " region = EXCLUDED.region, registry_seq = EXCLUDED.registry_seq"
     " WHERE teams.registry_seq < EXCLUDED.registry_seq"},
    {"team_member_upsert",
     "INSERT INTO team_members (team_id, volunteer_id, role, registry_seq) VALUES ($1, $2, $3, $4)"
     " ON CONFLICT (team_id, volunteer_id) DO UPDATE SET role = EXCLUDED.role,"
     " registry_seq = EXCLUDED.registry_seq WHERE team_members.registry_seq < "
     "EXCLUDED.registry_seq"},
    {"stats_requests", "SELECT status, count (*) AS count FROM requests WHERE" S_IN_SUBTREE
                       " AND created_at >= $2 AND created_at < $3 GROUP BY status ORDER BY status"},
    //  digest.region: what waits in the subtree $1 now, shown for region $3; unfilled since $2.
    {"digest_region",
     "SELECT $3::text AS region, rfc3339 ($2) AS since,"
     " (SELECT count (*) FROM requests WHERE" S_IN_SUBTREE " AND status = 'review') AS to_review,"
     " (SELECT count (*) FROM service_records WHERE" S_IN_SUBTREE " AND status = 'closed')"
     " AS to_confirm,"
     " (SELECT count (*) FROM service_records c LEFT JOIN activities a ON a.id = c.activity_id"
     " LEFT JOIN requests q ON q.id = c.request_id WHERE c.region ~>=~ $1"
     " AND c.region ~<~ ($1 || ':') AND c.status = 'open'"
     " AND coalesce (a.ends_at, q.latest_end) < now ()) AS open_checkouts,"
     " (SELECT count (*) FROM requests WHERE" S_IN_SUBTREE " AND status = 'unfilled'"
     " AND updated_at >= $2) AS unfilled"},
    //  activity.roster: activity $1's live sign-ups in arrival order, then the records of
    //  those with no live sign-up, keyed (k) past the arrivals; after key $2, at most $3.
    {"activity_roster",
     "WITH s AS (SELECT * FROM signups WHERE activity_id = $1 AND status <> 'cancelled'),"
     " r AS (SELECT * FROM service_records WHERE activity_id = $1)"
     " SELECT x.k, x.vid AS volunteer_id,"
     " left (v.name, 1) || repeat ('*', greatest (char_length (v.name) - 1, 1)) AS name,"
     " x.status, x.position, x.signed_up_at, x.record_id, x.record_status, x.checkin_at,"
     " x.checkout_at, x.minutes, x.hours, x.manual FROM (SELECT"
     " coalesce (s.arrival, 1000000000000000 + r.id) AS k,"
     " coalesce (s.volunteer_id, r.volunteer_id) AS vid, coalesce (s.status, 'none') AS status,"
     " CASE WHEN s.status = 'waitlisted' THEN (SELECT count (*) + 1 FROM s w"
     " WHERE w.status = 'waitlisted' AND w.arrival < s.arrival) END AS position,"
     " to_char (s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS signed_up_at,"
     " r.id AS record_id, r.status AS record_status,"
     " to_char (r.checkin_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS checkin_at,"
     " to_char (r.checkout_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS checkout_at,"
     " r.minutes, r.hours, r.manual FROM s FULL JOIN r ON r.volunteer_id = s.volunteer_id) x"
     " JOIN supply v ON v.volunteer_id = x.vid WHERE x.k > $2 ORDER BY x.k LIMIT $3"},
    //  The start of the current month in Asia/Shanghai, as UTC text.
    {"stats_month",
     "SELECT to_char (date_trunc ('month', now (), 'Asia/Shanghai') AT TIME ZONE 'UTC',"
     " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"},
#undef S_IN_SUBTREE
};

void
match_store_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
}
