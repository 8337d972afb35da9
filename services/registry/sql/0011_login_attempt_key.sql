-- A failed sign-in is keyed by the attempt, not by its request id alone (issue 18): the keyed
-- hash of the request id and the password tried. A resend (the same id and the same body)
-- is the same row and counts once; another password under the same id is another failure,
-- so a guesser cannot send every guess under one id and never be counted. Rows kept from
-- before count as they did.
ALTER TABLE login_failures RENAME COLUMN request_id TO attempt;
ALTER TABLE login_failures ALTER COLUMN attempt TYPE bytea USING convert_to (attempt, 'UTF8');
