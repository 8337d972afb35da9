-- 0020_request_address.sql — where a request is to be served, as the resident or the admin
-- entering it words it (a door, a room): what an offer shows the volunteer beside the time.
ALTER TABLE requests ADD COLUMN address text CHECK (length (address) BETWEEN 1 AND 200);
