-- 0008_posting_speed.sql — a consumer's page of service.completed posted faster (issue 20,
-- "Benchmarks": posting). Measured per phase (bench_ledger prints the CPU of each process and
-- the time in each function; a profile of the posting backend), a page of 500 completions
-- spent its time in: the transfers' insert and its indexes; the foreign keys of transfers and
-- completions, checked by a row trigger each, one query per row and key (3,500 a page); the
-- lots trigger, which looked each credit's owner up twice and its rule once per row; and a
-- hash of every completion ever posted, built once a page to find the page's new ones (a
-- page's cost grew with the books).
--
-- The references are checked once a statement instead, by constraint triggers over the
-- statement's new rows (transition tables): every transfer's debit and credit an account of
-- its unit, its rule version one that exists; every completion's rule version one that
-- exists. What the foreign keys also guarded, that a referenced row never goes away or
-- changes its key, is guarded by triggers on accounts and rules: neither is ever deleted or
-- truncated, nor an account's id or unit, nor a rule's version, changed.


-- The references, once a statement: one probe by primary key per reference of each new row
-- (a scalar subquery: the transition table has no statistics, and a join could read every
-- account for a one-transfer statement).
ALTER TABLE transfers DROP CONSTRAINT transfers_debit_unit_fkey,
    DROP CONSTRAINT transfers_credit_unit_fkey, DROP CONSTRAINT transfers_rule_version_fkey;
ALTER TABLE completions DROP CONSTRAINT completions_rule_version_fkey;

CREATE FUNCTION transfers_references () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT x.source, x.debit, x.credit, x.unit, x.rule_version INTO bad FROM new_transfers x
    WHERE (SELECT a.unit FROM accounts a WHERE a.id = x.debit) IS DISTINCT FROM x.unit
       OR (SELECT a.unit FROM accounts a WHERE a.id = x.credit) IS DISTINCT FROM x.unit
       OR (x.rule_version IS NOT NULL
           AND (SELECT r.version FROM rules r WHERE r.version = x.rule_version) IS NULL)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'transfer % names what does not exist: debit account %, credit account % of unit %, rule version %',
            bad.source, bad.debit, bad.credit, bad.unit, bad.rule_version
            USING ERRCODE = '23503';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER transfers_references AFTER INSERT ON transfers
    REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION transfers_references ();

CREATE FUNCTION completions_references () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT x.record_id, x.rule_version INTO bad FROM new_completions x
    WHERE (SELECT r.version FROM rules r WHERE r.version = x.rule_version) IS NULL
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'completion of record % names rule version %, which does not exist',
            bad.record_id, bad.rule_version USING ERRCODE = '23503';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER completions_references AFTER INSERT ON completions
    REFERENCING NEW TABLE AS new_completions
    FOR EACH STATEMENT EXECUTE FUNCTION completions_references ();

-- What transfers and completions name stays: no account or rule deleted, none's key changed.
CREATE FUNCTION referenced_kept () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% of %s refused: transfers and completions name them', TG_OP, TG_TABLE_NAME
        USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER accounts_kept BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION referenced_kept ();
CREATE TRIGGER accounts_keys_kept BEFORE UPDATE OF id, unit ON accounts
    FOR EACH ROW WHEN (OLD.id <> NEW.id OR OLD.unit <> NEW.unit)
    EXECUTE FUNCTION referenced_kept ();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION referenced_kept ();
CREATE TRIGGER rules_kept BEFORE DELETE ON rules
    FOR EACH ROW EXECUTE FUNCTION referenced_kept ();
CREATE TRIGGER rules_keys_kept BEFORE UPDATE OF version ON rules
    FOR EACH ROW WHEN (OLD.version <> NEW.version)
    EXECUTE FUNCTION referenced_kept ();
CREATE TRIGGER rules_no_truncate BEFORE TRUNCATE ON rules
    FOR EACH STATEMENT EXECUTE FUNCTION referenced_kept ();

-- The lots trigger (0006_batch_post.sql) as before, each credit's owner looked up once (it
-- was twice: in the filter and in the row), by a probe of the account's key (a scalar
-- subquery: the plan is cached for the session, and a join planned against a small accounts
-- table would read all of them per statement later), and each expiry computed once per rule
-- version and day rather than once per credit.
CREATE OR REPLACE FUNCTION transfers_lots () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    need bigint;
    l record;
    take bigint;
