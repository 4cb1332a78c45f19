-- Every list the API serves is read in its own order from an index (a page is an index range, never a sort of
-- the whole table), with keys compared byte-wise (COLLATE "C") as the API's cursors compare them.

-- Workers by GPU count and by registration, newest first (the price orders have theirs since 0005).
CREATE INDEX workers_by_gpus ON indexer.workers (gpu_count, address COLLATE "C") WHERE NOT closed;
CREATE INDEX workers_by_registered ON indexer.workers (registered_at, address COLLATE "C") WHERE NOT closed;

-- Clusters of one renter, and leases of one cluster, worker or supplier, newest first.
CREATE INDEX clusters_by_renter_start ON indexer.clusters (renter, start_ts, address COLLATE "C");
DROP INDEX indexer.clusters_by_renter;
CREATE INDEX leases_by_cluster_start ON indexer.leases (cluster, start_ts, address COLLATE "C");
CREATE INDEX leases_by_worker_start ON indexer.leases (worker, start_ts, address COLLATE "C");
CREATE INDEX leases_by_supplier_start ON indexer.leases (supplier, start_ts, address COLLATE "C");
DROP INDEX indexer.leases_by_cluster;
DROP INDEX indexer.leases_by_worker;
DROP INDEX indexer.leases_by_supplier;

-- Payouts and slashes are paged by (time, event id): both as stored columns, so that an index holds the order.
ALTER TABLE indexer.payouts
    ADD COLUMN at BIGINT GENERATED ALWAYS AS (COALESCE(block_time, 0)) STORED,
    ADD COLUMN id TEXT GENERATED ALWAYS AS (signature || '/' || ix_index::text || '/' || event_index::text) STORED;
CREATE INDEX payouts_by_at ON indexer.payouts (at, id COLLATE "C");
CREATE INDEX payouts_by_supplier_at ON indexer.payouts (supplier, at, id COLLATE "C");
DROP INDEX indexer.payouts_by_supplier_time;
ALTER TABLE indexer.slashes
    ADD COLUMN at BIGINT GENERATED ALWAYS AS (COALESCE(block_time, 0)) STORED,
    ADD COLUMN id TEXT GENERATED ALWAYS AS (signature || '/' || ix_index::text || '/' || event_index::text) STORED;
CREATE INDEX slashes_by_at ON indexer.slashes (at, id COLLATE "C");
CREATE INDEX slashes_by_supplier_at ON indexer.slashes (supplier, at, id COLLATE "C");
DROP INDEX indexer.slashes_by_supplier_time;
