-- 0010_posting_hot.sql — a transfer posted with less work (issue 20, "Benchmarks": posting and
-- ledger.adjust).
--
-- rule_at, volunteer_region and volunteer_minutes were SQL functions that PostgreSQL cannot
-- inline (a row with ORDER BY and LIMIT; subqueries; an aggregate): such a function is parsed
-- and planned again at every call. ledger.adjust called three of them (its scope check, its
-- cap's rule), the stars two, the lots trigger one per credit without a rule version: in a
-- profile of ledger.adjust's backend, a third of its time went to parsing and planning them.
-- The same bodies in PL/pgSQL keep their plans for the session.
CREATE OR REPLACE FUNCTION rule_at (p_region text, p_at timestamptz) RETURNS rules
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r rules;
BEGIN
    SELECT * INTO r FROM rules
    WHERE left (p_region, length (prefix)) = prefix AND effective_from <= p_at
    ORDER BY length (prefix) DESC, version DESC LIMIT 1;
    RETURN r;
END
$$;

CREATE OR REPLACE FUNCTION volunteer_region (p_volunteer bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce ((SELECT region FROM volunteers WHERE id = p_volunteer),
                     (SELECT region FROM completions WHERE volunteer_id = p_volunteer
                      ORDER BY record_id DESC LIMIT 1), '');
END
$$;

CREATE OR REPLACE FUNCTION volunteer_minutes (p_volunteer bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce (sum (balance), 0)::bigint FROM accounts
            WHERE volunteer_id = p_volunteer AND unit = 'hours');
END
$$;

-- Every transfer updates two accounts rows. With full pages (fillfactor 100) few of those
-- updates found room for the new row version on its own page, so most were not HOT: each
-- added an entry to every index of accounts (four), and the lookups by them stepped over the
-- dead versions of hot rows (a region's issuance and adjustment accounts, updated by every
-- transfer). The bench: 11,920 updates of 2,003 rows, 2,323 HOT, the table in 120 pages.
-- Pages kept half empty leave the new version room beside the old (then 99% HOT, 45 pages).
ALTER TABLE accounts SET (fillfactor = 50);
-- The rows already there moved to pages of that fill (a rewrite, by the primary key).
CLUSTER accounts USING accounts_pkey;

-- ledger.adjust in one statement (it was five, each a round trip from the service): the
-- volunteer's account adjusted (points, or their honour hours), made if new and locked until
-- the adjustment commits (two at once take turns on the cap); the rule in force at the
-- volunteer's region; what officials adjusted of the unit for them today (Asia/Shanghai);
-- then, unless the daily cap, the balance or the points held for redemptions refuse it
-- (outcome 'cap', 'balance', 'held', with what the refusal says), the transfer posted
-- (outcome 'posted', the entry as ledger.journal shows it; 'posted_already' for a source
-- posted before). p_amount is signed: more (from the region's adjustment account) or a
-- correction (back to it).
CREATE FUNCTION adjust (p_volunteer bigint, p_unit text, p_amount bigint, p_region text,
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
    acct := account_of (CASE WHEN p_unit = 'hours' THEN 'honour' ELSE 'volunteer' END,
                        p_volunteer, NULL, p_unit);
    SELECT a.balance, a.pending INTO balance, pending FROM accounts a WHERE a.id = acct
        FOR UPDATE;
    r := rule_at (volunteer_region (p_volunteer), 'infinity');
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
