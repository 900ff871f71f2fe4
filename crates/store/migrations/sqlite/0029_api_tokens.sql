-- Tokens another system calls /api/v1 with, made by an organization's admins. Only the
-- token's SHA-256 digest is kept (it is 256 random bits: a slow hash would add nothing), with
-- its first characters to tell tokens apart in a list. Revoked tokens stay for the record.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    shown_part TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_org ON api_tokens(org_id, id);
