-- 0016_reserve_new_account.sql — redemption.reserve by a volunteer who never had a point.
--
-- redemption_reserve (0004) found the volunteer's points account and locked it in one
-- statement: `WHERE id = account_of (...) FOR UPDATE`. When account_of made the account there
-- and then, the new row was not in that statement's snapshot (taken before the call), so the
-- read found nothing, `available` was NULL, `available < total` was not true, and the
-- reservation went on to hold() — which saw the empty account, refused, and the op failed as
-- an internal error ("changed under a lock") instead of a refusal for want of points. Now the
-- account is made first and read in a statement of its own (ledger_shop_test: "no points
-- ever"; ledger_random_test found it). The rest is 0004's function unchanged.
CREATE OR REPLACE FUNCTION redemption_reserve (p_item bigint, p_volunteer bigint, p_region text,
                                    p_quantity integer, p_source text)
RETURNS TABLE (outcome text, redemption_id bigint, price bigint, stock bigint, available bigint,
               used bigint, lim integer, period text)
LANGUAGE plpgsql AS $$
DECLARE
    i items;
    a accounts;
    acct bigint;
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
    acct := account_of ('volunteer', p_volunteer, NULL, 'points');
    SELECT * INTO a FROM accounts WHERE accounts.id = acct FOR UPDATE;
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
