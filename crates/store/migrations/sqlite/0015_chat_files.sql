-- Files sent in a chat: the file itself lives under the data directory (stored_as, relative to
-- <data_dir>/files); its message in the conversation points here.
CREATE TABLE chat_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES support_sessions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    stored_as TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX chat_files_session ON chat_files (session_id);
ALTER TABLE chat_messages ADD COLUMN file_id INTEGER REFERENCES chat_files(id) ON DELETE SET NULL;
