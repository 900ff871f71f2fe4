-- Portal sign-in with SAML: the identity provider posts its answer to the assertion consumer,
-- where the browser's login cookie (SameSite=Lax) is not sent. The checked answer waits on its
-- login (vouched) until the same browser comes back by a plain link that carries the cookie.
-- Each assertion is accepted once: its id is kept until it expires, here so that it holds on
-- every node.
ALTER TABLE sso_logins ADD COLUMN vouched TEXT;

CREATE TABLE saml_assertions (
    assertion_id TEXT PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
