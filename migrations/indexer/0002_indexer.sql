-- The indexer's mirror of the program (schema `indexer`). Account tables hold the latest state seen with the
-- slot it was read at: an update from an older slot never overwrites a newer one. Event tables are keyed by
-- (signature, instruction index, event index), so applying a batch twice changes nothing. `finalized` says
-- whether the row's slot was finalized when last written or checked.
CREATE SCHEMA IF NOT EXISTS indexer;

CREATE TABLE indexer.config (
    address     TEXT PRIMARY KEY,
    admin       TEXT    NOT NULL,
    paused      BOOLEAN NOT NULL,
    fee_bps     INT     NOT NULL,
    oracles     TEXT[]  NOT NULL,
    oracle_threshold INT NOT NULL,
    slot        BIGINT  NOT NULL,
    finalized   BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE indexer.suppliers (
    address            TEXT PRIMARY KEY,
    authority          TEXT    NOT NULL,
    staked             BIGINT  NOT NULL,
    unbonding          BIGINT  NOT NULL,
    reserved           BIGINT  NOT NULL,
    locked             BIGINT  NOT NULL,
    slashed_total      BIGINT  NOT NULL,
    earnings_unclaimed BIGINT  NOT NULL,
    earnings_claimed   BIGINT  NOT NULL,
    active_leases      INT     NOT NULL,
    worker_count       INT     NOT NULL,
    gpu_count          INT     NOT NULL,
    created_at         BIGINT  NOT NULL,
    closed             BOOLEAN NOT NULL DEFAULT false,
    slot               BIGINT  NOT NULL,
    finalized          BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE indexer.workers (
    address            TEXT PRIMARY KEY,
    supplier           TEXT    NOT NULL,
    worker_index       BIGINT  NOT NULL,
    gpu_model          TEXT    NOT NULL,
    gpu_count          INT     NOT NULL,
    vram_gib           INT     NOT NULL,
    cpu_cores          INT     NOT NULL,
    ram_gib            BIGINT  NOT NULL,
    region             TEXT    NOT NULL,
    connectivity_tier  INT     NOT NULL,
    compliance         INT     NOT NULL,
    green_energy       BOOLEAN NOT NULL,
    price_per_gpu_hour BIGINT  NOT NULL,
    device_key         TEXT    NOT NULL,
    available          BOOLEAN NOT NULL,
    active_lease       TEXT,
    bonded_stake       BIGINT  NOT NULL,
    jailed_until       BIGINT  NOT NULL,
    fault_count        BIGINT  NOT NULL,
    registered_at      BIGINT  NOT NULL,
    closed             BOOLEAN NOT NULL DEFAULT false,
    slot               BIGINT  NOT NULL,
    finalized          BOOLEAN NOT NULL DEFAULT false
);
-- The explorer's searches: by price within a model, by region, by supplier; keyset order (value, address).
CREATE INDEX workers_by_price ON indexer.workers (price_per_gpu_hour, address) WHERE NOT closed;
CREATE INDEX workers_by_model_price ON indexer.workers (gpu_model, price_per_gpu_hour, address) WHERE NOT closed;
CREATE INDEX workers_by_region ON indexer.workers (region, price_per_gpu_hour) WHERE NOT closed;
CREATE INDEX workers_by_supplier ON indexer.workers (supplier);

CREATE TABLE indexer.clusters (
    address           TEXT PRIMARY KEY,
    renter            TEXT    NOT NULL,
    cluster_id        BIGINT  NOT NULL,
    payment_mint      TEXT    NOT NULL,
    purpose           TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    start_ts          BIGINT  NOT NULL,
    end_ts            BIGINT  NOT NULL,
    hours             BIGINT  NOT NULL,
    lease_count       BIGINT  NOT NULL,
    leases_open       BIGINT  NOT NULL,
    hourly_rate_total BIGINT  NOT NULL,
    deposited         BIGINT  NOT NULL,
    paid_to_suppliers BIGINT  NOT NULL,
    fees              BIGINT  NOT NULL,
    refunded          BIGINT  NOT NULL,
    closed            BOOLEAN NOT NULL DEFAULT false,
    slot              BIGINT  NOT NULL,
    finalized         BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX clusters_by_renter ON indexer.clusters (renter, address);

CREATE TABLE indexer.leases (
    address            TEXT PRIMARY KEY,
    cluster            TEXT    NOT NULL,
    worker             TEXT    NOT NULL,
    supplier           TEXT    NOT NULL,
    price_per_gpu_hour BIGINT  NOT NULL,
    hourly_rate        BIGINT  NOT NULL,
    gpu_count          INT     NOT NULL,
    collateral         BIGINT  NOT NULL,
    start_ts           BIGINT  NOT NULL,
    ended_at           BIGINT  NOT NULL,
    proven_secs        BIGINT  NOT NULL,
    final_secs         BIGINT  NOT NULL,
    faults             BIGINT  NOT NULL,
    gross_paid         BIGINT  NOT NULL,
    fees_paid          BIGINT  NOT NULL,
    slashed            BIGINT  NOT NULL,
    disputer           TEXT,
    closed             BOOLEAN NOT NULL DEFAULT false,
    slot               BIGINT  NOT NULL,
    finalized          BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX leases_by_cluster ON indexer.leases (cluster, address);
CREATE INDEX leases_by_worker ON indexer.leases (worker, address);
CREATE INDEX leases_by_supplier ON indexer.leases (supplier, address);

CREATE TABLE indexer.events (
    signature   TEXT     NOT NULL,
    ix_index    INT      NOT NULL,
    event_index INT      NOT NULL,
    slot        BIGINT   NOT NULL,
    block_time  BIGINT,
    name        TEXT     NOT NULL,
    data        BYTEA    NOT NULL,
    finalized   BOOLEAN  NOT NULL DEFAULT false,
    PRIMARY KEY (signature, ix_index, event_index)
);
CREATE INDEX events_by_slot ON indexer.events (slot);

-- Money that reached suppliers: settlements (per lease) and claims of earnings.
CREATE TABLE indexer.payouts (
    signature   TEXT   NOT NULL,
    ix_index    INT    NOT NULL,
    event_index INT    NOT NULL,
    slot        BIGINT NOT NULL,
    block_time  BIGINT,
    kind        TEXT   NOT NULL CHECK (kind IN ('settlement', 'claim')),
    supplier    TEXT   NOT NULL,
    lease       TEXT,
    cluster     TEXT,
    amount      BIGINT NOT NULL,
    fee         BIGINT NOT NULL,
    refund      BIGINT NOT NULL,
    PRIMARY KEY (signature, ix_index, event_index)
);
CREATE INDEX payouts_by_supplier_time ON indexer.payouts (supplier, block_time);
CREATE INDEX payouts_by_time ON indexer.payouts (block_time);

CREATE TABLE indexer.slashes (
    signature    TEXT   NOT NULL,
    ix_index     INT    NOT NULL,
    event_index  INT    NOT NULL,
    slot         BIGINT NOT NULL,
    block_time   BIGINT,
    supplier     TEXT   NOT NULL,
    worker       TEXT   NOT NULL,
    lease        TEXT   NOT NULL,
    amount       BIGINT NOT NULL,
    to_renter    BIGINT NOT NULL,
    faults       BIGINT NOT NULL,
    jailed_until BIGINT NOT NULL,
    PRIMARY KEY (signature, ix_index, event_index)
);
CREATE INDEX slashes_by_supplier_time ON indexer.slashes (supplier, block_time);

CREATE TABLE indexer.attestations (
    signature   TEXT    NOT NULL,
    ix_index    INT     NOT NULL,
    event_index INT     NOT NULL,
    lease       TEXT    NOT NULL,
    slot        BIGINT  NOT NULL,
    oracle      TEXT    NOT NULL,
    window_end  BIGINT  NOT NULL,
    accepted    BOOLEAN NOT NULL,
    proven_secs BIGINT  NOT NULL,
    faults      BIGINT  NOT NULL,
    final_secs  BIGINT  NOT NULL,
    PRIMARY KEY (signature, ix_index, event_index, lease)
);
CREATE INDEX attestations_by_lease ON indexer.attestations (lease, slot);

CREATE TABLE indexer.disputes (
    signature   TEXT    NOT NULL,
    ix_index    INT     NOT NULL,
    event_index INT     NOT NULL,
    slot        BIGINT  NOT NULL,
    lease       TEXT    NOT NULL,
    disputer    TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('opened', 'resolved')),
    bond        BIGINT  NOT NULL,
    upheld      BOOLEAN,
    proven_secs BIGINT,
    PRIMARY KEY (signature, ix_index, event_index)
);

-- Where each source has read up to: its newest transaction fully applied.
CREATE TABLE indexer.checkpoints (
    source     TEXT PRIMARY KEY,
    slot       BIGINT      NOT NULL,
    signature  TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
