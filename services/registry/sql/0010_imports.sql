-- Imports of files larger than one frame (issue 18): import.begin makes the row,
-- import.chunk keeps each chunk until the import is finished or expires, import.finish reads
-- them as one file a batch of rows at a time and records, with each batch, where it stands
-- (a mark between rows of the CSV reader) and what it counted, so that a finish that stopped
-- (its time up, a crash, a retry) goes on where it stopped and never reads a row twice.
CREATE TABLE imports (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('volunteers')),
    -- who began it: only the same actor sends its chunks and finishes it
    account       text NOT NULL,
    role          text NOT NULL,
    region        text,
    declared_size bigint,
    chunks        integer NOT NULL DEFAULT 0 CHECK (chunks >= 0),
    size          bigint NOT NULL DEFAULT 0 CHECK (size >= 0 AND size <= 67108864),
    done          boolean NOT NULL DEFAULT false,
    mark_offset   bigint NOT NULL DEFAULT 0,
    mark_line     integer NOT NULL DEFAULT 1,
    mark_rows     integer NOT NULL DEFAULT 0,
    mark_after_cr boolean NOT NULL DEFAULT false,
    created       integer NOT NULL DEFAULT 0,
    skipped       integer NOT NULL DEFAULT 0,
    error_count   integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now (),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX imports_expires_at ON imports (expires_at);

CREATE TABLE import_chunks (
    import_id bigint NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq       integer NOT NULL CHECK (seq >= 1),
    start     bigint NOT NULL CHECK (start >= 0), -- the offset of its first byte in the file
    size      integer NOT NULL CHECK (size BETWEEN 1 AND 1048576),
    hash      bytea NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (import_id, seq)
);

-- The first 1,000 errors of a finish (error_count in imports counts them all).
CREATE TABLE import_errors (
    import_id bigint NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    n         integer NOT NULL CHECK (n BETWEEN 1 AND 1000),
    line      integer NOT NULL,
    field     text,
    code      text NOT NULL,
    message   text NOT NULL,
    PRIMARY KEY (import_id, n)
);
