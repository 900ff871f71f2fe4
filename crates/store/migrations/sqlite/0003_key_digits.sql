-- How many digits an organization's session keys have (6–12, default 9).
ALTER TABLE organizations ADD COLUMN key_digits INTEGER NOT NULL DEFAULT 9;
