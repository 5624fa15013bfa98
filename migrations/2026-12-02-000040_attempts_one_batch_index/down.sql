CREATE INDEX disbursement_lines_batch_idx ON disbursement_lines (batch_id, seq);
