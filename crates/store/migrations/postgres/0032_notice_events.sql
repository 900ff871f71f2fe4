-- A notice enters its organization's event log when its window opens and when it closes
-- (webhooks notice.started and notice.ended; live pages): which of the two are logged. The
-- notices table is the outbox: any node's sweep logs what is due, once.
ALTER TABLE notices ADD COLUMN start_logged BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notices ADD COLUMN end_logged BOOLEAN NOT NULL DEFAULT FALSE;
-- Windows that opened or closed before this version are not news.
UPDATE notices SET start_logged = TRUE
    WHERE starts_at IS NULL OR starts_at <= (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT;
UPDATE notices SET end_logged = TRUE
    WHERE ends_at IS NOT NULL AND ends_at <= (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT;
CREATE INDEX notices_unlogged ON notices(end_logged) WHERE NOT end_logged;
