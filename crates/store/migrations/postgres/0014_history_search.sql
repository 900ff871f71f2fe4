-- Full-text search over past sessions (the console's history page): a tsvector kept by the
-- database beside each message (with its translations) and each session (customer name and
-- company), GIN-indexed. The 'simple' configuration: conversations mix languages, so words are
-- matched as written (lower-cased), without one language's stemming.
ALTER TABLE chat_messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', body || ' ' || translations)) STORED;
CREATE INDEX chat_messages_search ON chat_messages USING GIN (search);
ALTER TABLE support_sessions ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', customer_name || ' ' || COALESCE(customer_company, ''))) STORED;
CREATE INDEX support_sessions_search ON support_sessions USING GIN (search);
