-- Back to one shared record per person: each worker takes the values of his
-- most recently updated roster entry (a card from any of his claims if that
-- entry has none).

ALTER TABLE workers
    ADD COLUMN name        TEXT CHECK (length(btrim(name)) > 0),
    ADD COLUMN phone       TEXT,
    ADD COLUMN card_number TEXT UNIQUE CHECK (card_number ~ '^[0-9]{12,19}$'),
    ADD COLUMN card_bank   TEXT,
    ADD COLUMN updated_at  TIMESTAMPTZ;

UPDATE workers AS w
   SET name = latest.name, phone = latest.phone, card_number = latest.card_number,
       card_bank = latest.card_bank, updated_at = latest.updated_at
  FROM (SELECT DISTINCT ON (worker_id) worker_id, name, phone, card_number, card_bank, updated_at
          FROM roster_entries
         ORDER BY worker_id, updated_at DESC, id DESC) AS latest
 WHERE latest.worker_id = w.id;

UPDATE workers AS w
   SET card_number = claim.card_number
  FROM (SELECT DISTINCT ON (worker_id) worker_id, card_number
          FROM card_claims
         ORDER BY worker_id, claimed_at DESC) AS claim
 WHERE claim.worker_id = w.id AND w.card_number IS NULL;

-- A person with no roster entry had no name of his own; the old shape needs one.
UPDATE workers SET name = '未登记' WHERE name IS NULL;
UPDATE workers SET updated_at = created_at WHERE updated_at IS NULL;

ALTER TABLE workers
    ALTER COLUMN name SET NOT NULL,
    ALTER COLUMN updated_at SET NOT NULL;

DROP INDEX roster_entries_card_idx;
ALTER TABLE roster_entries
    DROP CONSTRAINT roster_entries_card_claim_fkey,
    DROP CONSTRAINT roster_entries_name_check,
    DROP COLUMN name,
    DROP COLUMN phone,
    DROP COLUMN card_number,
    DROP COLUMN card_bank;

DROP TABLE card_claims;
