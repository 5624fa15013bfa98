-- The job runner purges Idempotency-Key records older than 24 hours (they
-- are not business records); this index lets it find them without reading
-- the whole table every round.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
