-- 0017_outbox_append.sql — an outbox append costs little more than the insert (issue 24).
-- The runtime's outbox (common/sql/0001_runtime.sql) woke the relay from a PL/pgSQL statement
-- trigger, which ran the function for every INSERT: about as much work as the insert itself.
-- The trigger's WHEN clause now sends the notification and is false, so that no function runs
-- (a statement trigger's WHEN is evaluated once per statement, when the statement ends, as
-- the function was; the notification is delivered at commit, one per transaction, as before).
-- The channel is the schema's "<schema>.outbox", fixed here as the function read it from
-- TG_TABLE_SCHEMA. And the unique index on seq leaves out the rows not yet sequenced, which
-- it held as NULLs: an append writes two index entries (id and the unsequenced list), not
-- three; the relay's UPDATE that numbers them adds their seq as before.
-- Every service's schema should get the same (registry's here; the others under their next
-- numbers): the SQL below names no schema of its own.
DROP TRIGGER outbox_notify ON outbox;
DO $$
BEGIN
    EXECUTE format ('CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT'
                    ' WHEN (pg_notify (%L, '''') IS NULL) EXECUTE FUNCTION outbox_notify ()',
                    current_schema () || '.outbox');
END
$$;
COMMENT ON TRIGGER outbox_notify ON outbox IS
    'Its WHEN clause notifies "<schema>.outbox" and is false: the function never runs.';

ALTER TABLE outbox DROP CONSTRAINT outbox_seq_key;
CREATE UNIQUE INDEX outbox_seq ON outbox (seq) WHERE seq IS NOT NULL;
