-- A waiting customer's place in line: counted on this covering index alone (no table reads).
CREATE INDEX support_sessions_line ON support_sessions
    (org_id, queue_kind, state, priority, queued_at, queue_user_id, queue_team_id)
    WHERE state = 'waiting';

-- The waiting page's estimate reads the last accepted sessions of a queue, newest first: without
-- this index that was a scan of the organization's whole history on every waiting view.
CREATE INDEX support_sessions_accepted ON support_sessions (org_id, queue_kind, accepted_at)
    WHERE accepted_at IS NOT NULL;
