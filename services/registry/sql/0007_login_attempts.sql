-- Failed sign-ins, one row per attempt: a client that timed out sends the same request (the
-- same id) again, and that is still one attempt, not two (a sign-in changes no other state,
-- so it is not a stored-reply write). Five in the last fifteen minutes lock the login.
DROP TABLE login_failures;
CREATE TABLE login_failures (
    login_hash bytea NOT NULL,
    request_id text NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now (),
    PRIMARY KEY (login_hash, request_id)
);
