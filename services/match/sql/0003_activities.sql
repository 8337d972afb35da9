-- 0003_activities.sql — projects, activities and their sign-ups, micro-wishes; the stars and
-- insurance of the supply replica that decide who may sign up.

-- Stars are fed later by ledger's star.reached; NULL insurance_until means no insurance.
ALTER TABLE supply ADD COLUMN stars integer NOT NULL DEFAULT 0 CHECK (stars BETWEEN 0 AND 5);
ALTER TABLE supply ADD COLUMN insurance_until date;

-- Times leave the database as RFC 3339 text in the session's zone (Asia/Shanghai), to the
-- second: 2026-12-01T09:00:00+08:00.
CREATE FUNCTION rfc3339 (t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_char (t, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')
$$;

CREATE TABLE projects (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    category    text NOT NULL,
    region      text NOT NULL CHECK (region ~ '^[0-9]{12}$'),
    theme       text,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX projects_region ON projects (region text_pattern_ops);

-- confirmed and waitlisted are kept by the signups_count trigger: the capacity check below
-- is the database's own guarantee that no activity ever has more confirmed sign-ups than
-- places, whatever path a sign-up takes.
CREATE TABLE activities (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title              text NOT NULL,
    category           text NOT NULL,
    theme              text,
    project_id         bigint REFERENCES projects,
    site_id            text,
    region             text NOT NULL CHECK (region ~ '^[0-9]{12}$'),
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL,
    signup_closes_at   timestamptz NOT NULL,
    capacity           integer NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    min_stars          integer NOT NULL DEFAULT 0 CHECK (min_stars BETWEEN 0 AND 5),
    skills             text[] NOT NULL DEFAULT '{}',
    insurance_required boolean NOT NULL DEFAULT false,
    status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),
    cancel_reason      text,
    confirmed          integer NOT NULL DEFAULT 0,
    waitlisted         integer NOT NULL DEFAULT 0 CHECK (waitlisted >= 0),
    arrivals           bigint NOT NULL DEFAULT 0, -- sign-ups ever taken: numbers their arrival
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now (),
    cancelled_at       timestamptz,
    CONSTRAINT activities_ends_after_start CHECK (ends_at > starts_at),
    CONSTRAINT activities_signup_before_start CHECK (signup_closes_at <= starts_at),
    CONSTRAINT activities_capacity CHECK (confirmed BETWEEN 0 AND capacity)
);
CREATE INDEX activities_region ON activities (region text_pattern_ops, starts_at);

CREATE TABLE signups (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    activity_id   bigint NOT NULL REFERENCES activities,
    volunteer_id  bigint NOT NULL REFERENCES supply,
    arrival       bigint NOT NULL,
    status        text NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    cancel_reason text CHECK (cancel_reason IN ('withdrawn', 'activity_cancelled')),
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp (),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp (),
    UNIQUE (activity_id, arrival),
    CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL))
);
-- One live sign-up per volunteer and activity; after withdrawing one may sign up again.
CREATE UNIQUE INDEX signups_live ON signups (activity_id, volunteer_id)
    WHERE status <> 'cancelled';
CREATE INDEX signups_waitlist ON signups (activity_id, arrival) WHERE status = 'waitlisted';
CREATE INDEX signups_volunteer ON signups (volunteer_id);

-- Keeps activities.confirmed and .waitlisted equal to the counts of its sign-ups. The
-- UPDATE takes the activity's row lock, so concurrent sign-ups count one after the other
-- and the capacity check sees every one of them.
CREATE FUNCTION signups_count () RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    confirmed_delta integer := 0;
    waitlisted_delta integer := 0;
    activity bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.activity_id <> NEW.activity_id THEN
        RAISE EXCEPTION 'a sign-up cannot move to another activity';
    END IF;
    IF TG_OP <> 'INSERT' THEN
        confirmed_delta := confirmed_delta - (OLD.status = 'confirmed')::integer;
        waitlisted_delta := waitlisted_delta - (OLD.status = 'waitlisted')::integer;
        activity := OLD.activity_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        confirmed_delta := confirmed_delta + (NEW.status = 'confirmed')::integer;
        waitlisted_delta := waitlisted_delta + (NEW.status = 'waitlisted')::integer;
        activity := NEW.activity_id;
    END IF;
    IF confirmed_delta <> 0 OR waitlisted_delta <> 0 THEN
        UPDATE activities SET confirmed = confirmed + confirmed_delta,
                              waitlisted = waitlisted + waitlisted_delta
         WHERE id = activity;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER signups_count AFTER INSERT OR UPDATE OR DELETE ON signups
    FOR EACH ROW EXECUTE FUNCTION signups_count ();

