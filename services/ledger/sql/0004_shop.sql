-- 0004_shop.sql — the points store (积分超市, issue 20): two-phase transfers on the books
-- (TigerBeetle's pending transfers: a hold keeps points from being spent until it is posted
-- or voided), the store's items, redemptions and its settings by region.

-- ---------------------------------------------------------------------------------------
-- Holds

-- What an account holds for pending transfers: available = balance - pending, never below
-- zero for a volunteer, whatever path a change takes.
ALTER TABLE accounts
    ADD COLUMN pending bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT accounts_pending_not_negative CHECK (pending >= 0),
    ADD CONSTRAINT accounts_available_not_negative CHECK (volunteer_id IS NULL OR balance >= pending);

-- The journal gains the posting of a redemption.
ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check
    CHECK (kind IN ('credit', 'honour', 'earn', 'rating', 'adjust', 'redeem'));

-- A pending transfer: `amount` of `debit` held for `credit` (accounts.pending of the debit
-- account counts it) until it ends, once, in hold_ends: posted (the transfer of the journal
-- that moved it) or voided (nothing moved). Both tables are append-only, like the journal;
-- an account's pending is the sum of its holds with no end, which the audit recomputes.
CREATE TABLE holds (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    debit        bigint NOT NULL,
    credit       bigint NOT NULL,
    unit         text NOT NULL,
    amount       bigint NOT NULL CHECK (amount > 0),
    source       text NOT NULL,
    volunteer_id bigint NOT NULL,
    at           timestamptz NOT NULL DEFAULT now (),
    CHECK (debit <> credit),
    FOREIGN KEY (debit, unit) REFERENCES accounts (id, unit),
    FOREIGN KEY (credit, unit) REFERENCES accounts (id, unit),
    CONSTRAINT holds_source UNIQUE (source)
);
CREATE INDEX holds_debit ON holds (debit);

CREATE TABLE hold_ends (
    hold_id     bigint PRIMARY KEY REFERENCES holds,  -- one end per hold
    outcome     text NOT NULL CHECK (outcome IN ('posted', 'voided')),
    transfer_id bigint UNIQUE REFERENCES transfers,
    reason      text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now (),
    CHECK ((outcome = 'posted') = (transfer_id IS NOT NULL))
);

CREATE FUNCTION append_only () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER holds_no_update BEFORE UPDATE OR DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION append_only ();
CREATE TRIGGER holds_no_truncate BEFORE TRUNCATE ON holds
    FOR EACH STATEMENT EXECUTE FUNCTION append_only ();
CREATE TRIGGER hold_ends_no_update BEFORE UPDATE OR DELETE ON hold_ends
    FOR EACH ROW EXECUTE FUNCTION append_only ();
CREATE TRIGGER hold_ends_no_truncate BEFORE TRUNCATE ON hold_ends
    FOR EACH STATEMENT EXECUTE FUNCTION append_only ();

