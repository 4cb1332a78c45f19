-- A dispute nobody resolves in time lapses (the attested totals stand, the bond goes to the other party), and a
-- resolution decides faults as well as seconds.
ALTER TABLE indexer.disputes DROP CONSTRAINT disputes_kind_check;
ALTER TABLE indexer.disputes ADD CONSTRAINT disputes_kind_check CHECK (kind IN ('opened', 'resolved', 'lapsed'));
ALTER TABLE indexer.disputes ADD COLUMN faults BIGINT;
-- For a lapse: who received the bond.
ALTER TABLE indexer.disputes ADD COLUMN bond_to TEXT;
