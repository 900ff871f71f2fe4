-- Presentations, live: who attends (joined with a name, each by a secret link of their own) and
-- the chat everyone in a presentation shares, numbered per presentation.
CREATE TABLE presentation_attendees (
    id BIGSERIAL PRIMARY KEY,
    presentation_id BIGINT NOT NULL REFERENCES presentations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('in', 'left', 'removed')),
    joined_at BIGINT NOT NULL,
    left_at BIGINT
);
CREATE INDEX presentation_attendees_in ON presentation_attendees (presentation_id, state);

CREATE TABLE presentation_lines (
    presentation_id BIGINT NOT NULL REFERENCES presentations(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    author TEXT NOT NULL CHECK (author IN ('presenter', 'attendee', 'system')),
    attendee_id BIGINT REFERENCES presentation_attendees(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (presentation_id, seq),
    UNIQUE (presentation_id, client_id)
);
