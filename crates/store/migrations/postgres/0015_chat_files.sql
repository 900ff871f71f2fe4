-- Files sent in a chat: the file itself lives under the data directory (stored_as, relative to
-- <data_dir>/files, shared storage for several nodes); its message in the conversation points here.
CREATE TABLE chat_files (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id BIGINT NOT NULL REFERENCES support_sessions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    stored_as TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX chat_files_session ON chat_files (session_id);
ALTER TABLE chat_messages ADD COLUMN file_id BIGINT REFERENCES chat_files(id) ON DELETE SET NULL;
