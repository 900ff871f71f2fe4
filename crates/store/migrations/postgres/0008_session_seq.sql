-- A session's own events carry a per-session number, gap-free and monotonic, taken from its own
-- row: the session topic (chat next) orders by it without the organization's counter row lock
-- (decision 0009). Events logged before this migration have none.
ALTER TABLE support_sessions ADD COLUMN last_session_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE session_events ADD COLUMN session_seq BIGINT;
CREATE UNIQUE INDEX session_events_session_seq ON session_events (session_id, session_seq)
    WHERE session_seq IS NOT NULL;
