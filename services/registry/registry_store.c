/*  registry_store.c — the registry's SQL: statements named after the op that runs them  */
#include "registry_store.h"

//  Every column a volunteer reply needs, in the order registry_volunteers.c reads them.
#define VOLUNTEER_COLUMNS                                                                          \
    " id, name, id_number_enc, phone_enc, region, skills, gender,"                                 \
    " to_char (birth_date, 'YYYY-MM-DD') AS birth_date, status,"                                   \
    " to_char (created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at,"    \
    " categories, availability, lat, lon, party_member, emergency_contact_name,"                   \
    " emergency_contact_phone_enc, to_char (insurance_until, 'YYYY-MM-DD') AS insurance_until,"    \
    " email_enc "

#define RESIDENT_COLUMNS                                                                           \
    " id, name, phone_enc, region, address_enc, lat, lon, care_tags,"                              \
    " to_char (created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at,"    \
    " email_enc "

//  An invitation with its team's name (i the invitation, t the team).
#define INVITATION_COLUMNS                                                                         \
    " i.id, i.team_id, t.name AS team_name, i.volunteer_id, i.role, i.status,"                     \
    " to_char (i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at,"  \
    " to_char (i.answered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"                \
    " AS answered_at "

//  A transfer request with its volunteer (id, name and region as volunteer_*).
#define TRANSFER_COLUMNS                                                                           \
    " r.id, r.volunteer_id, v.name AS volunteer_name, v.region AS volunteer_region,"               \
    " r.region AS to_region, r.reason, r.status,"                                                  \
    " to_char (r.requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS at,"        \
    " to_char (r.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS decided_at,"  \
    " r.decline_reason FROM transfer_requests r JOIN volunteers v ON v.id = r.volunteer_id "

