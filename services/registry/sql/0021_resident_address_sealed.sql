-- 0021_resident_address_sealed.sql — a resident's home address is sealed like the phone. It
-- says where an empty-nest elder or a left-behind child lives: personal data, kept in clear
-- nowhere. No keyed hash beside it: nothing looks a resident up by address.
--
-- The key is the service's, not the database's, so this migration cannot seal the addresses
-- already here: it makes room (address_enc, and address nullable), and the registry seals
-- every address still in clear when it starts, before it answers anything (registry_main.c),
-- clearing `address` as it goes. Exactly one of the two is set on every row.
ALTER TABLE residents ADD COLUMN address_enc bytea;
ALTER TABLE residents ALTER COLUMN address DROP NOT NULL;
ALTER TABLE residents ADD CONSTRAINT residents_address_once
    CHECK ((address IS NULL) <> (address_enc IS NULL));
