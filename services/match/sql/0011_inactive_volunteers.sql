-- 0011_inactive_volunteers.sql — a volunteer who is no longer active (suspended, left) holds
-- no place at an activity to come: their live sign-ups end (cancel_reason volunteer_inactive,
-- match_signups_release) and the first in line takes each confirmed place freed; a promotion
-- passes by a waitlisted volunteer who is not active (outcome inactive), as it passes by a
-- busy one.

ALTER TABLE signups DROP CONSTRAINT signups_cancel_reason_check,
    ADD CONSTRAINT signups_cancel_reason_check
        CHECK (cancel_reason IN ('withdrawn', 'activity_cancelled', 'volunteer_inactive'));

-- As 0010's, and a volunteer not active stays in line, passed by.
CREATE OR REPLACE FUNCTION activity_promote (p_activity bigint, p_places integer)
RETURNS TABLE (volunteer bigint, outcome text, queue_position bigint, busy_request bigint,
               busy_activity bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
    w record;
    places integer := p_places;
BEGIN
    FOR w IN SELECT s.id, s.volunteer_id, s.arrival, a.starts_at, a.ends_at,
                    coalesce (v.status, 'unknown') AS volunteer_status
               FROM signups s JOIN activities a ON a.id = s.activity_id
               LEFT JOIN supply v ON v.volunteer_id = s.volunteer_id
              WHERE s.activity_id = p_activity AND s.status = 'waitlisted'
              ORDER BY s.arrival LOOP
        EXIT WHEN places <= 0;
        volunteer := w.volunteer_id;
        queue_position := NULL;
        busy_request := NULL;
        busy_activity := NULL;
        IF w.volunteer_status <> 'active' THEN
            outcome := 'inactive';
            SELECT count (*) INTO queue_position FROM signups s
             WHERE s.activity_id = p_activity AND s.status = 'waitlisted'
               AND s.arrival <= w.arrival;
            RETURN NEXT;
            CONTINUE;
        END IF;
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
