-- The sweep for customers gone from the queue (`customers_gone`) reads the waiting sessions in
-- id order and checks when each customer was last seen or went. An index that held
-- customer_gone_at made every "the page closed" and "it opened again" a change of an indexed
-- column: on PostgreSQL such an update cannot stay on its page (no HOT update) and writes a
-- new entry into every index of the table, the full-text one among them, once per session
-- start. This index names only the state, which changes through other indexed columns anyway.
-- A node of the version before runs the same query, with this index instead.
DROP INDEX IF EXISTS support_sessions_customer_gone;
CREATE INDEX support_sessions_waiting_by_id ON support_sessions(id) WHERE state = 'waiting';
