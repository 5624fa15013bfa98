-- The bank link: connections to banks, disbursement batches (代发) with one
-- attempt per payroll line, the outbox of bank files to send, every file a
-- bank sent us, and the statements read from them.
--
-- Money moves in two phases, as TigerBeetle's pending transfers do: a batch
-- reserves its amount when created; each line attempt is posted (settled)
-- when the bank settles it and voided (rejected) when the bank refuses it.
-- The database keeps a payroll line in at most one live attempt, and a
-- settled attempt can never change again.

-- How wagebridge talks to one bank. The dialect (bank_adapters::Dialect) and
-- the transport (banking::config::TransportConfig: directories, or an HTTPS
-- URL with paths of the client certificate, its key and the bank's CA) are
-- JSON; key files are referenced by path, never stored here.
CREATE TABLE bank_connections (
    id                 BIGSERIAL PRIMARY KEY,
    bank_id            BIGINT NOT NULL UNIQUE REFERENCES organizations (id),
    dialect            JSONB NOT NULL CHECK (jsonb_typeof(dialect) = 'object'),
    transport          JSONB NOT NULL CHECK (jsonb_typeof(transport) = 'object'),
    -- Date-times the bank writes without an offset are read at this offset
    -- (Asia/Shanghai, +08:00, for Chinese banks).
    utc_offset_minutes INT NOT NULL CHECK (utc_offset_minutes BETWEEN -720 AND 840),
    -- Bumped by every change; each change is also written to audit_events.
    revision           INT NOT NULL CHECK (revision >= 1),
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

-- A wage account's bank_code names the connection its money moves through.
CREATE TABLE bank_connection_codes (
    bank_code     TEXT PRIMARY KEY CHECK (length(btrim(bank_code)) > 0),
    connection_id BIGINT NOT NULL REFERENCES bank_connections (id)
);
CREATE INDEX bank_connection_codes_connection_idx ON bank_connection_codes (connection_id);

-- One batch of payments from a project's dedicated account for one period:
-- what one bank file (pain.001 or PAYPER) asks for.
CREATE TABLE disbursement_batches (
    id                       BIGSERIAL PRIMARY KEY,
    project_id               BIGINT NOT NULL REFERENCES projects (id),
    period                   CHAR(7) NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    wage_account_id          BIGINT NOT NULL REFERENCES wage_accounts (id),
    connection_id            BIGINT NOT NULL REFERENCES bank_connections (id),
    -- The file's message id (pain.001 MsgId, ICBC fSeqno): a resend carries
    -- the same one, so the bank drops the duplicate.
    message_id               TEXT NOT NULL UNIQUE CHECK (message_id ~ '^[A-Za-z0-9]{1,35}$'),
    -- A re-issue (after rejected cards were corrected) names the batch before it.
    previous_batch_id        BIGINT REFERENCES disbursement_batches (id),
    requested_by             BIGINT NOT NULL REFERENCES organizations (id),
    created_at               TIMESTAMPTZ NOT NULL,
    requested_execution_date DATE NOT NULL,
    line_count               INT NOT NULL CHECK (line_count > 0),
    amount                   NUMERIC(18, 2) NOT NULL CHECK (amount > 0),
    -- held: waiting for the balance to cover it (hold_reason, hold_figures);
    -- released: its file is in the outbox; sent: the bank has it;
    -- completed: every line settled or rejected.
    status                   TEXT NOT NULL CHECK (status IN ('held', 'released', 'sent', 'completed')),
    hold_reason              TEXT,
    hold_figures             JSONB,
    -- The bank file, exactly as it is (re)sent.
    file_format              TEXT NOT NULL,
    file_name                TEXT NOT NULL,
    file_sha256              TEXT NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    file_bytes               BYTEA NOT NULL,
    CHECK (status <> 'held' OR hold_reason IS NOT NULL)
);
CREATE INDEX disbursement_batches_project_idx ON disbursement_batches (project_id, period);
CREATE INDEX disbursement_batches_account_idx ON disbursement_batches (wage_account_id);

-- Every change of a batch's status, appended.
CREATE TABLE disbursement_batch_events (
    id         BIGSERIAL PRIMARY KEY,
    batch_id   BIGINT NOT NULL REFERENCES disbursement_batches (id),
    status     TEXT NOT NULL CHECK (status IN ('held', 'released', 'sent', 'completed')),
    at         TIMESTAMPTZ NOT NULL,
    -- The organisation that asked (a release by hand), or NULL for the service itself.
    actor_id   BIGINT REFERENCES organizations (id),
    note       TEXT
);
CREATE INDEX disbursement_batch_events_batch_idx ON disbursement_batch_events (batch_id, id);

-- One attempt to pay one approved payroll line: the worker's card on the
-- project's roster when the batch was made, and the approved net.
CREATE TABLE disbursement_lines (
    id             BIGSERIAL PRIMARY KEY,
    batch_id       BIGINT NOT NULL REFERENCES disbursement_batches (id),
    line_id        BIGINT NOT NULL REFERENCES approved_lines (line_id),
    -- Position in the bank file (1-based).
    seq            INT NOT NULL CHECK (seq >= 1),
    -- Stored before anything is sent; the bank returns it on statuses and
    -- statement entries (ICBC: Ref).
    end_to_end_id  TEXT NOT NULL UNIQUE CHECK (end_to_end_id ~ '^[A-Za-z0-9]{1,35}$'),
    worker_id      BIGINT NOT NULL REFERENCES workers (id),
    creditor_name  TEXT NOT NULL CHECK (length(btrim(creditor_name)) > 0),
    card_number    TEXT NOT NULL CHECK (card_number ~ '^[0-9]{12,19}$'),
    card_bank      TEXT,
    amount         NUMERIC(18, 2) NOT NULL CHECK (amount > 0),
    -- reserved (in a batch not yet sent) → sent → accepted / unknown →
    -- settled (posted) or rejected (voided). Settled and rejected are final.
    state          TEXT NOT NULL CHECK (state IN ('reserved', 'sent', 'accepted', 'unknown', 'settled', 'rejected')),
    -- The bank's reason for the last state (ISO 20022 reason code or ICBC iRetCode).
    reason_code    TEXT,
    reason_text    TEXT,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (batch_id, seq),
    UNIQUE (batch_id, line_id)
);
-- A payroll line is in at most one attempt that is live or settled: never
-- paid twice, never sent again once paid. Only a rejected attempt frees it.
CREATE UNIQUE INDEX disbursement_lines_one_live_attempt ON disbursement_lines (line_id)
    WHERE state <> 'rejected';
CREATE INDEX disbursement_lines_batch_idx ON disbursement_lines (batch_id, seq);

-- Every change of an attempt's state, appended, with what caused it.
CREATE TABLE disbursement_line_events (
    id           BIGSERIAL PRIMARY KEY,
    attempt_id   BIGINT NOT NULL REFERENCES disbursement_lines (id),
    from_state   TEXT CHECK (from_state IN ('reserved', 'sent', 'accepted', 'unknown', 'settled', 'rejected')),
    to_state     TEXT NOT NULL CHECK (to_state IN ('reserved', 'sent', 'accepted', 'unknown', 'settled', 'rejected')),
    at           TIMESTAMPTZ NOT NULL,
    -- created, dispatch, status_report, statement
    cause        TEXT NOT NULL CHECK (cause IN ('created', 'dispatch', 'status_report', 'statement')),
    bank_file_id BIGINT,
    reason_code  TEXT,
    reason_text  TEXT
);
CREATE INDEX disbursement_line_events_attempt_idx ON disbursement_line_events (attempt_id, id);

-- The database refuses a change an attempt may not make: a final state
-- never changes, and what was asked of the bank (line, card, amount, id)
-- never changes.
CREATE FUNCTION disbursement_line_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'disbursement_lines are never deleted';
    END IF;
    IF NEW.batch_id <> OLD.batch_id OR NEW.line_id <> OLD.line_id OR NEW.seq <> OLD.seq
       OR NEW.end_to_end_id <> OLD.end_to_end_id OR NEW.worker_id <> OLD.worker_id
       OR NEW.creditor_name <> OLD.creditor_name OR NEW.card_number <> OLD.card_number
       OR NEW.amount <> OLD.amount THEN
        RAISE EXCEPTION 'what a disbursement line asked of the bank never changes';
    END IF;
    IF OLD.state IN ('settled', 'rejected') AND NEW.state <> OLD.state THEN
        RAISE EXCEPTION 'disbursement line % is % and final', OLD.id, OLD.state;
    END IF;
    IF NEW.state = 'reserved' AND OLD.state <> 'reserved' THEN
        RAISE EXCEPTION 'disbursement line % cannot go back to reserved', OLD.id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER disbursement_lines_transition BEFORE UPDATE OR DELETE ON disbursement_lines
    FOR EACH ROW EXECUTE FUNCTION disbursement_line_transition();

-- The transactional outbox: a batch's file waiting to be handed to its
-- bank. Committed with the batch; claimed by a dispatcher with
-- FOR UPDATE SKIP LOCKED, so several instances may run.
CREATE TABLE bank_outbox (
    id              BIGSERIAL PRIMARY KEY,
    batch_id        BIGINT NOT NULL UNIQUE REFERENCES disbursement_batches (id),
    connection_id   BIGINT NOT NULL REFERENCES bank_connections (id),
    -- held (its batch waits for balance) → pending → sent; dead after the
    -- last failed attempt, until `wagebridge outbox retry` makes it pending.
    state           TEXT NOT NULL CHECK (state IN ('held', 'pending', 'sent', 'dead')),
    attempts        INT NOT NULL CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    CHECK (state <> 'sent' OR sent_at IS NOT NULL)
);
CREATE INDEX bank_outbox_due_idx ON bank_outbox (next_attempt_at) WHERE state = 'pending';

-- Every attempt to hand a file over, appended.
CREATE TABLE bank_outbox_attempts (
    id        BIGSERIAL PRIMARY KEY,
    outbox_id BIGINT NOT NULL REFERENCES bank_outbox (id),
    attempt   INT NOT NULL CHECK (attempt >= 1),
    at        TIMESTAMPTZ NOT NULL,
    -- Which service instance tried (host and process id).
    instance  TEXT NOT NULL,
    outcome   TEXT NOT NULL CHECK (outcome IN ('sent', 'already_sent', 'duplicate_at_bank', 'failed')),
    error     TEXT
);
CREATE INDEX bank_outbox_attempts_outbox_idx ON bank_outbox_attempts (outbox_id, id);

-- Every distinct file a bank sent (over its transport, or uploaded by the
-- bank), by SHA-256 of its bytes; the raw bytes are kept under the data
-- directory (bank-files/<sha[..2]>/<sha>) before it is parsed. The same
-- file again is one more row in bank_file_receipts, never applied twice.
CREATE TABLE bank_files (
    id            BIGSERIAL PRIMARY KEY,
    sha256        TEXT NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- The connection it came over or the bank that uploaded it, when known.
    connection_id BIGINT REFERENCES bank_connections (id),
    bank_id       BIGINT REFERENCES organizations (id),
    name          TEXT,
    size_bytes    BIGINT NOT NULL CHECK (size_bytes >= 0),
    received_at   TIMESTAMPTZ NOT NULL,
    -- What it was read as (pain.002, camt.053, camt.054, camt.052,
    -- icbc_payper, icbc_qpayper, icbc_qhisd), once known.
    kind          TEXT,
    -- received → applied, or quarantined (unreadable, or nothing it names
    -- is known) with its reason; never deleted.
    status        TEXT NOT NULL CHECK (status IN ('received', 'applied', 'quarantined')),
    reason        TEXT,
    processed_at  TIMESTAMPTZ,
    CHECK (status <> 'quarantined' OR reason IS NOT NULL),
    CHECK (status = 'received' OR processed_at IS NOT NULL)
);
CREATE INDEX bank_files_status_idx ON bank_files (status, id);

-- Each time a file arrived (the same bytes may come twice).
CREATE TABLE bank_file_receipts (
    id          BIGSERIAL PRIMARY KEY,
    file_id     BIGINT NOT NULL REFERENCES bank_files (id),
    received_at TIMESTAMPTZ NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('transport', 'upload')),
    name        TEXT
);
CREATE INDEX bank_file_receipts_file_idx ON bank_file_receipts (file_id);

-- What applying a file noticed and did not act on: a status for a message or
-- line we never sent, a repeated report, a status contradicting a final
-- state, a statement for an unknown account, a break in continuity.
CREATE TABLE bank_file_findings (
    id          BIGSERIAL PRIMARY KEY,
    file_id     BIGINT NOT NULL REFERENCES bank_files (id),
    code        TEXT NOT NULL CHECK (code ~ '^[A-Z][A-Z0-9_]*$'),
    detail      TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX bank_file_findings_file_idx ON bank_file_findings (file_id);

-- A statement or notification read from a bank file (camt.053/052/054, an
-- ICBC QHISD page), for one account.
CREATE TABLE bank_statements (
    id                BIGSERIAL PRIMARY KEY,
    file_id           BIGINT NOT NULL REFERENCES bank_files (id),
    account_number    TEXT NOT NULL,
    -- The dedicated account it is for, when the number is one.
    wage_account_id   BIGINT REFERENCES wage_accounts (id),
    kind              TEXT NOT NULL CHECK (kind IN ('camt.053', 'camt.052', 'camt.054', 'icbc_qhisd')),
    statement_id      TEXT NOT NULL,
    sequence_number   BIGINT,
    created_at        TIMESTAMPTZ,
    from_at           TIMESTAMPTZ,
    to_at             TIMESTAMPTZ,
    currency          TEXT,
    opening_balance   NUMERIC(18, 2),
    closing_balance   NUMERIC(18, 2),
    closing_date      DATE,
    entry_count       INT NOT NULL CHECK (entry_count >= 0),
    -- first (nothing before it), continuous, or break (continuity_detail
    -- says how); not_checked for notifications, which carry no balances.
    continuity        TEXT NOT NULL CHECK (continuity IN ('first', 'continuous', 'break', 'not_checked')),
    continuity_detail TEXT,
    stored_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (account_number, kind, statement_id),
    CHECK (continuity <> 'break' OR continuity_detail IS NOT NULL)
);
-- One statement sequence number per account.
CREATE UNIQUE INDEX bank_statements_sequence_idx ON bank_statements (account_number, kind, sequence_number)
    WHERE sequence_number IS NOT NULL;
CREATE INDEX bank_statements_wage_account_idx ON bank_statements (wage_account_id, id);

-- One entry of a statement (a batch entry split into its lines is one row
-- per line, with batch_message_id set). Written with COPY.
CREATE TABLE bank_statement_entries (
    id                     BIGSERIAL PRIMARY KEY,
    statement_id           BIGINT NOT NULL REFERENCES bank_statements (id),
    entry_no               INT NOT NULL CHECK (entry_no >= 1),
    account_number         TEXT NOT NULL,
    booking_date           DATE,
    value_date             DATE,
    booked_at              TIMESTAMPTZ,
    amount                 NUMERIC(18, 2) NOT NULL CHECK (amount >= 0),
    currency               TEXT,
    direction              TEXT NOT NULL CHECK (direction IN ('credit', 'debit')),
    status                 TEXT NOT NULL CHECK (status IN ('booked', 'pending', 'info')),
    reversal               BOOLEAN NOT NULL,
    counterparty_account   TEXT,
    counterparty_name      TEXT,
    end_to_end_id          TEXT,
    batch_message_id       TEXT,
    payment_information_id TEXT,
    bank_reference         TEXT,
    remittance             TEXT,
    UNIQUE (statement_id, entry_no)
);
CREATE INDEX bank_statement_entries_e2e_idx ON bank_statement_entries (end_to_end_id)
    WHERE end_to_end_id IS NOT NULL;
CREATE INDEX bank_statement_entries_account_idx ON bank_statement_entries (account_number, booking_date);

CREATE TRIGGER disbursement_batch_events_append_only BEFORE UPDATE OR DELETE ON disbursement_batch_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER disbursement_line_events_append_only BEFORE UPDATE OR DELETE ON disbursement_line_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER bank_outbox_attempts_append_only BEFORE UPDATE OR DELETE ON bank_outbox_attempts
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER bank_file_receipts_append_only BEFORE UPDATE OR DELETE ON bank_file_receipts
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER bank_file_findings_append_only BEFORE UPDATE OR DELETE ON bank_file_findings
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER bank_statements_append_only BEFORE UPDATE OR DELETE ON bank_statements
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER bank_statement_entries_append_only BEFORE UPDATE OR DELETE ON bank_statement_entries
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
