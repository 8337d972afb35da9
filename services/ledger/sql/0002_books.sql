-- 0002_books.sql — the ledger's books (issue 20): accounts per volunteer and unit and per
-- region system accounts, an append-only journal of transfers with balances kept beside it
-- in the same transaction, earning rules by region and version, what the ledger knows of
-- registry's volunteers and of match's completions and ratings, the star levels reached.

CREATE FUNCTION rfc3339 (t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_char (t, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')
$$;

-- Registry's volunteers: the region a volunteer belongs to now (scope checks, which rule
-- sets their stars). A late event never overwrites a newer one.
CREATE TABLE volunteers (
    id           bigint PRIMARY KEY,
    region       text NOT NULL,
    registry_seq bigint NOT NULL
);

-- Earning rules, one row per version: rules.set copies what is in force at its region and
-- changes what it names, so every version is whole. A record is priced by the version in
-- force at its check-out time, at the nearest region (longest prefix) that has one then;
-- version 1, of the whole country (prefix ''), is the default. What does not price a record
-- (star thresholds, the adjustment caps) follows the newest version (rule_at at 'infinity').
CREATE TABLE rules (
    version            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region             text NOT NULL,       -- '' for the national default
    prefix             text NOT NULL,       -- the region's subtree prefix
    points_per_hour    integer NOT NULL CHECK (points_per_hour >= 0),
    multipliers        integer[] NOT NULL CHECK (cardinality (multipliers) = 5),  -- percent, by stars 1..5
    cared_bonus        integer NOT NULL CHECK (cared_bonus >= 0),
    daily_cap          integer NOT NULL CHECK (daily_cap >= 0),  -- points for hours a day; 0: none
    star_hours         integer[] NOT NULL CHECK (cardinality (star_hours) = 5),
    adjust_cap_points  integer NOT NULL CHECK (adjust_cap_points >= 0),
    adjust_cap_minutes integer NOT NULL CHECK (adjust_cap_minutes >= 0),
    -- Times on the wire are whole seconds: a version takes effect from the next whole second
    -- after it is set, so a check-out in the second it was set is priced by the one before.
    effective_from     timestamptz NOT NULL DEFAULT date_trunc ('second', now ()) + interval '1 second',
    set_by             text
);
CREATE INDEX rules_prefix ON rules (prefix, effective_from);
INSERT INTO rules (region, prefix, points_per_hour, multipliers, cared_bonus, daily_cap,
                   star_hours, adjust_cap_points, adjust_cap_minutes, effective_from, set_by)
VALUES ('', '', 10, '{100,100,100,110,120}', 5, 100, '{100,300,600,1000,1500}', 200, 480,
        '-infinity', 'default');

CREATE FUNCTION rule_at (p_region text, p_at timestamptz) RETURNS rules
LANGUAGE sql STABLE AS $$
    SELECT * FROM rules WHERE left (p_region, length (prefix)) = prefix AND effective_from <= p_at
    ORDER BY length (prefix) DESC, version DESC LIMIT 1
$$;

-- Accounts: a volunteer's (points; hours credited from confirmed records; honour hours
-- entered by an official) and a region's system accounts (issuance, adjustment, redemption,
-- expiry). A volunteer's balance never goes below zero.
CREATE TABLE accounts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('volunteer', 'honour', 'issuance', 'adjustment',
                                               'redemption', 'expiry')),
    volunteer_id bigint,
    region       text,
    unit         text NOT NULL CHECK (unit IN ('hours', 'points')),
    balance      bigint NOT NULL DEFAULT 0,
    CONSTRAINT accounts_owner CHECK ((kind IN ('volunteer', 'honour'))
                                     = (volunteer_id IS NOT NULL AND region IS NULL)),
    CONSTRAINT accounts_not_negative CHECK (volunteer_id IS NULL OR balance >= 0),
    CONSTRAINT accounts_honour_hours CHECK (kind <> 'honour' OR unit = 'hours'),
    UNIQUE (id, unit)
);
CREATE UNIQUE INDEX accounts_volunteer ON accounts (volunteer_id, kind, unit)
    WHERE volunteer_id IS NOT NULL;
CREATE UNIQUE INDEX accounts_system ON accounts (region, kind, unit) WHERE region IS NOT NULL;