-- Holds p_amount of account p_debit for p_credit when what the account has available covers
-- it (a conditional update: two at once can never both pass on the same points). The hold's
-- id, or NULL when it does not (nothing changed).
CREATE FUNCTION hold (p_debit bigint, p_credit bigint, p_unit text, p_amount bigint,
                      p_source text, p_volunteer bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    h bigint;
BEGIN
    UPDATE accounts SET pending = pending + p_amount
        WHERE id = p_debit AND balance - pending >= p_amount;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO holds (debit, credit, unit, amount, source, volunteer_id)
        VALUES (p_debit, p_credit, p_unit, p_amount, p_source, p_volunteer) RETURNING id INTO h;
    RETURN h;
END
$$;

-- Posts hold p_hold: the held amount is released and moved by one transfer of the journal
-- (kind p_kind, sourced by the hold). The transfer's id. A hold that ended already fails on
-- hold_ends' key.
CREATE FUNCTION hold_post (p_hold bigint, p_kind text, p_reason text, p_ref text, p_by text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    h holds;
    t bigint;
BEGIN
    SELECT * INTO h FROM holds WHERE id = p_hold;
    UPDATE accounts SET pending = pending - h.amount WHERE id = h.debit;
    SELECT transfer_id INTO t FROM post (h.debit, h.credit, h.unit, h.amount, p_kind,
                                         'hold/' || h.id, h.volunteer_id, NULL, false, NULL,
                                         p_ref, p_by, (now () AT TIME ZONE 'Asia/Shanghai')::date,
                                         NULL);
    IF t IS NULL THEN
        RAISE EXCEPTION 'hold % was posted already', p_hold USING ERRCODE = '23505';
    END IF;
    INSERT INTO hold_ends (hold_id, outcome, transfer_id, reason) VALUES (p_hold, 'posted', t, p_reason);
    RETURN t;
END
$$;

-- Voids hold p_hold: the held amount is released, nothing moves.
CREATE FUNCTION hold_void (p_hold bigint, p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    h holds;
BEGIN
    SELECT * INTO h FROM holds WHERE id = p_hold;
    UPDATE accounts SET pending = pending - h.amount WHERE id = h.debit;
    INSERT INTO hold_ends (hold_id, outcome, reason) VALUES (p_hold, 'voided', p_reason);
END
$$;

-- A rating's cut takes no more than the volunteer has available: points held for a
-- redemption are not theirs to lose (as 0002_books.sql, but available, not balance).
CREATE OR REPLACE FUNCTION rate_record (p_record bigint, p_seq bigint)
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
        SELECT a.balance - a.pending INTO held FROM accounts a WHERE a.id = vp FOR UPDATE;
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

-- ---------------------------------------------------------------------------------------
-- The store

-- How long a reservation of a region's items is held, by region: the nearest region at or
-- above that sets it, else 7 days.
CREATE TABLE store_settings (
    region text PRIMARY KEY,
    prefix text NOT NULL,
    hold_s integer NOT NULL CHECK (hold_s BETWEEN 1 AND 7776000),
    set_by text,
    set_at timestamptz NOT NULL DEFAULT now ()
);

CREATE FUNCTION store_setting (p_region text)
RETURNS TABLE (hold_s integer, from_region text)
LANGUAGE sql STABLE AS $$
    SELECT coalesce (s.hold_s, 604800), coalesce (s.region, '')
    FROM (SELECT 1) one LEFT JOIN LATERAL (
        SELECT hold_s, region FROM store_settings WHERE left (p_region, length (prefix)) = prefix
        ORDER BY length (prefix) DESC LIMIT 1) s ON true
$$;

-- Items: a volunteer sees those of their region and of the regions above it (prefix: the
-- item's region's subtree prefix, which holds the volunteer's region). Stock never below
-- zero.
CREATE TABLE items (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('goods', 'service')),
    description    text,
    price_points   bigint NOT NULL CHECK (price_points > 0),
    stock          bigint NOT NULL CONSTRAINT items_stock_not_negative CHECK (stock >= 0),
    region         text NOT NULL,
    prefix         text NOT NULL,
    limit_quantity integer CHECK (limit_quantity > 0),
    limit_period   text CHECK (limit_period IN ('month', 'quarter', 'year')),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
    created_by     text,
    created_at     timestamptz NOT NULL DEFAULT now (),
    updated_at     timestamptz NOT NULL DEFAULT now (),
    CONSTRAINT items_limit CHECK ((limit_quantity IS NULL) = (limit_period IS NULL))
);
CREATE INDEX items_region ON items (region, id);

-- Redemptions: each holds its points by one hold and took its stock; it ends once, from
-- reserved to fulfilled (the hold posted), cancelled or expired (the hold voided, the stock
-- back). volunteer_region and region (the item's) as they were at the reservation.
CREATE TABLE redemptions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id          bigint NOT NULL REFERENCES items,
    volunteer_id     bigint NOT NULL,
    volunteer_region text NOT NULL,
    region           text NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    points           bigint NOT NULL CHECK (points > 0),
    hold_id          bigint NOT NULL UNIQUE REFERENCES holds,
    status           text NOT NULL DEFAULT 'reserved'
                     CHECK (status IN ('reserved', 'fulfilled', 'cancelled', 'expired')),
    created_at       timestamptz NOT NULL DEFAULT now (),
    expires_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    ended_by         text,
    CHECK ((status = 'reserved') = (ended_at IS NULL))
);
CREATE INDEX redemptions_due ON redemptions (expires_at) WHERE status = 'reserved';
CREATE INDEX redemptions_volunteer ON redemptions (volunteer_id, item_id, created_at);
CREATE INDEX redemptions_region ON redemptions (region, id);

-- A redemption ends once: only a reserved one changes, only its end.
CREATE FUNCTION redemptions_end_once () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'reserved' OR NEW.status = 'reserved'
       OR (NEW.item_id, NEW.volunteer_id, NEW.quantity, NEW.points, NEW.hold_id, NEW.created_at)
          IS DISTINCT FROM
          (OLD.item_id, OLD.volunteer_id, OLD.quantity, OLD.points, OLD.hold_id, OLD.created_at) THEN
        RAISE EXCEPTION 'redemption % is % and cannot change', OLD.id, OLD.status
            USING ERRCODE = '23P01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER redemptions_end_once BEFORE UPDATE ON redemptions
    FOR EACH ROW EXECUTE FUNCTION redemptions_end_once ();
CREATE TRIGGER redemptions_no_delete BEFORE DELETE ON redemptions
    FOR EACH ROW EXECUTE FUNCTION append_only ();

-- The first moment of the period (month, quarter, year) that holds p_at, in Asia/Shanghai.
CREATE FUNCTION period_start (p_period text, p_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT date_trunc (p_period, p_at AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'
$$;

-- redemption.reserve: volunteer p_volunteer of region p_region reserves p_quantity of item
-- p_item. One row: outcome 'reserved' (redemption_id the new one) or what refused it, with
-- what the refusal's message needs: 'no_item' (none, or not of the volunteer's region or
-- above), 'withdrawn', 'limit' (used of lim this period), 'points' (available less than the
-- price times the quantity), 'stock'. A refusal writes nothing the caller's rollback would
-- have to undo but the volunteer's empty account. The volunteer's account is locked first,
-- then the item's row (as a void does), so one volunteer's reservations take turns (the
-- limit counts what is committed) and the stock is taken by a conditional update.
CREATE FUNCTION redemption_reserve (p_item bigint, p_volunteer bigint, p_region text,
                                    p_quantity integer, p_source text)
RETURNS TABLE (outcome text, redemption_id bigint, price bigint, stock bigint, available bigint,
               used bigint, lim integer, period text)
LANGUAGE plpgsql AS $$
DECLARE
    i items;
    a accounts;
    total bigint;
    h bigint;
BEGIN
    SELECT * INTO i FROM items WHERE items.id = p_item;
    IF i.id IS NULL OR left (p_region, length (i.prefix)) <> i.prefix THEN
        outcome := 'no_item';
        RETURN NEXT;
        RETURN;
    END IF;
    price := i.price_points;
    lim := i.limit_quantity;
    period := i.limit_period;
    stock := i.stock;
    IF i.status <> 'active' THEN
        outcome := 'withdrawn';
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT * INTO a FROM accounts
        WHERE accounts.id = account_of ('volunteer', p_volunteer, NULL, 'points') FOR UPDATE;
    available := a.balance - a.pending;
    IF i.limit_quantity IS NOT NULL THEN
        SELECT coalesce (sum (r.quantity), 0) INTO used FROM redemptions r
            WHERE r.volunteer_id = p_volunteer AND r.item_id = p_item
            AND r.status IN ('reserved', 'fulfilled')
            AND r.created_at >= period_start (i.limit_period, now ());
        IF used + p_quantity > i.limit_quantity THEN
            outcome := 'limit';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    total := i.price_points * p_quantity;
    IF available < total THEN
        outcome := 'points';
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE items SET stock = items.stock - p_quantity
        WHERE items.id = p_item AND items.status = 'active' AND items.stock >= p_quantity
        RETURNING items.stock INTO stock;
    IF NOT FOUND THEN
        SELECT items.stock, items.status INTO stock, i.status FROM items WHERE items.id = p_item;
        outcome := CASE WHEN i.status = 'active' THEN 'stock' ELSE 'withdrawn' END;
        RETURN NEXT;
        RETURN;
    END IF;
    h := hold (a.id, account_of ('redemption', NULL, i.region, 'points'), 'points', total,
               p_source, p_volunteer);
    IF h IS NULL THEN
        RAISE EXCEPTION 'the points of volunteer % changed under a lock', p_volunteer;
    END IF;
    available := available - total;
    INSERT INTO redemptions (item_id, volunteer_id, volunteer_region, region, quantity, points,
                             hold_id, expires_at)
        SELECT p_item, p_volunteer, p_region, i.region, p_quantity, total, h,
               now () + make_interval (secs => s.hold_s) FROM store_setting (i.region) s
        RETURNING redemptions.id INTO redemption_id;
    -- The tickers plan their next wake-up again.
    PERFORM pg_notify ('ledger.redemptions', '');
    outcome := 'reserved';
    RETURN NEXT;
END
$$;

-- Ends reserved redemption p_id (the caller locked it and saw it reserved): 'fulfilled'
-- posts its hold (the points move to the redemption account of the item's region);
-- 'cancelled' and 'expired' void it and put the stock back. By p_by.
CREATE FUNCTION redemption_end (p_id bigint, p_status text, p_by text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r redemptions;
BEGIN
    SELECT * INTO r FROM redemptions WHERE id = p_id;
    IF p_status = 'fulfilled' THEN
        PERFORM hold_post (r.hold_id, 'redeem', p_status,
                           'redemption ' || r.id || ': ' || r.quantity || ' × item ' || r.item_id,
                           p_by);
    ELSE
        PERFORM hold_void (r.hold_id, p_status);
        UPDATE items SET stock = stock + r.quantity WHERE id = r.item_id;
    END IF;
    UPDATE redemptions SET status = p_status, ended_at = now (), ended_by = p_by WHERE id = p_id;
END
$$;
