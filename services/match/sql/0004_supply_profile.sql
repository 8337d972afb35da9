-- 0004_supply_profile.sql — what dispatch needs of a volunteer's profile, kept up to date by
-- volunteer.registered, volunteer.updated and volunteer.status_changed.

ALTER TABLE supply
    ADD COLUMN categories text[] NOT NULL DEFAULT '{}',
    ADD COLUMN availability text[] NOT NULL DEFAULT '{}',
    ADD COLUMN lat double precision,
    ADD COLUMN lon double precision;
CREATE INDEX supply_skills ON supply USING gin (skills);
