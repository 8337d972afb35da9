-- 0005_expiry_reports.sql — points expiry, the status registry gives each volunteer, and
-- what rankings and stats read (issue 20).
--
-- Expiry: a region's rule may say that points expire, on a fixed day each year ('fixed',
-- expiry_day 'MM-DD': the first such day on or after the day they were earned) or N months
-- after it ('months'); inherited down the tree and versioned as the other rule fields, and a
-- lot's expiry is set by the version that priced it, so a rule change never shortens points
-- already earned. Every credit to a volunteer's points is a lot; every debit takes the oldest
-- lots first (FIFO by the day earned), so what expires is what is left of the oldest points.
-- The ledger's worker posts one 'expire' transfer per volunteer and day due (expire_due).

ALTER TABLE rules
    ADD COLUMN expiry text NOT NULL DEFAULT 'none' CHECK (expiry IN ('none', 'fixed', 'months')),
    ADD COLUMN expiry_day text CHECK (expiry_day ~ '^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'),
    ADD COLUMN expiry_months integer CHECK (expiry_months BETWEEN 1 AND 120),
    ADD CONSTRAINT rules_expiry_whole CHECK ((expiry <> 'fixed' OR expiry_day IS NOT NULL)
                                             AND (expiry <> 'months' OR expiry_months IS NOT NULL));

-- The journal's kinds gain 'expire'. The list is read from the check on kind as it stands
-- (an earlier migration may have added kinds of its own, or named the check otherwise), not
-- written out again here.
DO $$
DECLARE
    c record;
    kinds text[] := '{expire}';
BEGIN
    FOR c IN SELECT conname, pg_get_constraintdef (oid) AS def FROM pg_constraint
             WHERE conrelid = 'transfers'::regclass AND contype = 'c'
               AND pg_get_constraintdef (oid) ~ '^CHECK \(+kind = ANY' LOOP
        kinds := kinds || ARRAY (SELECT m[1] FROM regexp_matches (c.def, '''([a-z_]+)''', 'g') m);
        EXECUTE format ('ALTER TABLE transfers DROP CONSTRAINT %I', c.conname);
    END LOOP;
    EXECUTE format ('ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check'
                    ' CHECK (kind = ANY (%L::text[]))',
                    ARRAY (SELECT DISTINCT k FROM unnest (kinds) k ORDER BY k));
END
$$;

-- The day in Asia/Shanghai.
CREATE FUNCTION shanghai_today () RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT (now () AT TIME ZONE 'Asia/Shanghai')::date
$$;

-- Day 'MM-DD' of year y (29 February is the 28th in other years).
CREATE FUNCTION month_day (p_md text, y integer) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT make_date (y, m, least (d, extract (day FROM make_date (y, m, 1)
                                               + interval '1 month - 1 day')::integer))
    FROM (SELECT split_part (p_md, '-', 1)::integer AS m, split_part (p_md, '-', 2)::integer AS d) x
$$;

