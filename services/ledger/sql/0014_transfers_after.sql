-- 0014_transfers_after.sql — one trigger after an insert into the journal, and a path for a
-- statement of one transfer (issue 20, "Benchmarks": ledger.adjust through rpc, and posting).
--
-- An insert into transfers ran three statement triggers, each with the new rows as a
-- transition table: the references (0008), the lots (0008: two statements, the first of
-- three materialized CTEs) and the ranking totals (0013: a grouped, sorted upsert). For an
-- op's one transfer (ledger.adjust, a redemption's post) that was three trigger calls and
-- four statements planned for many rows: with the three disabled, a loop of adjust () took
-- 4.7 s per 1,000 where it took 7.8 s with them (one session, a machine at load 40: noisy).
--
-- Now one trigger does the three. A statement of many rows (a consumer's page) runs the
-- same set-based statements as before, in one call. A statement of one row reads its two
-- accounts in one probe each and then does only what the row needs: the references checked
-- on the values read, the rule version looked up only when it names one (the lot's expiry
-- needs it too), a lot made only for a points credit to a volunteer, lots taken only for a
-- points debit from one, the ranking total upserted only for a ranked kind. Same checks,
-- same errors (23503 for a reference, 23514 for lots that do not cover a debit), same rows:
-- one trigger call and two to four statements.
CREATE FUNCTION transfers_after () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    n_rows bigint;
    d_unit text;
    d_kind text;
    d_owner bigint;
    d_region text;
    c_unit text;
    c_kind text;
    c_owner bigint;
    c_region text;
    v_version bigint;
    expires date;
    t_id bigint;
    t_amount bigint;
    t_day date;
    need bigint;
    l record;
    take bigint;
    bad record;
BEGIN
    SELECT x.*, count (*) OVER () AS n INTO t FROM new_transfers x LIMIT 1;
    n_rows := coalesce (t.n, 0);
    IF n_rows = 0 THEN
        RETURN NULL;
    END IF;
    IF n_rows = 1 THEN
        -- The references, as transfers_references checks them, read in one statement with
        -- the rule version and the expiry a lot made by the transfer would have.
        SELECT d.unit, d.kind, d.volunteer_id, d.region, c.unit, c.kind, c.volunteer_id,
               c.region, r.version, expiry_date (r, o.day)
            INTO d_unit, d_kind, d_owner, d_region, c_unit, c_kind, c_owner, c_region,
                 v_version, expires
            FROM (SELECT t.debit AS debit, t.credit AS credit, t.rule_version AS version,
                         t.day AS day) o
            LEFT JOIN accounts d ON d.id = o.debit
            LEFT JOIN accounts c ON c.id = o.credit
            LEFT JOIN rules r ON r.version = o.version;
        IF d_unit IS DISTINCT FROM t.unit OR c_unit IS DISTINCT FROM t.unit
           OR (t.rule_version IS NOT NULL AND v_version IS NULL) THEN
            RAISE EXCEPTION 'transfer % names what does not exist: debit account %, credit account % of unit %, rule version %',
                t.source, t.debit, t.credit, t.unit, t.rule_version
                USING ERRCODE = '23503';
        END IF;
        -- The lots, as transfers_lots moves them: the credit first, then the debit. A
        -- transfer no rule version priced takes the expiry of the rule in force at the
        -- volunteer's region then.
        IF t.unit = 'points' AND c_kind = 'volunteer' THEN
            IF t.rule_version IS NULL THEN
                expires := expiry_date (rule_at (volunteer_region (c_owner), t.at), t.day);
            END IF;
            t_id := t.id;
            t_amount := t.amount;
            t_day := t.day;
            INSERT INTO lots (transfer_id, volunteer_id, amount, remaining, earned_on, expires_on)
                VALUES (t_id, c_owner, t_amount, t_amount, t_day, expires);
        END IF;
        IF t.unit = 'points' AND d_kind = 'volunteer' THEN
            need := t.amount;
            FOR l IN SELECT lots.transfer_id, lots.remaining FROM lots
                     WHERE lots.volunteer_id = d_owner AND lots.remaining > 0
                       AND (t.kind <> 'expire' OR lots.expires_on <= t.day)
                     ORDER BY lots.earned_on, lots.transfer_id FOR UPDATE LOOP
                EXIT WHEN need = 0;
                take := least (need, l.remaining);
                UPDATE lots SET remaining = remaining - take WHERE transfer_id = l.transfer_id;
                need := need - take;
            END LOOP;
            IF need > 0 THEN
                RAISE EXCEPTION 'the points lots of volunteer % lack % of transfer %', d_owner,
                    need, t.source USING ERRCODE = '23514';
            END IF;
        END IF;
        -- The ranking total, as transfers_ranking_totals adds it.
        IF (t.unit = 'hours' AND t.kind IN ('credit', 'honour'))
           OR (t.unit = 'points' AND t.kind IN ('earn', 'rating', 'adjust')) THEN
            INSERT INTO ranking_totals AS k (unit, period, starts, region, volunteer_id, amount,
                                             manual)
            SELECT t.unit, 'month', date_trunc ('month', t.day::timestamp)::date, s.region,
                   t.volunteer_id, sum (s.delta), CASE WHEN t.manual THEN sum (s.delta) ELSE 0 END
            FROM (VALUES (d_region, t.amount), (c_region, -t.amount)) s (region, delta)
            WHERE s.region IS NOT NULL
            GROUP BY s.region
            ORDER BY s.region
            ON CONFLICT (unit, period, starts, region, volunteer_id) DO UPDATE
                SET amount = k.amount + EXCLUDED.amount, manual = k.manual + EXCLUDED.manual;
        END IF;
        RETURN NULL;
    END IF;

    -- Many rows: the statements of transfers_references, transfers_lots and
    -- transfers_ranking_totals, in that order.
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

DROP TRIGGER transfers_lots ON transfers;
DROP TRIGGER transfers_ranking_totals ON transfers;
DROP TRIGGER transfers_references ON transfers;
CREATE TRIGGER transfers_after AFTER INSERT ON transfers REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION transfers_after ();

-- adjust (0010_posting_hot.sql) as before, two statements fewer: the rule read at p_region
-- (the caller passes the volunteer's region as it read it in this transaction, for
-- ledger.adjust's scope check; adjust looked it up again, volunteer_region, two statements),
-- and the volunteer's account found and locked at once (account_of, then a read FOR UPDATE).
CREATE OR REPLACE FUNCTION adjust (p_volunteer bigint, p_unit text, p_amount bigint, p_region text,
                        p_source text, p_reason text, p_ref text, p_by text)
RETURNS TABLE (outcome text, balance bigint, pending bigint, cap bigint, used bigint, id text,
               at text, unit text, amount bigint, balance_after bigint, kind text, reason text,
               ref text, manual boolean, rule_version bigint, source text)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    acct bigint;
    sys bigint;
    r rules;
    p record;
    size bigint := abs (p_amount);
    today date := (now () AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    -- The volunteer's account found and locked in one statement; made first if new.
    SELECT a.id, a.balance, a.pending INTO acct, balance, pending FROM accounts a
        WHERE a.volunteer_id = p_volunteer AND a.unit = p_unit
          AND a.kind = CASE WHEN p_unit = 'hours' THEN 'honour' ELSE 'volunteer' END
        FOR UPDATE;
    IF acct IS NULL THEN
        acct := account_of (CASE WHEN p_unit = 'hours' THEN 'honour' ELSE 'volunteer' END,
                            p_volunteer, NULL, p_unit);
        SELECT a.balance, a.pending INTO balance, pending FROM accounts a WHERE a.id = acct
            FOR UPDATE;
    END IF;
    r := rule_at (p_region, 'infinity');
    cap := CASE WHEN p_unit = 'hours' THEN r.adjust_cap_minutes ELSE r.adjust_cap_points END;
    SELECT coalesce (sum (t.amount), 0) INTO used FROM transfers t
        WHERE t.volunteer_id = p_volunteer AND t.unit = p_unit AND t.manual AND t.day = today;
    rule_version := r.version;
    outcome := CASE WHEN used + size > cap THEN 'cap'
                    WHEN p_amount < 0 AND balance < size THEN 'balance'
                    WHEN p_amount < 0 AND balance - pending < size THEN 'held' END;
    IF outcome IS NOT NULL THEN
        RETURN NEXT;
        RETURN;
    END IF;
    sys := account_of ('adjustment', NULL, p_region, p_unit);
    kind := CASE WHEN p_unit = 'hours' THEN 'honour' ELSE 'adjust' END;
    SELECT * INTO p FROM post (CASE WHEN p_amount > 0 THEN sys ELSE acct END,
                               CASE WHEN p_amount > 0 THEN acct ELSE sys END, p_unit, size, kind,
                               p_source, p_volunteer, r.version, true, p_reason, p_ref, p_by,
                               today, NULL);
    IF p.transfer_id IS NULL THEN
        outcome := 'posted_already';
        RETURN NEXT;
        RETURN;
    END IF;
    outcome := 'posted';
    id := p.transfer_id::text;
    at := rfc3339 (now ());  -- the transfer's at
    unit := p_unit;
    amount := p_amount;
    balance_after := CASE WHEN p_amount > 0 THEN p.credit_after ELSE p.debit_after END;
    reason := p_reason;
    ref := p_ref;
    manual := true;
    source := p_source;
    RETURN NEXT;
END
$$;

-- ledger.adjust's whole statement, one round trip where it was two: the volunteer's region
-- and whether the ledger knows them (what ledger_volunteer_known read), then, only when they
-- are known, have a region and it lies within p_scope (the actor's region prefix, as the
-- service computes it; NULL: every region), adjust at that region. The service checks the
-- scope again on the region returned (a refusal rolls the transaction back); adjust's
-- columns are NULL when it did not run.
CREATE FUNCTION adjust_in_scope (p_volunteer bigint, p_unit text, p_amount bigint, p_scope text,
                                 p_source text, p_reason text, p_ref text, p_by text)
RETURNS TABLE (region text, known boolean, outcome text, balance bigint, pending bigint,
               cap bigint, used bigint, id text, at text, unit text, amount bigint,
               balance_after bigint, kind text, reason text, ref text, manual boolean,
               rule_version bigint, source text)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    region := volunteer_region (p_volunteer);
    known := EXISTS (SELECT 1 FROM volunteers v WHERE v.id = p_volunteer)
             OR EXISTS (SELECT 1 FROM accounts a WHERE a.volunteer_id = p_volunteer);
    IF known AND region <> ''
       AND (p_scope IS NULL OR (p_scope <> '' AND left (region, length (p_scope)) = p_scope)) THEN
        RETURN QUERY SELECT region, known, j.* FROM adjust (p_volunteer, p_unit, p_amount, region,
                                                             p_source, p_reason, p_ref, p_by) j;
        RETURN;
    END IF;
    RETURN NEXT;
END
$$;
