-- 0006_batch_post.sql — match's service.completed posted a page at a time (issue 20). The
-- consumer hands the ledger every completion of a page at once (st_events.h, batch
-- functions); earn_completions prices and posts them in a few set-based statements instead of
-- earn_completion's dozen per record, with the same books: each record once (completions'
-- key, then transfers_source), priced by the rule version in force at its check-out in its
-- region, the daily cap counted in page order, hours and points as two transfers from the
-- region's issuance accounts with the balances after each, the balances moved by their sums
-- (a region's issuance account, which every credit comes from, updated once a page, not once
-- a transfer), a rating that came first applied, and each star level reached once, with the
-- hours at the event that reached it.

-- The transfers of completions priced already (arrays in page order: page ordinal, record,
-- volunteer, request, region, minutes, points, rule version, day, seq), as earn_completions
-- posts them: the accounts they need made if new and all locked in id order, the hours and
-- the points of each record with both balances after each, each balance moved by its sum;
-- a points.awarded row per points transfer.
CREATE FUNCTION completion_transfers (c_ord bigint[], c_rec bigint[], c_vol bigint[],
                                      c_req bigint[], c_reg text[], c_min integer[],
                                      c_pts bigint[], c_ver bigint[], c_day date[],
                                      c_seq bigint[])
RETURNS TABLE (event text, volunteer_id bigint, kind text, amount bigint, balance bigint,
               rule_version bigint, source text, record_id bigint, request_id bigint,
               level integer, minutes bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    -- The accounts the transfers need, made if new, then all locked in id order.
    INSERT INTO accounts (kind, volunteer_id, unit)
        SELECT DISTINCT 'volunteer', x.v, 'hours' FROM unnest (c_vol, c_min) x (v, m)
        WHERE x.m > 0 AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.volunteer_id = x.v
                                      AND a.kind = 'volunteer' AND a.unit = 'hours')
    ON CONFLICT DO NOTHING;
    INSERT INTO accounts (kind, region, unit)
        SELECT DISTINCT 'issuance', x.g, x.u FROM unnest (c_reg, c_min, c_pts) y (g, m, p),
            LATERAL (VALUES (y.g, 'hours', y.m > 0), (y.g, 'points', y.p > 0)) x (g, u, used)
        WHERE x.used AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.region = x.g
                                     AND a.kind = 'issuance' AND a.unit = x.u)
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM accounts a
        WHERE (a.volunteer_id = ANY (c_vol) AND a.kind = 'volunteer' AND a.unit = 'hours')
           OR (a.region = ANY (c_reg) AND a.kind = 'issuance')
        ORDER BY a.id FOR UPDATE;

    -- The transfers, hours then points of each record in page order, each with both
    -- balances after it; the balances moved by each account's sum; a points.awarded row
    -- per points transfer. A source posted already fails the statement (transfers_source):
    -- the consumer then applies the page one event at a time.
    RETURN QUERY
    WITH c AS (SELECT * FROM unnest (c_ord, c_rec, c_vol, c_req, c_reg, c_min, c_pts, c_ver,
                                     c_day, c_seq)
               AS c (ord, rec, vol, req, reg, mins, pts, ver, day, seq)),
    -- Each account by its key (c has no statistics: a join could scan them all per row).
    t0 AS (SELECT c.*, u.k, u.unit, CASE u.k WHEN 0 THEN c.mins::bigint ELSE c.pts END AS amount,
                  (SELECT d.id FROM accounts d WHERE d.region = c.reg AND d.kind = 'issuance'
                   AND d.unit = u.unit) AS debit,
                  (SELECT a.id FROM accounts a WHERE a.volunteer_id = c.vol
                   AND a.kind = 'volunteer' AND a.unit = u.unit) AS credit
           FROM c CROSS JOIN (VALUES (0, 'hours'), (1, 'points')) u (k, unit)
           WHERE CASE u.k WHEN 0 THEN c.mins > 0 ELSE c.pts > 0 END),
    t AS (SELECT t0.*, (SELECT d.balance FROM accounts d WHERE d.id = t0.debit) AS debit_before,
                 (SELECT a.balance FROM accounts a WHERE a.id = t0.credit) AS credit_before
          FROM t0),
    w AS (SELECT t.*,
                 t.debit_before - sum (t.amount) OVER (PARTITION BY t.debit
                                                       ORDER BY t.ord, t.k) AS debit_after,
                 t.credit_before + sum (t.amount) OVER (PARTITION BY t.credit
                                                        ORDER BY t.ord, t.k) AS credit_after
          FROM t),
    ins AS (INSERT INTO transfers (debit, credit, unit, amount, kind, source, volunteer_id,
                                   rule_version, manual, reason, ref, by_account, day,
                                   event_seq, debit_after, credit_after)
            SELECT w.debit, w.credit, w.unit, w.amount,
                   CASE w.k WHEN 0 THEN 'credit' ELSE 'earn' END,
                   'match/service.completed/record/' || w.rec, w.vol, w.ver, false, NULL,
                   'record ' || w.rec, NULL, w.day, w.seq, w.debit_after, w.credit_after
            FROM w ORDER BY w.ord, w.k
            RETURNING transfers.id, transfers.debit, transfers.credit, transfers.unit,
                      transfers.amount, transfers.credit_after, transfers.source,
                      transfers.volunteer_id, transfers.rule_version, transfers.event_seq),
    b AS (UPDATE accounts a SET balance = a.balance + s.delta
          FROM (SELECT m.account, sum (m.delta) AS delta
                FROM (SELECT ins.credit AS account, ins.amount AS delta FROM ins
                      UNION ALL SELECT ins.debit, -ins.amount FROM ins) m
                GROUP BY m.account) s
          WHERE a.id = s.account)
    SELECT 'points.awarded'::text, ins.volunteer_id, 'earn'::text, ins.amount,
           ins.credit_after, ins.rule_version, ins.source, c.rec, c.req, NULL::integer,
           NULL::bigint
    FROM ins JOIN c ON c.seq = ins.event_seq
    WHERE ins.unit = 'points' ORDER BY ins.id;
