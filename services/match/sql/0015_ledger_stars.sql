-- 0015_ledger_stars.sql — a volunteer's stars as the ledger publishes them (star.reached):
-- kept here by volunteer, so that a star read before registry's volunteer.registered is not
-- lost, and copied into supply.stars, which sign-ups and dispatch gate min_stars on.
CREATE TABLE ledger_stars (
    volunteer_id bigint PRIMARY KEY,
    stars integer NOT NULL CHECK (stars BETWEEN 0 AND 5),
    ledger_seq bigint NOT NULL
);
