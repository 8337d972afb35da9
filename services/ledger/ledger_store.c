/*  ledger_store.c — the ledger service's SQL: statements named after what runs them; the
    posting itself is in sql/0002_books.sql (post, earn_completion, rate_request), so that a
    transfer and both balances move in one statement.  */
#include "ledger_store.h"

//  What the earning functions return: one row per points transfer made.
#define S_AWARD_COLUMNS                                                                            \
    "volunteer_id::text AS volunteer_id, kind, amount, balance, rule_version, source,"             \
    " record_id::text AS record_id, request_id::text AS request_id"
//  A transfer as the volunteer's account sees it (t, and c its credit account).
#define S_ENTRY_COLUMNS                                                                            \
    "t.id::text AS id, rfc3339 (t.at) AS at, t.unit,"                                              \
    " CASE WHEN c.volunteer_id IS NOT NULL THEN t.amount ELSE -t.amount END AS amount,"            \
    " CASE WHEN c.volunteer_id IS NOT NULL THEN t.credit_after ELSE t.debit_after END"             \
    " AS balance_after, t.kind, t.reason, t.ref, t.manual, t.rule_version, t.source"
//  A rule version r as rules.get shows it ($1 the region asked).
#define S_RULE_COLUMNS                                                                             \
    "$1::text AS region, r.version, r.region AS from_region, r.points_per_hour,"                   \
    " r.multipliers[1] AS multiplier_1, r.multipliers[2] AS multiplier_2,"                         \
    " r.multipliers[3] AS multiplier_3, r.multipliers[4] AS multiplier_4,"                         \
    " r.multipliers[5] AS multiplier_5, r.cared_bonus, r.daily_cap,"                               \
    " r.star_hours[1] AS star_1, r.star_hours[2] AS star_2, r.star_hours[3] AS star_3,"            \
    " r.star_hours[4] AS star_4, r.star_hours[5] AS star_5, r.adjust_cap_points,"                  \
    " r.adjust_cap_minutes,"                                                                       \
    " CASE WHEN isfinite (r.effective_from) THEN rfc3339 (r.effective_from) END AS "               \
    "effective_from,"                                                                              \
    " r.expiry, r.expiry_day, r.expiry_months"

