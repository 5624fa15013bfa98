-- A worker's confirmation token reaches only the worker: it is sent to the
-- phone on the roster through an outbox of notifications, never shown in an
-- answer, and only its SHA-256 is stored. A token can be re-issued (the old
-- one stops working) and it expires, so its hash moves out of the
-- append-only payroll_lines into a table of its own.

-- The current token of an accepted line. token_hash is NULL while no token is
-- valid: before the first delivery, and after a re-issue was asked for until
-- the new one is sent.
CREATE TABLE line_tokens (
    line_id    BIGINT PRIMARY KEY REFERENCES payroll_lines (id),
    token_hash BYTEA UNIQUE CHECK (octet_length(token_hash) = 32),
    issued_at  TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    -- How many tokens the line has had.
    issues     INT NOT NULL DEFAULT 0 CHECK (issues >= 0),
    CHECK ((token_hash IS NULL) OR (issued_at IS NOT NULL AND expires_at > issued_at))
);

-- Tokens issued before this migration were handed to the employer in the
-- submission answer, so none of them is trusted: every accepted line gets a
-- row without a token, and the unanswered ones a notification below.
INSERT INTO line_tokens (line_id)
SELECT id FROM payroll_lines WHERE status = 'accepted';

ALTER TABLE payroll_lines DROP COLUMN confirmation_token_hash;
-- Dropping the column dropped the checks that named it; the accepted-line
-- rule comes back without the token clause.
ALTER TABLE payroll_lines ADD CONSTRAINT payroll_lines_accepted_is_payable CHECK (status = 'rejected' OR (
    worker_id IS NOT NULL
    AND gross >= 0 AND deductions >= 0 AND net > 0
    AND gross - deductions = net
    AND days_worked IS NOT NULL
));

-- The outbox: one message to send to a worker. It holds neither the token
-- nor the link (they exist only while the message is handed to the
-- transport) and only a masked phone; the phone itself is read from the
-- roster when sending.
CREATE TABLE notifications (
    id              BIGSERIAL PRIMARY KEY,
    line_id         BIGINT NOT NULL REFERENCES payroll_lines (id),
    channel         TEXT NOT NULL CHECK (channel IN ('sms')),
    -- submitted: the payroll line was accepted; resent: the general contractor asked.
    reason          TEXT NOT NULL CHECK (reason IN ('submitted', 'resent')),
    -- pending → sent, or failed after the last attempt; undeliverable when the
    -- roster has no phone; superseded when a later request replaced it.
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'undeliverable', 'superseded')),
    phone_masked    TEXT,
    attempts        INT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);
CREATE INDEX notifications_pending_idx ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_line_idx ON notifications (line_id);

-- Unanswered accepted lines of the current revisions get a new link.
INSERT INTO notifications (line_id, channel, reason, status, created_at, next_attempt_at)
SELECT l.id, 'sms', 'resent', 'pending', now(), now()
  FROM payroll_lines l
  JOIN payrolls p ON p.id = l.payroll_id
 WHERE l.status = 'accepted'
   AND NOT EXISTS (SELECT 1 FROM line_confirmations c WHERE c.line_id = l.id)
   AND p.revision = (SELECT max(q.revision) FROM payrolls q
                      WHERE q.project_id = p.project_id AND q.employer_id = p.employer_id
                        AND q.period = p.period);

-- Replays kept the whole answer, tokens included: strip them.
UPDATE idempotency_keys
   SET response_body = jsonb_set(response_body, '{lines}', (
       SELECT coalesce(jsonb_agg(line - 'confirmation_token' ORDER BY n), '[]'::jsonb)
         FROM jsonb_array_elements(response_body -> 'lines') WITH ORDINALITY AS t(line, n)))
 WHERE jsonb_typeof(response_body -> 'lines') = 'array';

-- The paper channel (签字的纸质工资表): recorded by the general contractor's
-- labour officer, with a reference to the signed sheet, and marked as such.
ALTER TABLE line_confirmations ADD COLUMN sheet_reference TEXT
    CHECK (length(btrim(sheet_reference)) BETWEEN 1 AND 200);
ALTER TABLE line_confirmations ADD COLUMN recorded_by BIGINT REFERENCES organizations (id);
ALTER TABLE line_confirmations ADD CONSTRAINT line_confirmations_paper_is_recorded
    CHECK ((recorded_by IS NULL) = (sheet_reference IS NULL)
           AND (recorded_by IS NULL OR channel = 'paper'));
