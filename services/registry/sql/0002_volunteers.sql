-- 0002_volunteers.sql — real-name volunteers. The ID number and phone are stored only
-- encrypted (nonce || ciphertext || tag) beside a keyed hash for uniqueness and look-up.

CREATE TABLE volunteers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CHECK (length (name) BETWEEN 1 AND 50),
    id_number_enc  bytea NOT NULL,
    id_number_hash bytea NOT NULL UNIQUE CHECK (length (id_number_hash) = 32),
    phone_enc      bytea NOT NULL,
    phone_hash     bytea NOT NULL CHECK (length (phone_hash) = 32),
    region         text NOT NULL CHECK (region ~ '^[0-9]{12}$'),
    skills         text[] NOT NULL DEFAULT '{}',
    gender         char(1) CHECK (gender IN ('M', 'F')),
    birth_date     date,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'left')),
    created_at     timestamptz NOT NULL DEFAULT now (),
    updated_at     timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX volunteers_region ON volunteers (region text_pattern_ops, id);
CREATE INDEX volunteers_phone ON volunteers (phone_hash);
