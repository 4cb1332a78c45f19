-- Payouts, slashes and attestation lines exist exactly when their event does: the statement that stores a batch
-- (`store::INSERT_EVENTS`) inserts them only for the events it inserted, whose own primary key keeps each event
-- once, and `Store::roll_back` deletes them with it. Their primary keys repeated that guarantee at the price of one
-- B-tree entry per row on the widest keys (an attestation line's added its lease), about a third of what a batch
-- wrote into indexes; no query reads through them. What a rollback needs from them, finding a dropped
-- transaction's rows, a block-range index on the slot gives: rows arrive in slot order, so a fork's few slots are a
-- few block ranges, and the index costs next to nothing to keep.
ALTER TABLE indexer.payouts DROP CONSTRAINT payouts_pkey;
ALTER TABLE indexer.slashes DROP CONSTRAINT slashes_pkey;
ALTER TABLE indexer.attestations DROP CONSTRAINT attestations_pkey;
CREATE INDEX payouts_by_slot ON indexer.payouts USING brin (slot);
CREATE INDEX slashes_by_slot ON indexer.slashes USING brin (slot);
CREATE INDEX attestations_by_slot ON indexer.attestations USING brin (slot);