-- The last day points earned on `earned` are good for under rule r; NULL: they never expire.
CREATE FUNCTION expiry_date (r rules, earned date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE r.expiry
        WHEN 'months' THEN (earned + make_interval (months => r.expiry_months))::date
        WHEN 'fixed' THEN CASE
            WHEN month_day (r.expiry_day, extract (year FROM earned)::integer) >= earned
            THEN month_day (r.expiry_day, extract (year FROM earned)::integer)
            ELSE month_day (r.expiry_day, extract (year FROM earned)::integer + 1) END
    END
$$;

-- A volunteer's points by where they came from: one lot per credit, what is left of it, the
-- day earned (the transfer's service day) and the last day it is good for. The remaining of
-- a volunteer's lots sum to their points balance.
CREATE TABLE lots (
    transfer_id  bigint PRIMARY KEY,
    volunteer_id bigint NOT NULL,
    amount       bigint NOT NULL CHECK (amount > 0),
    remaining    bigint NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    earned_on    date NOT NULL,
    expires_on   date
);
CREATE INDEX lots_open ON lots (volunteer_id, earned_on, transfer_id) WHERE remaining > 0;
CREATE INDEX lots_due ON lots (expires_on) WHERE remaining > 0 AND expires_on IS NOT NULL;

-- Points held before lots existed: one lot per volunteer of their balance, never expiring.
INSERT INTO lots (transfer_id, volunteer_id, amount, remaining, earned_on, expires_on)
SELECT (SELECT max (t.id) FROM transfers t WHERE t.credit = a.id), a.volunteer_id, a.balance,
       a.balance, shanghai_today (), NULL
FROM accounts a WHERE a.kind = 'volunteer' AND a.unit = 'points' AND a.balance > 0;

-- Each points transfer moves lots: a credit to a volunteer makes one, a debit from a volunteer
-- takes the oldest first (an expiry only those due by its day). Fails when the lots do not
-- cover a debit: the books and the lots never part.
CREATE FUNCTION transfers_lots () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    owner bigint;
    r rules;
    need bigint;
    l record;
    take bigint;
BEGIN
    SELECT volunteer_id INTO owner FROM accounts WHERE id = NEW.credit AND kind = 'volunteer';
    IF owner IS NOT NULL THEN
        IF NEW.rule_version IS NOT NULL THEN
            SELECT * INTO r FROM rules WHERE version = NEW.rule_version;
        ELSE
            r := rule_at (volunteer_region (owner), NEW.at);
        END IF;
        INSERT INTO lots VALUES (NEW.id, owner, NEW.amount, NEW.amount, NEW.day,
                                 expiry_date (r, NEW.day));
    END IF;
    SELECT volunteer_id INTO owner FROM accounts WHERE id = NEW.debit AND kind = 'volunteer';
    IF owner IS NOT NULL THEN
        need := NEW.amount;
        FOR l IN SELECT transfer_id, remaining FROM lots
                 WHERE volunteer_id = owner AND remaining > 0
                   AND (NEW.kind <> 'expire' OR expires_on <= NEW.day)
                 ORDER BY earned_on, transfer_id FOR UPDATE LOOP
            EXIT WHEN need = 0;
            take := least (need, l.remaining);
            UPDATE lots SET remaining = remaining - take WHERE transfer_id = l.transfer_id;
            need := need - take;
        END LOOP;
        IF need > 0 THEN
            RAISE EXCEPTION 'the points lots of volunteer % lack % of transfer %', owner, need,
                NEW.source USING ERRCODE = '23514';
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER transfers_lots AFTER INSERT ON transfers
    FOR EACH ROW WHEN (NEW.unit = 'points') EXECUTE FUNCTION transfers_lots ();

-- The worker: up to p_limit volunteers with points due (good until before today, Asia/
-- Shanghai), each claimed by locking their points account and skipped when another ledger
-- process (or a spend) holds it; per volunteer and last good day, one 'expire' transfer of
-- what is left of the lots due, but never points a reservation holds (balance - pending: the
-- rest of those lots expires once the hold is voided, or is spent by its fulfilment). Sourced
-- by the volunteer, the day, the newest lot and the amount, so a batch claimed again after a
-- crash posts nothing new. The transfers made, as rows.
CREATE FUNCTION expire_due (p_limit integer)
RETURNS TABLE (volunteer_id bigint, amount bigint, expired_on date, balance bigint, source text)
LANGUAGE plpgsql AS $$
DECLARE
    today date := shanghai_today ();
    v bigint;
    vp bigint;
    free bigint;
    take bigint;
    g record;
    p record;
    src text;
BEGIN
    FOR v IN SELECT DISTINCT l.volunteer_id FROM lots l
             WHERE l.remaining > 0 AND l.expires_on < today LIMIT p_limit LOOP
        SELECT a.id, a.balance - a.pending INTO vp, free FROM accounts a
        WHERE a.volunteer_id = v AND a.kind = 'volunteer' AND a.unit = 'points'
        FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN vp IS NULL;
        FOR g IN SELECT l.expires_on AS day, sum (l.remaining)::bigint AS amount,
                        max (l.transfer_id) AS last
                 FROM lots l WHERE l.volunteer_id = v AND l.remaining > 0 AND l.expires_on < today
                 GROUP BY l.expires_on ORDER BY l.expires_on LOOP
            take := least (g.amount, free);
            EXIT WHEN take <= 0;
            src := 'ledger/expiry/volunteer/' || v || '/' || g.day || '/' || g.last || '/' || take;
            SELECT * INTO p FROM post (vp, account_of ('expiry', NULL, volunteer_region (v), 'points'),
                                       'points', take, 'expire', src, v, NULL, false, NULL,
                                       'good until ' || g.day, NULL, g.day, NULL);
            free := free - take;
            IF p.transfer_id IS NOT NULL THEN
                volunteer_id := v;
                amount := take;
                expired_on := g.day;
                balance := p.debit_after;
                source := src;
                RETURN NEXT;
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- Registry's status of each volunteer (active, suspended, left): a volunteer who left keeps
-- their books and statement; rankings show only those active.
ALTER TABLE volunteers ADD COLUMN status text NOT NULL DEFAULT 'active';

-- Rankings and stats read a period's transfers by their service day.
CREATE INDEX transfers_day ON transfers (day, unit);

-- account_of as before, but each lookup by its unique index (a volunteer's, or a region's
-- system account): "IS NOT DISTINCT FROM" could use no index and read every account, several
-- times per event posted.
CREATE OR REPLACE FUNCTION account_of (p_kind text, p_volunteer bigint, p_region text, p_unit text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    a bigint;
BEGIN
    FOR attempt IN 1 .. 2 LOOP
        IF p_volunteer IS NOT NULL THEN
            SELECT id INTO a FROM accounts WHERE volunteer_id = p_volunteer AND kind = p_kind
                AND unit = p_unit;
        ELSE
            SELECT id INTO a FROM accounts WHERE region = p_region AND kind = p_kind
                AND unit = p_unit;
        END IF;
        EXIT WHEN a IS NOT NULL OR attempt = 2;
        INSERT INTO accounts (kind, volunteer_id, region, unit)
            VALUES (p_kind, p_volunteer, p_region, p_unit) ON CONFLICT DO NOTHING RETURNING id INTO a;
        EXIT WHEN a IS NOT NULL;
    END LOOP;
    RETURN a;
END
$$;

-- post as before, without a subtransaction. The EXCEPTION block it had made one per transfer;
-- in a consumer's batch the region's system account, updated by every transfer, then took
-- longer to update each time (0.7 ms a transfer after 300, 2.4 ms after 900: the bench's
-- figure). The source's uniqueness now answers with ON CONFLICT DO NOTHING (waiting for a
-- transaction posting the same source at once), and the balances it moved go back.
CREATE OR REPLACE FUNCTION post (p_debit bigint, p_credit bigint, p_unit text, p_amount bigint,
                                 p_kind text, p_source text, p_volunteer bigint, p_rule bigint,
                                 p_manual boolean, p_reason text, p_ref text, p_by text,
                                 p_day date, p_seq bigint)
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
    -- Both rows in id order, so that two posts never wait on each other in a circle; an
    -- overdraw fails here on accounts_not_negative.
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
        ON CONFLICT ON CONSTRAINT transfers_source DO NOTHING
        RETURNING id INTO t;
    IF t IS NULL THEN
        -- Posted meanwhile by another transaction: the balances as they were.
        UPDATE accounts SET balance = balance + p_amount WHERE id = p_debit;
        UPDATE accounts SET balance = balance - p_amount WHERE id = p_credit;
        RETURN;
    END IF;
    transfer_id := t;
    debit_after := d;
    credit_after := c;
    RETURN NEXT;
END
$$;
