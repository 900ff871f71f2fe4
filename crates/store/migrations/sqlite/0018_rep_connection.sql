-- Whether the rep chose their chat language on their account page; until they do, each
-- sign-in takes the browser's. Reps who already changed it from the default chose it.
ALTER TABLE users ADD COLUMN language_chosen BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET language_chosen = (language <> 'en');
-- When the rep's console last closed with no other console of theirs open (NULL while one
-- is): their customers are told the rep lost the connection, until a console is heard again.
ALTER TABLE users ADD COLUMN console_closed_at INTEGER;
