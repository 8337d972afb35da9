-- 0002_sessions.sql — the gateway's own tables (issue 22): sessions and sign-in limits.
-- Nothing personal: a session is the hash of its token and the actor it proves; a limit is
-- a keyed hash of a login or a client address and its count of failures.

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,           -- SHA-256 of the token; the token is never kept
    account      text NOT NULL,
    role         text NOT NULL,
    region       text NOT NULL,
    volunteer_id text,
    resident_id  text,
    created_at   timestamptz NOT NULL DEFAULT now (),
    seen_at      timestamptz NOT NULL DEFAULT now (),  -- pushed back as the session is used
    expires_at   timestamptz NOT NULL                 -- absolute: sign-in + session-max-s
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_account ON sessions (account);

-- Failed sign-ins per login and per client address (each a keyed BLAKE2b hash, so that the
-- table tells no phone number): past a threshold the next try waits, doubling up to a limit.
CREATE TABLE signin_limits (
    key           bytea PRIMARY KEY,
    failures      integer NOT NULL CHECK (failures >= 0),
    blocked_until timestamptz NOT NULL DEFAULT '-infinity',
    updated_at    timestamptz NOT NULL DEFAULT now ()
);

-- The runtime's stored replies as the server now keeps them (the other services' migrations
-- add the same): the peer and a keyed hash of the actor beside each sealed reply.
ALTER TABLE rpc_replies
    ADD COLUMN peer text NOT NULL,
    ADD COLUMN actor_hash bytea NOT NULL CHECK (length (actor_hash) = 32);
