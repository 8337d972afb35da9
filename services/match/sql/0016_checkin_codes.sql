-- 0016_checkin_codes.sql — the key of activities' check-in codes (activity.checkin_code): one
-- random 32-byte key made here, read only by match, never sent anywhere. A code is a keyed
-- hash of an activity and a time window; rotating the key (an UPDATE) voids every code out.
CREATE TABLE checkin_key (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    key bytea NOT NULL CHECK (length (key) = 32)
);
INSERT INTO checkin_key (key)
    VALUES (uuid_send (gen_random_uuid ()) || uuid_send (gen_random_uuid ()));
