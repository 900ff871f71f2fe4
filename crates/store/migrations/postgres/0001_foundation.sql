-- Foundation schema (PostgreSQL). Same tables, names and numbering as migrations/sqlite.
-- Instants are BIGINT milliseconds since the Unix epoch; structured values are JSON in TEXT.

CREATE TABLE organizations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    default_session_limit BIGINT NOT NULL DEFAULT 3,
    -- Per-organization event counter: taking the next value locks this row, so event
    -- sequence numbers commit in order and a reader resuming "after N" never skips one.
    last_event_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    title TEXT,
    role TEXT NOT NULL CHECK (role IN ('admin', 'rep')),
    password_hash TEXT NOT NULL,
    is_instance_admin BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    session_limit BIGINT NOT NULL DEFAULT 3,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE teams (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

CREATE TABLE sites (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX sites_org ON sites(org_id);

CREATE TABLE issue_types (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    code_name TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    UNIQUE (org_id, code_name)
);

CREATE TABLE custom_fields (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    field_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    required BOOLEAN NOT NULL DEFAULT FALSE,
    labels TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '[]',
    position BIGINT NOT NULL DEFAULT 0,
    UNIQUE (site_id, field_key)
);

CREATE TABLE support_sessions (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id BIGINT REFERENCES sites(id) ON DELETE SET NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'active', 'ended')),
    start_method TEXT NOT NULL,
    queue_kind TEXT CHECK (queue_kind IN ('personal', 'team', 'general')),
    queue_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    queue_team_id BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    issue_type_id BIGINT REFERENCES issue_types(id) ON DELETE SET NULL,
    owner_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    priority BIGINT NOT NULL DEFAULT 0,
    customer_name TEXT NOT NULL,
    customer_company TEXT,
    company_code TEXT,
    description TEXT,
    fields TEXT NOT NULL DEFAULT '{}',
    language TEXT NOT NULL DEFAULT 'en',
    verified BOOLEAN NOT NULL DEFAULT FALSE,
    capability_digest TEXT NOT NULL UNIQUE,
    outcome TEXT,
    created_at BIGINT NOT NULL,
    queued_at BIGINT NOT NULL,
    accepted_at BIGINT,
    ended_at BIGINT
);
CREATE INDEX support_sessions_waiting ON support_sessions(org_id, state, queued_at);

CREATE TABLE session_events (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    session_id BIGINT REFERENCES support_sessions(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, seq)
);
CREATE INDEX session_events_session ON session_events(session_id, seq);

CREATE TABLE chat_messages (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id BIGINT NOT NULL REFERENCES support_sessions(id) ON DELETE CASCADE,
    sender_kind TEXT NOT NULL CHECK (sender_kind IN ('customer', 'rep', 'system')),
    sender_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    language TEXT,
    translations TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX chat_messages_session ON chat_messages(session_id, id);

CREATE TABLE session_keys (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_id BIGINT REFERENCES sites(id) ON DELETE SET NULL,
    key_value TEXT NOT NULL,
    purpose TEXT NOT NULL DEFAULT 'support',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT,
    session_id BIGINT REFERENCES support_sessions(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX session_keys_live ON session_keys(key_value) WHERE used_at IS NULL AND revoked_at IS NULL;

CREATE TABLE notices (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    severity TEXT NOT NULL DEFAULT 'info',
    texts TEXT NOT NULL DEFAULT '{}',
    starts_at BIGINT,
    ends_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE schedules (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL UNIQUE REFERENCES sites(id) ON DELETE CASCADE,
    time_zone TEXT NOT NULL,
    weekly TEXT NOT NULL DEFAULT '{}',
    holidays TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT REFERENCES organizations(id) ON DELETE CASCADE,
    actor_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, id);

CREATE TABLE web_sessions (
    token_digest TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);

CREATE TABLE setup_tokens (
    token_digest TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
