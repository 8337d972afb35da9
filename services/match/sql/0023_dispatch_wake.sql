-- 0023_dispatch_wake.sql — new demand wakes the dispatcher, and a round reads only what it
-- needs (issue 24).

-- Each request keeps the weekly slots its window touches (dispatch_slots, 0021), set whenever
-- the window is: a round reads the column instead of calling the function twice a request.
ALTER TABLE requests ADD COLUMN slots text;

CREATE FUNCTION requests_slots () RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    NEW.slots := dispatch_slots (NEW.earliest_start, NEW.latest_end);
    RETURN NEW;
END $$;
CREATE TRIGGER requests_slots BEFORE INSERT OR UPDATE OF earliest_start, latest_end ON requests
    FOR EACH ROW EXECUTE FUNCTION requests_slots ();
UPDATE requests SET slots = dispatch_slots (earliest_start, latest_end);
ALTER TABLE requests ALTER COLUMN slots SET NOT NULL;

-- The requests a round may give up on (review, open, matching, by start): dispatch_unfill read
-- the whole table for them. requests_live, which the demand (open, matching) reads, takes them
-- in too, rather than another index every offer's status change would update.
DROP INDEX requests_live;
CREATE INDEX requests_live ON requests (earliest_start)
    WHERE status IN ('review', 'open', 'matching');

-- New demand — a request entering dispatch (created open, approved, back to matching), a
-- volunteer's acceptance undone, an offer declined, withdrawn or lapsed — notifies channel
-- "match.dispatch" when its transaction commits; every match process LISTENs on it and runs a
-- round soon (STATION_DISPATCH_WAKE_MS), not only on its clock.
CREATE FUNCTION dispatch_wake () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('match.dispatch', '');
    RETURN NULL;
END $$;
-- Inserts by statement (one notification for a bulk load), when a row is in dispatch.
CREATE FUNCTION dispatch_wake_inserted () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted WHERE status IN ('open', 'matching')) THEN
        PERFORM pg_notify ('match.dispatch', '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER requests_wake_insert AFTER INSERT ON requests
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION dispatch_wake_inserted ();
CREATE TRIGGER requests_wake_update AFTER UPDATE OF status, accepted ON requests
    FOR EACH ROW WHEN (NEW.status IN ('open', 'matching')
                       AND (OLD.status NOT IN ('open', 'matching') OR NEW.accepted < OLD.accepted))
    EXECUTE FUNCTION dispatch_wake ();
CREATE TRIGGER offers_wake AFTER UPDATE OF status ON offers
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status IN ('declined', 'withdrawn', 'expired'))
    EXECUTE FUNCTION dispatch_wake ();

-- Why a round ran: its clock, or new demand that woke it (dispatch.rounds' rows).
ALTER TABLE dispatch_rounds ADD COLUMN woken boolean NOT NULL DEFAULT false;
