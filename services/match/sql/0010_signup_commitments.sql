-- 0010_signup_commitments.sql — a confirmed sign-up is a commitment too: the exclusion
-- constraint of commitments guards requests accepted and activities confirmed alike, so no
-- path (a sign-up, a promotion, a moved activity, an accept) can put a volunteer in two places
-- at once. The database writes and removes these rows itself, in the transaction that changes
-- the sign-up; a promotion passes by whoever is busy then.

-- A commitment is of exactly one request or one activity.
ALTER TABLE commitments
    ADD COLUMN activity_id bigint REFERENCES activities,
    ALTER COLUMN request_id DROP NOT NULL,
    ADD CONSTRAINT commitments_subject CHECK ((request_id IS NULL) <> (activity_id IS NULL));
CREATE UNIQUE INDEX commitments_activity ON commitments (activity_id, volunteer_id)
    WHERE activity_id IS NOT NULL;

-- Keeps a sign-up's commitment in step with its status: confirmed has one over the activity's
-- time, anything else none. A clash raises exclusion_violation (23P01) from the INSERT.
CREATE FUNCTION signups_commit () RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'confirmed' AND NEW.status = 'confirmed'
       AND OLD.volunteer_id = NEW.volunteer_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.status = 'confirmed' THEN
        DELETE FROM commitments
         WHERE activity_id = OLD.activity_id AND volunteer_id = OLD.volunteer_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'confirmed' THEN
        INSERT INTO commitments (volunteer_id, activity_id, during)
        SELECT NEW.volunteer_id, a.id, tstzrange (a.starts_at, a.ends_at)
          FROM activities a WHERE a.id = NEW.activity_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER signups_commit AFTER INSERT OR DELETE OR UPDATE OF status, volunteer_id
    ON signups FOR EACH ROW EXECUTE FUNCTION signups_commit ();

-- An activity moved moves its volunteers' commitments (a clash refuses the move).
CREATE FUNCTION activities_commit () RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE commitments SET during = tstzrange (NEW.starts_at, NEW.ends_at)
     WHERE activity_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER activities_commit AFTER UPDATE OF starts_at, ends_at ON activities
    FOR EACH ROW WHEN (OLD.starts_at <> NEW.starts_at OR OLD.ends_at <> NEW.ends_at)
    EXECUTE FUNCTION activities_commit ();

-- What volunteer p_volunteer is committed to over [p_from, p_to) other than activity
-- p_activity: a row of one request or one activity id (the other NULL), none when free.
CREATE FUNCTION commitment_clash (p_volunteer bigint, p_from timestamptz, p_to timestamptz,
                                  p_activity bigint)
RETURNS TABLE (request_id bigint, activity_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT c.request_id, c.activity_id FROM commitments c
     WHERE c.volunteer_id = p_volunteer AND c.during && tstzrange (p_from, p_to)
       AND c.activity_id IS DISTINCT FROM p_activity
     ORDER BY lower (c.during) LIMIT 1
$$;

-- The sign-ups confirmed so far become commitments, the earliest first. Two that overlap
-- already (an accept and a sign-up could pass each other before they took turns, and two
-- activities at once were allowed) cannot both be: the later stays confirmed without a
-- commitment, named in a warning for the station to sort out with its volunteer.
DO $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT g.id, g.activity_id, g.volunteer_id, a.starts_at, a.ends_at
               FROM signups g JOIN activities a ON a.id = g.activity_id
              WHERE g.status = 'confirmed' ORDER BY g.created_at, g.id LOOP
        BEGIN
            INSERT INTO commitments (volunteer_id, activity_id, during)
            VALUES (s.volunteer_id, s.activity_id, tstzrange (s.starts_at, s.ends_at));
        EXCEPTION WHEN exclusion_violation THEN
            RAISE WARNING 'sign-up % (volunteer %, activity %) overlaps another commitment of'
                          ' its volunteer: left without a commitment',
                          s.id, s.volunteer_id, s.activity_id;
        END;
    END LOOP;
END
$$;

-- activity.signup as before (0003), and one more outcome: busy, when a confirmed sign-up
-- would clash with a commitment the handler's check could not see yet (a promotion elsewhere
-- at the same moment); detail names it ("request 12", "activity 7").
CREATE OR REPLACE FUNCTION activity_signup (p_activity bigint, p_volunteer bigint)
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
    BEGIN
        INSERT INTO signups (activity_id, volunteer_id, arrival, status)
        VALUES (a.id, p_volunteer, arrival_no, outcome);
    EXCEPTION WHEN exclusion_violation THEN
        outcome := 'busy';
        SELECT coalesce ('request ' || x.request_id, 'activity ' || x.activity_id) INTO detail
          FROM commitment_clash (p_volunteer, a.starts_at, a.ends_at, a.id) x;
        RETURN NEXT;
        RETURN;
    END;
    IF outcome = 'waitlisted' THEN
        SELECT count (*) INTO queue_position FROM signups s
         WHERE s.activity_id = a.id AND s.status = 'waitlisted' AND s.arrival <= arrival_no;
    END IF;
    RETURN NEXT;
