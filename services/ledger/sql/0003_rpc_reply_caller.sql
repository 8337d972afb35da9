-- 0003_rpc_reply_caller.sql — a stored reply answers only its caller, and is kept sealed.
-- The runtime's rpc_replies (common/sql/0001_runtime.sql) gains the peer that sent the
-- request and a keyed hash of the actor it acted as; the server now seals each reply with the
-- service's key. Replies stored before were in clear and bound to no one: they go (a retry of
-- one of them runs the op again, as a request too old to be kept would).
DELETE FROM rpc_replies;
ALTER TABLE rpc_replies
    ADD COLUMN peer text NOT NULL,
    ADD COLUMN actor_hash bytea NOT NULL CHECK (length (actor_hash) = 32);
