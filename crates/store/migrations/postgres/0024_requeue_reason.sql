-- Why a session waits again (a transfer, with its note; its rep gone), shown in the queue
-- before anyone accepts it; cleared when someone does.
ALTER TABLE support_sessions ADD COLUMN requeue_reason TEXT;
