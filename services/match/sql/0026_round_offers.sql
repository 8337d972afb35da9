-- 0026_round_offers.sql — a round's writes touch fewer indexes (issue 24).

-- requests_resident_day (resident_id, category, earliest_start) serves every lookup by
-- resident this one served; every write of a request (a round moves thousands to matching)
-- updated both.
DROP INDEX requests_resident;
