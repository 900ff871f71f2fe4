-- A hostname binding is a claim until ownership is proven (a DNS record holding the claim's
-- challenge) or an instance admin approves it; only then does the site answer on that host.
-- Several organizations may claim one hostname; one verified claim per hostname at most
-- (decision 0010). Bindings made before this migration count as verified.
CREATE TABLE site_hostname_claims (
    hostname TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    challenge TEXT NOT NULL,
    claimed_at INTEGER NOT NULL DEFAULT 0,
    verified_at INTEGER,
    verified_by TEXT,
    PRIMARY KEY (hostname, site_id)
);
INSERT INTO site_hostname_claims (hostname, org_id, site_id, challenge, verified_at, verified_by)
    SELECT hostname, org_id, site_id, lower(hex(randomblob(16))), 0, 'before-claims'
    FROM site_hostnames;
DROP TABLE site_hostnames;
ALTER TABLE site_hostname_claims RENAME TO site_hostnames;
CREATE INDEX site_hostnames_site ON site_hostnames (site_id);
CREATE UNIQUE INDEX site_hostnames_bound ON site_hostnames (hostname) WHERE verified_at IS NOT NULL;
