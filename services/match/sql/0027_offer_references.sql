-- 0027_offer_references.sql — an offer names a request and a volunteer that exist, checked once
-- a statement instead of once a row (issue 24).
--
-- The two foreign keys of offers ran two checks (a query each, through SPI) for every offer
-- row: 29% of the round's offers statement at 20,000 offers. The same guarantee, set-based:
--   - a statement that inserts offers fails with 23503 under the old constraint's name when
--     any of them names a request or a volunteer not there (one anti-join of its new rows
--     against each table); a change of an offer's request or volunteer (nothing does it) is
--     checked a row at a time, as before;
--   - a statement that deletes requests or supply rows, changes their key, or truncates them,
--     fails so while an offer names one of them. It first takes offers in SHARE mode, which
--     waits for every transaction that is writing offers and holds new ones back until it
--     ends, and then looks with a snapshot taken after: an offer written meanwhile is seen,
--     and an offer written after it sees the row gone. No row lock on the referenced rows is
--     needed, unlike the foreign key's FOR KEY SHARE a row. Nothing deletes requests or
--     volunteers (they are cancelled, made inactive): that side is only a guard.
ALTER TABLE offers DROP CONSTRAINT offers_request_id_fkey;
ALTER TABLE offers DROP CONSTRAINT offers_volunteer_id_fkey;

CREATE FUNCTION offers_references_check () RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
DECLARE
    missing bigint;
BEGIN
    SELECT n.request_id INTO missing FROM new_offers n
     WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = n.request_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "offers" violates foreign key constraint'
              ' "offers_request_id_fkey"'
              USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'offers_request_id_fkey',
                    TABLE = 'offers', DETAIL = format ('Key (request_id)=(%s) is not present in'
                                                       ' table "requests".', missing);
    END IF;
    SELECT n.volunteer_id INTO missing FROM new_offers n
     WHERE NOT EXISTS (SELECT 1 FROM supply s WHERE s.volunteer_id = n.volunteer_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "offers" violates foreign key constraint'
              ' "offers_volunteer_id_fkey"'
              USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'offers_volunteer_id_fkey',
                    TABLE = 'offers', DETAIL = format ('Key (volunteer_id)=(%s) is not present'
                                                       ' in table "supply".', missing);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER offers_references_insert AFTER INSERT ON offers
    REFERENCING NEW TABLE AS new_offers FOR EACH STATEMENT
    EXECUTE FUNCTION offers_references_check ();
-- An offer's request and volunteer never change; should a statement change them, a row at a
-- time, as the foreign keys did.
CREATE FUNCTION offers_references_row () RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM 1 FROM requests r WHERE r.id = NEW.request_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "offers" violates foreign key constraint'
              ' "offers_request_id_fkey"'
              USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'offers_request_id_fkey',
                    TABLE = 'offers', DETAIL = format ('Key (request_id)=(%s) is not present in'
                                                       ' table "requests".', NEW.request_id);
    END IF;
    PERFORM 1 FROM supply s WHERE s.volunteer_id = NEW.volunteer_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "offers" violates foreign key constraint'
              ' "offers_volunteer_id_fkey"'
              USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'offers_volunteer_id_fkey',
                    TABLE = 'offers', DETAIL = format ('Key (volunteer_id)=(%s) is not present'
                                                       ' in table "supply".', NEW.volunteer_id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER offers_references_update BEFORE UPDATE OF request_id, volunteer_id ON offers
    FOR EACH ROW WHEN (OLD.request_id IS DISTINCT FROM NEW.request_id
                       OR OLD.volunteer_id IS DISTINCT FROM NEW.volunteer_id)
    EXECUTE FUNCTION offers_references_row ();

-- The referenced side: TG_ARGV[0] the table's key column, TG_ARGV[1] the offers' column naming
-- it, TG_ARGV[2] the old constraint's name. Deleted rows' keys (old_rows), a key changed
-- (a row at a time, OLD), or, truncated, any offer at all.
CREATE FUNCTION offers_referenced_check () RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
DECLARE
    named bigint;
BEGIN
    LOCK TABLE offers IN SHARE MODE;
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format ('SELECT %I FROM offers LIMIT 1', TG_ARGV[1]) INTO named;
    ELSIF TG_LEVEL = 'ROW' THEN
        EXECUTE format ('SELECT %I FROM offers WHERE %I = ($1).%I LIMIT 1', TG_ARGV[1],
                        TG_ARGV[1], TG_ARGV[0]) INTO named USING OLD;
    ELSE
        EXECUTE format ('SELECT o.%I FROM offers o WHERE o.%I IN (SELECT %I FROM old_rows)'
                        ' LIMIT 1', TG_ARGV[1], TG_ARGV[1], TG_ARGV[0]) INTO named;
    END IF;
    IF named IS NOT NULL THEN
        RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on'
              ' table "offers"', TG_TABLE_NAME, TG_ARGV[2]
              USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[2],
                    TABLE = TG_TABLE_NAME,
                    DETAIL = format ('Key (%s)=(%s) is still referenced from table "offers".',
                                     TG_ARGV[0], named);
    END IF;
    IF TG_LEVEL = 'ROW' THEN
        RETURN NEW;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER requests_offers_delete AFTER DELETE ON requests
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION offers_referenced_check ('id', 'request_id', 'offers_request_id_fkey');
CREATE TRIGGER requests_offers_update BEFORE UPDATE OF id ON requests
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION offers_referenced_check ('id', 'request_id', 'offers_request_id_fkey');
CREATE TRIGGER requests_offers_truncate AFTER TRUNCATE ON requests FOR EACH STATEMENT
    EXECUTE FUNCTION offers_referenced_check ('id', 'request_id', 'offers_request_id_fkey');
CREATE TRIGGER supply_offers_delete AFTER DELETE ON supply
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION offers_referenced_check ('volunteer_id', 'volunteer_id',
                                              'offers_volunteer_id_fkey');
CREATE TRIGGER supply_offers_update BEFORE UPDATE OF volunteer_id ON supply
    FOR EACH ROW WHEN (OLD.volunteer_id IS DISTINCT FROM NEW.volunteer_id)
    EXECUTE FUNCTION offers_referenced_check ('volunteer_id', 'volunteer_id',
                                              'offers_volunteer_id_fkey');
CREATE TRIGGER supply_offers_truncate AFTER TRUNCATE ON supply FOR EACH STATEMENT
    EXECUTE FUNCTION offers_referenced_check ('volunteer_id', 'volunteer_id',
                                              'offers_volunteer_id_fkey');
