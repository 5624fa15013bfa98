-- What a roster says about a worker belongs to that project's roster entry:
-- the name as registered, the phone, the bank card and its bank. Only the
-- person (the resident ID number) is shared between tenants, so one tenant's
-- upload can neither change nor reveal what another project registered.

-- A bank card belongs to one person (条例 art. 31: no one collects workers'
-- cards), across every project: the first person to use a card claims it.
CREATE TABLE card_claims (
    card_number TEXT PRIMARY KEY CHECK (card_number ~ '^[0-9]{12,19}$'),
    worker_id   BIGINT NOT NULL REFERENCES workers (id),
    claimed_at  TIMESTAMPTZ NOT NULL,
    -- The target of roster_entries' composite key below.
    UNIQUE (card_number, worker_id)
);
CREATE INDEX card_claims_worker_idx ON card_claims (worker_id);

INSERT INTO card_claims (card_number, worker_id, claimed_at)
    SELECT card_number, id, updated_at FROM workers WHERE card_number IS NOT NULL;

ALTER TABLE roster_entries
    ADD COLUMN name        TEXT,
    ADD COLUMN phone       TEXT,
    ADD COLUMN card_number TEXT,
    ADD COLUMN card_bank   TEXT;

-- Every existing entry starts from its worker's current values.
UPDATE roster_entries AS r
   SET name = w.name, phone = w.phone, card_number = w.card_number, card_bank = w.card_bank
  FROM workers AS w
 WHERE w.id = r.worker_id;

ALTER TABLE roster_entries
    ALTER COLUMN name SET NOT NULL,
    ADD CONSTRAINT roster_entries_name_check CHECK (length(btrim(name)) > 0),
    -- The database itself refuses an entry that names another person's card.
    ADD CONSTRAINT roster_entries_card_claim_fkey FOREIGN KEY (card_number, worker_id)
        REFERENCES card_claims (card_number, worker_id);
-- Releasing a claim asks whether any entry still names the card.
CREATE INDEX roster_entries_card_idx ON roster_entries (card_number, worker_id)
    WHERE card_number IS NOT NULL;

ALTER TABLE workers
    DROP COLUMN name,
    DROP COLUMN phone,
    DROP COLUMN card_number,
    DROP COLUMN card_bank,
    DROP COLUMN updated_at;