BEGIN
    WITH m AS MATERIALIZED (
        SELECT x.id, x.amount, x.day, x.at, x.rule_version,
               (SELECT a.volunteer_id FROM accounts a WHERE a.id = x.credit
                AND a.kind = 'volunteer') AS owner
        FROM new_transfers x WHERE x.unit = 'points'),
    n AS MATERIALIZED (SELECT * FROM m WHERE m.owner IS NOT NULL),
    e AS MATERIALIZED (SELECT k.rule_version, k.day, expiry_date (r, k.day) AS expires
          FROM (SELECT DISTINCT n.rule_version, n.day FROM n
                WHERE n.rule_version IS NOT NULL) k
          JOIN rules r ON r.version = k.rule_version)
    INSERT INTO lots (transfer_id, volunteer_id, amount, remaining, earned_on, expires_on)
        SELECT n.id, n.owner, n.amount, n.amount, n.day,
               CASE WHEN n.rule_version IS NOT NULL THEN e.expires
                    ELSE expiry_date (rule_at (volunteer_region (n.owner), n.at), n.day) END
        FROM n LEFT JOIN e ON e.rule_version = n.rule_version AND e.day = n.day;
    FOR t IN WITH m AS MATERIALIZED (
                 SELECT x.id, x.amount, x.kind, x.day, x.source,
                        (SELECT a.volunteer_id FROM accounts a WHERE a.id = x.debit
                         AND a.kind = 'volunteer') AS owner
                 FROM new_transfers x WHERE x.unit = 'points')
             SELECT m.amount, m.kind, m.day, m.source, m.owner FROM m
             WHERE m.owner IS NOT NULL ORDER BY m.id LOOP
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

-- earn_completions (0006_batch_post.sql) as before, with no plan that reads what the books
-- hold rather than what the page names: a page's new records found by a probe of
-- completions' key each (it hashed every completion posted), the points accounts it makes
-- by a probe each (it read every volunteer's), each volunteer's region as volunteer_region
-- finds it, inline (a function call per volunteer); and no JIT, whose compiling cost more
-- than the statements it compiled (about 90 ms a page, for the star levels' statement alone,
-- whose estimate crossed jit_above_cost).
CREATE OR REPLACE FUNCTION earn_completions (p_records bigint[], p_volunteers bigint[], p_requests bigint[],
                                  p_regions text[], p_minutes integer[],
                                  p_checkouts timestamptz[], p_cared boolean[], p_seqs bigint[])
RETURNS TABLE (event text, volunteer_id bigint, kind text, amount bigint, balance bigint,
               rule_version bigint, source text, record_id bigint, request_id bigint,
               level integer, minutes bigint)
LANGUAGE plpgsql SET jit = off AS $$
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
        WHERE (SELECT a.id FROM accounts a WHERE a.volunteer_id = v AND a.kind = 'volunteer'
               AND a.unit = 'points') IS NULL
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
              WHERE (SELECT c.record_id FROM completions c WHERE c.record_id = f.rec) IS NULL),
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
    vr AS MATERIALIZED (SELECT v.vol,
                               coalesce ((SELECT x.region FROM volunteers x WHERE x.id = v.vol),
                                         (SELECT c.region FROM completions c
                                          WHERE c.volunteer_id = v.vol
                                          ORDER BY c.record_id DESC LIMIT 1), '') AS region
                        FROM unnest (vols) v (vol)),
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

-- completion_transfers (0006_batch_post.sql) as before, the hours accounts it makes found by
-- a probe each (it read every volunteer's), and no JIT.
CREATE OR REPLACE FUNCTION completion_transfers (c_ord bigint[], c_rec bigint[], c_vol bigint[],
                                      c_req bigint[], c_reg text[], c_min integer[],
                                      c_pts bigint[], c_ver bigint[], c_day date[],
                                      c_seq bigint[])
RETURNS TABLE (event text, volunteer_id bigint, kind text, amount bigint, balance bigint,
               rule_version bigint, source text, record_id bigint, request_id bigint,
               level integer, minutes bigint)
LANGUAGE plpgsql SET jit = off AS $$
#variable_conflict use_column
BEGIN
    -- The accounts the transfers need, made if new, then all locked in id order.
    INSERT INTO accounts (kind, volunteer_id, unit)
        SELECT DISTINCT 'volunteer', x.v, 'hours' FROM unnest (c_vol, c_min) x (v, m)
        WHERE x.m > 0 AND (SELECT a.id FROM accounts a WHERE a.volunteer_id = x.v
                           AND a.kind = 'volunteer' AND a.unit = 'hours') IS NULL
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

-- No JIT in the ledger's sessions: its statements are short (a page of postings, a
-- statement, a journal page), and where an estimate crosses jit_above_cost the compiling
-- costs more than it saves (the star levels' statement above: about 90 ms of JIT a page, for
-- a statement that runs in a few). Sessions opened after this migration, as the service's
-- workers are; the posting functions above say so themselves.
DO $$
BEGIN
    EXECUTE format ('ALTER ROLE CURRENT_USER IN DATABASE %I SET jit = off', current_database ());
END
$$;
