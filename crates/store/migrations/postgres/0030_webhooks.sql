-- Webhook endpoints an organization's admins add, and the deliveries to them. The session
-- event log, written in the same transaction as each change, is the outbox: a background
-- worker turns its events into deliveries (advancing the organization's cursor in the same
-- transaction, so an event becomes deliveries once across nodes), then sends them.
CREATE TABLE webhook_endpoints (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- The event types, separated by spaces.
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id);

CREATE TABLE webhook_cursors (
    org_id BIGINT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    -- The last event (the organization's sequence number) turned into deliveries.
    last_seq BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    -- The webhook-id header: the same on every attempt, so receivers drop repeats.
    message_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    -- Deliveries of one session go to one endpoint in order.
    session_id BIGINT,
    payload TEXT NOT NULL,
    -- pending, delivered or failed.
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A node sending it holds it until then.
    claimed_until BIGINT,
    last_status BIGINT,
    last_error TEXT,
    last_latency_ms BIGINT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
