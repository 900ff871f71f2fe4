-- Representative console (PostgreSQL): closing notes, invited participants.
ALTER TABLE support_sessions ADD COLUMN notes TEXT;

CREATE TABLE session_participants (
    session_id BIGINT NOT NULL REFERENCES support_sessions(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    invited_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX session_participants_user ON session_participants(user_id);
CREATE INDEX support_sessions_owner ON support_sessions(org_id, owner_user_id, state);
