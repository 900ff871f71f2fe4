-- Webhook endpoints an organization's admins add, and the deliveries to them. The session
-- event log, written in the same transaction as each change, is the outbox: a background
-- worker turns its events into deliveries (advancing the organization's cursor in the same
-- transaction, so an event becomes deliveries once across nodes), then sends them.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- The event types, separated by spaces.
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id);

CREATE TABLE webhook_cursors (
    org_id INTEGER PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    -- The last event (the organization's sequence number) turned into deliveries.
    last_seq INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    -- The webhook-id header: the same on every attempt, so receivers drop repeats.
    message_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    -- Deliveries of one session go to one endpoint in order.
    session_id INTEGER,
    payload TEXT NOT NULL,
    -- pending, delivered or failed.
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- A node sending it holds it until then.
    claimed_until INTEGER,
    last_status INTEGER,
    last_error TEXT,
    last_latency_ms INTEGER,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
