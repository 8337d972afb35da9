/*  match_store.c — the match service's SQL: statements named after what runs them  */
#include "match_store.h"

//  What every statement returning a project, an activity or a wish selects, in the order of
//  the column enums in match_store.h.
#define S_PROJECT_COLUMNS "id, name, category, region, theme, rfc3339 (created_at)"
#define S_ACTIVITY_COLUMNS                                                                         \
    "id, title, category, theme, project_id, site_id, region, rfc3339 (starts_at),"                \
    " rfc3339 (ends_at), capacity, rfc3339 (signup_closes_at), min_stars, to_json (skills),"       \
    " insurance_required, confirmed, waitlisted, status, cancel_reason, rfc3339 (created_at),"     \
    " ends_at <= now ()"
#define S_WISH_COLUMNS                                                                             \
    "id, title, description, region, resident_id, volunteer_id, status, rfc3339 (created_at),"     \
    " rfc3339 (claimed_at), rfc3339 (fulfilled_at), rfc3339 (confirmed_at)"

static const struct {
    const char *name;
    const char *sql;
} s_statements[] = {
    //  volunteer.registered: the replica takes the newest state, never an older one.
    {"supply_upsert",
     "INSERT INTO supply (volunteer_id, name, region, skills, gender, birth_year, status,"
     " registry_seq, categories, availability, lat, lon, insurance_until)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce ($9::text[], '{}'),"
     " coalesce ($10::text[], '{}'), $11, $12, $13)"
     " ON CONFLICT (volunteer_id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region,"
     " skills = EXCLUDED.skills, gender = EXCLUDED.gender, birth_year = EXCLUDED.birth_year,"
     " status = EXCLUDED.status, registry_seq = EXCLUDED.registry_seq,"
     " categories = EXCLUDED.categories, availability = EXCLUDED.availability,"
     " lat = EXCLUDED.lat, lon = EXCLUDED.lon, insurance_until = EXCLUDED.insurance_until,"
     " updated_at = now ()"
     " WHERE supply.registry_seq < EXCLUDED.registry_seq"},
    //  supply.stats: $1 is the subtree's code prefix (digits only, so no LIKE wildcards).
    {"supply_stats",
     "SELECT count (*), count (*) FILTER (WHERE status = 'active'),"
     " (SELECT coalesce (max (seq), 0) FROM consumer_cursors WHERE publisher = 'registry')"
     " FROM supply WHERE region LIKE $1 || '%'"},

    //  project.create
    {"project_insert", "INSERT INTO projects (name, category, region, theme, created_by)"
                       " VALUES ($1, $2, $3, $4, $5) RETURNING " S_PROJECT_COLUMNS},
    //  activity.create: whether the project named exists.
    {"project_exists", "SELECT 1 FROM projects WHERE id = $1"},
    {"activity_insert",
     "INSERT INTO activities (title, category, theme, project_id, site_id, region, starts_at,"
     " ends_at, capacity, signup_closes_at, min_stars, skills, insurance_required, created_by)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
     " RETURNING " S_ACTIVITY_COLUMNS},
    //  activity.get
    {"activity_get", "SELECT " S_ACTIVITY_COLUMNS " FROM activities WHERE id = $1"},
    //  activity.cancel: the row lock keeps sign-ups out until the cancellation commits.
    {"activity_lock", "SELECT " S_ACTIVITY_COLUMNS " FROM activities WHERE id = $1 FOR UPDATE"},
    {"activity_cancel_signups",
     "WITH ended AS (UPDATE signups SET status = 'cancelled', cancel_reason = 'activity_cancelled',"
     " updated_at = clock_timestamp () WHERE activity_id = $1 AND status <> 'cancelled'"
     " RETURNING volunteer_id, arrival)"
     " SELECT volunteer_id FROM ended ORDER BY arrival"},
    {"activity_cancel",
     "UPDATE activities SET status = 'cancelled', cancel_reason = $2, cancelled_at = now ()"
     " WHERE id = $1 RETURNING " S_ACTIVITY_COLUMNS},
    //  activity.signup and activity.withdraw: plpgsql functions of 0003_activities.sql, which
    //  take the activity's row lock.
    {"activity_signup_run",
     "SELECT outcome, detail, queue_position, act_title, act_region, rfc3339 (act_starts_at),"
     " rfc3339 (act_ends_at) FROM activity_signup ($1, $2)"},
    {"activity_withdraw_run",
     "SELECT outcome, detail, promoted_volunteer, act_title, act_region,"
     " rfc3339 (act_starts_at), rfc3339 (act_ends_at) FROM activity_withdraw ($1, $2)"},

    //  wish.create
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

//  Service records: a column of each name msg_service_record declares (st_rows).
#define S_RECORD_COLUMNS                                                                           \
    "r.id, r.volunteer_id, r.activity_id, r.region,"                                               \
    " to_char (r.checkin_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS checkin_at,"  \
    " to_char (r.checkout_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS "            \
    "checkout_at,"                                                                                 \
    " r.minutes, r.status, r.hours, r.completed_by, r.completion_reason, r.confirmed_by"
    //  The activity a volunteer checks in to, with their sign-up's status (NULL: none).
    {"record_activity",
     "SELECT a.region, a.status, s.status,"
     " ($3::timestamptz BETWEEN a.starts_at - interval '1 hour' AND a.ends_at)"
     " FROM activities a LEFT JOIN signups s ON s.activity_id = a.id AND s.volunteer_id = $2"
     " AND s.status <> 'cancelled' WHERE a.id = $1"},
    {"record_checkin", "INSERT INTO service_records AS r (volunteer_id, activity_id, region,"
                       " checkin_at)"
                       " VALUES ($1, $2, $3, $4) RETURNING " S_RECORD_COLUMNS},
    //  The minutes that count end 30 minutes after the schedule at the latest.
    {"record_checkout",
     "UPDATE service_records r SET checkout_at = $3, status = 'closed',"
     " minutes = record_minutes (r.checkin_at, $3, a.starts_at, a.ends_at, interval '30 minutes'),"
     " completed_by = $4, completion_reason = $5"
     " FROM activities a WHERE a.id = r.activity_id AND r.id = $1 AND r.status = 'open'"
     " AND $3::timestamptz >= r.checkin_at AND ($2::bigint IS NULL OR r.volunteer_id = $2)"
     " RETURNING " S_RECORD_COLUMNS},
    {"record_open", "SELECT id FROM service_records WHERE volunteer_id = $1 AND activity_id = $2"
                    " AND status = 'open'"},
    {"record_get",
     "SELECT " S_RECORD_COLUMNS ", a.category, a.theme, a.starts_at, a.ends_at"
     " FROM service_records r JOIN activities a ON a.id = r.activity_id WHERE r.id = $1"
     " FOR UPDATE OF r"},
    //  Confirmed hours: those given, else the minutes counted; never past the schedule and its
    //  margin.
    {"record_confirm",
     "UPDATE service_records r SET status = 'confirmed', confirmed_by = $2, confirmed_at = now (),"
     " hours = round (least (coalesce ($3::numeric, r.minutes / 60.0),"
     " extract (epoch FROM a.ends_at - a.starts_at + interval '30 minutes') / 3600)::numeric, 2)"
     " FROM activities a WHERE a.id = r.activity_id AND r.id = $1 AND r.status = 'closed'"
     " RETURNING " S_RECORD_COLUMNS},
    {"record_list", "SELECT " S_RECORD_COLUMNS " FROM service_records r WHERE r.activity_id = $1"
                    " AND ($2::bigint IS NULL OR r.volunteer_id = $2) ORDER BY r.id"},
#undef S_RECORD_COLUMNS
};

void
match_store_prepare (st_db_t *db)
{
    for (size_t i = 0; i < sizeof s_statements / sizeof s_statements[0]; i++)
        st_db_statement (db, s_statements[i].name, s_statements[i].sql);
}
