-- 0004_categories_sites_teams.sql — service categories (seeded with the fifteen of the
-- county plans), practice sites, teams and memberships, and transfer requests.

-- The subtree prefix of a 12-digit code: the code less its trailing zero groups
-- (province 2 digits, city 2, county 2, township 3, village 3).
CREATE FUNCTION region_prefix (code text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE
        WHEN substr (code, 3) = '0000000000' THEN left (code, 2)
        WHEN substr (code, 5) = '00000000' THEN left (code, 4)
        WHEN substr (code, 7) = '000000' THEN left (code, 6)
        WHEN substr (code, 10) = '000' THEN left (code, 9)
        ELSE code
    END
$$;

CREATE TABLE categories (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name       text NOT NULL CHECK (length (name) BETWEEN 1 AND 50),
    region     text CHECK (region ~ '^[0-9]{12}$'), -- NULL: national
    created_at timestamptz NOT NULL DEFAULT now ()
);
INSERT INTO categories (code, name) VALUES
    ('theory', '理论政策宣讲'), ('education', '教育服务'), ('culture', '文化服务'),
    ('science', '科技与科普'), ('fitness', '健身体育'), ('civility', '文明创建'),
    ('legal', '法律服务'), ('health', '卫生健康'), ('elderly', '助老'),
    ('children', '关爱儿童'), ('disability', '助残'), ('poverty', '扶贫帮困'),
    ('environment', '生态环保'), ('customs', '移风易俗'), ('emergency', '应急安全');

CREATE TABLE sites (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (length (name) BETWEEN 1 AND 100),
    kind          text NOT NULL CHECK (kind IN ('centre', 'institute', 'station', 'point')),
    region        text NOT NULL REFERENCES regions (code),
    address       text NOT NULL,
    lat           double precision CHECK (lat BETWEEN -90 AND 90),
    lon           double precision CHECK (lon BETWEEN -180 AND 180),
    opening_hours text,
    created_at    timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX sites_region ON sites (region text_pattern_ops);

CREATE TABLE teams (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length (name) BETWEEN 1 AND 100),
    level      text NOT NULL CHECK (level IN ('demonstration', 'brigade', 'detachment', 'squad',
                                              'unit')),
    category   text NOT NULL REFERENCES categories (code),
    region     text NOT NULL REFERENCES regions (code),
    site_id    bigint REFERENCES sites (id),
    parent_id  bigint REFERENCES teams (id),
    created_at timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX teams_region ON teams (region text_pattern_ops);

CREATE TABLE memberships (
    team_id      bigint NOT NULL REFERENCES teams (id),
    volunteer_id bigint NOT NULL REFERENCES volunteers (id),
    role         text NOT NULL CHECK (role IN ('member', 'leader', 'info_officer')),
    joined_at    timestamptz NOT NULL DEFAULT now (),
    PRIMARY KEY (team_id, volunteer_id)
);
CREATE INDEX memberships_volunteer ON memberships (volunteer_id);

-- A volunteer's consent to move; the destination's admin carries it out.
CREATE TABLE transfer_requests (
    volunteer_id bigint PRIMARY KEY REFERENCES volunteers (id),
    region       text NOT NULL REFERENCES regions (code),
    requested_at timestamptz NOT NULL DEFAULT now ()
);

CREATE TABLE transfers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    volunteer_id bigint NOT NULL REFERENCES volunteers (id),
    from_region  text NOT NULL,
    to_region    text NOT NULL,
    actor        text NOT NULL,
    moved_at     timestamptz NOT NULL DEFAULT now ()
);
