/*  notify_store.c — the notify service's SQL: statements named after what runs them  */
#include "notify.h"

#define S_NOTICE_COLUMNS                                                                           \
    "id, kind, text, urgent, language, rfc3339 (delivered_at) AS delivered_at,"                    \
    " rfc3339 (read_at) AS read_at, subject_id"
#define S_REMINDER_COLUMNS                                                                         \
    "id, recipient_kind, recipient_id, subject_kind, subject_id, kind, offset_s,"                  \
    " rfc3339 (due_at) AS due_at, status, rfc3339 (sent_at) AS sent_at"

static const st_statement_t s_statements[] = {
    //  registry's events: where a person belongs; a late event changes nothing.
    {"recipient_upsert",
     "INSERT INTO recipients (kind, id, region, registry_seq) VALUES ($1, $2, $3, $4)"
     " ON CONFLICT (kind, id) DO UPDATE SET region = EXCLUDED.region,"
     " registry_seq = EXCLUDED.registry_seq WHERE recipients.registry_seq < EXCLUDED.registry_seq"},
    //  match's events: what an activity or a request is now. urgent NULL keeps what is known.
    {"subject_upsert",
     "INSERT INTO subjects (kind, id, title, region, starts_at, ends_at, urgent)"
     " VALUES ($1, $2, $3, $4, $5, $6, coalesce ($7, false))"
     " ON CONFLICT (kind, id) DO UPDATE SET title = EXCLUDED.title, region = EXCLUDED.region,"
     " starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,"
     " urgent = coalesce ($7, subjects.urgent)"},
    {"subject_cancel", "UPDATE subjects SET cancelled = true WHERE kind = $1 AND id = $2"},
    {"subject_get", "SELECT region, urgent, cancelled FROM subjects WHERE kind = $1 AND id = $2"},
    {"engagement_set",
     "INSERT INTO engagements (recipient_kind, recipient_id, subject_kind, subject_id, active)"
     " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (recipient_kind, recipient_id, subject_kind,"
     " subject_id) DO UPDATE SET active = EXCLUDED.active"},
    {"engaged", "SELECT recipient_kind, recipient_id FROM engagements"
                " WHERE subject_kind = $1 AND subject_id = $2 AND active ORDER BY recipient_id"},
    {"reminders_schedule", "SELECT reminders_schedule ($1, $2)"},
    //  offer.made: volunteer $1's warning on request $2, due when three quarters of the reply
    //  window from $3 to the deadline $4 have passed (none once that is past); offset_s, the
    //  seconds left then. A new offer of the same request moves it.
    {"offer_warning_schedule",
     "WITH w AS (SELECT $4::timestamptz AS deadline,"
     " $4::timestamptz - ($4::timestamptz - $3::timestamptz) / 4 AS due),"
     " r AS (INSERT INTO reminders AS x (recipient_kind, recipient_id, subject_kind, subject_id,"
     " kind, offset_s, due_at, status) SELECT 'volunteer', $1, 'request', $2, 'warning',"
     " greatest (0, round (extract (epoch FROM deadline - due)))::integer, due, 'pending'"
     " FROM w WHERE due > now () ON CONFLICT (recipient_kind, recipient_id, subject_kind,"
     " subject_id, kind, offset_s) DO UPDATE SET due_at = EXCLUDED.due_at, status = 'pending'"
     " RETURNING x.id)"
     " SELECT pg_notify ('notify.reminders', '') FROM r"},
    //  The offer answered, withdrawn or expired: its warning, while pending, goes (a sent one
    //  stays, with its notice).
    {"offer_warning_drop",
     "DELETE FROM reminders WHERE recipient_kind = 'volunteer' AND recipient_id = $1"
     " AND subject_kind = 'request' AND subject_id = $2 AND kind = 'warning'"
     " AND status = 'pending'"},

    //  A notice: the person's language, whether they muted the kind, when their quiet hours
    //  end (NULL: not in them), and the times the template shows, in their zone.
    {"notice_context",
     "SELECT coalesce (p.language, 'zh') AS language,"
     " $3 = ANY (coalesce (p.muted, '{}')) AS muted,"
     " quiet_end (z.zone, coalesce (p.quiet_from, s.quiet_from),"
     " coalesce (p.quiet_to, s.quiet_to)) AS hold_until,"
     " to_char ($4::timestamptz AT TIME ZONE z.zone, 'YYYY-MM-DD HH24:MI') AS t_start,"
     " to_char ($5::timestamptz AT TIME ZONE z.zone, 'YYYY-MM-DD HH24:MI') AS t_end,"
     " to_char ($6::timestamptz AT TIME ZONE z.zone, 'YYYY-MM-DD HH24:MI') AS t_deadline"
     " FROM (SELECT 1) one"
     " LEFT JOIN prefs p ON p.recipient_kind = $1 AND p.recipient_id = $2"
     " LEFT JOIN recipients r ON r.kind = $1 AND r.id = $2"
     " CROSS JOIN LATERAL (SELECT coalesce (p.time_zone, 'Asia/Shanghai') AS zone) z"
     " CROSS JOIN LATERAL settings_of (coalesce (r.region, $7)) s"},
    //  The notice once per (person, source, kind), and its inbox delivery: delivered now, or
    //  pending until the quiet hours end ($9).
    {"notice_insert",
     "WITH n AS (INSERT INTO notices (recipient_kind, recipient_id, kind, source, subject_id,"
     " language, text, urgent, delivered_at, params) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
     " CASE WHEN $9::timestamptz IS NULL THEN now () END, coalesce ($10::jsonb, '{}'))"
     " ON CONFLICT ON CONSTRAINT notices_once DO NOTHING RETURNING id, delivered_at)"
     " INSERT INTO deliveries (notice_id, channel, status, next_at, delivered_at, attempts)"
     " SELECT id, 'inbox', CASE WHEN delivered_at IS NULL THEN 'pending' ELSE 'delivered' END,"
     " coalesce ($9::timestamptz, now ()), delivered_at,"
     " CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END FROM n"},

    //  The worker: a batch of due reminders fired in one statement. Claimed in due order ($1
    //  of them, read along reminders_due_order with no sort and no join; no other replica
    //  takes them until the statement ends), marked sent (cancelled, without a notice, in
    //  the impossible case notify knows nothing of its subject: never claimed again), and each
    //  made its notice as notice_insert makes one: rendered in the person's language ($2 the
    //  notice kinds, $3 and $4 their Chinese and English templates, notify_notices.c) with
    //  the times in their zone, urgent (a reminder is at a time chosen for it: through quiet
    //  hours and mutes), once per source "reminder:id:due" (a reminder moved and due again is
    //  a new notice, one claimed again is not), delivered to the inbox at once; the
    //  notices_channels trigger adds its other channels. {title} is filled last so that a
    //  title is never read as a template. Returns how many were claimed.
    {"reminder_fire",
     "WITH due AS (SELECT r.id, r.recipient_kind, r.recipient_id, r.subject_kind, r.subject_id,"
     " r.kind, r.due_at, r.offset_s FROM reminders r WHERE r.status = 'pending'"
     " AND r.due_at <= now () ORDER BY r.due_at, r.id LIMIT $1 FOR UPDATE SKIP LOCKED),"
     " sent AS (UPDATE reminders r SET status = CASE WHEN s.id IS NULL THEN 'cancelled'"
     " ELSE 'sent' END, sent_at = CASE WHEN s.id IS NOT NULL THEN now () END"
     " FROM due d LEFT JOIN subjects s ON s.kind = d.subject_kind AND s.id = d.subject_id"
     " WHERE r.id = d.id RETURNING r.id),"
     " filled AS (SELECT d.*, s.title,"
     " 'reminder:' || d.id || ':' || extract (epoch FROM d.due_at)::bigint AS source,"
     " CASE d.kind WHEN 'warning' THEN 'offer.warning' WHEN 'after' THEN 'reminder.after'"
     " ELSE 'reminder.before' END AS notice_kind,"
     " CASE WHEN p.language = 'en' THEN 'en' ELSE 'zh' END AS language,"
     " to_char (s.starts_at AT TIME ZONE z.zone, 'YYYY-MM-DD HH24:MI') AS t_start,"
     " to_char (s.ends_at AT TIME ZONE z.zone, 'YYYY-MM-DD HH24:MI') AS t_end,"
     " CASE WHEN d.kind = 'warning' THEN to_char ((d.due_at + make_interval (secs =>"
     " d.offset_s)) AT TIME ZONE z.zone, 'YYYY-MM-DD HH24:MI') END AS t_deadline"
     " FROM due d JOIN subjects s ON s.kind = d.subject_kind AND s.id = d.subject_id"
     " LEFT JOIN prefs p ON p.recipient_kind = d.recipient_kind"
     " AND p.recipient_id = d.recipient_id"
     " CROSS JOIN LATERAL (SELECT coalesce (p.time_zone, 'Asia/Shanghai') AS zone) z),"
     " rendered AS (SELECT f.*, rtrim (replace (replace (replace (replace ("
     " CASE f.language WHEN 'en' THEN t.en ELSE t.zh END,"
     " '{start}', coalesce (f.t_start, '')), '{end}', coalesce (f.t_end, '')),"
     " '{deadline}', coalesce (f.t_deadline, '')), '{title}', coalesce (f.title, '')), ' ')"
     " AS text FROM filled f"
     " JOIN unnest ($2::text[], $3::text[], $4::text[]) AS t (kind, zh, en)"
     " ON t.kind = f.notice_kind),"
     " n AS (INSERT INTO notices (recipient_kind, recipient_id, kind, source, subject_id,"
     " language, text, urgent, delivered_at, params) SELECT recipient_kind, recipient_id,"
     " notice_kind, source, subject_id, language, text, true, now (),"
     " jsonb_strip_nulls (jsonb_build_object ('title', nullif (title, ''),"
     " 'start', nullif (t_start, ''), 'end', nullif (t_end, ''),"
     " 'deadline', nullif (t_deadline, ''))) FROM rendered"
     " ON CONFLICT ON CONSTRAINT notices_once DO NOTHING RETURNING id),"
     " inbox AS (INSERT INTO deliveries (notice_id, channel, status, next_at, delivered_at,"
     " attempts) SELECT id, 'inbox', 'delivered', now (), now (), 1 FROM n)"
     " SELECT count (*) FROM sent"},
    //  Held notices whose quiet hours ended reach the inbox.
    {"delivery_inbox",
     "WITH due AS (SELECT id FROM deliveries WHERE status = 'pending' AND channel = 'inbox'"
     " AND next_at <= now () ORDER BY next_at LIMIT $1 FOR UPDATE SKIP LOCKED),"
     " d AS (UPDATE deliveries SET status = 'delivered', delivered_at = now (),"
     " attempts = attempts + 1 FROM due WHERE deliveries.id = due.id RETURNING notice_id)"
     " UPDATE notices SET delivered_at = now () WHERE id IN (SELECT notice_id FROM d)"
     " AND delivered_at IS NULL"},
    //  ms until the next reminder or held notice is due (NULL: none). E-mail and webhooks
    //  say their own (notify_delivery.c, "delivery_next_due").
    //  (greatest() skips a NULL: without the CASE, nothing pending read as "due now", and the
    //  ticker went round without a pause.)
    {"next_due", "SELECT CASE WHEN due IS NOT NULL THEN greatest (0, ceil (extract (epoch FROM"
                 " due - now ()) * 1000))::bigint END FROM (SELECT least ("
                 "(SELECT min (due_at) FROM reminders WHERE status = 'pending'),"
                 " (SELECT min (next_at) FROM deliveries WHERE status = 'pending'"
                 " AND channel = 'inbox')) AS due) x"},

    //  inbox.list: $3 only unread, $4 the cursor (ids below it), $5 the page size.
    {"inbox_list",
     "SELECT " S_NOTICE_COLUMNS " FROM notices WHERE recipient_kind = $1 AND recipient_id = $2"
     " AND delivered_at IS NOT NULL AND (NOT $3 OR read_at IS NULL)"
     " AND ($4::bigint IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"},
    {"inbox_unread", "SELECT count (*) FROM notices WHERE recipient_kind = $1 AND recipient_id = $2"
                     " AND delivered_at IS NOT NULL AND read_at IS NULL"},
    {"inbox_read_one",
     "UPDATE notices SET read_at = coalesce (read_at, now ()) WHERE id = $3"
     " AND recipient_kind = $1 AND recipient_id = $2 AND delivered_at IS NOT NULL RETURNING id"},
    {"inbox_read_all",
     "UPDATE notices SET read_at = now () WHERE recipient_kind = $1 AND recipient_id = $2"
     " AND delivered_at IS NOT NULL AND read_at IS NULL"},

    //  prefs.get: the person's own, else the defaults (quiet hours: their region's).
    {"prefs_get", "SELECT coalesce (p.language, 'zh') AS language,"
                  " coalesce (p.time_zone, 'Asia/Shanghai') AS time_zone,"
                  " hhmm (coalesce (p.quiet_from, s.quiet_from)) AS quiet_from,"
                  " hhmm (coalesce (p.quiet_to, s.quiet_to)) AS quiet_to,"
                  " coalesce (p.muted, '{}') AS muted, coalesce (p.channels, '{}') AS channels"
                  " FROM (SELECT 1) one"
                  " LEFT JOIN prefs p ON p.recipient_kind = $1 AND p.recipient_id = $2"
                  " LEFT JOIN recipients r ON r.kind = $1 AND r.id = $2"
                  " CROSS JOIN LATERAL settings_of (r.region) s"},
    {"prefs_set",
     "INSERT INTO prefs (recipient_kind, recipient_id, language, time_zone, quiet_from, quiet_to,"
     " muted, channels) VALUES ($1, $2, coalesce ($3, 'zh'), coalesce ($4, 'Asia/Shanghai'),"
     " $5::time, $6::time, coalesce ($7::text[], '{}'), coalesce ($8::text[], '{}'))"
     " ON CONFLICT (recipient_kind, recipient_id) DO UPDATE SET"
     " language = coalesce ($3, prefs.language), time_zone = coalesce ($4, prefs.time_zone),"
     " quiet_from = coalesce ($5::time, prefs.quiet_from),"
     " quiet_to = coalesce ($6::time, prefs.quiet_to),"
     " muted = coalesce ($7::text[], prefs.muted),"
     " channels = coalesce ($8::text[], prefs.channels), updated_at = now ()"},
    {"time_zone_known", "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)"},

    //  notify.settings.set: the fields given replace the region's own; then every subject in
    //  the subtree not over yet has its reminders scheduled again.
    {"settings_set",
     "INSERT INTO region_settings (region, reminder_offsets_s, quiet_from, quiet_to, updated_by,"
     " digest_hour) VALUES ($1, $2::integer[], $3::time, $4::time, $5, $6::smallint)"
     " ON CONFLICT (region) DO UPDATE SET"
     " reminder_offsets_s = coalesce ($2::integer[], region_settings.reminder_offsets_s),"
     " quiet_from = coalesce ($3::time, region_settings.quiet_from),"
     " quiet_to = coalesce ($4::time, region_settings.quiet_to),"
     " digest_hour = coalesce ($6::smallint, region_settings.digest_hour),"
     " updated_by = $5, updated_at = now ()"},
    //  A digest hour set: the digest times of that hour are looked at again (officials whose
    //  new hour has passed today and who had no digest today get it now), the worker woken.
    {"settings_digest_hour", "WITH d AS (DELETE FROM digest_runs WHERE hour = $1)"
                             " SELECT pg_notify ('notify.reminders', '')"},
    {"settings_reschedule",
     "SELECT count (reminders_schedule (kind, id)) FROM subjects"
     " WHERE left (region, length ($1)) = $1 AND ends_at > now () AND NOT cancelled"},
    {"settings_get", "SELECT $1::text AS region, reminder_offsets_s::text[] AS reminder_offsets_s,"
                     " hhmm (quiet_from) AS quiet_from, hhmm (quiet_to) AS quiet_to,"
                     " digest_hour_of ($1) AS digest_hour FROM settings_of ($1)"},
    {"activity_offsets_set",
     "INSERT INTO activity_offsets (activity_id, offsets_s, updated_by)"
     " VALUES ($1, $2::integer[], $3) ON CONFLICT (activity_id) DO UPDATE SET"
     " offsets_s = EXCLUDED.offsets_s, updated_by = $3, updated_at = now ()"},

    //  reminder.list: of a subject ($1, $2) or of a volunteer ($3).
    {"reminder_list",
     "SELECT " S_REMINDER_COLUMNS " FROM reminders"
     " WHERE ($1::text IS NULL OR (subject_kind = $1 AND subject_id = $2))"
     " AND ($3::text IS NULL OR (recipient_kind = 'volunteer' AND recipient_id = $3))"
     " ORDER BY due_at, id LIMIT 10000"},
    {"recipient_region", "SELECT region FROM recipients WHERE kind = $1 AND id = $2"},
};

void
notify_store_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
    notify_delivery_prepare (db);
    notify_digest_prepare (db);
}
