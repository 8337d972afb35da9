-- When a dispatch round last found a request no candidate at all (issue 18): such requests
-- go behind those not tried lately in the round's demand (match_dispatch_store.c,
-- plan_demand), so that many soon-starting requests nobody can fill do not take every place
-- of every round. NULL: it had candidates the last time it was read, or was never read.
ALTER TABLE requests ADD COLUMN no_candidates_at timestamptz;
