-- 0012_email.sql — an optional e-mail address for volunteers and residents, sealed like the
-- phone (no keyed hash beside it: nothing looks people up by address, and nothing makes one
-- unique), and the audit log of the contacts registry gave the notify service.

ALTER TABLE volunteers ADD COLUMN email_enc bytea;
ALTER TABLE residents ADD COLUMN email_enc bytea;

-- One row per contact.list answered: which peer asked, for how many people and whom
-- ("volunteer:42"), when.
CREATE TABLE contact_reveals (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    peer        text NOT NULL,
    people      text[] NOT NULL CHECK (cardinality (people) BETWEEN 1 AND 500),
    revealed_at timestamptz NOT NULL DEFAULT now ()
);
