-- How far each side of a conversation has received and read it (session numbers): the
-- sender's marks ("delivered", "read"). Only ever move forward.
ALTER TABLE support_sessions ADD COLUMN customer_received_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE support_sessions ADD COLUMN customer_read_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE support_sessions ADD COLUMN rep_received_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE support_sessions ADD COLUMN rep_read_seq BIGINT NOT NULL DEFAULT 0;
