-- 0011_ranking_totals.sql — the journal's reads at 10,000,000 rows (issue 20, "Benchmarks"):
-- rankings from totals kept at posting, and a statement that reads no journal row.
--
-- ranking.list of a county for a quarter summed, at 10,000,000 journal rows, some 300,000
-- transfers of the period found through the system accounts' indexes (0007): 270 ms of plan
-- at best, growing with the journal. What it sums is now kept beside the journal, in the
-- posting transaction: per volunteer, region (of the system account on the other side, as
-- ranking.list counts it), unit and period (the month, the quarter and the year of the
-- transfer's service day), what the ranked kinds moved into the volunteer's account, and how
-- much of it by hand. A ranking reads one row per volunteer of its subtree and period.

-- What ranking.list counts of each transfer, by the journal alone: the ranked kinds (hours
-- credited and honour hours; points earned, rated and adjusted), each side that is a region's
-- system account giving its region what moved into the volunteer (debited: into them,
-- credited: out of them), summed per month, and the months per quarter and year.
-- ranking_totals must always equal it (the tests check; the bench and this migration fill
-- it from it).
CREATE VIEW ranking_journal AS
WITH m AS (
    SELECT t.unit, date_trunc ('month', t.day::timestamp)::date AS month, s.region,
           t.volunteer_id, sum (s.delta) AS amount,
           coalesce (sum (s.delta) FILTER (WHERE t.manual), 0) AS manual
    FROM transfers t
    LEFT JOIN accounts d ON d.id = t.debit
    LEFT JOIN accounts c ON c.id = t.credit
    CROSS JOIN LATERAL (VALUES (d.region, t.amount), (c.region, -t.amount)) s (region, delta)
    WHERE s.region IS NOT NULL
      AND ((t.unit = 'hours' AND t.kind IN ('credit', 'honour'))
           OR (t.unit = 'points' AND t.kind IN ('earn', 'rating', 'adjust')))
    GROUP BY 1, 2, 3, 4)
SELECT m.unit, p.period, date_trunc (p.period, m.month::timestamp)::date AS starts, m.region,
       m.volunteer_id, sum (m.amount)::bigint AS amount, sum (m.manual)::bigint AS manual
FROM m CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) p (period)
GROUP BY 1, 2, 3, 4, 5;

-- The totals, keyed as a ranking reads them: a unit, a period, then the subtree's regions
-- (byte order, so that a region prefix is a range of the key).
CREATE TABLE ranking_totals (
    unit         text NOT NULL,
    period       text NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
    starts       date NOT NULL,
    region       text COLLATE "C" NOT NULL,
    volunteer_id bigint NOT NULL,
    amount       bigint NOT NULL,
    manual       bigint NOT NULL,
    PRIMARY KEY (unit, period, starts, region, volunteer_id)
) WITH (fillfactor = 80);  -- room for the updates of a period's rows beside them (HOT)

INSERT INTO ranking_totals SELECT * FROM ranking_journal ORDER BY 1, 2, 3, 4, 5;

-- Each statement's new transfers added, in the key's order (two postings that touch the
-- same rows take them in the same order). The system accounts' regions by a probe of the
-- key each (the transition table has no statistics: a join could read every account).
CREATE FUNCTION transfers_ranking_totals () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ranking_totals AS r (unit, period, starts, region, volunteer_id, amount, manual)
    SELECT x.unit, p.period, date_trunc (p.period, x.day::timestamp)::date, s.region, x.volunteer_id,
           sum (s.delta), coalesce (sum (s.delta) FILTER (WHERE x.manual), 0)
    FROM (SELECT n.unit, n.day, n.volunteer_id, n.manual, n.amount,
                 (SELECT a.region FROM accounts a WHERE a.id = n.debit) AS debit_region,
                 (SELECT a.region FROM accounts a WHERE a.id = n.credit) AS credit_region
          FROM new_transfers n
          WHERE (n.unit = 'hours' AND n.kind IN ('credit', 'honour'))
             OR (n.unit = 'points' AND n.kind IN ('earn', 'rating', 'adjust'))) x
    CROSS JOIN LATERAL (VALUES (x.debit_region, x.amount), (x.credit_region, -x.amount))
        s (region, delta)
    CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) p (period)
    WHERE s.region IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (unit, period, starts, region, volunteer_id) DO UPDATE
        SET amount = r.amount + EXCLUDED.amount, manual = r.manual + EXCLUDED.manual;
    RETURN NULL;
END
$$;
CREATE TRIGGER transfers_ranking_totals AFTER INSERT ON transfers
    REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION transfers_ranking_totals ();

-- ledger.statement's expiry read every points transfer of the volunteer (about 50 at
-- 10,000,000 rows, one heap page each, twice) to find their few expiries, and every open lot
-- of theirs to find those that expire. Both now by an index of just those rows.
CREATE INDEX transfers_expired ON transfers (volunteer_id, day) INCLUDE (amount)
    WHERE kind = 'expire';
CREATE INDEX lots_expiring ON lots (volunteer_id, expires_on) INCLUDE (remaining)
    WHERE remaining > 0 AND expires_on IS NOT NULL;

-- Rankings leave out volunteers who are not active: the few of them, by an index of just those.
CREATE INDEX volunteers_inactive ON volunteers (id) WHERE status <> 'active';
