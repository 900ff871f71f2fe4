-- Reports read an organization's sessions by when they arrived.
CREATE INDEX support_sessions_org_queued ON support_sessions(org_id, queued_at);
