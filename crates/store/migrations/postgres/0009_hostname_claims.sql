-- A hostname binding is a claim until ownership is proven (a DNS record holding the claim's
-- challenge) or an instance admin approves it; only then does the site answer on that host.
-- Several organizations may claim one hostname; one verified claim per hostname at most
-- (decision 0010). Bindings made before this migration count as verified.
ALTER TABLE site_hostnames DROP CONSTRAINT site_hostnames_pkey;
ALTER TABLE site_hostnames ADD COLUMN challenge TEXT NOT NULL DEFAULT '';
ALTER TABLE site_hostnames ADD COLUMN claimed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE site_hostnames ADD COLUMN verified_at BIGINT;
ALTER TABLE site_hostnames ADD COLUMN verified_by TEXT;
UPDATE site_hostnames SET verified_at = 0, verified_by = 'before-claims',
    challenge = md5(random()::text || hostname);
ALTER TABLE site_hostnames ADD PRIMARY KEY (hostname, site_id);
CREATE UNIQUE INDEX site_hostnames_bound ON site_hostnames (hostname) WHERE verified_at IS NOT NULL;
