-- Each renter's workload (what may run on its cluster's GPUs) as this oracle saw it on chain, version by
-- version: an interval is judged against the list in force when its heartbeat arrived, so a later change of
-- the list can never turn a past interval foreign.
CREATE TABLE oracle.workloads (
    cluster    BYTEA    NOT NULL,
    changed_at BIGINT   NOT NULL,
    images     BYTEA[]  NOT NULL,
    retiring   BYTEA[]  NOT NULL,
    PRIMARY KEY (cluster, changed_at)
);

-- Every judged interval's verdict and its reason (`policy::Reason` as JSON), served by
-- `GET /v1/leases/{lease}/intervals` and kept after the heartbeats behind it are dropped.
CREATE TABLE oracle.intervals (
    oracle BYTEA  NOT NULL,
    lease  BYTEA  NOT NULL,
    start  BIGINT NOT NULL,
    step   INT    NOT NULL,
    reason JSONB  NOT NULL,
    PRIMARY KEY (oracle, lease, start)
);

-- What each attestation committed to per lease (`evidence::LeaseEvidence`), with the root its transaction
-- carried and the leaf's proof under it: a dispute checks the chain's root against exactly this.
CREATE TABLE oracle.evidence (
    oracle          BYTEA   NOT NULL,
    lease           BYTEA   NOT NULL,
    window_end      BIGINT  NOT NULL,
    proven_secs     BIGINT  NOT NULL,
    faults          INT     NOT NULL,
    resolution      SMALLINT NOT NULL,
    judged_from     BIGINT  NOT NULL,
    heartbeats      INT     NOT NULL,
    heartbeats_root BYTEA   NOT NULL,
    verdicts_digest BYTEA   NOT NULL,
    leaf            BYTEA   NOT NULL,
    root            BYTEA   NOT NULL,
    position        INT     NOT NULL,
    leaves          INT     NOT NULL,
    proof           BYTEA[] NOT NULL,
    signature       TEXT,
    PRIMARY KEY (oracle, lease, window_end)
);

-- Challenges are sized to the worker's GPU class and answered in two steps: a commitment to the product (the
-- Merkle root of its rows) that must reach the oracle within the class's milliseconds from issue, then an
-- opening of the rows a probe drawn after the commitment names. Challenges of before this version carry no
-- millisecond clock and can no longer be committed to.
ALTER TABLE oracle.challenges
    ADD COLUMN issued_at_ms    BIGINT,
    ADD COLUMN commit_by_ms    BIGINT,
    ADD COLUMN committed_at_ms BIGINT,
    ADD COLUMN root            BYTEA,
    ADD COLUMN probe_seed      BYTEA,
    ADD COLUMN probe_rows      INT,
    ADD COLUMN open_by         BIGINT,
    -- When an opening was taken for judging: one per challenge, so concurrent copies cost one verification.
    ADD COLUMN opened_at       BIGINT;
