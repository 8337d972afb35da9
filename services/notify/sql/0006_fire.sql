-- 0006_fire.sql — reminders fired set-based (issue 21): the worker claims a batch of due
-- reminders, makes their notices and marks them sent in one statement (notify_store.c,
-- "reminder_fire"), in due order. Its claim walks this index from the oldest due reminder and
-- stops after the batch: a range scan of (due_at, id) among the pending ones, however many
-- are pending, with no sort.

CREATE INDEX reminders_due_order ON reminders (due_at, id) WHERE status = 'pending';
DROP INDEX reminders_due;
