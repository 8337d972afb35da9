-- 0003_delivery.sql — delivery beyond the inbox: e-mail, and sms or wechat through a region's
-- webhook. A person's channels are in their prefs; a region's webhook is a row here (its
-- secret sealed); each notice gets one delivery row per channel that applies, claimed by the
-- worker when due, retried with backoff, dead at the end with its reason. Never a phone or an
-- address: notify asks registry for them at delivery time.

-- Where notices go besides the inbox: email, sms, wechat.
ALTER TABLE prefs ADD COLUMN channels text[] NOT NULL DEFAULT '{}'
    CHECK (channels <@ ARRAY['email', 'sms', 'wechat']);

-- A region's webhook, for the regions below too (the deepest region at or above that has one).
-- secret: "whsec_…" sealed with a key derived from notify's own CURVE secret key; tail: its
-- last four characters, for the mask. kinds: the notice kinds it carries ('{}': all).
CREATE TABLE webhooks (
    region     text PRIMARY KEY CHECK (region ~ '^[0-9]{12}$'),
    url        text NOT NULL CHECK (url ~ '^https?://'),
    secret     bytea NOT NULL,
    tail       text NOT NULL,
    kinds      text[] NOT NULL DEFAULT '{}',
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now ()
);

-- The functions here keep the schema's search path, so that they work in any session (an
-- operator's psql, a superuser's test) as in notify's own.
CREATE FUNCTION webhook_of (code text) RETURNS SETOF webhooks
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT w.* FROM unnest (region_line (code)) WITH ORDINALITY AS l (region, depth)
      JOIN webhooks w ON w.region = l.region
     WHERE code IS NOT NULL
     ORDER BY l.depth DESC LIMIT 1
$$;

-- Deliveries: every channel; sent for what went out (the inbox's stay delivered); failed for a
-- delivery tried and to be tried again at next_at. region: the person's, for who may list it;
-- due_at: when it first became due (lateness is sent − due_at). A claimed row's next_at is
-- its lease: past it, a worker that died mid-send has its row claimed again.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('inbox', 'email', 'sms', 'wechat'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'delivered', 'sent', 'failed', 'dead'));
ALTER TABLE deliveries ADD COLUMN region text, ADD COLUMN due_at timestamptz;
UPDATE deliveries d SET due_at = d.next_at,
       region = (SELECT r.region FROM notices n
                   JOIN recipients r ON r.kind = n.recipient_kind AND r.id = n.recipient_id
                  WHERE n.id = d.notice_id);
ALTER TABLE deliveries ALTER COLUMN due_at SET NOT NULL;
CREATE INDEX deliveries_out ON deliveries (next_at)
    WHERE status IN ('pending', 'failed') AND channel <> 'inbox';
CREATE INDEX deliveries_list ON deliveries (id) WHERE channel <> 'inbox';

CREATE FUNCTION deliveries_fill () RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    NEW.due_at := coalesce (NEW.due_at, NEW.next_at);
    IF NEW.region IS NULL THEN
        SELECT r.region INTO NEW.region FROM notices n
          JOIN recipients r ON r.kind = n.recipient_kind AND r.id = n.recipient_id
         WHERE n.id = NEW.notice_id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER deliveries_fill BEFORE INSERT ON deliveries
    FOR EACH ROW EXECUTE FUNCTION deliveries_fill ();

-- A new notice goes out on each of the person's channels that applies: email; sms and wechat
-- where their region's webhook carries its kind. Due when it reaches the inbox (after quiet
-- hours for one held); the worker is woken.
CREATE FUNCTION notices_channels () RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    wanted text[];
    place text;
    hook webhooks;
    due timestamptz;
    n integer := 0;
BEGIN
    SELECT channels INTO wanted FROM prefs
     WHERE recipient_kind = NEW.recipient_kind AND recipient_id = NEW.recipient_id;
    IF wanted IS NULL OR cardinality (wanted) = 0 THEN
        RETURN NULL;
    END IF;
    SELECT region INTO place FROM recipients WHERE kind = NEW.recipient_kind AND id = NEW.recipient_id;
    SELECT * INTO hook FROM webhook_of (place);
    SELECT next_at INTO due FROM deliveries WHERE notice_id = NEW.id AND channel = 'inbox';
    due := coalesce (due, now ());
    INSERT INTO deliveries (notice_id, channel, status, next_at, due_at, region)
    SELECT NEW.id, c, 'pending', due, due, place
      FROM unnest (wanted) c
     WHERE c = 'email'
        OR (hook.region IS NOT NULL
            AND (cardinality (hook.kinds) = 0 OR NEW.kind = ANY (hook.kinds)))
    ON CONFLICT (notice_id, channel) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM pg_notify ('notify.reminders', '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER notices_channels AFTER INSERT ON notices
    FOR EACH ROW EXECUTE FUNCTION notices_channels ();

-- What a notice's template filled in (title, start, …: times as the person reads them), for a
-- webhook's receiver such as an SMS gateway's template parameters.
ALTER TABLE notices ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