static const st_statement_t s_statements[] = {
    //  Registry's volunteer events: where a volunteer belongs now; never an older state.
    {"ledger_volunteer_upsert",
     "INSERT INTO volunteers (id, region, registry_seq) VALUES ($1, $2, $3)"
     " ON CONFLICT (id) DO UPDATE SET region = EXCLUDED.region,"
     " registry_seq = EXCLUDED.registry_seq WHERE volunteers.registry_seq < EXCLUDED.registry_seq"},
    //  Match's events, priced and posted (sql/0002_books.sql).
    {"ledger_earn_completion",
     "SELECT " S_AWARD_COLUMNS " FROM earn_completion ($1::bigint, $2::bigint, $3::bigint, $4,"
     " $5::integer, $6::timestamptz, $7::boolean, $8::bigint)"},
    //  A page of them (sql/0006_batch_post.sql): $1.. arrays of record, volunteer, request (0:
    //  none), region, minutes, check-out, cared, seq; rows points.awarded and star.reached.
    {"ledger_earn_completions",
     "SELECT event, volunteer_id::text AS volunteer_id, kind, amount, balance, rule_version,"
     " source, record_id::text AS record_id, request_id::text AS request_id, level, minutes"
     " FROM earn_completions ($1::bigint[], $2::bigint[], $3::bigint[], $4::text[],"
     " $5::integer[], $6::timestamptz[], $7::boolean[], $8::bigint[])"},
    //  Whether the ledger knows each volunteer of array $1, in its order.
    {"ledger_volunteers_known",
     "SELECT EXISTS (SELECT 1 FROM volunteers v WHERE v.id = x.id) AS known"
     " FROM unnest ($1::bigint[]) WITH ORDINALITY AS x (id, n) ORDER BY x.n"},
    {"ledger_rate_request",
     "SELECT " S_AWARD_COLUMNS " FROM rate_request ($1::bigint, $2::integer, $3::bigint)"},
    //  Levels newly reached by volunteer $1.
    {"ledger_stars_reach", "SELECT level, minutes FROM stars_reach ($1::bigint)"},
    //  Whether the ledger knows volunteer $1 (registry told it, or it holds their accounts),
    //  and their region.
    {"ledger_volunteer_known",
     "SELECT volunteer_region ($1::bigint) AS region,"
     " EXISTS (SELECT 1 FROM volunteers WHERE id = $1::bigint)"
     " OR EXISTS (SELECT 1 FROM accounts WHERE volunteer_id = $1::bigint) AS known"},
    {"ledger_statement",
     "WITH a AS (SELECT coalesce (sum (balance) FILTER (WHERE kind = 'volunteer'"
     " AND unit = 'points'), 0) AS points, coalesce (sum (pending) FILTER (WHERE kind ="
     " 'volunteer' AND unit = 'points'), 0) AS pending, coalesce (sum (balance) FILTER (WHERE kind "
     "="
     " 'volunteer' AND unit = 'hours'), 0) AS credit, coalesce (sum (balance) FILTER (WHERE kind"
     " = 'honour'), 0) AS honour FROM accounts WHERE volunteer_id = $1::bigint),"
     " s AS (SELECT coalesce (max (level), 0) AS stars FROM star_levels"
     " WHERE volunteer_id = $1::bigint),"
     " r AS (SELECT (rule_at (volunteer_region ($1::bigint), 'infinity')).star_hours AS th)"
     " SELECT $1::text AS volunteer_id, nullif (volunteer_region ($1::bigint), '') AS region,"
     " a.points AS balance, a.points - a.pending AS available, a.pending,"
     " a.credit AS credit_minutes,"
     " a.honour AS honour_minutes, a.credit / 60.0 AS hours_credit,"
     " a.honour / 60.0 AS hours_honour, s.stars, CASE WHEN s.stars < 5 THEN greatest (0,"
     " r.th[s.stars + 1]::bigint * 60 - a.credit - a.honour) / 60.0 END AS hours_to_next_star"
     " FROM a, s, r"},
    //  A page of volunteer $1's transfers of unit $2 before transfer $3 (NULL: the newest).
    //  The cursor a bound of the index scan, in a generic plan too ("$3 IS NULL OR t.id < $3"
    //  was a filter: page n read the n - 1 pages before it).
    {"ledger_journal",
     "SELECT " S_ENTRY_COLUMNS " FROM transfers t JOIN accounts c ON c.id = t.credit"
     " WHERE t.volunteer_id = $1::bigint AND t.unit = $2"
     " AND t.id < coalesce ($3::bigint, 9223372036854775807) ORDER BY t.id DESC LIMIT $4"},
    //  ledger.adjust in one round trip (adjust_in_scope, sql/0014_transfers_after.sql):
    //  volunteer $1's region and whether the ledger knows them, then, when they lie within
    //  scope $8 (the actor's region prefix; NULL: every region), unit $2, signed amount $3,
    //  source $4, reason $5, ref $6, by $7 checked and posted.
    {"ledger_adjust",
     "SELECT region, known, outcome, balance, pending, cap, used, id, at, unit, amount,"
     " balance_after, kind, reason, ref, manual, rule_version, source FROM adjust_in_scope"
     " ($1::bigint, $2, $3::bigint, $8, $4, $5, $6, $7)"},
    //  ledger.audit: every account whose balance is not what its journal sums to, or whose
    //  pending is not what its holds with no end sum to. (Read once with both sides of each
    //  transfer, the planner guessed 2 accounts and spilled the hash to disk: 38 s at 10M.)
    {"ledger_audit_differences",
     "WITH j AS (SELECT account, sum (delta) AS journal FROM (SELECT credit AS account,"
     " amount AS delta FROM transfers UNION ALL SELECT debit, -amount FROM transfers) x"
     " GROUP BY account), h AS (SELECT debit AS account, sum (amount) AS held FROM holds"
     " WHERE NOT EXISTS (SELECT 1 FROM hold_ends e WHERE e.hold_id = holds.id) GROUP BY debit)"
     " SELECT a.id::text AS account_id, a.kind, a.unit, a.balance, coalesce (j.journal, 0)"
     " AS journal, a.pending, coalesce (h.held, 0) AS held FROM accounts a"
     " LEFT JOIN j ON j.account = a.id LEFT JOIN h ON h.account = a.id"
     " WHERE a.balance <> coalesce (j.journal, 0) OR a.pending <> coalesce (h.held, 0)"
     " ORDER BY a.id LIMIT 1000"},
    //  Each unit's balances summed (zero in balanced books), what its transfers moved and how
    //  many there are: the journal read once for both units.
    {"ledger_audit_sums",
     "SELECT u.unit, (SELECT coalesce (sum (a.balance), 0) FROM accounts a WHERE a.unit = u.unit)"
     " AS sum, coalesce (m.moved, 0) AS moved, coalesce (m.transfers, 0) AS transfers"
     " FROM (VALUES ('hours'), ('points')) u (unit) LEFT JOIN (SELECT t.unit, sum (t.amount)"
     " AS moved, count (*) AS transfers FROM transfers t GROUP BY t.unit) m ON m.unit = u.unit"
     " ORDER BY u.unit"},
    //  The transfers are counted by ledger_audit_sums.
    {"ledger_audit_counts",
     "SELECT (SELECT count (*) FROM accounts) AS accounts, (SELECT count (*) FROM accounts"
     " WHERE volunteer_id IS NOT NULL AND (balance < 0 OR balance < pending)) AS negative"},
    //  rules.get: the newest version at region $1 (or inherited), in force from its
    //  effective_from (at most a second ahead) on.
    {"ledger_rules_get", "SELECT " S_RULE_COLUMNS " FROM rule_at ($1, 'infinity') r"},
    //  rules.set: a whole new version for region $1 (prefix $2).
    {"ledger_rules_insert",
     "INSERT INTO rules (region, prefix, points_per_hour, multipliers, cared_bonus, daily_cap,"
     " star_hours, adjust_cap_points, adjust_cap_minutes, set_by, expiry, expiry_day,"
     " expiry_months) VALUES ($1, $2, $3, ARRAY[$4, $5, $6, $7, $8]::integer[], $9, $10,"
     " ARRAY[$11, $12, $13, $14, $15]::integer[], $16, $17, $18, $19, $20, $21)"},
};

void
ledger_store_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
    ledger_reports_store_prepare (db);
    ledger_shop_store_prepare (db);
}
