-- 0005_digest.sql — the officials' daily digest (issue 21): the local hour a region's digest
-- goes out (inherited down the tree like the other settings, 08:00 where none sets it), one
-- row per official's account and local day once its digest was decided, and the digest times
-- already run through.

ALTER TABLE region_settings
    ADD COLUMN digest_hour smallint CHECK (digest_hour BETWEEN 0 AND 23);

-- The digest hour in force at a region: the deepest region at or above it that sets one.
CREATE FUNCTION digest_hour_of (code text) RETURNS smallint
LANGUAGE sql STABLE AS $$
    SELECT coalesce ((SELECT s.digest_hour
                        FROM unnest (region_line (coalesce (code, '000000000000')))
                             WITH ORDINALITY AS l (region, depth)
                        JOIN region_settings s ON s.region = l.region
                       WHERE s.digest_hour IS NOT NULL
                       ORDER BY l.depth DESC LIMIT 1), 8)::smallint
$$;

-- One per account and local day: the claim two replicas and a restart respect (inserted in
-- the transaction that makes the notice, so a crash before the commit leaves the digest to be
-- made again). What waited then; sent: whether a notice went (false: nothing waited).
CREATE TABLE digests (
    account        text NOT NULL,
    day            date NOT NULL,
    region         text NOT NULL,
    to_review      bigint NOT NULL,
    to_confirm     bigint NOT NULL,
    open_checkouts bigint NOT NULL,
    unfilled       bigint NOT NULL,
    sent           boolean NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now (),
    PRIMARY KEY (account, day)
);

-- A digest time (local day, hour, zone) once every official then due was handled; a changed
-- digest_hour takes its rows away so that the new hour is looked at again at once.
CREATE TABLE digest_runs (
    day     date NOT NULL,
    hour    smallint NOT NULL,
    zone    text NOT NULL,
    done_at timestamptz NOT NULL DEFAULT now (),
    PRIMARY KEY (day, hour, zone)
);
