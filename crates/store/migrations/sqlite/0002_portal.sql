-- Public portal (SQLite): rep presence, site hostnames and logos, presentations, iOS profiles,
-- and keys that open a presentation or a private profile besides a support session.

ALTER TABLE users ADD COLUMN presence TEXT NOT NULL DEFAULT 'offline';
ALTER TABLE users ADD COLUMN presence_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE site_hostnames (
    hostname TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE
);
CREATE INDEX site_hostnames_site ON site_hostnames(site_id);

CREATE TABLE site_logos (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    content BLOB NOT NULL
);

CREATE TABLE presentations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('live', 'ended')),
    created_at INTEGER NOT NULL,
    ended_at INTEGER
);

CREATE TABLE ios_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    content BLOB NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ios_profiles_site ON ios_profiles(site_id);

ALTER TABLE session_keys ADD COLUMN presentation_id INTEGER REFERENCES presentations(id) ON DELETE CASCADE;
ALTER TABLE session_keys ADD COLUMN profile_id INTEGER REFERENCES ios_profiles(id) ON DELETE CASCADE;
CREATE INDEX session_keys_value ON session_keys(key_value, id);

CREATE INDEX support_sessions_capability ON support_sessions(capability_digest);
