-- The renter's voice: what each renter probe reported (`timelock_protocol::renter`), as signed, with the
-- oracle's reading of it (whether the GPUs it saw are the worker's registered ones). A complaint makes the
-- oracle challenge the worker at its next heartbeat; the policy leaves a complained-of interval unpaid unless a
-- challenge passed in it or soon after.
CREATE TABLE oracle.renter_reports (
    lease       BYTEA   NOT NULL,
    probe       BYTEA   NOT NULL,
    sequence    BIGINT  NOT NULL,
    received_at BIGINT  NOT NULL,
    agrees      BOOLEAN NOT NULL,
    gpus        INT     NOT NULL,
    matmul_size INT     NOT NULL,
    matmul_ms   INT     NOT NULL,
    report      JSONB   NOT NULL,
    PRIMARY KEY (lease, probe, sequence)
);
CREATE INDEX renter_reports_by_lease ON oracle.renter_reports (lease, received_at);
