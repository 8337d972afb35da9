-- 0007_region_settings.sql — what a region decides for its own dispatch, the request fields
-- the hard rules need, and the review step (审单).

-- A region's own settings; NULL inherits from the nearest ancestor that sets it, and the
-- platform's defaults (configuration) apply where none does.
CREATE TABLE region_settings (
    region            text PRIMARY KEY CHECK (region ~ '^[0-9]{12}$'),
    prefix            text NOT NULL GENERATED ALWAYS AS (region_subtree (region)) STORED,
    review_required   boolean,
    daily_limit       integer CHECK (daily_limit BETWEEN 1 AND 50),
    widen_township_s  integer CHECK (widen_township_s BETWEEN 0 AND 2592000),
    widen_county_s    integer CHECK (widen_county_s BETWEEN 0 AND 2592000),
    checkin_radius_m  integer CHECK (checkin_radius_m BETWEEN 10 AND 100000),
    updated_by        text NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now ()
);
CREATE UNIQUE INDEX region_settings_prefix ON region_settings (prefix);

-- The settings in force at a region: each from the deepest region above it (or itself) that
-- sets it, NULL where none does.
CREATE FUNCTION region_settings_of (code text, OUT review_required boolean,
                                    OUT daily_limit integer, OUT widen_township_s integer,
                                    OUT widen_county_s integer, OUT checkin_radius_m integer)
LANGUAGE sql STABLE AS $$
    SELECT (array_remove (array_agg (review_required ORDER BY length (prefix) DESC), NULL))[1],
           (array_remove (array_agg (daily_limit ORDER BY length (prefix) DESC), NULL))[1],
           (array_remove (array_agg (widen_township_s ORDER BY length (prefix) DESC), NULL))[1],
           (array_remove (array_agg (widen_county_s ORDER BY length (prefix) DESC), NULL))[1],
           (array_remove (array_agg (checkin_radius_m ORDER BY length (prefix) DESC), NULL))[1]
      FROM region_settings
     WHERE prefix IN (left (code, 2), left (code, 4), left (code, 6), left (code, 9), code)
$$;

-- Requests: stars and insurance a request may ask of its volunteers; review (waiting for a
-- station admin), rejected (with the reason) and completed (its service confirmed); when it
-- entered dispatch (widening counts from then) and when it was fully staffed (statistics).
ALTER TABLE requests
    ADD COLUMN min_stars integer NOT NULL DEFAULT 0 CHECK (min_stars BETWEEN 0 AND 5),
    ADD COLUMN insurance_required boolean NOT NULL DEFAULT false,
    ADD COLUMN published_at timestamptz,
    ADD COLUMN staffed_at timestamptz,
    ADD COLUMN reviewed_by text,
    DROP CONSTRAINT requests_status_check,
    ADD CONSTRAINT requests_status_check CHECK (status IN ('review', 'open', 'matching',
        'staffed', 'unfilled', 'cancelled', 'rejected', 'completed'));
UPDATE requests SET published_at = created_at;
UPDATE requests SET staffed_at = updated_at WHERE status = 'staffed';
CREATE INDEX requests_region ON requests (region text_pattern_ops, created_at);
-- Beneficiary fairness counts a resident's requests of a category by day.
CREATE INDEX requests_resident_day ON requests (resident_id, category, earliest_start);

-- The work statistics of the fairness and reliability costs read offers by age.
CREATE INDEX offers_created ON offers (created_at);

-- The resident's rating of a completed request (评单), once.
ALTER TABLE requests
    ADD COLUMN rating integer CHECK (rating BETWEEN 1 AND 5),
    ADD COLUMN rating_comment text,
    ADD COLUMN rated_at timestamptz,
    ADD CONSTRAINT requests_rated CHECK ((rating IS NULL) = (rated_at IS NULL)
                                         AND (rating IS NOT NULL OR rating_comment IS NULL));

-- Service records of requests beside those of activities: each record is of exactly one.
ALTER TABLE service_records
    ADD COLUMN request_id bigint REFERENCES requests,
    ALTER COLUMN activity_id DROP NOT NULL,
    ADD CONSTRAINT service_records_subject CHECK ((activity_id IS NULL) <> (request_id IS NULL));
CREATE UNIQUE INDEX service_records_request ON service_records (volunteer_id, request_id)
    WHERE request_id IS NOT NULL;
CREATE INDEX service_records_of_request ON service_records (request_id)
    WHERE request_id IS NOT NULL;
CREATE INDEX requests_staffed ON requests (latest_end) WHERE status = 'staffed';

-- The schedule a service record counts against: its activity's, or its request's window with
-- the request's duration as the time scheduled.
CREATE VIEW record_schedules AS
SELECT r.id AS record_id,
       coalesce (a.starts_at, q.earliest_start) AS starts_at,
       coalesce (a.ends_at, q.latest_end) AS ends_at,
       coalesce (a.ends_at - a.starts_at, q.duration_minutes * interval '1 minute') AS scheduled,
       coalesce (a.category, q.category) AS category,
       a.theme
  FROM service_records r
  LEFT JOIN activities a ON a.id = r.activity_id
  LEFT JOIN requests q ON q.id = r.request_id;

-- A region's figures read records by region and time.
CREATE INDEX service_records_region ON service_records (region text_pattern_ops, checkin_at);

-- Candidates are found in memory now (match_plan.c): the nearest-first index has no reader.
DROP INDEX supply_geo;

-- Where an activity takes place, for the check-in radius.
ALTER TABLE activities
    ADD COLUMN lat double precision CHECK (lat BETWEEN -90 AND 90),
    ADD COLUMN lon double precision CHECK (lon BETWEEN -180 AND 180);
