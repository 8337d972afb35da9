-- 0013_ranking_months.sql — ranking totals by the month alone (issue 20).
--
-- 0011 kept each transfer's totals three times, for its month, quarter and year: the
-- posting's trigger wrote three rows where one does, and was 29% of the time a backlog of
-- service.completed took to post (498 of 1,707 ms per 10,000 events). A quarter or a year is
-- now read as the sum of its months: three or twelve probes of the key, one a month.
DELETE FROM ranking_totals WHERE period <> 'month';

CREATE OR REPLACE VIEW ranking_journal AS
SELECT t.unit, 'month'::text AS period, date_trunc ('month', t.day::timestamp)::date AS starts,
       s.region, t.volunteer_id, sum (s.delta)::bigint AS amount,
       coalesce (sum (s.delta) FILTER (WHERE t.manual), 0)::bigint AS manual
FROM transfers t
LEFT JOIN accounts d ON d.id = t.debit
LEFT JOIN accounts c ON c.id = t.credit
CROSS JOIN LATERAL (VALUES (d.region, t.amount), (c.region, -t.amount)) s (region, delta)
WHERE s.region IS NOT NULL
  AND ((t.unit = 'hours' AND t.kind IN ('credit', 'honour'))
       OR (t.unit = 'points' AND t.kind IN ('earn', 'rating', 'adjust')))
GROUP BY 1, 2, 3, 4, 5;

ALTER TABLE ranking_totals DROP CONSTRAINT ranking_totals_period_check;
ALTER TABLE ranking_totals ADD CONSTRAINT ranking_totals_period_check CHECK (period = 'month');

CREATE OR REPLACE FUNCTION transfers_ranking_totals () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ranking_totals AS r (unit, period, starts, region, volunteer_id, amount, manual)
    SELECT x.unit, 'month', date_trunc ('month', x.day::timestamp)::date, s.region,
           x.volunteer_id, sum (s.delta), coalesce (sum (s.delta) FILTER (WHERE x.manual), 0)
    FROM (SELECT n.unit, n.day, n.volunteer_id, n.manual, n.amount,
                 (SELECT a.region FROM accounts a WHERE a.id = n.debit) AS debit_region,
                 (SELECT a.region FROM accounts a WHERE a.id = n.credit) AS credit_region
          FROM new_transfers n
          WHERE (n.unit = 'hours' AND n.kind IN ('credit', 'honour'))
             OR (n.unit = 'points' AND n.kind IN ('earn', 'rating', 'adjust'))) x
    CROSS JOIN LATERAL (VALUES (x.debit_region, x.amount), (x.credit_region, -x.amount))
        s (region, delta)
    WHERE s.region IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (unit, period, starts, region, volunteer_id) DO UPDATE
        SET amount = r.amount + EXCLUDED.amount, manual = r.manual + EXCLUDED.manual;
    RETURN NULL;
END
$$;
