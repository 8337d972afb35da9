-- 0002_notify.sql — notify's schema: whom it tells (ids and regions, never a phone or an
-- address), what they take part in, their preferences, a region's settings, the notices of the
-- inbox with their deliveries, and the reminders.

-- The runtime's stored replies answer only their caller and are kept sealed (as registry's
-- 0008 and match's 0012 did for theirs): the peer and a keyed hash of the actor.
ALTER TABLE rpc_replies
    ADD COLUMN peer text NOT NULL,
    ADD COLUMN actor_hash bytea NOT NULL CHECK (length (actor_hash) = 32);

-- The regions a code sits under, from the province down to itself (12 digits; a grid's
-- 15-digit code counts as its village's).
CREATE FUNCTION region_line (code text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[rpad (left (code, 2), 12, '0'), rpad (left (code, 4), 12, '0'),
                 rpad (left (code, 6), 12, '0'), rpad (left (code, 9), 12, '0'), left (code, 12)]
$$;

-- Volunteers and residents as registry's events name them: where they belong, for the
-- settings of their region. kind: volunteer or resident.
CREATE TABLE recipients (
    kind         text NOT NULL CHECK (kind IN ('volunteer', 'resident')),
    id           text NOT NULL,
    region       text NOT NULL,
    registry_seq bigint NOT NULL,
    PRIMARY KEY (kind, id)
);

-- What people take part in, as match's events tell it: an activity or a request, with what a
-- notice says of it.
CREATE TABLE subjects (
    kind      text NOT NULL CHECK (kind IN ('activity', 'request')),
    id        text NOT NULL,
    title     text NOT NULL,
    region    text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL,
    urgent    boolean NOT NULL DEFAULT false,
    cancelled boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kind, id)
);

-- Who takes part in what: a confirmed sign-up, an accepted offer. Reminders follow these.
CREATE TABLE engagements (
    recipient_kind text NOT NULL,
    recipient_id   text NOT NULL,
    subject_kind   text NOT NULL,
    subject_id     text NOT NULL,
    active         boolean NOT NULL,
    PRIMARY KEY (recipient_kind, recipient_id, subject_kind, subject_id)
);
CREATE INDEX engagements_subject ON engagements (subject_kind, subject_id);

-- A person's preferences. recipient_kind: volunteer, resident or account (an official).
CREATE TABLE prefs (
    recipient_kind text NOT NULL CHECK (recipient_kind IN ('volunteer', 'resident', 'account')),
    recipient_id   text NOT NULL,
    language       text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
    time_zone      text NOT NULL DEFAULT 'Asia/Shanghai',
    quiet_from     time,
    quiet_to       time,
    muted          text[] NOT NULL DEFAULT '{}',
    updated_at     timestamptz NOT NULL DEFAULT now (),
    PRIMARY KEY (recipient_kind, recipient_id)
);

-- A region's own settings; NULL inherits from the nearest region above that sets it.
CREATE TABLE region_settings (
    region             text PRIMARY KEY CHECK (region ~ '^[0-9]{12}$'),
    reminder_offsets_s integer[] CHECK (cardinality (reminder_offsets_s) BETWEEN 1 AND 8),
    quiet_from         time,
    quiet_to           time,
    updated_by         text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now ()
);

-- The settings in force at a region, each from the deepest region at or above it that sets
-- it, the defaults where none does.
CREATE FUNCTION settings_of (code text, OUT reminder_offsets_s integer[], OUT quiet_from time,
                             OUT quiet_to time)
LANGUAGE sql STABLE AS $$
    WITH line AS (
        SELECT s.*, l.depth
          FROM unnest (region_line (coalesce (code, '000000000000'))) WITH ORDINALITY
               AS l (region, depth)
          JOIN region_settings s ON s.region = l.region
    )
    SELECT coalesce ((SELECT reminder_offsets_s FROM line WHERE reminder_offsets_s IS NOT NULL
                       ORDER BY depth DESC LIMIT 1), '{86400,3600}'),
           coalesce ((SELECT quiet_from FROM line WHERE quiet_from IS NOT NULL
                       ORDER BY depth DESC LIMIT 1), '22:00'),
           coalesce ((SELECT quiet_to FROM line WHERE quiet_to IS NOT NULL
                       ORDER BY depth DESC LIMIT 1), '07:00')
$$;

-- An activity's own reminder offsets (reminder.offsets.set).
CREATE TABLE activity_offsets (
    activity_id text PRIMARY KEY,
    offsets_s   integer[] NOT NULL CHECK (cardinality (offsets_s) BETWEEN 1 AND 8),
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now ()
);

-- A notice: a sentence one person reads, rendered in their language when it was made. One
-- per (person, source, kind): a replayed event or a reminder fired again makes none more.
-- source: the event (publisher:seq) or the reminder (reminder:id:due) it came from.
CREATE TABLE notices (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_kind text NOT NULL CHECK (recipient_kind IN ('volunteer', 'resident', 'account')),
    recipient_id   text NOT NULL,
    kind           text NOT NULL,
    source         text NOT NULL,
    subject_id     text,
    language       text NOT NULL,
    text           text NOT NULL,
    urgent         boolean NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now (),
    delivered_at   timestamptz,
    read_at        timestamptz,
    CONSTRAINT notices_once UNIQUE (recipient_kind, recipient_id, source, kind)
);
CREATE INDEX notices_inbox ON notices (recipient_kind, recipient_id, id)
    WHERE delivered_at IS NOT NULL;

-- Each channel a notice goes out on: the inbox now (more channels later, one row each). A
-- row is pending until its next_at (the end of quiet hours for a held notice), then the
-- worker claims it (FOR UPDATE SKIP LOCKED) and delivers it.
CREATE TABLE deliveries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id    bigint NOT NULL REFERENCES notices ON DELETE CASCADE,
    channel      text NOT NULL CHECK (channel IN ('inbox')),
    status       text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
    attempts     integer NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL,
    last_error   text,
    delivered_at timestamptz,
    UNIQUE (notice_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE status = 'pending';

-- A reminder of what someone takes part in: before (offset_s before the start) or after (the
-- prompt at the end). One per (person, subject, kind, offset): scheduling again moves it.
CREATE TABLE reminders (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_kind text NOT NULL,
    recipient_id   text NOT NULL,
    subject_kind   text NOT NULL,
    subject_id     text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('before', 'after')),
    offset_s       integer NOT NULL CHECK (offset_s >= 0),
    due_at         timestamptz NOT NULL,
    status         text NOT NULL CHECK (status IN ('pending', 'sent', 'cancelled')),
    sent_at        timestamptz,
    UNIQUE (recipient_kind, recipient_id, subject_kind, subject_id, kind, offset_s)
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE status = 'pending';
CREATE INDEX reminders_subject ON reminders (subject_kind, subject_id);

-- Schedules the reminders of one subject for everyone taking part: the offsets of the
-- activity, else of its region, else the defaults; pending reminders move with the times; a
-- sent one whose time moved into the future is due again; those no longer wanted (an offset
-- dropped, a person gone, a subject cancelled) are cancelled; none is made already past due.
-- Returns how many are pending.
CREATE FUNCTION reminders_schedule (s_kind text, s_id text) RETURNS integer
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
       AND id NOT IN (SELECT id FROM upserted);
    SELECT count (*) INTO n FROM reminders
     WHERE subject_kind = s_kind AND subject_id = s_id AND status = 'pending';
    PERFORM pg_notify ('notify.reminders', '');
    RETURN n;
END
$$;

CREATE FUNCTION rfc3339 (t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_char (t, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')
$$;

-- A time of day as prefs and settings show it: HH:MM, or HH:MM:SS when it has seconds.
CREATE FUNCTION hhmm (t time) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN extract (second FROM t) = 0 THEN to_char (t, 'HH24:MI')
                ELSE to_char (t, 'HH24:MI:SS') END
$$;

-- When the quiet window [q_from, q_to) of zone `zone` that holds now ends; NULL outside it
-- (or when the window is empty).
CREATE FUNCTION quiet_end (zone text, q_from time, q_to time) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    local timestamp := now () AT TIME ZONE zone;
    t time := local::time;
BEGIN
    IF q_from IS NULL OR q_to IS NULL OR q_from = q_to THEN
        RETURN NULL;
    END IF;
    IF (q_from < q_to AND t >= q_from AND t < q_to)
       OR (q_from > q_to AND (t >= q_from OR t < q_to)) THEN
        IF t < q_to THEN
            RETURN (local::date + q_to) AT TIME ZONE zone;
        END IF;
        RETURN (local::date + 1 + q_to) AT TIME ZONE zone;
    END IF;
    RETURN NULL;
END
$$;
