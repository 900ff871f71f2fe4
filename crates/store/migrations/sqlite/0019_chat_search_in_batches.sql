-- Chat messages are indexed for search in batches by the chat writer's thread, no longer in
-- each message's transaction (decision 0015): the index holds every message whose id is at
-- most indexed_upto, and a search brings it up to date first.
CREATE TABLE chat_search_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
);
INSERT INTO chat_search_progress (id, indexed_upto)
    SELECT 1, COALESCE(MAX(id), 0) FROM chat_messages;

DROP TRIGGER chat_search_insert;
DROP TRIGGER chat_search_delete;
DROP TRIGGER chat_search_update;

-- A message not indexed yet is indexed later as it is then; only an indexed one is taken out
-- (an external-content index must be told exactly what it holds).
CREATE TRIGGER chat_search_delete AFTER DELETE ON chat_messages
WHEN old.id <= (SELECT indexed_upto FROM chat_search_progress) BEGIN
    INSERT INTO chat_search (chat_search, rowid, body, translations)
        VALUES ('delete', old.id, old.body, old.translations);
END;
CREATE TRIGGER chat_search_update AFTER UPDATE OF body, translations ON chat_messages
WHEN old.id <= (SELECT indexed_upto FROM chat_search_progress) BEGIN
    INSERT INTO chat_search (chat_search, rowid, body, translations)
        VALUES ('delete', old.id, old.body, old.translations);
    INSERT INTO chat_search (rowid, body, translations) VALUES (new.id, new.body, new.translations);
END;
