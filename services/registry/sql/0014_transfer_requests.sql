-- 0014_transfer_requests.sql — transfer requests with an id, a reason and an outcome
-- (issue 22: listed and declined by the destination's admins).

-- A transfer request is kept once answered: accepted (by volunteer.transfer) or declined with
-- the reason the volunteer is told. A volunteer has at most one pending request; asking
-- again replaces its destination and reason.
ALTER TABLE transfer_requests DROP CONSTRAINT transfer_requests_pkey;
ALTER TABLE transfer_requests
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ADD COLUMN reason text CHECK (char_length (reason) BETWEEN 1 AND 200),
    ADD COLUMN status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'declined')),
    ADD COLUMN decided_at timestamptz,
    ADD COLUMN decided_by text,
    ADD COLUMN decline_reason text CHECK (char_length (decline_reason) BETWEEN 1 AND 200),
    ADD CHECK ((status = 'pending') = (decided_at IS NULL)),
    ADD CHECK ((status = 'declined') = (decline_reason IS NOT NULL));
CREATE UNIQUE INDEX transfer_requests_pending ON transfer_requests (volunteer_id)
    WHERE status = 'pending';
CREATE INDEX transfer_requests_region ON transfer_requests (region, id);
