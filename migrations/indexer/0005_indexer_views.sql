-- The account tables hold exactly the SDK's views (`timelock_sdk::view`), the shape the API serves and the CLI
-- prints, plus the mirror's own `slot`, `finalized` and `closed`. Every u64 is NUMERIC(20,0): exact over its
-- whole range (a BIGINT clamps or fails above i64::MAX), every u32 a BIGINT. Enum values are checked here and
-- parsed by name. New columns are derived below where the old columns allow it; the rest (a worker's
-- `max_lease_hours`, a supplier's `unbond_ready_at` and `fault_count`, a lease's `max_end_ts` and `final_faults`)
-- are filled by the snapshot the indexer takes at every start, for every account that still exists. A row of an
-- account closed before this upgrade keeps 0 there: the chain no longer holds its last state.

-- NUMERIC is a different type: the indexes over these columns are rebuilt, the bookable ones over the view's
-- own `bookable` (the program's `Worker::is_bookable`) instead of a copy of the rule in SQL.
DROP INDEX indexer.workers_bookable_by_model_region_price;
DROP INDEX indexer.workers_bookable_by_price;

ALTER TABLE indexer.workers
    ALTER COLUMN price_per_gpu_hour TYPE NUMERIC(20,0),
    ALTER COLUMN bonded_stake TYPE NUMERIC(20,0),
    ALTER COLUMN fault_count TYPE NUMERIC(20,0),
    ADD COLUMN max_lease_hours BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN bookable BOOLEAN NOT NULL DEFAULT false;
UPDATE indexer.workers SET bookable = available AND active_lease IS NULL AND jailed_until = 0;
-- Pages are ordered by (value, address) with the address compared byte-wise (`COLLATE "C"`), as the CLI sorts.
CREATE INDEX workers_bookable_by_model_region_price
    ON indexer.workers (gpu_model, region, price_per_gpu_hour, address COLLATE "C") WHERE NOT closed AND bookable;
CREATE INDEX workers_bookable_by_price
    ON indexer.workers (price_per_gpu_hour, address COLLATE "C") WHERE NOT closed AND bookable;
DROP INDEX indexer.workers_by_price;
DROP INDEX indexer.workers_by_model_price;
CREATE INDEX workers_by_price ON indexer.workers (price_per_gpu_hour, address COLLATE "C") WHERE NOT closed;
CREATE INDEX workers_by_model_price
    ON indexer.workers (gpu_model, price_per_gpu_hour, address COLLATE "C") WHERE NOT closed;

ALTER TABLE indexer.suppliers
    ALTER COLUMN staked TYPE NUMERIC(20,0),
    ALTER COLUMN unbonding TYPE NUMERIC(20,0),
    ALTER COLUMN reserved TYPE NUMERIC(20,0),
    ALTER COLUMN locked TYPE NUMERIC(20,0),
    ALTER COLUMN slashed_total TYPE NUMERIC(20,0),
    ALTER COLUMN earnings_unclaimed TYPE NUMERIC(20,0),
    ALTER COLUMN earnings_claimed TYPE NUMERIC(20,0),
    ALTER COLUMN active_leases TYPE BIGINT,
    ALTER COLUMN worker_count TYPE BIGINT,
    ALTER COLUMN gpu_count TYPE BIGINT,
    ADD COLUMN unbond_ready_at BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN free NUMERIC(20,0) NOT NULL DEFAULT 0,
    ADD COLUMN fault_count NUMERIC(20,0) NOT NULL DEFAULT 0;
-- `math::free_stake`: what is staked and neither unbonding, reserved nor locked.
UPDATE indexer.suppliers SET free = GREATEST(staked - unbonding - reserved - locked, 0);
CREATE INDEX suppliers_by_stake ON indexer.suppliers (staked, address COLLATE "C") WHERE NOT closed;

UPDATE indexer.clusters SET purpose = 'bare_metal' WHERE purpose = 'baremetal';
ALTER TABLE indexer.clusters
    ALTER COLUMN cluster_id TYPE NUMERIC(20,0),
    ALTER COLUMN hourly_rate_total TYPE NUMERIC(20,0),
    ALTER COLUMN deposited TYPE NUMERIC(20,0),
    ALTER COLUMN paid_to_suppliers TYPE NUMERIC(20,0),
    ALTER COLUMN fees TYPE NUMERIC(20,0),
    ALTER COLUMN refunded TYPE NUMERIC(20,0),
    ADD CONSTRAINT clusters_purpose_check CHECK (purpose IN ('ray', 'kubernetes', 'containers', 'bare_metal')),
    ADD CONSTRAINT clusters_status_check CHECK (status IN ('open', 'ended'));
CREATE INDEX clusters_by_start ON indexer.clusters (start_ts, address COLLATE "C");

ALTER TABLE indexer.leases RENAME COLUMN ended_at TO removed_at;
ALTER TABLE indexer.leases
    ALTER COLUMN price_per_gpu_hour TYPE NUMERIC(20,0),
    ALTER COLUMN hourly_rate TYPE NUMERIC(20,0),
    ALTER COLUMN collateral TYPE NUMERIC(20,0),
    ALTER COLUMN proven_secs TYPE NUMERIC(20,0),
    ALTER COLUMN final_secs TYPE NUMERIC(20,0),
    ALTER COLUMN faults TYPE NUMERIC(20,0),
    ALTER COLUMN gross_paid TYPE NUMERIC(20,0),
    ALTER COLUMN fees_paid TYPE NUMERIC(20,0),
    ALTER COLUMN slashed TYPE NUMERIC(20,0),
    ADD COLUMN max_end_ts BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN final_faults NUMERIC(20,0) NOT NULL DEFAULT 0,
    ADD COLUMN disputed BOOLEAN NOT NULL DEFAULT false;
UPDATE indexer.leases SET disputed = disputer IS NOT NULL;
CREATE INDEX leases_by_start ON indexer.leases (start_ts, address COLLATE "C");

ALTER TABLE indexer.payouts
    ALTER COLUMN amount TYPE NUMERIC(20,0),
    ALTER COLUMN fee TYPE NUMERIC(20,0),
    ALTER COLUMN refund TYPE NUMERIC(20,0);
ALTER TABLE indexer.slashes
    ALTER COLUMN amount TYPE NUMERIC(20,0),
    ALTER COLUMN to_renter TYPE NUMERIC(20,0),
    ALTER COLUMN faults TYPE NUMERIC(20,0);
ALTER TABLE indexer.attestations
    ALTER COLUMN proven_secs TYPE NUMERIC(20,0),
    ALTER COLUMN faults TYPE NUMERIC(20,0),
    ALTER COLUMN final_secs TYPE NUMERIC(20,0);
ALTER TABLE indexer.disputes
    ALTER COLUMN bond TYPE NUMERIC(20,0),
    ALTER COLUMN proven_secs TYPE NUMERIC(20,0),
    ALTER COLUMN faults TYPE NUMERIC(20,0);

-- The program's `rewards_claim` is now `earnings_claim` (it pays settled earnings; incentives are emissions).
UPDATE indexer.events SET name = 'EarningsClaimed' WHERE name = 'RewardsClaimed';
