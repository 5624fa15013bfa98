-- UNIQUE (batch_id, seq) already indexes a batch's lines in file order;
-- the second index only cost a write per line (a 100,000-line batch
-- writes every line into every index of disbursement_lines, on insert and
-- again on each state change, which can never be a HOT update because the
-- state is in a partial index's condition).
DROP INDEX disbursement_lines_batch_idx;
