-- Every read of a conversation finds its messages through (session_id, session_seq), and a
-- resend through (session_id, client_id); nothing reads by (session_id, id). The index only
-- cost a page written per message (chat at 1,000 chats, docs/benchmarks.md). A node of the
-- version before runs the same queries, so it does without it too.
DROP INDEX IF EXISTS chat_messages_session;
