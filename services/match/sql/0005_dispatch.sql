-- 0005_dispatch.sql — service requests (点单), offers (派单 → 接单), commitments and the
-- residents replica that gives requests their priority.

-- Residents as registry's resident.registered tells them: where they live and whether they
-- belong to a group cared for first (care_tags not empty).
CREATE TABLE residents (
    id            bigint PRIMARY KEY,
    region        text NOT NULL,
    lat           double precision,
    lon           double precision,
    care_tags     text[] NOT NULL DEFAULT '{}',
    registry_seq  bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now ()
);

-- accepted counts the accepted offers; the check is the database's own guarantee that no
-- request is ever staffed beyond its headcount.
CREATE TABLE requests (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category          text NOT NULL,
    title             text NOT NULL,
    description       text NOT NULL,
    region            text NOT NULL CHECK (region ~ '^[0-9]{12}$'),
    lat               double precision,
    lon               double precision,
    earliest_start    timestamptz NOT NULL,
    latest_end        timestamptz NOT NULL,
    duration_minutes  integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    headcount         integer NOT NULL CHECK (headcount BETWEEN 1 AND 20),
    skills            text[] NOT NULL DEFAULT '{}',
    urgency           text NOT NULL CHECK (urgency IN ('normal', 'urgent')),
    resident_id       bigint,
    status            text NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'matching', 'staffed', 'unfilled', 'cancelled')),
    accepted          integer NOT NULL DEFAULT 0,
    reason            text,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now (),
    updated_at        timestamptz NOT NULL DEFAULT now (),
    CONSTRAINT requests_window CHECK (latest_end - earliest_start
                                      >= duration_minutes * interval '1 minute'),
    CONSTRAINT requests_accepted CHECK (accepted BETWEEN 0 AND headcount)
);
CREATE INDEX requests_live ON requests (earliest_start) WHERE status IN ('open', 'matching');
CREATE INDEX requests_resident ON requests (resident_id);

-- An offer of a request to one volunteer. Never twice the same pair (a decliner is never
-- asked again), and at most one pending offer per volunteer at any time.
CREATE TABLE offers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    bigint NOT NULL REFERENCES requests,
    volunteer_id  bigint NOT NULL REFERENCES supply,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn')),
    cost          bigint NOT NULL DEFAULT 0,
    deadline      timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now (),
    answered_at   timestamptz,
    UNIQUE (request_id, volunteer_id)
);
CREATE UNIQUE INDEX offers_one_pending ON offers (volunteer_id) WHERE status = 'pending';
CREATE INDEX offers_pending_deadline ON offers (deadline) WHERE status = 'pending';
CREATE INDEX offers_request ON offers (request_id, status);
CREATE INDEX offers_accepted ON offers (volunteer_id, answered_at) WHERE status = 'accepted';

-- What a volunteer has promised: no volunteer is ever committed to two overlapping times,
-- whatever path the commitment takes (btree_gist gives bigint its gist operator class).
CREATE TABLE commitments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    volunteer_id  bigint NOT NULL REFERENCES supply,
    request_id    bigint NOT NULL REFERENCES requests,
    during        tstzrange NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now (),
    UNIQUE (volunteer_id, request_id),
    CONSTRAINT commitments_no_overlap EXCLUDE USING gist (volunteer_id WITH =, during WITH &&)
);

-- The subtree prefix of a region code: the code less its trailing all-zero groups.
CREATE FUNCTION region_subtree (code text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN substr (code, 10, 3) <> '000' THEN code
                WHEN substr (code, 7, 3) <> '000' THEN substr (code, 1, 9)
                WHEN substr (code, 5, 2) <> '00' THEN substr (code, 1, 6)
                WHEN substr (code, 3, 2) <> '00' THEN substr (code, 1, 4)
                ELSE substr (code, 1, 2) END
$$;

-- The weekly slot a time falls in, as volunteers state their availability: mon_am .. sun_ev
-- (am 06-12, pm 12-18, ev 18-22, Asia/Shanghai); NULL outside them.
CREATE FUNCTION dispatch_slot (t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_char (t AT TIME ZONE 'Asia/Shanghai', 'dy') || '_'
           || CASE WHEN h >= 6 AND h < 12 THEN 'am' WHEN h >= 12 AND h < 18 THEN 'pm'
                   WHEN h >= 18 AND h < 22 THEN 'ev' END
      FROM (SELECT extract (hour FROM t AT TIME ZONE 'Asia/Shanghai')::integer AS h) x
$$;

-- The region prefix a round searches for a request of `age` seconds: its own village (or
-- whatever subtree its code names), then its township, then its county.
CREATE FUNCTION dispatch_area (code text, age double precision, township_s double precision,
                               county_s double precision) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN age >= county_s THEN substr (region_subtree (code), 1, 6)
                WHEN age >= township_s THEN substr (region_subtree (code), 1, 9)
                ELSE region_subtree (code) END
$$;

-- Metres between two points (equirectangular: exact enough within a county); NULL when a
-- point is unknown.
CREATE FUNCTION geo_metres (lat1 double precision, lon1 double precision,
                            lat2 double precision, lon2 double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT 6371000.0 * sqrt (power (radians (lat2 - lat1), 2)
                             + power (cos (radians ((lat1 + lat2) / 2)) * radians (lon2 - lon1), 2))
$$;

-- A point on a local flat map (longitude scaled by the cosine of the latitude), so that
-- ordering by <-> is nearest first; the gist index makes that ordering a walk (KNN).
CREATE FUNCTION geo_point (lat double precision, lon double precision) RETURNS point
LANGUAGE sql IMMUTABLE AS $$
    SELECT point (lon * cos (radians (lat)), lat)
$$;
CREATE INDEX supply_geo ON supply USING gist (geo_point (lat, lon));
