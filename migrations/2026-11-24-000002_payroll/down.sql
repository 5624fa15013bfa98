DROP TABLE idempotency_keys;
DROP TABLE approved_lines;
DROP TABLE payroll_approvals;
DROP TABLE line_confirmations;
DROP TABLE payroll_lines;
DROP TABLE payrolls;
ALTER TABLE projects DROP COLUMN allow_unconfirmed_approval;
