-- 0002_supply.sql — match's replica of volunteer supply, fed by registry's events.

CREATE TABLE supply (
    volunteer_id  bigint PRIMARY KEY,
    name          text NOT NULL,
    region        text NOT NULL,
    skills        text[] NOT NULL DEFAULT '{}',
    gender        char(1),
    birth_year    integer,
    status        text NOT NULL,
    registry_seq  bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX supply_region ON supply (region text_pattern_ops);
