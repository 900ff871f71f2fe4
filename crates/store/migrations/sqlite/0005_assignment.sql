-- Automatic assignment and waiting rules per team queue (SQLite).
ALTER TABLE teams ADD COLUMN auto_assign BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE teams ADD COLUMN offer_timeout_secs INTEGER NOT NULL DEFAULT 30;
-- A domain::assignment::WaitingRule as JSON, or NULL for none.
ALTER TABLE teams ADD COLUMN waiting_rule TEXT;
ALTER TABLE support_sessions ADD COLUMN overdue_at INTEGER;

CREATE TABLE session_offers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES support_sessions(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'expired')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_at INTEGER
);
-- One open offer per session at a time, whichever node makes it.
CREATE UNIQUE INDEX session_offers_one_pending ON session_offers(session_id) WHERE state = 'pending';
CREATE INDEX session_offers_user ON session_offers(user_id, state);
