-- 0003_regions_accounts_residents.sql — regions, the volunteer's full profile, residents,
-- accounts and the audit log of personal-data reveals.

CREATE TABLE regions (
    code       text PRIMARY KEY CHECK (code ~ '^[0-9]{12}$'),
    name       text NOT NULL CHECK (length (name) BETWEEN 1 AND 50),
    level      text NOT NULL CHECK (level IN ('province', 'city', 'county', 'township', 'village')),
    parent     text REFERENCES regions (code),
    created_at timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX regions_parent ON regions (parent);

ALTER TABLE volunteers
    ADD COLUMN categories text[] NOT NULL DEFAULT '{}',
    ADD COLUMN availability text[] NOT NULL DEFAULT '{}'
        CHECK (availability <@ ARRAY['mon_am','mon_pm','mon_ev','tue_am','tue_pm','tue_ev',
            'wed_am','wed_pm','wed_ev','thu_am','thu_pm','thu_ev','fri_am','fri_pm','fri_ev',
            'sat_am','sat_pm','sat_ev','sun_am','sun_pm','sun_ev']),
    ADD COLUMN lat double precision CHECK (lat BETWEEN -90 AND 90),
    ADD COLUMN lon double precision CHECK (lon BETWEEN -180 AND 180),
    ADD COLUMN party_member boolean NOT NULL DEFAULT false,
    ADD COLUMN emergency_contact_name text,
    ADD COLUMN emergency_contact_phone_enc bytea,
    ADD COLUMN insurance_until date;
CREATE INDEX volunteers_skills ON volunteers USING gin (skills);
CREATE INDEX volunteers_categories ON volunteers USING gin (categories);
CREATE INDEX volunteers_name ON volunteers (name text_pattern_ops);

CREATE TABLE residents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length (name) BETWEEN 1 AND 50),
    phone_enc  bytea NOT NULL,
    phone_hash bytea NOT NULL CHECK (length (phone_hash) = 32),
    region     text NOT NULL CHECK (region ~ '^[0-9]{12}$'),
    address    text NOT NULL,
    lat        double precision CHECK (lat BETWEEN -90 AND 90),
    lon        double precision CHECK (lon BETWEEN -180 AND 180),
    care_tags  text[] NOT NULL DEFAULT '{}'
        CHECK (care_tags <@ ARRAY['empty_nest_elderly','left_behind_child',
            'child_in_difficulty','disabled','poor_household']),
    created_at timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX residents_region ON residents (region text_pattern_ops, id);
CREATE INDEX residents_phone ON residents (phone_hash);

-- An account signs in by an official's login or by a phone; only the keyed hash of the login
-- is kept (a phone is personal data), beside the readable login of officials.
CREATE TABLE accounts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login_hash    bytea NOT NULL UNIQUE CHECK (length (login_hash) = 32),
    login         text,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('region_admin', 'station_admin', 'team_leader',
                                               'volunteer', 'resident')),
    region        text NOT NULL CHECK (region ~ '^[0-9]{12}$'),
    volunteer_id  bigint UNIQUE REFERENCES volunteers (id),
    resident_id   bigint UNIQUE REFERENCES residents (id),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now (),
    CHECK ((role = 'volunteer') = (volunteer_id IS NOT NULL)),
    CHECK ((role = 'resident') = (resident_id IS NOT NULL)),
    CHECK ((role IN ('volunteer', 'resident')) = (login IS NULL))
);

-- Failed sign-ins per login (known or not, so that probing learns nothing).
CREATE TABLE login_failures (
    login_hash   bytea PRIMARY KEY,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL
);

-- Who saw whose personal data, when and why.
CREATE TABLE pii_reveals (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor        text NOT NULL,
    actor_role   text NOT NULL,
    volunteer_id bigint NOT NULL REFERENCES volunteers (id),
    reason       text NOT NULL,
    revealed_at  timestamptz NOT NULL DEFAULT now ()
);

-- What changed a volunteer's status, and why.
CREATE TABLE volunteer_status_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    volunteer_id bigint NOT NULL REFERENCES volunteers (id),
    status       text NOT NULL,
    reason       text,
    actor        text NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT now ()
);
