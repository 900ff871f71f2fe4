-- When a rep's console last said it is open (refreshed every heartbeat by whichever node holds
-- it). NULL: no console ever opened. A sweep on any node turns silence past the grace into
-- "offline"; no node keeps a timer of its own.
ALTER TABLE users ADD COLUMN console_seen_at INTEGER;
CREATE INDEX users_console_seen ON users (console_seen_at) WHERE console_seen_at IS NOT NULL;
