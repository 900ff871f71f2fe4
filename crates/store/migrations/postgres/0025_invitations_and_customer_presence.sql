-- An invitation into a session waits for the invited rep's answer (accepted: they become a
-- participant; declined: it goes). Kept apart from participants, whom every chat query reads.
CREATE TABLE session_invitations (
    session_id BIGINT NOT NULL REFERENCES support_sessions(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    invited_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX session_invitations_user ON session_invitations(user_id);

-- Whether the customer's page is open: refreshed while it is (customer_seen_at), marked when
-- it closes (customer_gone_at, cleared when it opens again). A waiting customer gone past the
-- grace leaves the queue as abandoned.
ALTER TABLE support_sessions ADD COLUMN customer_seen_at BIGINT;
ALTER TABLE support_sessions ADD COLUMN customer_gone_at BIGINT;
CREATE INDEX support_sessions_customer_gone ON support_sessions(state, customer_gone_at);
