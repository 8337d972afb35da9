-- 0013_import_dry_run.sql — imports that only check (dry_run: issue 23's preview of a
-- spreadsheet before its import).

-- A chunked import begun with dry_run saves no volunteer: each row is tried and rolled back,
-- and the keyed hash of each ID number that would be created is kept here, so that a later
-- row of the same person (in another batch) counts as skipped, as a real import would.
ALTER TABLE imports ADD COLUMN dry_run boolean NOT NULL DEFAULT false;
CREATE TABLE import_dry_seen (
    import_id      bigint NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    id_number_hash bytea NOT NULL,
    PRIMARY KEY (import_id, id_number_hash)
);
