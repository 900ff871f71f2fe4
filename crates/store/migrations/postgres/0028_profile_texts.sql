-- An iOS profile's name and description in other languages (JSON objects by language code);
-- the portal shows the customer's, else the profile's own.
ALTER TABLE ios_profiles ADD COLUMN names TEXT NOT NULL DEFAULT '{}';
ALTER TABLE ios_profiles ADD COLUMN descriptions TEXT NOT NULL DEFAULT '{}';