-- activity.signup: signs a volunteer up, confirmed while places are left, waitlisted after.
-- The activity's row lock makes sign-ups to one activity take turns in the order they
-- arrive, so `arrival` numbers them and the first `capacity` are the confirmed ones.
-- Returns one row: outcome (confirmed, waitlisted, or why not: no_activity, cancelled,
-- closed, no_volunteer, inactive, stars, skill, insurance, duplicate), detail (the missing
-- skill, the volunteer's stars or status, the existing sign-up's status), the waitlist
-- position, and what the sign-up's event tells of the activity.
CREATE FUNCTION activity_signup (p_activity bigint, p_volunteer bigint)
RETURNS TABLE (outcome text, detail text, queue_position bigint, arrival_no bigint,
               act_title text, act_region text, act_starts_at timestamptz,
               act_ends_at timestamptz)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
    a activities%ROWTYPE;
    v supply%ROWTYPE;
    existing text;
BEGIN
    SELECT * INTO a FROM activities WHERE id = p_activity FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'no_activity';
        RETURN NEXT;
        RETURN;
    END IF;
    act_title := a.title;
    act_region := a.region;
    act_starts_at := a.starts_at;
    act_ends_at := a.ends_at;
    IF a.status <> 'open' THEN
        outcome := 'cancelled';
        detail := a.status;
        RETURN NEXT;
        RETURN;
    END IF;
    IF now () > a.signup_closes_at THEN
        outcome := 'closed';
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT * INTO v FROM supply WHERE volunteer_id = p_volunteer;
    IF NOT FOUND THEN
        outcome := 'no_volunteer';
        RETURN NEXT;
        RETURN;
    END IF;
    IF v.status <> 'active' THEN
        outcome := 'inactive';
        detail := v.status;
        RETURN NEXT;
        RETURN;
    END IF;
    IF v.stars < a.min_stars THEN
        outcome := 'stars';
        detail := v.stars::text;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT u.skill INTO detail FROM unnest (a.skills) AS u (skill)
     WHERE u.skill <> ALL (v.skills) ORDER BY u.skill LIMIT 1;
    IF detail IS NOT NULL THEN
        outcome := 'skill';
        RETURN NEXT;
        RETURN;
    END IF;
    -- Insured through the day the activity ends, in the stations' zone.
    IF a.insurance_required AND (v.insurance_until IS NULL OR
                                 v.insurance_until < (a.ends_at AT TIME ZONE 'Asia/Shanghai')::date) THEN
        outcome := 'insurance';
        detail := v.insurance_until::text;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT s.status INTO existing FROM signups s
     WHERE s.activity_id = a.id AND s.volunteer_id = p_volunteer AND s.status <> 'cancelled';
    IF FOUND THEN
        outcome := 'duplicate';
        detail := existing;
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE activities SET arrivals = arrivals + 1 WHERE id = a.id RETURNING arrivals INTO arrival_no;
    outcome := CASE WHEN a.confirmed < a.capacity THEN 'confirmed' ELSE 'waitlisted' END;
    INSERT INTO signups (activity_id, volunteer_id, arrival, status)
    VALUES (a.id, p_volunteer, arrival_no, outcome);
    IF outcome = 'waitlisted' THEN
        SELECT count (*) INTO queue_position FROM signups s
         WHERE s.activity_id = a.id AND s.status = 'waitlisted' AND s.arrival <= arrival_no;
    END IF;
    RETURN NEXT;
END
$$;

