-- Canned messages: a team's (managed by admins) or one rep's own; exactly one owner each.
CREATE TABLE canned_messages (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    shortcut TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((team_id IS NULL) <> (user_id IS NULL))
);
CREATE UNIQUE INDEX canned_messages_team ON canned_messages (team_id, shortcut) WHERE team_id IS NOT NULL;
CREATE UNIQUE INDEX canned_messages_user ON canned_messages (user_id, shortcut) WHERE user_id IS NOT NULL;
