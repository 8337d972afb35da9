-- 0017_manual_assignments.sql — offer.assign: a region or station admin assigns a volunteer
-- to a request by hand (where the dispatch rules allow it). The assignment is an accepted
-- offer like any other; this keeps who made it, why and when, for as long as the offer.
CREATE TABLE manual_assignments (
    offer_id      bigint PRIMARY KEY REFERENCES offers,
    request_id    bigint NOT NULL REFERENCES requests,
    volunteer_id  bigint NOT NULL REFERENCES supply,
    actor         text NOT NULL CHECK (length (actor) BETWEEN 1 AND 64),
    actor_role    text NOT NULL CHECK (length (actor_role) BETWEEN 1 AND 32),
    reason        text NOT NULL CHECK (length (reason) BETWEEN 2 AND 500),
    at            timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX manual_assignments_request ON manual_assignments (request_id);
