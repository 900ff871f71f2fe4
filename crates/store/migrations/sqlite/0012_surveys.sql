-- The customer's rating of an ended session (once per session) and their comment.
CREATE TABLE session_surveys (
    session_id INTEGER PRIMARY KEY REFERENCES support_sessions(id) ON DELETE CASCADE,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT,
    created_at INTEGER NOT NULL
);
