-- The language a rep reads and writes chat in: what customers' messages are translated into,
-- and what the rep's own messages are translated from.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
