-- Business times come from the application's clock (real, or simulated for
-- demos, tests and replays), never from the database's: without a default, an
-- insert that forgets its time fails instead of silently recording now().
ALTER TABLE organizations ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE api_keys ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE projects ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE project_subcontractors ALTER COLUMN attached_at DROP DEFAULT;
ALTER TABLE wage_accounts ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE wage_accounts ALTER COLUMN updated_at DROP DEFAULT;
ALTER TABLE workers ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE workers ALTER COLUMN updated_at DROP DEFAULT;
ALTER TABLE roster_entries ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE roster_entries ALTER COLUMN updated_at DROP DEFAULT;
ALTER TABLE attendance_records ALTER COLUMN recorded_at DROP DEFAULT;
ALTER TABLE audit_events ALTER COLUMN at DROP DEFAULT;
ALTER TABLE payrolls ALTER COLUMN submitted_at DROP DEFAULT;
ALTER TABLE line_confirmations ALTER COLUMN at DROP DEFAULT;
ALTER TABLE payroll_approvals ALTER COLUMN at DROP DEFAULT;
ALTER TABLE idempotency_keys ALTER COLUMN created_at DROP DEFAULT;
