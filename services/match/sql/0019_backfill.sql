-- 0019_backfill.sql — back-entry (补录, activity.backfill): a region admin enters a past
-- activity and its participants' confirmed hours at once. Such activities and records are
-- marked manual wherever they are read; backfills keeps who entered each, why and when.
ALTER TABLE activities ADD COLUMN manual boolean NOT NULL DEFAULT false;
ALTER TABLE service_records ADD COLUMN manual boolean NOT NULL DEFAULT false;

CREATE TABLE backfills (
    activity_id  bigint PRIMARY KEY REFERENCES activities,
    actor        text NOT NULL CHECK (length (actor) BETWEEN 1 AND 64),
    actor_role   text NOT NULL CHECK (length (actor_role) BETWEEN 1 AND 32),
    reason       text NOT NULL CHECK (length (reason) BETWEEN 2 AND 200),
    records      integer NOT NULL CHECK (records BETWEEN 1 AND 500),
    at           timestamptz NOT NULL DEFAULT now ()
);