static const st_statement_t s_statements[] = {
    {"volunteer_insert",
     "INSERT INTO volunteers (name, id_number_enc, id_number_hash, phone_enc, phone_hash, region,"
     " skills, gender, birth_date, categories, availability, lat, lon, party_member,"
     " emergency_contact_name, emergency_contact_phone_enc, insurance_until, email_enc)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce ($10::text[], '{}'),"
     " coalesce ($11::text[], '{}'),"
     " $12, $13, coalesce ($14, false), $15, $16, $17, $18)"
     " RETURNING" VOLUNTEER_COLUMNS},
    //  The same, for imports: a person registered already is skipped, not an error.
    {"volunteer_insert_new",
     "INSERT INTO volunteers (name, id_number_enc, id_number_hash, phone_enc, phone_hash, region,"
     " skills, gender, birth_date, categories, availability, lat, lon, party_member,"
     " emergency_contact_name, emergency_contact_phone_enc, insurance_until, email_enc)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce ($10::text[], '{}'),"
     " coalesce ($11::text[], '{}'), $12, $13, coalesce ($14, false), $15, $16, $17, $18)"
     " ON CONFLICT (id_number_hash) DO NOTHING RETURNING" VOLUNTEER_COLUMNS},
    {"volunteer_get", "SELECT" VOLUNTEER_COLUMNS "FROM volunteers WHERE id = $1"},
    {"volunteer_lock", "SELECT" VOLUNTEER_COLUMNS "FROM volunteers WHERE id = $1 FOR UPDATE"},
    //  Absent fields (NULL) keep their value; $15 removes the e-mail address.
    {"volunteer_update",
     "UPDATE volunteers SET name = coalesce ($2, name), phone_enc = coalesce ($3, phone_enc),"
     " phone_hash = coalesce ($4, phone_hash), skills = coalesce ($5, skills),"
     " categories = coalesce ($6, categories), availability = coalesce ($7, availability),"
     " lat = coalesce ($8, lat), lon = coalesce ($9, lon),"
     " party_member = coalesce ($10, party_member),"
     " emergency_contact_name = coalesce ($11, emergency_contact_name),"
     " emergency_contact_phone_enc = coalesce ($12, emergency_contact_phone_enc),"
     " insurance_until = coalesce ($13, insurance_until),"
     " email_enc = CASE WHEN $15 THEN NULL ELSE coalesce ($14, email_enc) END,"
     " updated_at = now () WHERE id = $1 RETURNING" VOLUNTEER_COLUMNS},
    //  A region subtree is a range of codes: [prefix, prefix + 1); pages go in (region, id)
    //  order from the cursor ($9, $7). The page's ids come from volunteers_region alone (it
    //  holds the filters' columns: 0016_volunteer_list_cover.sql), then its rows by id.
    {"volunteer_list",
     "SELECT" VOLUNTEER_COLUMNS "FROM volunteers WHERE id = ANY (ARRAY (SELECT id FROM volunteers"
     " WHERE region COLLATE \"C\" >= $1 AND region COLLATE \"C\" < $2"
     " AND (region COLLATE \"C\", id) > ($9, $7)"
     " AND ($3::text IS NULL OR skills @> ARRAY[$3::text])"
     " AND ($4::text IS NULL OR categories @> ARRAY[$4::text])"
     " AND ($5::text IS NULL OR status = $5) AND ($6::text IS NULL OR name LIKE $6)"
     " ORDER BY region COLLATE \"C\", id LIMIT $8))"
     " ORDER BY region COLLATE \"C\", id"},
    //  The same with a skill ($3): the page's ids from volunteer_skills, where those with the
    //  skill are a range in (region, id) order (0018_volunteer_skills.sql), the other filters
    //  on their rows.
    {"volunteer_list_skill",
     "SELECT" VOLUNTEER_COLUMNS "FROM volunteers WHERE id = ANY (ARRAY (SELECT k.id"
     " FROM volunteer_skills k JOIN volunteers v ON v.id = k.id"
     " WHERE k.skill = $3 AND k.region >= $1 AND k.region < $2 AND (k.region, k.id) > ($9, $7)"
     " AND ($4::text IS NULL OR v.categories @> ARRAY[$4::text])"
     " AND ($5::text IS NULL OR v.status = $5) AND ($6::text IS NULL OR v.name LIKE $6)"
     " ORDER BY k.region, k.id LIMIT $8))"
     " ORDER BY region COLLATE \"C\", id"},
    //  volunteer.stats: the subtree [$1, $2) registered before $3 and not left, of them
    //  active, and registered in [$4, $3) (NULL when $4 is); shown for region $5.
    {"volunteer_stats",
     "SELECT $5::text AS region, $3::text AS \"to\", $4::text AS \"from\","
     " count (*) FILTER (WHERE status <> 'left') AS registered,"
     " count (*) FILTER (WHERE status = 'active') AS active,"
     " CASE WHEN $4::timestamptz IS NULL THEN NULL"
     " ELSE count (*) FILTER (WHERE created_at >= $4::timestamptz) END AS new_in_period"
     " FROM volunteers WHERE region COLLATE \"C\" >= $1 AND region COLLATE \"C\" < $2"
     " AND created_at < $3::timestamptz"},
    {"volunteer_set_status", "UPDATE volunteers SET status = $2, updated_at = now () WHERE id = $1"
                             " RETURNING" VOLUNTEER_COLUMNS},
    {"volunteer_status_log",
     "INSERT INTO volunteer_status_log (volunteer_id, status, reason, actor)"
     " VALUES ($1, $2, $3, $4)"},
    {"pii_reveal_log",
     "INSERT INTO pii_reveals (actor, actor_role, volunteer_id, reason) VALUES ($1, $2, $3, $4)"},

    //  contact.list (registry_contacts.c): the people of one kind among ids $1, with what
    //  reaches them; an account reached as the volunteer or resident it stands for.
    {"contact_volunteers", "SELECT id, name, phone_enc, email_enc, region, status FROM volunteers"
                           " WHERE id = ANY ($1::bigint[])"},
    {"contact_residents",
     "SELECT id, name, phone_enc, email_enc, region, 'active' AS status FROM residents"
     " WHERE id = ANY ($1::bigint[])"},
    {"contact_accounts",
     "SELECT a.id, coalesce (v.name, r.name) AS name, coalesce (v.phone_enc, r.phone_enc)"
     " AS phone_enc, coalesce (v.email_enc, r.email_enc) AS email_enc,"
     " coalesce (v.region, r.region, a.region) AS region,"
     " coalesce (v.status, 'active') AS status FROM accounts a"
     " LEFT JOIN volunteers v ON v.id = a.volunteer_id"
     " LEFT JOIN residents r ON r.id = a.resident_id WHERE a.id = ANY ($1::bigint[])"},
    {"contact_reveal_log", "INSERT INTO contact_reveals (peer, people) VALUES ($1, $2)"},
    //  account.list: the officials' accounts after id $1, $2 of them.
    {"account_list", "SELECT id::text AS id, role, region FROM accounts"
                     " WHERE role IN ('region_admin', 'station_admin', 'team_leader')"
                     " AND id > coalesce ($1::bigint, 0) ORDER BY id LIMIT $2"},

    {"region_insert", "INSERT INTO regions (code, name, level, parent) VALUES ($1, $2, $3, $4)"
                      " RETURNING code, name, level, parent"},
    {"region_get", "SELECT code, name, level, parent FROM regions WHERE code = $1"},
    {"region_children",
     "SELECT code, name, level FROM regions WHERE parent = $1 ORDER BY code LIMIT 5000"},
    {"region_exists", "SELECT 1 FROM regions WHERE code = $1"},
    //  region.bootstrap: one at a time; true while no region exists.
    {"bootstrap_lock",
     "SELECT NOT EXISTS (SELECT 1 FROM regions)"
     " FROM (SELECT pg_advisory_xact_lock (hashtext ('station.registry.bootstrap'))) l"},
    {"region_insert_new", "INSERT INTO regions (code, name, level, parent) VALUES ($1, $2, $3, $4)"
                          " ON CONFLICT (code) DO NOTHING RETURNING code"},

    {"account_insert",
     "INSERT INTO accounts (login_hash, login, password_hash, role, region, volunteer_id,"
     " resident_id, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
     " RETURNING id, login, role, region, volunteer_id, resident_id"},
    {"account_by_login", "SELECT id, login, role, region, volunteer_id, resident_id, password_hash"
                         " FROM accounts WHERE login_hash = $1"},
    {"account_login_hash_update", "UPDATE accounts SET login_hash = $2 WHERE volunteer_id = $1"},
    //  Attempts at one login run one at a time (key $1, from its hash), on every thread and
    //  replica: each sees the failures of the one before.
    {"login_lock", "SELECT pg_advisory_lock (1819240295, $1::int)"},
    {"login_unlock", "SELECT pg_advisory_unlock (1819240295, $1::int)"},
    //  The failed attempts in a row at login $1, other than attempt $2 itself (the hash of
    //  its request id and password: a resend answers as the first sending did), and how long
    //  ago (ms) the last of them failed. A run of failures ends once $3 ms pass without one:
    //  then none count. (Counting only those of the last $3 ms let a slow run — argon2id
    //  under load, or a guesser pacing itself — lose its first failures while it went on.)
    {"login_failures_get",
     "SELECT CASE WHEN max (failed_at) > now () - make_interval (secs => $3::bigint / 1000.0)"
     " THEN count (*) ELSE 0 END,"
     " coalesce ((extract (epoch FROM now () - max (failed_at)) * 1000)::bigint, 0)"
     " FROM login_failures WHERE login_hash = $1 AND attempt <> $2"},
    //  Attempt $2 (the hash of its request id and password) at login $1 failed; when the last
    //  failure before it is more than $3 ms old, the run it ended goes first.
    {"login_failures_add",
     "WITH gone AS (DELETE FROM login_failures WHERE login_hash = $1"
     " AND (SELECT max (failed_at) FROM login_failures WHERE login_hash = $1)"
     " <= now () - make_interval (secs => $3::bigint / 1000.0))"
     " INSERT INTO login_failures (login_hash, attempt) VALUES ($1, $2) ON CONFLICT DO NOTHING"},
    {"login_failures_clear", "DELETE FROM login_failures WHERE login_hash = $1"},

    {"resident_insert",
     "INSERT INTO residents (name, phone_enc, phone_hash, region, address_enc, lat, lon, care_tags,"
     " email_enc) VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce ($8::text[], '{}'), $9) "
     "RETURNING" RESIDENT_COLUMNS},
    {"resident_get", "SELECT" RESIDENT_COLUMNS "FROM residents WHERE id = $1"},
    //  The addresses still in clear (from before 0021), a batch at a time, and each sealed.
    {"resident_addresses_plain",
     "SELECT id, address FROM residents WHERE address IS NOT NULL ORDER BY id LIMIT 500"
     " FOR UPDATE SKIP LOCKED"},
    {"resident_address_seal",
     "UPDATE residents SET address_enc = $2, address = NULL WHERE id = $1"},
    {"resident_lock", "SELECT" RESIDENT_COLUMNS "FROM residents WHERE id = $1 FOR UPDATE"},
    //  Absent fields (NULL) keep their value; $11 removes the e-mail address.
    {"resident_update",
     "UPDATE residents SET name = coalesce ($2, name), phone_enc = coalesce ($3, phone_enc),"
     " phone_hash = coalesce ($4, phone_hash), region = coalesce ($5, region),"
     " address_enc = coalesce ($6, address_enc), address = CASE WHEN $6 IS NULL THEN address END,"
     " lat = coalesce ($7, lat), lon = coalesce ($8, lon),"
     " care_tags = coalesce ($9, care_tags),"
     " email_enc = CASE WHEN $11 THEN NULL ELSE coalesce ($10, email_enc) END"
     " WHERE id = $1 RETURNING" RESIDENT_COLUMNS},
    {"account_resident_update",
     "UPDATE accounts SET login_hash = coalesce ($2, login_hash), region = coalesce ($3, region)"
     " WHERE resident_id = $1"},

    {"category_list", "SELECT code, name, region FROM categories WHERE region IS NULL"
                      " OR ($1::text IS NOT NULL AND starts_with ($1, region_prefix (region)))"
                      " ORDER BY region NULLS FIRST, code"},
    {"category_insert", "INSERT INTO categories (code, name, region) VALUES ($1, $2, $3) RETURNING "
                        "code, name, region"},
    //  How many of the given codes are categories (national or of an enclosing region).
    {"categories_known",
     "SELECT count (DISTINCT code) FROM categories WHERE code = ANY ($1::text[])"},
    //  The local categories among the given codes, with their regions.
    {"categories_local",
     "SELECT code, region FROM categories WHERE code = ANY ($1::text[]) AND region IS NOT NULL"
     " ORDER BY code"},

    {"site_insert", "INSERT INTO sites (name, kind, region, address, lat, lon, opening_hours)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    " RETURNING id, name, kind, region, address, lat, lon, opening_hours"},
    {"site_get",
     "SELECT id, name, kind, region, address, lat, lon, opening_hours FROM sites WHERE id = $1"},

    {"team_insert", "INSERT INTO teams (name, level, category, region, site_id, parent_id)"
                    " VALUES ($1, $2, $3, $4, $5, $6)"
                    " RETURNING id, name, level, category, region, site_id, parent_id"},
    {"team_get",
     "SELECT id, name, level, category, region, site_id, parent_id FROM teams WHERE id = $1"},
    {"team_lock",
     "SELECT id, name, level, category, region, site_id, parent_id FROM teams WHERE id = $1"
     " FOR UPDATE"},
    {"team_members",
     "SELECT m.volunteer_id, v.name, m.role FROM memberships m JOIN volunteers v"
     " ON v.id = m.volunteer_id WHERE m.team_id = $1 ORDER BY m.joined_at, m.volunteer_id"},
    {"team_leads",
     "SELECT 1 FROM memberships WHERE team_id = $1 AND volunteer_id = $2 AND role = 'leader'"},
    {"membership_upsert",
     "INSERT INTO memberships (team_id, volunteer_id, role) VALUES ($1, $2, $3)"
     " ON CONFLICT (team_id, volunteer_id) DO UPDATE SET role = EXCLUDED.role"},
    {"membership_exists", "SELECT 1 FROM memberships WHERE team_id = $1 AND volunteer_id = $2"},
    {"membership_set_role",
     "UPDATE memberships SET role = $3 WHERE team_id = $1 AND volunteer_id = $2 RETURNING 1"},
    {"invitation_insert",
     "WITH i AS (INSERT INTO invitations (team_id, volunteer_id, role, invited_by)"
     " VALUES ($1, $2, $3, $4) RETURNING *)"
     " SELECT" INVITATION_COLUMNS "FROM i JOIN teams t ON t.id = i.team_id"},
    {"invitation_lock", "SELECT" INVITATION_COLUMNS "FROM invitations i JOIN teams t"
                        " ON t.id = i.team_id WHERE i.id = $1 FOR UPDATE OF i"},
    {"invitation_answer", "WITH i AS (UPDATE invitations SET status = $2, answered_at = now ()"
                          " WHERE id = $1 AND status = 'pending' RETURNING *)"
                          " SELECT" INVITATION_COLUMNS "FROM i JOIN teams t ON t.id = i.team_id"},
    //  A volunteer's pending invitations, oldest first.
    {"invitation_list", "SELECT" INVITATION_COLUMNS "FROM invitations i JOIN teams t"
                        " ON t.id = i.team_id WHERE i.volunteer_id = $1 AND i.status = 'pending'"
                        " ORDER BY i.created_at, i.id LIMIT 1000"},
    //  team.list: the teams of subtree $1 (or those volunteer $2 is in, with their role), after
    //  id $3, $4 of them, with their member counts.
    {"team_list",
     "SELECT t.id, t.name, t.level, t.category, t.region, t.site_id, t.parent_id,"
     " (SELECT count (*) FROM memberships c WHERE c.team_id = t.id) AS members, me.role AS my_role"
     " FROM teams t LEFT JOIN memberships me ON me.team_id = t.id AND me.volunteer_id = $2"
     " WHERE ($1::text IS NULL OR (t.region ~>=~ $1 AND t.region ~<~ ($1 || ':')))"
     " AND ($2::bigint IS NULL OR me.volunteer_id IS NOT NULL)"
     " AND ($3::bigint IS NULL OR t.id > $3) ORDER BY t.id LIMIT $4"},
    {"membership_delete",
     "DELETE FROM memberships WHERE team_id = $1 AND volunteer_id = $2 RETURNING 1"},

    //  A volunteer's pending request is replaced by the next they make.
    {"transfer_request_put",
     "INSERT INTO transfer_requests (volunteer_id, region, reason) VALUES ($1, $2, $3)"
     " ON CONFLICT (volunteer_id) WHERE status = 'pending' DO UPDATE SET region = EXCLUDED.region,"
     " reason = EXCLUDED.reason, requested_at = now () RETURNING id"},
    //  volunteer.transfer carries out the pending request: it is accepted, and kept.
    {"transfer_request_take",
     "UPDATE transfer_requests SET status = 'accepted', decided_at = now (), decided_by = $3"
     " WHERE volunteer_id = $1 AND region = $2 AND status = 'pending' RETURNING 1"},
    {"transfer_request_get", "SELECT" TRANSFER_COLUMNS "WHERE r.id = $1"},
    {"transfer_request_lock", "SELECT" TRANSFER_COLUMNS "WHERE r.id = $1 FOR UPDATE OF r"},
    //  Requests of status $1 to the region range [$2, $3) (NULL: any), of volunteer $4 (NULL:
    //  anyone's), after id $5, oldest first; one more than the page ($6) tells that more follow.
    {"transfer_request_list",
     "SELECT" TRANSFER_COLUMNS "WHERE r.status = $1 AND ($2::text IS NULL OR"
     " (r.region ~>=~ $2 AND r.region ~<~ $3)) AND ($4::bigint IS NULL OR r.volunteer_id = $4)"
     " AND r.id > coalesce ($5::bigint, 0) ORDER BY r.id LIMIT $6"},
    {"transfer_request_decline",
     "UPDATE transfer_requests SET status = 'declined', decided_at = now (), decided_by = $2,"
     " decline_reason = $3 WHERE id = $1 AND status = 'pending' RETURNING id"},
    {"volunteer_move", "UPDATE volunteers SET region = $2, updated_at = now () WHERE id = $1"
                       " RETURNING" VOLUNTEER_COLUMNS},
    //  Teams left behind: every membership outside the new region's subtree ends.
    {"memberships_leave",
     "DELETE FROM memberships m USING teams t WHERE m.team_id = t.id AND m.volunteer_id = $1"
     " AND NOT (t.region ~>=~ $2 AND t.region ~<~ $3)"},
    {"transfer_log",
     "INSERT INTO transfers (volunteer_id, from_region, to_region, actor) VALUES ($1, $2, $3, $4)"},

    //  Chunked imports (registry_import.c): an hour after it was last touched an import
    //  expires, its chunks and errors with it.
    {"import_expire", "DELETE FROM imports WHERE expires_at <= now ()"},
    {"import_insert",
     "INSERT INTO imports (kind, account, role, region, declared_size, dry_run, expires_at)"
     " VALUES ($1, $2, $3, $4, $5, $6, now () + interval '1 hour') RETURNING id AS import_id,"
     " kind,"
     " to_char (expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS expires_at"},
    {"import_lock",
     "SELECT kind, account, role, region, declared_size, chunks, size, done, mark_offset,"
     " mark_line, mark_rows, mark_after_cr, created, skipped, error_count, dry_run, encoding"
     " FROM imports"
     " WHERE id = $1 AND expires_at > now () FOR UPDATE"},
    //  Chunk appends take turns, so that the bytes all open imports hold stay in bounds.
    {"import_space_lock", "SELECT pg_advisory_xact_lock (hashtext ('registry.import_space'))"},
    //  The bytes all open imports hold, and those of account $1.
    {"import_space_used",
     "SELECT coalesce (sum (size), 0), coalesce (sum (size) FILTER (WHERE account = $1), 0)"
     " FROM imports WHERE NOT done AND expires_at > now ()"},
    {"import_chunk_hash", "SELECT hash FROM import_chunks WHERE import_id = $1 AND seq = $2"},
    {"import_chunk_put", "INSERT INTO import_chunks (import_id, seq, start, size, hash, data)"
                         " VALUES ($1, $2, $3, $4, $5, $6)"},
    {"import_grow", "UPDATE imports SET chunks = chunks + 1, size = size + $2,"
                    " expires_at = now () + interval '1 hour' WHERE id = $1"},
    {"import_touch",
     "UPDATE imports SET expires_at = now () + interval '1 hour' WHERE id = $1 RETURNING chunks,"
     " size, to_char (expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
     " AS expires_at"},
    //  The chunk holding byte $2 of the file, and chunk $2.
    //  A chunk as the reader reads it: converted to UTF-8 when the file was not (`text`).
    {"import_chunk_at",
     "SELECT seq, coalesce (text_start, start) AS start, coalesce (text, data) FROM import_chunks"
     " WHERE import_id = $1 AND coalesce (text_start, start) <= $2"
     " AND coalesce (text_start, start) + coalesce (length (text), size) > $2"},
    {"import_chunk_get",
     "SELECT seq, coalesce (text_start, start) AS start, coalesce (text, data) FROM import_chunks"
     " WHERE import_id = $1 AND seq = $2"},
    //  A chunk's bytes as sent, and its text once converted; how the file is read.
    {"import_chunk_raw", "SELECT data FROM import_chunks WHERE import_id = $1 AND seq = $2"},
    {"import_chunk_text",
     "UPDATE import_chunks SET text = $3, text_start = $4 WHERE import_id = $1 AND seq = $2"},
    {"import_encoding", "UPDATE imports SET encoding = $2 WHERE id = $1"},
    //  A batch of an import's rows in one statement: each parameter an array, one element a
    //  row, as text (bytea as \\x hex, lists as array literals), in the order of
    //  volunteer_insert's parameters; rows in the order of the file. What the events of the
    //  volunteers created need comes back (registry_volunteer_event), no personal data.
    {"import_insert_batch",
     "INSERT INTO volunteers (name, id_number_enc, id_number_hash, phone_enc, phone_hash, region,"
     " skills, gender, birth_date, categories, availability, lat, lon, party_member,"
     " emergency_contact_name, emergency_contact_phone_enc, insurance_until, email_enc)"
     " SELECT c1, c2::bytea, c3::bytea, c4::bytea, c5::bytea, c6, c7::text[], c8, c9::date,"
     " coalesce (c10::text[], '{}'), coalesce (c11::text[], '{}'), c12::double precision,"
     " c13::double precision, coalesce (c14::boolean, false), c15, c16::bytea, c17::date,"
     " c18::bytea FROM unnest ($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
     " $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],"
     " $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])"
     " WITH ORDINALITY AS u (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15,"
     " c16, c17, c18, n) ORDER BY n"
     " ON CONFLICT (id_number_hash) DO NOTHING RETURNING id, name, region, skills, gender,"
     " to_char (birth_date, 'YYYY-MM-DD') AS birth_date, status, categories, availability, lat,"
     " lon, party_member, to_char (insurance_until, 'YYYY-MM-DD') AS insurance_until,"
     " id_number_hash"},
    //  The events of a batch, in order.
    {"import_outbox_batch",
     "INSERT INTO outbox (topic, body) SELECT t, b::bytea FROM unnest ($1::text[], $2::text[])"
     " WITH ORDINALITY AS u (t, b, n) ORDER BY n"},
    //  In a chunked dry run, which of the ID numbers (keyed hashes, \\x hex) that would be
    //  created were not seen before in the file.
    {"import_dry_seen_batch",
     "INSERT INTO import_dry_seen (import_id, id_number_hash)"
     " SELECT $1, h::bytea FROM unnest ($2::text[]) AS u (h) ON CONFLICT DO NOTHING RETURNING 1"},
    {"import_progress",
     "UPDATE imports SET mark_offset = $2, mark_line = $3, mark_rows = $4, mark_after_cr = $5,"
     " created = $6, skipped = $7, error_count = $8, done = $9,"
     " expires_at = now () + interval '1 hour' WHERE id = $1"},
    {"import_error_put", "INSERT INTO import_errors (import_id, n, line, field, code, message)"
                         " VALUES ($1, $2, $3, $4, $5, $6)"},
    {"import_errors", "SELECT line, field, code, message FROM import_errors WHERE import_id = $1"
                      " ORDER BY n"},
    {"import_chunks_drop", "DELETE FROM import_chunks WHERE import_id = $1"},
    //  A chunked dry run: the people it would create so far (a row is undone once checked).
    {"import_dry_seen_put", "INSERT INTO import_dry_seen (import_id, id_number_hash)"
                            " VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1"},
    {"import_dry_seen_drop", "DELETE FROM import_dry_seen WHERE import_id = $1"},
};

void
registry_store_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
}
