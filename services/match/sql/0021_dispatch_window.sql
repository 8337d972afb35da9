-- 0021_dispatch_window.sql — a request is offered to volunteers free in any slot its window
-- touches, not only the slot its earliest start falls in: an order placed at night "as soon as
-- possible" (a window from now to the same time tomorrow) waited for nobody, since 22:00–06:00
-- is no slot, and a window of a whole week asked only for its first morning.

-- The weekly slots ("mon_am" .. "sun_ev", Asia/Shanghai: am 06–12, pm 12–18, ev 18–22) that
-- the window [t0, t1) overlaps, joined by the unit separator (0x1f), in time order; '' for none.
-- Seven days or more touch every slot.
CREATE FUNCTION dispatch_slots (t0 timestamptz, t1 timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce (string_agg (to_char (d, 'dy') || '_' || p.name, E'\x1f'
                                 ORDER BY d, p.h0), '')
      FROM generate_series (date_trunc ('day', t0 AT TIME ZONE 'Asia/Shanghai'),
                            date_trunc ('day', least (t1, t0 + interval '7 days')
                                        AT TIME ZONE 'Asia/Shanghai'),
                            interval '1 day') d,
           (VALUES ('am', 6, 12), ('pm', 12, 18), ('ev', 18, 22)) p (name, h0, h1)
     WHERE d + make_interval (hours => p.h0) < least (t1, t0 + interval '7 days')
                                                AT TIME ZONE 'Asia/Shanghai'
       AND d + make_interval (hours => p.h1) > t0 AT TIME ZONE 'Asia/Shanghai'
$$;
