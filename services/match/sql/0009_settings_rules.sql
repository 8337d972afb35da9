-- 0009_settings_rules.sql — which region's setting wins. Review and the daily limit protect
-- residents and the stations' work: the strictest of the regions above applies (a county that
-- reviews every request cannot be switched off by one of its villages; a village may be
-- stricter than its county). Widening delays and the check-in radius describe the place: the
-- nearest region that sets them decides.
CREATE OR REPLACE FUNCTION region_settings_of (code text, OUT review_required boolean,
                                               OUT daily_limit integer,
                                               OUT widen_township_s integer,
                                               OUT widen_county_s integer,
                                               OUT checkin_radius_m integer)
LANGUAGE sql STABLE AS $$
    SELECT bool_or (review_required),
           min (daily_limit),
           (array_remove (array_agg (widen_township_s ORDER BY length (prefix) DESC), NULL))[1],
           (array_remove (array_agg (widen_county_s ORDER BY length (prefix) DESC), NULL))[1],
           (array_remove (array_agg (checkin_radius_m ORDER BY length (prefix) DESC), NULL))[1]
      FROM region_settings
     WHERE prefix IN (left (code, 2), left (code, 4), left (code, 6), left (code, 9), code)
$$;