-- The journal: one row per transfer between two accounts of its unit, never updated, never
-- deleted. source says what caused it (an event's business key, or an op's request id): the
-- same source applied twice is one transfer.
CREATE TABLE transfers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    debit        bigint NOT NULL,
    credit       bigint NOT NULL,
    unit         text NOT NULL,
    amount       bigint NOT NULL CHECK (amount > 0),
    kind         text NOT NULL CHECK (kind IN ('credit', 'honour', 'earn', 'rating', 'adjust')),
    source       text NOT NULL,
    volunteer_id bigint NOT NULL,
    rule_version bigint REFERENCES rules,
    manual       boolean NOT NULL DEFAULT false,
    reason       text,
    ref          text,
    by_account   text,
    day          date NOT NULL,          -- the service day (Asia/Shanghai) it counts against
    event_seq    bigint,                 -- the publisher's seq that caused it, if an event
    debit_after  bigint NOT NULL,
    credit_after bigint NOT NULL,
    at           timestamptz NOT NULL DEFAULT now (),
    CHECK (debit <> credit),
    CHECK (NOT manual OR reason IS NOT NULL),
    FOREIGN KEY (debit, unit) REFERENCES accounts (id, unit),
    FOREIGN KEY (credit, unit) REFERENCES accounts (id, unit),
    CONSTRAINT transfers_source UNIQUE (source, unit)
);
CREATE INDEX transfers_volunteer ON transfers (volunteer_id, unit, id);
CREATE INDEX transfers_debit ON transfers (debit);
CREATE INDEX transfers_credit ON transfers (credit);
CREATE INDEX transfers_manual_day ON transfers (volunteer_id, unit, day) WHERE manual;

CREATE FUNCTION transfers_immutable () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only: % of a transfer refused', TG_OP
        USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER transfers_no_update BEFORE UPDATE OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION transfers_immutable ();
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
    FOR EACH STATEMENT EXECUTE FUNCTION transfers_immutable ();

-- The account of a volunteer (p_volunteer) or a region (p_region), made on first use.
CREATE FUNCTION account_of (p_kind text, p_volunteer bigint, p_region text, p_unit text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    a bigint;
BEGIN
    SELECT id INTO a FROM accounts WHERE kind = p_kind AND unit = p_unit
        AND volunteer_id IS NOT DISTINCT FROM p_volunteer AND region IS NOT DISTINCT FROM p_region;
    IF a IS NULL THEN
        INSERT INTO accounts (kind, volunteer_id, region, unit)
            VALUES (p_kind, p_volunteer, p_region, p_unit) ON CONFLICT DO NOTHING RETURNING id INTO a;
        IF a IS NULL THEN
            SELECT id INTO a FROM accounts WHERE kind = p_kind AND unit = p_unit
                AND volunteer_id IS NOT DISTINCT FROM p_volunteer
                AND region IS NOT DISTINCT FROM p_region;
        END IF;
    END IF;
    RETURN a;
END
$$;

-- Posts one transfer and moves both balances, all or nothing: a source posted before makes
-- no change and returns no row; an overdraw fails on accounts_not_negative.
CREATE FUNCTION post (p_debit bigint, p_credit bigint, p_unit text, p_amount bigint, p_kind text,
                      p_source text, p_volunteer bigint, p_rule bigint, p_manual boolean,
                      p_reason text, p_ref text, p_by text, p_day date, p_seq bigint)
RETURNS TABLE (transfer_id bigint, debit_after bigint, credit_after bigint)
LANGUAGE plpgsql AS $$
DECLARE
    d bigint;
    c bigint;
    t bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM transfers WHERE source = p_source AND unit = p_unit) THEN
        RETURN;
    END IF;
    BEGIN
        -- Both rows in id order, so that two posts never wait on each other in a circle.
        IF p_debit < p_credit THEN
            UPDATE accounts SET balance = balance - p_amount WHERE id = p_debit RETURNING balance INTO d;
            UPDATE accounts SET balance = balance + p_amount WHERE id = p_credit RETURNING balance INTO c;
        ELSE
            UPDATE accounts SET balance = balance + p_amount WHERE id = p_credit RETURNING balance INTO c;
            UPDATE accounts SET balance = balance - p_amount WHERE id = p_debit RETURNING balance INTO d;
        END IF;
        INSERT INTO transfers (debit, credit, unit, amount, kind, source, volunteer_id,
                               rule_version, manual, reason, ref, by_account, day, event_seq,
                               debit_after, credit_after)
            VALUES (p_debit, p_credit, p_unit, p_amount, p_kind, p_source, p_volunteer, p_rule,
                    p_manual, p_reason, p_ref, p_by, p_day, p_seq, d, c)
            RETURNING id INTO t;
    EXCEPTION WHEN unique_violation THEN
        RETURN;  -- posted meanwhile by another transaction: the balances roll back with it
    END;
    transfer_id := t;
    debit_after := d;
    credit_after := c;
    RETURN NEXT;