END
$$;

-- The first p_places volunteers waitlisted for activity p_activity who are free at its time
-- take places, in arrival order. One committed elsewhere then stays on the waitlist, in their
-- place, and is named with what they are committed to. The caller holds the activity's row
-- lock; the exclusion constraint decides who is free, so a commitment made at the same moment
-- elsewhere is seen. Returns a row per volunteer reached, in arrival order: the volunteer,
-- outcome (promoted or busy), and for a busy one their waitlist position and the request or
-- activity they are committed to.
CREATE FUNCTION activity_promote (p_activity bigint, p_places integer)
RETURNS TABLE (volunteer bigint, outcome text, queue_position bigint, busy_request bigint,
               busy_activity bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
    w record;
    places integer := p_places;
BEGIN
    FOR w IN SELECT s.id, s.volunteer_id, s.arrival, a.starts_at, a.ends_at
               FROM signups s JOIN activities a ON a.id = s.activity_id
              WHERE s.activity_id = p_activity AND s.status = 'waitlisted'
              ORDER BY s.arrival LOOP
        EXIT WHEN places <= 0;
        volunteer := w.volunteer_id;
        queue_position := NULL;
        busy_request := NULL;
        busy_activity := NULL;
        BEGIN
            UPDATE signups SET status = 'confirmed', updated_at = clock_timestamp ()
             WHERE id = w.id;
            outcome := 'promoted';
            places := places - 1;
        EXCEPTION WHEN exclusion_violation THEN
            outcome := 'busy';
            SELECT count (*) INTO queue_position FROM signups s
             WHERE s.activity_id = p_activity AND s.status = 'waitlisted'
               AND s.arrival <= w.arrival;
            SELECT x.request_id, x.activity_id INTO busy_request, busy_activity
              FROM commitment_clash (w.volunteer_id, w.starts_at, w.ends_at, p_activity) x;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;

-- activity.withdraw as before (0003), less the promotion: the handler runs activity_promote
-- for the place freed in the same transaction, as it does for a larger capacity, so that both
-- pass by whoever is busy and say so. Returns one row: outcome (withdrawn, or why not:
-- no_activity, cancelled, started, not_signed_up), detail (what the sign-up was: confirmed or
-- waitlisted), and what the events tell of the activity.
DROP FUNCTION activity_withdraw (bigint, bigint);
CREATE FUNCTION activity_withdraw (p_activity bigint, p_volunteer bigint)
RETURNS TABLE (outcome text, detail text, act_title text, act_region text,
               act_starts_at timestamptz, act_ends_at timestamptz)
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
    outcome := 'withdrawn';
    detail := s.status;
    RETURN NEXT;
END
$$;

-- The rounds' no-show share reads the activities ended in the last 90 days.
CREATE INDEX activities_ends ON activities (ends_at) WHERE status <> 'cancelled';
