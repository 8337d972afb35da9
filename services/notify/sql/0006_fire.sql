-- 0006_fire.sql — reminders fired set-based (issue 21): the worker claims a batch of due
-- reminders, makes their notices and marks them sent in one statement (notify_store.c,
-- "reminder_fire"), in due order. Its claim walks this index from the oldest due reminder and
-- stops after the batch: a range scan of (due_at, id) among the pending ones, however many
-- are pending, with no sort.

CREATE INDEX reminders_due_order ON reminders (due_at, id) WHERE status = 'pending';
DROP INDEX reminders_due;

-- Deliveries are claimed the same way (notify_delivery.c, "delivery_claim"): in the order of
-- (next_at, id) along this index, the batch read from its start, not every due row sorted.
CREATE INDEX deliveries_out_order ON deliveries (next_at, id)
    WHERE status IN ('pending', 'failed') AND channel <> 'inbox';
DROP INDEX deliveries_out;

-- The held inbox deliveries alone are looked for by next_at among the pending (the worker's
-- release, "delivery_inbox", and its next due time): the index leaves out e-mail and
-- webhooks, whose claims (which move next_at) then do not maintain it.
CREATE INDEX deliveries_inbox_due ON deliveries (next_at)
    WHERE status = 'pending' AND channel = 'inbox';
DROP INDEX deliveries_due;