END
$$;

CREATE FUNCTION earn_completions (p_records bigint[], p_volunteers bigint[], p_requests bigint[],
                                  p_regions text[], p_minutes integer[],
                                  p_checkouts timestamptz[], p_cared boolean[], p_seqs bigint[])
RETURNS TABLE (event text, volunteer_id bigint, kind text, amount bigint, balance bigint,
               rule_version bigint, source text, record_id bigint, request_id bigint,
               level integer, minutes bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    vols bigint[] := ARRAY (SELECT DISTINCT v FROM unnest (p_volunteers) v ORDER BY v);
    e record;
    r record;
    prev_vol bigint;
    prev_day date;
    earned bigint;
    base bigint;
    pts bigint;
    -- The completions new to the ledger, in page order.
    c_ord bigint[] := '{}';
    c_rec bigint[] := '{}';
    c_vol bigint[] := '{}';
    c_req bigint[] := '{}';
    c_reg text[] := '{}';
    c_min integer[] := '{}';
    c_pts bigint[] := '{}';
    c_ver bigint[] := '{}';
    c_chk timestamptz[] := '{}';
    c_day date[] := '{}';
    c_seq bigint[] := '{}';
    first integer;
    k integer;
BEGIN
    -- Each volunteer's points account, made if new and locked in id order as earn_completion
    -- locks one (a completion applied again by registry's consumer waits for it): the
    -- completions and the daily cap below count what is committed.
    INSERT INTO accounts (kind, volunteer_id, unit)
        SELECT 'volunteer', v, 'points' FROM unnest (vols) v
        WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.volunteer_id = v
                          AND a.kind = 'volunteer' AND a.unit = 'points')
        ORDER BY v
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM accounts a WHERE a.volunteer_id = ANY (vols) AND a.kind = 'volunteer'
        AND a.unit = 'points' ORDER BY a.id FOR UPDATE;

    -- Priced in page order: the first of a record's events in the page, if the ledger has not
    -- seen it; the rule in force at its check-out in its region (looked up once per region and
    -- time); the daily cap against what the volunteer earned that day, the page's earlier
    -- completions included.
    FOR e IN
        WITH u AS (SELECT * FROM unnest (p_records, p_volunteers, p_requests, p_regions, p_minutes,
                                         p_checkouts, p_cared, p_seqs) WITH ORDINALITY
                   AS u (rec, vol, req, reg, mins, chk, cared, seq, ord)),
        f AS (SELECT DISTINCT ON (u.rec) u.* FROM u ORDER BY u.rec, u.ord),
        n AS MATERIALIZED (SELECT f.*, (f.chk AT TIME ZONE 'Asia/Shanghai')::date AS day FROM f
              WHERE NOT EXISTS (SELECT 1 FROM completions c WHERE c.record_id = f.rec)),
        rv AS MATERIALIZED (SELECT k.reg, k.chk, q.version, q.points_per_hour, q.cared_bonus, q.daily_cap
               FROM (SELECT DISTINCT n.reg, n.chk FROM n) k
               CROSS JOIN LATERAL rule_at (k.reg, k.chk) q),
        g AS MATERIALIZED (SELECT c.volunteer_id AS vol, c.day, sum (c.points) AS earned FROM completions c
              JOIN (SELECT DISTINCT n.vol, n.day FROM n) k ON c.volunteer_id = k.vol
              AND c.day = k.day GROUP BY 1, 2)
        SELECT n.*, rv.version, rv.points_per_hour, rv.cared_bonus, rv.daily_cap,
               coalesce (g.earned, 0) AS earned
        FROM n JOIN rv ON rv.reg = n.reg AND rv.chk = n.chk
        LEFT JOIN g ON g.vol = n.vol AND g.day = n.day
        ORDER BY n.vol, n.day, n.ord
    LOOP
        IF prev_vol IS DISTINCT FROM e.vol OR prev_day IS DISTINCT FROM e.day THEN
            earned := e.earned;
            prev_vol := e.vol;
            prev_day := e.day;
        END IF;
        base := (e.mins::bigint * e.points_per_hour) / 60
                + CASE WHEN e.cared THEN e.cared_bonus ELSE 0 END;
        pts := CASE WHEN e.daily_cap = 0 THEN base
                    ELSE least (base, greatest (0, e.daily_cap - earned)) END;
        earned := earned + pts;
        c_ord := c_ord || e.ord;
        c_rec := c_rec || e.rec;
        c_vol := c_vol || e.vol;
        c_req := c_req || nullif (e.req, 0);
        c_reg := c_reg || e.reg;
        c_min := c_min || e.mins;
        c_pts := c_pts || pts;
        c_ver := c_ver || e.version;
        c_chk := c_chk || e.chk;
        c_day := c_day || e.day;
        c_seq := c_seq || e.seq;
    END LOOP;

    IF cardinality (c_rec) > 0 THEN
        -- Back in page order (they were priced by volunteer and day).
        SELECT array_agg (x.ord ORDER BY x.ord), array_agg (x.rec ORDER BY x.ord),
               array_agg (x.vol ORDER BY x.ord), array_agg (x.req ORDER BY x.ord),
               array_agg (x.reg ORDER BY x.ord), array_agg (x.mins ORDER BY x.ord),
               array_agg (x.pts ORDER BY x.ord), array_agg (x.ver ORDER BY x.ord),
               array_agg (x.chk ORDER BY x.ord), array_agg (x.day ORDER BY x.ord),
               array_agg (x.seq ORDER BY x.ord)
            INTO c_ord, c_rec, c_vol, c_req, c_reg, c_min, c_pts, c_ver, c_chk, c_day, c_seq
            FROM unnest (c_ord, c_rec, c_vol, c_req, c_reg, c_min, c_pts, c_ver, c_chk, c_day,
                         c_seq) AS x (ord, rec, vol, req, reg, mins, pts, ver, chk, day, seq);
        INSERT INTO completions (record_id, volunteer_id, request_id, region, minutes, points,
                                 rule_version, checkout_at, day, event_seq)
            SELECT * FROM unnest (c_rec, c_vol, c_req, c_reg, c_min, c_pts, c_ver, c_chk, c_day,
                                  c_seq);
        -- Posted in page order: up to each completion whose rating came first, whose
        -- adjustment (rate_record, as earn_completion does) follows it before the rest of the
        -- page, so that a cut takes the oldest points as it would event by event.
        first := 1;
        FOREACH k IN ARRAY ARRAY (SELECT x.i FROM unnest (c_req) WITH ORDINALITY AS x (req, i)
                                  WHERE x.req IS NOT NULL
                                    AND EXISTS (SELECT 1 FROM ratings g
                                                WHERE g.request_id = x.req)
                                  ORDER BY x.i) LOOP
            RETURN QUERY SELECT * FROM completion_transfers (
                c_ord[first:k], c_rec[first:k], c_vol[first:k], c_req[first:k], c_reg[first:k],
                c_min[first:k], c_pts[first:k], c_ver[first:k], c_day[first:k], c_seq[first:k]);
            RETURN QUERY
            SELECT 'points.awarded'::text, q.volunteer_id, q.kind, q.amount, q.balance,
                   q.rule_version, q.source, q.record_id, q.request_id, NULL::integer,
                   NULL::bigint
            FROM rate_record (c_rec[k], c_seq[k]) q;
            first := k + 1;
        END LOOP;
        k := cardinality (c_rec);
        IF first <= k THEN
            RETURN QUERY SELECT * FROM completion_transfers (
                c_ord[first:k], c_rec[first:k], c_vol[first:k], c_req[first:k], c_reg[first:k],
                c_min[first:k], c_pts[first:k], c_ver[first:k], c_day[first:k], c_seq[first:k]);
        END IF;
    END IF;

    -- Star levels, for every volunteer the page names (as earn_completion's caller asks after
    -- each event): the credit and honour minutes after each of their events in page order
    -- (what they hold now less what the page's later completions added), and each level of
    -- their region's newest thresholds reached first at the first of them to pass it.
    RETURN QUERY
    WITH p AS (SELECT u.vol, u.ord, coalesce (c.mins, 0)::bigint AS mins
               FROM unnest (p_volunteers) WITH ORDINALITY AS u (vol, ord)
               LEFT JOIN unnest (c_ord, c_min) AS c (ord, mins) ON c.ord = u.ord),
    tot AS MATERIALIZED (SELECT a.volunteer_id AS vol, sum (a.balance) AS total FROM accounts a
            WHERE a.volunteer_id = ANY (vols) AND a.unit = 'hours' GROUP BY 1),
    run AS (SELECT p.vol, coalesce (tot.total, 0) - sum (p.mins) OVER (PARTITION BY p.vol)
                          + sum (p.mins) OVER (PARTITION BY p.vol ORDER BY p.ord) AS reached
            FROM p LEFT JOIN tot ON tot.vol = p.vol),
    vr AS MATERIALIZED (SELECT v.vol, volunteer_region (v.vol) AS region FROM unnest (vols) v (vol)),
    th AS MATERIALIZED (SELECT k.region, q.star_hours FROM (SELECT DISTINCT vr.region FROM vr) k
           CROSS JOIN LATERAL rule_at (k.region, 'infinity') q),
    lv AS (SELECT run.vol, l.level, min (run.reached) AS reached
           FROM run JOIN vr ON vr.vol = run.vol JOIN th ON th.region = vr.region
           CROSS JOIN LATERAL generate_subscripts (th.star_hours, 1) l (level)
           WHERE run.reached >= th.star_hours[l.level]::bigint * 60
           GROUP BY run.vol, l.level),
    ins AS (INSERT INTO star_levels AS s (volunteer_id, level, minutes)
            SELECT lv.vol, lv.level, lv.reached FROM lv ORDER BY lv.vol, lv.level
            ON CONFLICT DO NOTHING RETURNING s.volunteer_id, s.level, s.minutes)
    SELECT 'star.reached'::text, ins.volunteer_id, NULL::text, NULL::bigint, NULL::bigint,
           NULL::bigint, NULL::text, NULL::bigint, NULL::bigint, ins.level, ins.minutes
    FROM ins ORDER BY ins.volunteer_id, ins.level;
END
$$;

-- The lots trigger (0005_expiry_reports.sql) once a statement instead of once a row, with the
-- statement's new transfers as a transition table: a page's credits make their lots in one
-- INSERT. It does what the row trigger did, credits first: each points credit to a volunteer
-- makes a lot (its expiry set by the rule version that priced it, or the one in force at the
-- volunteer's region then), each points debit from a volunteer takes the oldest lots first
-- (an expiry only those due by its day), in the order the transfers were made, and fails
-- when the lots do not cover it.
DROP TRIGGER transfers_lots ON transfers;
CREATE OR REPLACE FUNCTION transfers_lots () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    need bigint;
    l record;
    take bigint;
BEGIN
    -- Each side's owner looked up by the account's key (the transition table has no
    -- statistics: a join could scan every account for each transfer).
    INSERT INTO lots (transfer_id, volunteer_id, amount, remaining, earned_on, expires_on)
        SELECT n.id, n.owner, n.amount, n.amount, n.day,
               expiry_date (CASE WHEN n.rule_version IS NOT NULL
                                 THEN (SELECT r FROM rules r WHERE r.version = n.rule_version)
                                 ELSE rule_at (volunteer_region (n.owner), n.at) END,
                            n.day)
        FROM (SELECT x.*, (SELECT a.volunteer_id FROM accounts a WHERE a.id = x.credit
                           AND a.kind = 'volunteer') AS owner
              FROM new_transfers x WHERE x.unit = 'points') n
        WHERE n.owner IS NOT NULL;
    FOR t IN SELECT n.amount, n.kind, n.day, n.source, n.owner
             FROM (SELECT x.*, (SELECT a.volunteer_id FROM accounts a WHERE a.id = x.debit
                                AND a.kind = 'volunteer') AS owner
                   FROM new_transfers x WHERE x.unit = 'points') n
             WHERE n.owner IS NOT NULL ORDER BY n.id LOOP
        need := t.amount;
        FOR l IN SELECT lots.transfer_id, lots.remaining FROM lots
                 WHERE lots.volunteer_id = t.owner AND lots.remaining > 0
                   AND (t.kind <> 'expire' OR lots.expires_on <= t.day)
                 ORDER BY lots.earned_on, lots.transfer_id FOR UPDATE LOOP
            EXIT WHEN need = 0;
            take := least (need, l.remaining);
            UPDATE lots SET remaining = remaining - take WHERE transfer_id = l.transfer_id;
            need := need - take;
        END LOOP;
        IF need > 0 THEN
            RAISE EXCEPTION 'the points lots of volunteer % lack % of transfer %', t.owner, need,
                t.source USING ERRCODE = '23514';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER transfers_lots AFTER INSERT ON transfers REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION transfers_lots ();
