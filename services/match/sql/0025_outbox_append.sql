-- 0025_outbox_append.sql — the outbox append of registry's 0017_outbox_append.sql (issue 24), read
-- there why: the trigger's WHEN clause notifies and no function runs per append; the seq index
-- leaves out unsequenced rows.
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
