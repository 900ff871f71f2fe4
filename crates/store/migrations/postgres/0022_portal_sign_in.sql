-- Portal sign-in at a site's identity provider: logins on their way there and back (state,
-- nonce and PKCE verifier, used once), the identities that came back (a cookie's digest, the
-- attributes the provider sent), and on a session who vouched for its customer.
CREATE TABLE sso_logins (
    state_digest TEXT PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT,
    expires_at BIGINT NOT NULL
);

CREATE TABLE portal_identities (
    token_digest TEXT PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

ALTER TABLE support_sessions ADD COLUMN verified_by TEXT;
ALTER TABLE support_sessions ADD COLUMN verified_attributes TEXT;
