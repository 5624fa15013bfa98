-- Monthly payrolls (工资支付表): submissions with their revisions, matched
-- lines, the workers' confirmations (本人签字确认) and the general
-- contractor's approvals. Nothing here is updated or deleted: a correction
-- is a new revision, a confirmation or an approval is a new row.

-- Whether the general contractor may approve lines the worker has not confirmed.
ALTER TABLE projects ADD COLUMN allow_unconfirmed_approval BOOLEAN NOT NULL DEFAULT false;

-- One submission of one employer's payroll for one period. The latest
-- revision of (project, employer, period) is the current one.
CREATE TABLE payrolls (
    id                  BIGSERIAL PRIMARY KEY,
    project_id          BIGINT NOT NULL REFERENCES projects (id),
    -- The subcontractor, or the general contractor for its own workers.
    employer_id         BIGINT NOT NULL REFERENCES organizations (id),
    period              CHAR(7) NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    revision            INT NOT NULL CHECK (revision >= 1),
    submitted_by        BIGINT NOT NULL REFERENCES organizations (id),
    submitted_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- json, csv or xlsx: how the lines came in.
    source_format       TEXT NOT NULL CHECK (source_format IN ('json', 'csv', 'xlsx')),
    line_count          INT NOT NULL CHECK (line_count >= 0),
    accepted_count      INT NOT NULL CHECK (accepted_count >= 0),
    rejected_count      INT NOT NULL CHECK (rejected_count >= 0),
    warning_count       INT NOT NULL CHECK (warning_count >= 0),
    -- Net pay of every line whose amounts could be read, and of the accepted ones.
    total_net           NUMERIC(18, 2) NOT NULL,
    accepted_net        NUMERIC(18, 2) NOT NULL CHECK (accepted_net >= 0),
    -- ATTENDED_BUT_UNPAID: the employer's workers with attendance and no line, as found on submission.
    attended_but_unpaid JSONB NOT NULL DEFAULT '[]'::jsonb,
    UNIQUE (project_id, employer_id, period, revision),
    CHECK (accepted_count + rejected_count = line_count)
);
CREATE INDEX payrolls_project_period_idx ON payrolls (project_id, period);

-- One line of a payroll, as submitted, with its match result. Lines that
-- could not be read keep what was given (amounts NULL) and their reasons.
CREATE TABLE payroll_lines (
    id                      BIGSERIAL PRIMARY KEY,
    payroll_id              BIGINT NOT NULL REFERENCES payrolls (id),
    -- 1-based position in the submission.
    line_no                 INT NOT NULL CHECK (line_no >= 1),
    -- The roster's worker, when the ID number is on the project's roster.
    worker_id               BIGINT REFERENCES workers (id),
    id_number               TEXT NOT NULL,
    name                    TEXT NOT NULL,
    card_number             TEXT NOT NULL,
    days_worked             NUMERIC(5, 2),
    hours                   NUMERIC(7, 2),
    gross                   NUMERIC(18, 2),
    deductions              NUMERIC(18, 2),
    net                     NUMERIC(18, 2),
    -- [{"item": "base_pay", "label": "基本工资", "amount": "5000.00"}, ...]
    gross_items             JSONB NOT NULL DEFAULT '[]'::jsonb,
    deduction_items         JSONB NOT NULL DEFAULT '[]'::jsonb,
    status                  TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    -- [{"code": "NAME_MISMATCH", "severity": "error", "field": "name", "message": "..."}, ...]
    reasons                 JSONB NOT NULL DEFAULT '[]'::jsonb,
    -- SHA-256 of the worker's confirmation token; the token itself is never stored.
    confirmation_token_hash BYTEA UNIQUE CHECK (octet_length(confirmation_token_hash) = 32),
    UNIQUE (payroll_id, line_no),
    -- An accepted line is a real payment: a rostered worker, positive net, a token to confirm it.
    CHECK (status = 'rejected' OR (
        worker_id IS NOT NULL
        AND gross >= 0 AND deductions >= 0 AND net > 0
        AND gross - deductions = net
        AND days_worked IS NOT NULL
        AND confirmation_token_hash IS NOT NULL
    )),
    CHECK (status = 'accepted' OR confirmation_token_hash IS NULL)
);
CREATE INDEX payroll_lines_payroll_idx ON payroll_lines (payroll_id, line_no);

-- 本人签字确认: the worker confirms or disputes his line, once.
CREATE TABLE line_confirmations (
    id       BIGSERIAL PRIMARY KEY,
    line_id  BIGINT NOT NULL UNIQUE REFERENCES payroll_lines (id),
    action   TEXT NOT NULL CHECK (action IN ('confirmed', 'disputed')),
    -- sms, wechat, app, web, kiosk, paper: how the worker answered.
    channel  TEXT NOT NULL CHECK (channel IN ('sms', 'wechat', 'app', 'web', 'kiosk', 'paper')),
    reason   TEXT,
    at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (action = 'confirmed' OR length(btrim(coalesce(reason, ''))) > 0)
);

-- The general contractor's labour officer (劳资专管员) approves a payroll.
-- A payroll may be approved more than once: each approval freezes the lines
-- that became approvable since the last one.
CREATE TABLE payroll_approvals (
    id                BIGSERIAL PRIMARY KEY,
    payroll_id        BIGINT NOT NULL REFERENCES payrolls (id),
    approved_by       BIGINT NOT NULL REFERENCES organizations (id),
    at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    allow_unconfirmed BOOLEAN NOT NULL,
    line_count        INT NOT NULL CHECK (line_count > 0),
    amount            NUMERIC(18, 2) NOT NULL CHECK (amount > 0)
);
CREATE INDEX payroll_approvals_payroll_idx ON payroll_approvals (payroll_id);

-- The frozen lines: what will be paid. A line is approved at most once.
CREATE TABLE approved_lines (
    line_id     BIGINT PRIMARY KEY REFERENCES payroll_lines (id),
    approval_id BIGINT NOT NULL REFERENCES payroll_approvals (id),
    -- Approved without the worker's confirmation (the project allowed it).
    unconfirmed BOOLEAN NOT NULL
);
CREATE INDEX approved_lines_approval_idx ON approved_lines (approval_id);

-- Idempotency-Key: the first response to a key is kept and replayed.
-- Not a business record: rows may be purged once old.
CREATE TABLE idempotency_keys (
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    key             TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, path, query, content type and body.
    request_hash    BYTEA NOT NULL CHECK (octet_length(request_hash) = 32),
    state           TEXT NOT NULL CHECK (state IN ('running', 'done')),
    response_status SMALLINT,
    response_body   JSONB,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at    TIMESTAMPTZ,
    PRIMARY KEY (organization_id, key),
    CHECK (state = 'running' OR (response_status IS NOT NULL AND response_body IS NOT NULL))
);

CREATE TRIGGER payrolls_append_only BEFORE UPDATE OR DELETE ON payrolls
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER payroll_lines_append_only BEFORE UPDATE OR DELETE ON payroll_lines
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER line_confirmations_append_only BEFORE UPDATE OR DELETE ON line_confirmations
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER payroll_approvals_append_only BEFORE UPDATE OR DELETE ON payroll_approvals
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER approved_lines_append_only BEFORE UPDATE OR DELETE ON approved_lines
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