END
$$;

-- Match's confirmed records as the ledger priced them: points is what the completion earned
-- for its hours (the daily cap applied), the base a rating scales.
CREATE TABLE completions (
    record_id    bigint PRIMARY KEY,
    volunteer_id bigint NOT NULL,
    request_id   bigint,
    region       text NOT NULL,
    minutes      integer NOT NULL CHECK (minutes >= 0),
    points       bigint NOT NULL CHECK (points >= 0),
    rule_version bigint NOT NULL REFERENCES rules,
    checkout_at  timestamptz NOT NULL,
    day          date NOT NULL,
    event_seq    bigint NOT NULL
);
CREATE INDEX completions_request ON completions (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX completions_day ON completions (volunteer_id, day);

-- Match's ratings of requests, whichever comes first, the rating or a completion.
CREATE TABLE ratings (
    request_id bigint PRIMARY KEY,
    stars      integer NOT NULL CHECK (stars BETWEEN 1 AND 5),
    event_seq  bigint NOT NULL
);

-- What a rating changes of one completion's points: the points scaled by the multiplier of
-- the rating's stars in the completion's own rule version, less the points; sourced by the
-- request and the record, so that a rating before or after the completion is the same
-- transfer. A cut takes no more than the volunteer holds.
CREATE FUNCTION rate_record (p_record bigint, p_seq bigint)
RETURNS TABLE (volunteer_id bigint, kind text, amount bigint, balance bigint, rule_version bigint,
               source text, record_id bigint, request_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    c completions;
    g ratings;
    m integer;
    adj bigint;
    vp bigint;
    sys bigint;
    p record;
    src text;
    held bigint;
BEGIN
    SELECT * INTO c FROM completions WHERE completions.record_id = p_record;
    IF c.record_id IS NULL OR c.request_id IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO g FROM ratings WHERE ratings.request_id = c.request_id;
    IF g.request_id IS NULL THEN
        RETURN;
    END IF;
    SELECT multipliers[g.stars] INTO m FROM rules WHERE version = c.rule_version;
    adj := round (c.points * m / 100.0)::bigint - c.points;
    vp := account_of ('volunteer', c.volunteer_id, NULL, 'points');
    sys := account_of ('issuance', NULL, c.region, 'points');
    IF adj < 0 THEN
        SELECT a.balance INTO held FROM accounts a WHERE a.id = vp FOR UPDATE;
        adj := -least (-adj, held);
    END IF;
    IF adj = 0 THEN
        RETURN;
    END IF;
    src := 'match/service.rated/request/' || c.request_id || '/record/' || c.record_id;
    IF adj > 0 THEN
        SELECT * INTO p FROM post (sys, vp, 'points', adj, 'rating', src, c.volunteer_id,
                                   c.rule_version, false, NULL, g.stars || ' stars', NULL, c.day,
                                   p_seq);
        balance := p.credit_after;
    ELSE
        SELECT * INTO p FROM post (vp, sys, 'points', -adj, 'rating', src, c.volunteer_id,
                                   c.rule_version, false, NULL, g.stars || ' stars', NULL, c.day,
                                   p_seq);
        balance := p.debit_after;
    END IF;
    IF p.transfer_id IS NULL THEN
        RETURN;
    END IF;
    volunteer_id := c.volunteer_id;
    kind := 'rating';
    amount := adj;
    rule_version := c.rule_version;
    source := src;
    record_id := c.record_id;
    request_id := c.request_id;
    RETURN NEXT;
END
$$;

-- service.completed: the confirmed minutes as credit hours, and points by the rule in force
-- at the check-out time in the record's region (points per hour, a bonus for serving a
-- group cared for first, the daily cap of the check-out's day in Asia/Shanghai), then the
-- rating's adjustment if the rating came first. The points transfers made, as rows.
CREATE FUNCTION earn_completion (p_record bigint, p_volunteer bigint, p_request bigint,
                                 p_region text, p_minutes integer, p_checkout timestamptz,
                                 p_cared boolean, p_seq bigint)
RETURNS TABLE (volunteer_id bigint, kind text, amount bigint, balance bigint, rule_version bigint,
               source text, record_id bigint, request_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r rules;
    d date;
    vp bigint;
    base bigint;
    earned bigint;
    pts bigint;
    src text;
    p record;
BEGIN
    -- One volunteer's completions one at a time: the daily cap counts what is committed.
    vp := account_of ('volunteer', p_volunteer, NULL, 'points');
    PERFORM 1 FROM accounts a WHERE a.id = vp FOR UPDATE;
    IF EXISTS (SELECT 1 FROM completions c WHERE c.record_id = p_record) THEN
        RETURN;
    END IF;
    r := rule_at (p_region, p_checkout);
    d := (p_checkout AT TIME ZONE 'Asia/Shanghai')::date;
    base := (p_minutes::bigint * r.points_per_hour) / 60
            + CASE WHEN p_cared THEN r.cared_bonus ELSE 0 END;
    SELECT coalesce (sum (c.points), 0) INTO earned FROM completions c
        WHERE c.volunteer_id = p_volunteer AND c.day = d;
    pts := CASE WHEN r.daily_cap = 0 THEN base ELSE least (base, greatest (0, r.daily_cap - earned)) END;
    INSERT INTO completions VALUES (p_record, p_volunteer, p_request, p_region, p_minutes, pts,
                                    r.version, p_checkout, d, p_seq);
    src := 'match/service.completed/record/' || p_record;
    IF p_minutes > 0 THEN
        PERFORM post (account_of ('issuance', NULL, p_region, 'hours'),
                      account_of ('volunteer', p_volunteer, NULL, 'hours'), 'hours',
                      p_minutes, 'credit', src, p_volunteer, r.version, false, NULL,
                      'record ' || p_record, NULL, d, p_seq);
    END IF;
    IF pts > 0 THEN
        SELECT * INTO p FROM post (account_of ('issuance', NULL, p_region, 'points'), vp, 'points',
                                   pts, 'earn', src, p_volunteer, r.version, false, NULL,
                                   'record ' || p_record, NULL, d, p_seq);
        IF p.transfer_id IS NOT NULL THEN
            volunteer_id := p_volunteer;
            kind := 'earn';
            amount := pts;
            balance := p.credit_after;
            rule_version := r.version;
            source := src;
            record_id := p_record;
            request_id := p_request;
            RETURN NEXT;
        END IF;
    END IF;
    RETURN QUERY SELECT * FROM rate_record (p_record, p_seq);
END
$$;

-- service.rated: the rating kept, and each completion of its request adjusted.
CREATE FUNCTION rate_request (p_request bigint, p_stars integer, p_seq bigint)
RETURNS TABLE (volunteer_id bigint, kind text, amount bigint, balance bigint, rule_version bigint,
               source text, record_id bigint, request_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    rec bigint;
BEGIN
    INSERT INTO ratings VALUES (p_request, p_stars, p_seq) ON CONFLICT DO NOTHING;
    FOR rec IN SELECT c.record_id FROM completions c WHERE c.request_id = p_request
               ORDER BY c.record_id LOOP
        RETURN QUERY SELECT * FROM rate_record (rec, p_seq);
    END LOOP;
END
$$;

-- Star levels reached, each once: from credit and honour hours together, by the thresholds
-- of the rule in force now at the volunteer's region (registry's, else where they served).
CREATE TABLE star_levels (
    volunteer_id bigint NOT NULL,
    level        integer NOT NULL CHECK (level BETWEEN 1 AND 5),
    minutes      bigint NOT NULL,
    reached_at   timestamptz NOT NULL DEFAULT now (),
    PRIMARY KEY (volunteer_id, level)
);

CREATE FUNCTION volunteer_region (p_volunteer bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce ((SELECT region FROM volunteers WHERE id = p_volunteer),
                     (SELECT region FROM completions WHERE volunteer_id = p_volunteer
                      ORDER BY record_id DESC LIMIT 1), '')
$$;

CREATE FUNCTION volunteer_minutes (p_volunteer bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce (sum (balance), 0)::bigint FROM accounts
    WHERE volunteer_id = p_volunteer AND unit = 'hours'
$$;

CREATE FUNCTION stars_reach (p_volunteer bigint)
RETURNS TABLE (level integer, minutes bigint)
LANGUAGE plpgsql AS $$
DECLARE
    total bigint := volunteer_minutes (p_volunteer);
    thresholds integer[] := (rule_at (volunteer_region (p_volunteer), 'infinity')).star_hours;
BEGIN
    RETURN QUERY
    INSERT INTO star_levels AS s (volunteer_id, level, minutes)
        SELECT p_volunteer, l, total FROM generate_subscripts (thresholds, 1) AS l
        WHERE total >= thresholds[l]::bigint * 60
    ON CONFLICT DO NOTHING RETURNING s.level, s.minutes;
END
$$;
