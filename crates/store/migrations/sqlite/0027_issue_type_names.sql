-- An issue type's name in other languages (a JSON object by language code); the portal shows
-- the customer's, else the name itself.
ALTER TABLE issue_types ADD COLUMN names TEXT NOT NULL DEFAULT '{}';
