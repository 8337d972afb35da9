-- 0004_offer_warning.sql — the warning to a volunteer when three quarters of an offer's reply
-- window have passed unanswered: a reminder of kind "warning" on the offer's request, due then,
-- offset_s the seconds left until the deadline. offer.made schedules it; the offer answered,
-- withdrawn or expired takes it away while it is pending (notify_feeds.c).

ALTER TABLE reminders DROP CONSTRAINT reminders_kind_check;
ALTER TABLE reminders ADD CONSTRAINT reminders_kind_check
    CHECK (kind IN ('before', 'after', 'warning'));

-- reminders_schedule as 0002 made it, but for the before and after reminders alone: the
-- engagements decide those, never a pending warning, which its offer's events decide.
CREATE OR REPLACE FUNCTION reminders_schedule (s_kind text, s_id text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    subject subjects;
    offsets integer[];
    n integer;
BEGIN
    SELECT * INTO subject FROM subjects WHERE kind = s_kind AND id = s_id;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    SELECT coalesce ((SELECT offsets_s FROM activity_offsets
                       WHERE s_kind = 'activity' AND activity_id = s_id),
                     (SELECT reminder_offsets_s FROM settings_of (subject.region)))
      INTO offsets;
    WITH wanted AS (
        SELECT e.recipient_kind, e.recipient_id, w.kind, w.offset_s,
               CASE w.kind WHEN 'before' THEN subject.starts_at - make_interval (secs => w.offset_s)
                           ELSE subject.ends_at END AS due_at
          FROM engagements e
         CROSS JOIN (SELECT 'before' AS kind, o AS offset_s FROM unnest (offsets) o
                     UNION ALL SELECT 'after', 0) w
         WHERE e.subject_kind = s_kind AND e.subject_id = s_id AND e.active
           AND NOT subject.cancelled
    ), upserted AS (
        INSERT INTO reminders AS r (recipient_kind, recipient_id, subject_kind, subject_id, kind,
                                    offset_s, due_at, status)
        SELECT w.recipient_kind, w.recipient_id, s_kind, s_id, w.kind, w.offset_s, w.due_at,
               'pending'
          FROM wanted w
         -- A reminder whose time has passed is not made (a sign-up an hour before the start
         -- gets no 24 h reminder; an event replayed later none at all); one made before moves.
         WHERE w.due_at > now ()
            OR EXISTS (SELECT 1 FROM reminders x
                        WHERE x.recipient_kind = w.recipient_kind
                          AND x.recipient_id = w.recipient_id AND x.subject_kind = s_kind
                          AND x.subject_id = s_id AND x.kind = w.kind
                          AND x.offset_s = w.offset_s)
        ON CONFLICT (recipient_kind, recipient_id, subject_kind, subject_id, kind, offset_s)
        DO UPDATE SET due_at = EXCLUDED.due_at,
                      status = CASE WHEN r.status = 'sent' AND r.due_at = EXCLUDED.due_at
                                    THEN 'sent'
                                    WHEN r.status = 'sent' AND EXCLUDED.due_at <= now ()
                                    THEN 'sent'
                                    ELSE 'pending' END
        RETURNING r.id
    )
    UPDATE reminders SET status = 'cancelled'
     WHERE subject_kind = s_kind AND subject_id = s_id AND status = 'pending'
       AND kind IN ('before', 'after') AND id NOT IN (SELECT id FROM upserted);
    SELECT count (*) INTO n FROM reminders
     WHERE subject_kind = s_kind AND subject_id = s_id AND status = 'pending';
    PERFORM pg_notify ('notify.reminders', '');
    RETURN n;
END
$$;
