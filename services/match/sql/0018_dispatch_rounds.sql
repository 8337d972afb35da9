-- 0018_dispatch_rounds.sql — what recent dispatch rounds did, for the dispatch board
-- (dispatch.rounds): a row per round that offered or gave up on something, and a row per
-- request it touched, by region: the offers it made, the offers left waiting for a reply when
-- it ended, and the request's status and reason (unfilled: why). Rounds that did nothing are
-- not kept; the round prunes what is older than 14 days, and beyond the last 10,000 rounds.
CREATE TABLE dispatch_rounds (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    took_ms   integer NOT NULL CHECK (took_ms >= 0)
);
CREATE INDEX dispatch_rounds_at ON dispatch_rounds (at);

CREATE TABLE dispatch_round_requests (
    round_id    bigint NOT NULL REFERENCES dispatch_rounds ON DELETE CASCADE,
    request_id  bigint NOT NULL REFERENCES requests,
    region      text NOT NULL,
    offered     integer NOT NULL CHECK (offered >= 0),
    waiting     integer NOT NULL CHECK (waiting >= 0),
    status      text NOT NULL,
    reason      text,
    PRIMARY KEY (round_id, request_id)
);
CREATE INDEX dispatch_round_requests_region
    ON dispatch_round_requests (region text_pattern_ops, round_id);

-- How a round finds the requests it made unfilled (their updated_at is its now ()).
CREATE INDEX requests_unfilled_at ON requests (updated_at) WHERE status = 'unfilled';
