/*  ledger_reports_store.c — the SQL of rankings, stats, points expiry and registry's
    statuses (ledger_reports.c, ledger_expiry.c, ledger_status.c); the expiry itself is in
    sql/0005_expiry_reports.sql (expire_due, the lots trigger).  */
#include "ledger_store.h"

//  A transfer t between accounts c (credited) and d (debited): what it moved into a
//  volunteer's account (negative: out of it), and the region of its system side.
#define S_SIGNED     "CASE WHEN c.volunteer_id IS NOT NULL THEN t.amount ELSE -t.amount END"
#define S_SYS_REGION "coalesce (c.region, d.region)"

static const st_statement_t s_statements[] = {
    //  The first and last day of period $1 (month, quarter, year) holding day $2 (NULL:
    //  today in Asia/Shanghai).
    {"ledger_period",
     "SELECT p::text AS \"from\", (p + CASE $1 WHEN 'quarter' THEN interval '3 months' ELSE ('1 ' "
     "|| $1)::interval END"
     " - interval '1 day')::date::text AS "
     "\"to\""
     " FROM (SELECT date_trunc ($1, coalesce ($2::date, shanghai_today ()))::date AS p) x"},
    //  ranking.list: what each active volunteer gained of unit $2 from day $3 (a month's
    //  first) to day $4 in subtree $1 (by the region of the system account on the other side:
    //  where the hours were served, or the volunteer's region when an official adjusted),
    //  ranked; rows $5.. of it, at most $6. Read from the monthly totals kept at posting
    //  (sql/0011_ranking_totals.sql, 0013): a probe of the key per month of the period, the
    //  subtree's regions a range of it (region codes are digits, which '~' follows); those not
    //  active found among the few of them (volunteers_inactive), not looked up one by one.
    //  Only the first $5 + $6 are sorted (a top-N heap, not a sort of a county's 50,000) and
    //  ranked among themselves: whoever gained more than one of them is one of them, so the
    //  rank is the same as among all (at 10,000,000 journal rows, a county's quarter took
    //  about 290 ms with every volunteer sorted and ranked, 175 ms so).
    {"ledger_ranking",
     "WITH g AS (SELECT t.volunteer_id, sum (t.amount) AS amount, sum (t.manual) AS manual"
     " FROM ranking_totals t WHERE t.unit = $2 AND t.period = 'month' AND t.starts = ANY"
     " (ARRAY (SELECT generate_series ($3::date, $4::date, interval '1 month')::date))"
     " AND t.region >= $1 AND t.region < $1 || '~' AND left (t.region, length ($1)) = $1"
     " GROUP BY t.volunteer_id),"
     " top AS (SELECT g.* FROM g WHERE g.amount > 0 AND NOT EXISTS (SELECT 1 FROM volunteers v"
     " WHERE v.id = g.volunteer_id AND v.status <> 'active')"
     " ORDER BY g.amount DESC, g.volunteer_id LIMIT $5::bigint + $6::bigint)"
     " SELECT rank () OVER (ORDER BY top.amount DESC) AS rank,"
     " top.volunteer_id::text AS volunteer_id, top.amount, top.manual FROM top"
     " ORDER BY top.amount DESC, top.volunteer_id OFFSET $5 LIMIT $6"},
    //  ledger.stats: subtree $1 from day $2 to day $3. Spending and redemptions are what
    //  moved into (less out of) a region's redemption account, whoever's kinds post them.
    {"ledger_stats",
     "SELECT coalesce (sum (" S_SIGNED ") FILTER (WHERE t.unit = 'hours' AND t.kind = 'credit'),"
     " 0) AS credit_minutes, coalesce (sum (" S_SIGNED ") FILTER (WHERE t.unit = 'hours'"
     " AND t.kind = 'honour'), 0) AS honour_minutes,"
     " coalesce (sum (" S_SIGNED ") FILTER (WHERE t.unit = 'hours' AND t.kind = 'credit'), 0)"
     " / 60.0 AS hours_credit, coalesce (sum (" S_SIGNED ") FILTER (WHERE t.unit = 'hours'"
     " AND t.kind = 'honour'), 0) / 60.0 AS hours_honour,"
     " coalesce (sum (" S_SIGNED ") FILTER (WHERE t.unit = 'points' AND (c.volunteer_id IS NOT"
     " NULL AND d.kind IN ('issuance', 'adjustment') OR d.volunteer_id IS NOT NULL"
     " AND c.kind IN ('issuance', 'adjustment'))), 0) AS points_issued,"
     " coalesce (sum (" S_SIGNED ") FILTER (WHERE t.unit = 'points' AND t.manual), 0)"
     " AS points_adjusted,"
     " coalesce (sum (t.amount) FILTER (WHERE t.unit = 'points' AND c.kind = 'redemption'), 0)"
     " - coalesce (sum (t.amount) FILTER (WHERE t.unit = 'points' AND d.kind = 'redemption'), 0)"
     " AS points_spent,"
     " coalesce (sum (t.amount) FILTER (WHERE t.unit = 'points' AND c.kind = 'expiry'), 0)"
     " - coalesce (sum (t.amount) FILTER (WHERE t.unit = 'points' AND d.kind = 'expiry'), 0)"
     " AS points_expired,"
     " count (*) FILTER (WHERE t.unit = 'points' AND c.kind = 'redemption') AS redemptions"
     " FROM transfers t JOIN accounts c ON c.id = t.credit JOIN accounts d ON d.id = t.debit"
     " WHERE t.day BETWEEN $2::date AND $3::date AND left (" S_SYS_REGION ", length ($1)) = $1"},
    //  ledger.statement's expiry: what volunteer $1 had expired, and what expires next.
    {"ledger_statement_expiry",
     "SELECT (SELECT coalesce (sum (amount), 0) FROM transfers WHERE volunteer_id = $1::bigint"
     " AND unit = 'points' AND kind = 'expire') AS expired,"
     " (SELECT max (day)::text FROM transfers WHERE volunteer_id = $1::bigint"
     " AND unit = 'points' AND kind = 'expire') AS last_expired_on,"
     " n.amount AS next_expiry, n.day::text AS next_expiry_on FROM (SELECT 1) one"
     " LEFT JOIN (SELECT sum (remaining) AS amount, expires_on AS day FROM lots"
     " WHERE volunteer_id = $1::bigint AND remaining > 0 AND expires_on IS NOT NULL"
     " GROUP BY expires_on ORDER BY expires_on LIMIT 1) n ON true"},
    //  The expiry worker: a batch of at most $1 volunteers' due points expired.
    {"ledger_expire_due",
     "SELECT volunteer_id::text AS volunteer_id, amount, expired_on::text AS expired_on,"
     " balance, source FROM expire_due ($1::integer)"},
    //  The milliseconds to the next midnight in Asia/Shanghai, when points next fall due.
    {"ledger_expiry_wait", "SELECT ceil (extract (epoch FROM ((shanghai_today () + 1)::timestamp"
                           " AT TIME ZONE 'Asia/Shanghai') - now ()) * 1000)::bigint AS wait"},
    //  Registry's volunteer.registered, .updated, .status_changed: where a volunteer belongs
    //  and their status; never an older state.
    {"ledger_volunteer_status",
     "INSERT INTO volunteers (id, region, registry_seq, status) VALUES ($1, $2, $3, $4)"
     " ON CONFLICT (id) DO UPDATE SET region = EXCLUDED.region, status = EXCLUDED.status,"
     " registry_seq = EXCLUDED.registry_seq WHERE volunteers.registry_seq < EXCLUDED.registry_seq"},
    //  Whether registry told the ledger of volunteer $1.
    {"ledger_volunteer_registered",
     "SELECT EXISTS (SELECT 1 FROM volunteers WHERE id = $1::bigint) AS registered"},
    //  Match's events parked with reason $1 (a volunteer not known yet), to apply again.
    {"ledger_parked_for",
     "SELECT seq, topic, body FROM dead_letters WHERE publisher = 'match' AND reason = $1"
     " ORDER BY seq"},
    {"ledger_parked_done", "DELETE FROM dead_letters WHERE publisher = 'match' AND seq = $1"},
};

void
ledger_reports_store_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
}
