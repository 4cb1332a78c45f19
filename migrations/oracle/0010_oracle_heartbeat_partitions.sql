-- Heartbeats live in daily partitions of the time the oracle received them, so that evidence nobody can need
-- any more leaves a whole partition at a time (`retention.rs`: once every lease heard in it has been closed on
-- chain for the retention), with no row-by-row delete to vacuum. Verdicts, evidence digests and reports are
-- small and stay.
--
-- A partitioned table's unique keys must include the partition key, so the old key (worker, sequence) cannot
-- stay. It was the database's refusal of a replayed sequence; a per-worker high-water mark does that job now,
-- and outlives the partitions: a sequence stays refused after the heartbeat that used it is dropped.
CREATE TABLE oracle.heartbeat_marks (
    worker BYTEA  PRIMARY KEY,
    last   BIGINT NOT NULL
);
INSERT INTO oracle.heartbeat_marks (worker, last) SELECT worker, max(sequence) FROM oracle.heartbeats GROUP BY worker;

ALTER TABLE oracle.heartbeats RENAME TO heartbeats_unpartitioned;
DROP INDEX oracle.heartbeats_by_lease_received;
CREATE TABLE oracle.heartbeats (
    worker      BYTEA  NOT NULL,
    sequence    BIGINT NOT NULL,
    lease       BYTEA  NOT NULL,
    ts          BIGINT NOT NULL,
    payload     BYTEA  NOT NULL,
    signature   BYTEA  NOT NULL,
    received_at BIGINT NOT NULL
) PARTITION BY RANGE (received_at);
CREATE INDEX heartbeats_by_lease_received ON oracle.heartbeats (lease, received_at);
-- Whatever no daily partition covers yet lands here, so that no acknowledged heartbeat is ever refused for
-- want of a partition; the retention job moves it into its day's partition when it creates that.
CREATE TABLE oracle.heartbeats_default PARTITION OF oracle.heartbeats DEFAULT;
INSERT INTO oracle.heartbeats (worker, sequence, lease, ts, payload, signature, received_at)
    SELECT worker, sequence, lease, ts, payload, signature, received_at FROM oracle.heartbeats_unpartitioned;
DROP TABLE oracle.heartbeats_unpartitioned;

-- Each lease as the attestation rounds saw it on chain: when last seen open, and when first seen gone (NULL while
-- open). Its heartbeats are kept until it has been gone for the retention; a lease no round ever saw is kept.
CREATE TABLE oracle.lease_activity (
    lease     BYTEA  PRIMARY KEY,
    open_at   BIGINT NOT NULL,
    closed_at BIGINT
);
