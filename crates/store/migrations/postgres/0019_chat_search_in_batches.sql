-- SQLite only (its full-text index is now filled in batches); PostgreSQL's tsvector column
-- is computed with each row. Kept so both backends number their migrations alike.
SELECT 1;
