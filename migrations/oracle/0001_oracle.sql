-- The oracle's own tables. Each oracle instance has its own database (or at least its own copy of this schema):
-- what it stores is its evidence, and the quorum is formed on chain, not here.
CREATE SCHEMA IF NOT EXISTS oracle;

-- Every heartbeat acknowledged with 202, as signed: the Borsh payload and the device key's signature, so that
-- the evidence can be re-verified by anyone later. The primary key refuses a replayed sequence even if the
-- in-memory check were bypassed.
CREATE TABLE oracle.heartbeats (
    worker      BYTEA       NOT NULL,
    sequence    BIGINT      NOT NULL,
    lease       BYTEA       NOT NULL,
    ts          BIGINT      NOT NULL,
    payload     BYTEA       NOT NULL,
    signature   BYTEA       NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (worker, sequence)
);
CREATE INDEX heartbeats_by_lease_time ON oracle.heartbeats (lease, ts);

-- Benchmark challenges: issued with a seed, answered once. An unanswered challenge past its deadline counts as
-- failed (verdict stays NULL; the policy reads the deadline).
CREATE TABLE oracle.challenges (
    id              BIGSERIAL PRIMARY KEY,
    worker          BYTEA  NOT NULL,
    seed            BYTEA  NOT NULL,
    size            INT    NOT NULL,
    issued_at       BIGINT NOT NULL,
    deadline        BIGINT NOT NULL,
    -- First time the agent fetched it: the oracle's own measure of how long the answer took.
    fetched_at      BIGINT,
    answered_at     BIGINT,
    duration_micros BIGINT,
    verdict         TEXT CHECK (verdict IN ('passed', 'wrong_answer', 'too_slow'))
);
CREATE INDEX challenges_by_worker ON oracle.challenges (worker, issued_at);

-- What this oracle reported per lease, with the transaction that carried it.
CREATE TABLE oracle.reports (
    oracle      BYTEA       NOT NULL,
    lease       BYTEA       NOT NULL,
    window_end  BIGINT      NOT NULL,
    proven_secs BIGINT      NOT NULL,
    faults      INT         NOT NULL,
    signature   TEXT,
    error       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (oracle, lease, window_end)
);