-- activity.withdraw: cancels a volunteer's live sign-up; when it held a place, the first on
-- the waitlist takes it. Under the same row lock as activity_signup. Returns one row:
-- outcome (withdrawn, or why not: no_activity, cancelled, started, not_signed_up), detail
-- (what the sign-up was: confirmed or waitlisted), the volunteer promoted (NULL when none),
-- and what the events tell of the activity.
CREATE FUNCTION activity_withdraw (p_activity bigint, p_volunteer bigint)
RETURNS TABLE (outcome text, detail text, promoted_volunteer bigint, act_title text,
               act_region text, act_starts_at timestamptz, act_ends_at timestamptz)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
    a activities%ROWTYPE;
    s signups%ROWTYPE;
BEGIN
    SELECT * INTO a FROM activities WHERE id = p_activity FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'no_activity';
        RETURN NEXT;
        RETURN;
    END IF;
    act_title := a.title;
    act_region := a.region;
    act_starts_at := a.starts_at;
    act_ends_at := a.ends_at;
    IF a.status <> 'open' THEN
        outcome := 'cancelled';
        detail := a.status;
        RETURN NEXT;
        RETURN;
    END IF;
    IF now () >= a.starts_at THEN
        outcome := 'started';
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT * INTO s FROM signups
     WHERE activity_id = a.id AND volunteer_id = p_volunteer AND status <> 'cancelled';
    IF NOT FOUND THEN
        outcome := 'not_signed_up';
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE signups SET status = 'cancelled', cancel_reason = 'withdrawn',
                       updated_at = clock_timestamp ()
     WHERE id = s.id;
    IF s.status = 'confirmed' THEN
        UPDATE signups SET status = 'confirmed', updated_at = clock_timestamp ()
         WHERE id = (SELECT w.id FROM signups w
                      WHERE w.activity_id = a.id AND w.status = 'waitlisted'
                      ORDER BY w.arrival LIMIT 1)
        RETURNING volunteer_id INTO promoted_volunteer;
    END IF;
    outcome := 'withdrawn';
    detail := s.status;
    RETURN NEXT;
END
$$;

CREATE TABLE wishes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title        text NOT NULL,
    description  text NOT NULL,
    region       text NOT NULL CHECK (region ~ '^[0-9]{12}$'),
    resident_id  bigint NOT NULL,
    volunteer_id bigint REFERENCES supply,
    status       text NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'claimed', 'fulfilled', 'confirmed')),
    created_at   timestamptz NOT NULL DEFAULT now (),
    claimed_at   timestamptz,
    fulfilled_at timestamptz,
    confirmed_at timestamptz,
    -- A wish has a claimant exactly when it has been claimed.
    CHECK ((status = 'open') = (volunteer_id IS NULL)),
    CHECK ((status = 'open') = (claimed_at IS NULL)),
    CHECK ((status IN ('fulfilled', 'confirmed')) = (fulfilled_at IS NOT NULL)),
    CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL))
);
CREATE INDEX wishes_region ON wishes (region text_pattern_ops, status);
CREATE INDEX wishes_volunteer ON wishes (volunteer_id);

-- wish.claim: an open wish gets the volunteer as its claimant. Of two claims at once the
-- second waits on the row lock the first one's UPDATE took, then finds the wish no longer
-- open: exactly one claimant. Returns one row: outcome (claimed, or why not: no_volunteer,
-- inactive, no_wish, state) and detail (the volunteer's or the wish's status).
CREATE FUNCTION wish_claim (p_wish bigint, p_volunteer bigint)
RETURNS TABLE (outcome text, detail text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
    v supply%ROWTYPE;
BEGIN
    SELECT * INTO v FROM supply WHERE volunteer_id = p_volunteer;
    IF NOT FOUND THEN
        outcome := 'no_volunteer';
        RETURN NEXT;
        RETURN;
    END IF;
    IF v.status <> 'active' THEN
        outcome := 'inactive';
        detail := v.status;
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE wishes SET status = 'claimed', volunteer_id = p_volunteer, claimed_at = now ()
     WHERE id = p_wish AND status = 'open';
    IF FOUND THEN
        outcome := 'claimed';
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT w.status INTO detail FROM wishes w WHERE w.id = p_wish;
    outcome := CASE WHEN FOUND THEN 'state' ELSE 'no_wish' END;
    RETURN NEXT;
END
$$;
