-- The longest validity a rep may give a key: keys shorter than 9 digits are allowed only with a
-- validity short enough to keep the chance of guessing one low (domain::session_key).
ALTER TABLE organizations ADD COLUMN key_max_validity_minutes BIGINT NOT NULL DEFAULT 1440;
