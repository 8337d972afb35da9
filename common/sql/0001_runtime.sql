-- 0001_runtime.sql — what the service runtime keeps in every service's schema:
-- the outbox log, stored rpc replies, consumer cursors and the dead-letter table.

CREATE TABLE outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq        bigint UNIQUE,
    topic      text NOT NULL,
    body       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX outbox_unsequenced ON outbox (id) WHERE seq IS NULL;
CREATE INDEX outbox_created ON outbox (created_at) WHERE seq IS NOT NULL;

CREATE TABLE outbox_state (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_seq bigint NOT NULL DEFAULT 0
);
INSERT INTO outbox_state DEFAULT VALUES;

-- Gives committed, unsequenced rows the next contiguous sequence numbers. The row lock on
-- outbox_state makes two relays (should two ever run) take turns.
CREATE FUNCTION outbox_sequence (batch integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    last bigint;
    n bigint;
BEGIN
    SELECT last_seq INTO last FROM outbox_state FOR UPDATE;
    WITH todo AS (
        SELECT id, row_number () OVER (ORDER BY id) AS rn
        FROM outbox WHERE seq IS NULL ORDER BY id LIMIT batch
    )
    UPDATE outbox o SET seq = last + todo.rn FROM todo WHERE o.id = todo.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        UPDATE outbox_state SET last_seq = last + n;
    END IF;
    RETURN last + n;
END
$$;

-- Wakes the relay when a transaction that wrote events commits.
CREATE FUNCTION outbox_notify () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify (TG_TABLE_SCHEMA || '.outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify ();

CREATE TABLE rpc_replies (
    id           bytea PRIMARY KEY CHECK (length (id) = 16),
    op           text NOT NULL,
    request_hash bytea NOT NULL,
    reply        bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX rpc_replies_created ON rpc_replies (created_at);

CREATE TABLE consumer_cursors (
    publisher  text PRIMARY KEY,
    seq        bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
    updated_at timestamptz NOT NULL DEFAULT now ()
);

CREATE TABLE dead_letters (
    publisher text NOT NULL,
    seq       bigint NOT NULL,
    topic     text NOT NULL,
    body      bytea NOT NULL,
    reason    text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now (),
    PRIMARY KEY (publisher, seq)
);
