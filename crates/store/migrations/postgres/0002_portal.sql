-- Public portal (PostgreSQL): rep presence, site hostnames and logos, presentations, iOS profiles,
-- and keys that open a presentation or a private profile besides a support session.

ALTER TABLE users ADD COLUMN presence TEXT NOT NULL DEFAULT 'offline';
ALTER TABLE users ADD COLUMN presence_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE site_hostnames (
    hostname TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE
);
CREATE INDEX site_hostnames_site ON site_hostnames(site_id);

CREATE TABLE site_logos (
    site_id BIGINT PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    content BYTEA NOT NULL
);

CREATE TABLE presentations (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('live', 'ended')),
    created_at BIGINT NOT NULL,
    ended_at BIGINT
);

CREATE TABLE ios_profiles (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    content BYTEA NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ios_profiles_site ON ios_profiles(site_id);

ALTER TABLE session_keys ADD COLUMN presentation_id BIGINT REFERENCES presentations(id) ON DELETE CASCADE;
ALTER TABLE session_keys ADD COLUMN profile_id BIGINT REFERENCES ios_profiles(id) ON DELETE CASCADE;
CREATE INDEX session_keys_value ON session_keys(key_value, id);

CREATE INDEX support_sessions_capability ON support_sessions(capability_digest);
