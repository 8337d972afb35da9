-- 0004_outbox_sequence.sql — the relay's numbering of registry's 0019_outbox_sequence.sql (issue 24), read
-- there why: the new rows are taken from the index of unsequenced rows, each found by its key.
-- The relay's pass read the whole outbox: its UPDATE joined the rows to number with the
-- table by a hash join, a scan of every event kept (a day's, by retention), which took as
-- much of the database's time as the appends themselves. Here the ids to number are taken
-- from the index of unsequenced rows first and each row is found by its key; and a pass
-- that finds nothing locks nothing (no transaction id, no WAL), as the relay makes such
-- passes while appends pause. The ids are read once outbox_state's row is locked, as before:
-- two relays (should two ever run) still take turns.
CREATE OR REPLACE FUNCTION outbox_sequence (batch integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    last bigint;
    ids bigint[];
    numbered bigint;
BEGIN
    -- The first row to number by the index (stale statistics that count many make a test
    -- of existence scan the table instead).
    PERFORM FROM outbox WHERE seq IS NULL ORDER BY id LIMIT 1;
    IF NOT FOUND THEN
        RETURN (SELECT last_seq FROM outbox_state);
    END IF;
    SELECT last_seq INTO last FROM outbox_state FOR UPDATE;
    ids := ARRAY (SELECT id FROM outbox WHERE seq IS NULL ORDER BY id LIMIT batch);
    numbered := coalesce (cardinality (ids), 0);
    IF numbered > 0 THEN
        UPDATE outbox o SET seq = last + t.rn
        FROM unnest (ids) WITH ORDINALITY AS t (id, rn) WHERE o.id = t.id;
        UPDATE outbox_state SET last_seq = last + numbered;
    END IF;
    RETURN last + numbered;
END
$$;
