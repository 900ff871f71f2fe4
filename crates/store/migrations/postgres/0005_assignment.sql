-- Automatic assignment and waiting rules per team queue (PostgreSQL).
ALTER TABLE teams ADD COLUMN auto_assign BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE teams ADD COLUMN offer_timeout_secs BIGINT NOT NULL DEFAULT 30;
-- A domain::assignment::WaitingRule as JSON, or NULL for none.
ALTER TABLE teams ADD COLUMN waiting_rule TEXT;
ALTER TABLE support_sessions ADD COLUMN overdue_at BIGINT;

CREATE TABLE session_offers (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id BIGINT NOT NULL REFERENCES support_sessions(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'expired')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT
);
-- One open offer per session at a time, whichever node makes it.
CREATE UNIQUE INDEX session_offers_one_pending ON session_offers(session_id) WHERE state = 'pending';
CREATE INDEX session_offers_user ON session_offers(user_id, state);
