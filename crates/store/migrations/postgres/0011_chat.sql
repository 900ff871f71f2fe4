-- Chat messages take their session's next number (decision 0009), shared with the session's
-- events, so a conversation and its system messages read in one order and resume "after n".
-- A client-chosen id per message makes a resend after a reconnect store nothing twice.
ALTER TABLE chat_messages ADD COLUMN session_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chat_messages ADD COLUMN client_id TEXT;
ALTER TABLE chat_messages ADD COLUMN sender_name TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX chat_messages_session_seq ON chat_messages (session_id, session_seq);
CREATE UNIQUE INDEX chat_messages_client_id ON chat_messages (session_id, client_id)
    WHERE client_id IS NOT NULL;
