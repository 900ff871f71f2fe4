-- Full-text search over past sessions (the console's history page): each message with its
-- translations, and each session's customer name and company, in FTS5 indexes that follow
-- their tables through triggers. unicode61 without diacritics, so
-- "cafe" finds "café".
CREATE VIRTUAL TABLE chat_search USING fts5(
    body, translations,
    content = 'chat_messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO chat_search (chat_search) VALUES ('rebuild');
CREATE TRIGGER chat_search_insert AFTER INSERT ON chat_messages BEGIN
    INSERT INTO chat_search (rowid, body, translations) VALUES (new.id, new.body, new.translations);
END;
CREATE TRIGGER chat_search_delete AFTER DELETE ON chat_messages BEGIN
    INSERT INTO chat_search (chat_search, rowid, body, translations)
        VALUES ('delete', old.id, old.body, old.translations);
END;
CREATE TRIGGER chat_search_update AFTER UPDATE OF body, translations ON chat_messages BEGIN
    INSERT INTO chat_search (chat_search, rowid, body, translations)
        VALUES ('delete', old.id, old.body, old.translations);
    INSERT INTO chat_search (rowid, body, translations) VALUES (new.id, new.body, new.translations);
END;

CREATE VIRTUAL TABLE session_search USING fts5(
    customer_name, customer_company,
    content = 'support_sessions', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO session_search (session_search) VALUES ('rebuild');
CREATE TRIGGER session_search_insert AFTER INSERT ON support_sessions BEGIN
    INSERT INTO session_search (rowid, customer_name, customer_company)
        VALUES (new.id, new.customer_name, new.customer_company);
END;
CREATE TRIGGER session_search_delete AFTER DELETE ON support_sessions BEGIN
    INSERT INTO session_search (session_search, rowid, customer_name, customer_company)
        VALUES ('delete', old.id, old.customer_name, old.customer_company);
END;
CREATE TRIGGER session_search_update AFTER UPDATE OF customer_name, customer_company ON support_sessions BEGIN
    INSERT INTO session_search (session_search, rowid, customer_name, customer_company)
        VALUES ('delete', old.id, old.customer_name, old.customer_company);
    INSERT INTO session_search (rowid, customer_name, customer_company)
        VALUES (new.id, new.customer_name, new.customer_company);
END;
