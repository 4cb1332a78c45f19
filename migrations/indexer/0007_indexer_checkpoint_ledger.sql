-- The ledger a checkpoint belongs to (the node's genesis hash): a node whose ledger differs (reset, another
-- cluster) is refused instead of having its history mixed into this one's.
ALTER TABLE indexer.checkpoints ADD COLUMN ledger TEXT;
