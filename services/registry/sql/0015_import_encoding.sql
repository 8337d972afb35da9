-- 0015_import_encoding.sql — imports of spreadsheets saved in GBK or GB18030 (issue 24).
-- The first import.finish decides how the file's bytes are read ("utf-8" when they all are
-- valid UTF-8, else "gb18030") and keeps each chunk of a GB18030 file converted to UTF-8
-- (`text`, starting at `text_start` in the converted file) beside its bytes as sent, so that
-- the finishes after it read UTF-8 alone.
ALTER TABLE imports ADD COLUMN encoding text CHECK (encoding IN ('utf-8', 'gb18030'));
ALTER TABLE import_chunks ADD COLUMN text bytea, ADD COLUMN text_start bigint;
