-- Tokens cannot come back: the lines get no token column values, and every
-- line would need a new link anyway.
ALTER TABLE line_confirmations DROP CONSTRAINT line_confirmations_paper_is_recorded;
ALTER TABLE line_confirmations DROP COLUMN recorded_by;
ALTER TABLE line_confirmations DROP COLUMN sheet_reference;
DROP TABLE notifications;
ALTER TABLE payroll_lines DROP CONSTRAINT payroll_lines_accepted_is_payable;
ALTER TABLE payroll_lines ADD COLUMN confirmation_token_hash BYTEA UNIQUE
    CHECK (octet_length(confirmation_token_hash) = 32);
ALTER TABLE payroll_lines ADD CHECK (status = 'rejected' OR (
    worker_id IS NOT NULL
    AND gross >= 0 AND deductions >= 0 AND net > 0
    AND gross - deductions = net
    AND days_worked IS NOT NULL
));
ALTER TABLE payroll_lines ADD CHECK (status = 'accepted' OR confirmation_token_hash IS NULL);
DROP TABLE line_tokens;
