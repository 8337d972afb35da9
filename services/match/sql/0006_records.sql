-- 0006_records.sql — service records (签到签退): one per volunteer and activity; only confirmed
-- hours count.

CREATE TABLE service_records (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    volunteer_id      bigint NOT NULL REFERENCES supply,
    activity_id       bigint NOT NULL REFERENCES activities,
    region            text NOT NULL,
    checkin_at        timestamptz NOT NULL,
    checkout_at       timestamptz,
    minutes           integer CHECK (minutes >= 0),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'confirmed')),
    hours             numeric(5, 2) CHECK (hours BETWEEN 0 AND 24),
    completed_by      text,
    completion_reason text,
    confirmed_by      text,
    confirmed_at      timestamptz,
    UNIQUE (volunteer_id, activity_id),
    CHECK (checkout_at IS NULL OR checkout_at >= checkin_at),
    CHECK ((status = 'open') = (checkout_at IS NULL)),
    CHECK ((status = 'confirmed') = (hours IS NOT NULL)),
    CHECK ((completed_by IS NULL) = (completion_reason IS NULL))
);
CREATE INDEX service_records_activity ON service_records (activity_id);

-- Minutes that count: inside [start, end + margin], never before the start.
CREATE FUNCTION record_minutes (checkin timestamptz, checkout timestamptz,
                                starts timestamptz, ends timestamptz, margin interval)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT greatest (0, floor (extract (epoch FROM
        least (checkout, ends + margin) - greatest (checkin, starts)) / 60))::integer
$$;
