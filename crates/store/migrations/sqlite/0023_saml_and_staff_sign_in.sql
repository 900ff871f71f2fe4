-- Sign-in at an identity provider, for a site's customers or for an organization's staff.
--
-- Logins waiting for the provider's answer now belong to a site (customers) or to an
-- organization (staff). With SAML the provider posts its answer to the assertion consumer,
-- where the browser's login cookie (SameSite=Lax) is not sent: the checked answer waits on its
-- login (vouched) until the same browser comes back by a plain link that carries the cookie.
-- Logins last ten minutes: the few in flight during the upgrade start again.
DROP TABLE sso_logins;
CREATE TABLE sso_logins (
    state_digest TEXT PRIMARY KEY,
    site_id INTEGER REFERENCES sites(id) ON DELETE CASCADE,
    org_id INTEGER REFERENCES organizations(id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT,
    vouched TEXT,
    expires_at INTEGER NOT NULL
);

-- Each SAML assertion is accepted once: its id is kept until it expires, here so that it holds
-- on every node.
CREATE TABLE saml_assertions (
    assertion_id TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);

-- An organization's staff sign-in at its identity provider (JSON: the provider, the attribute
-- mapping, whether passwords still work, account creation and its default team); NULL:
-- passwords only.
ALTER TABLE organizations ADD COLUMN staff_sso TEXT;
