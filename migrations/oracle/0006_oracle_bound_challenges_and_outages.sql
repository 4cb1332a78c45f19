-- Challenges belong to the oracle that issued them and to the lease they were issued in (an unanswered challenge
-- of an earlier lease does not fault the next), and their clock runs from issue: a challenge is issued only in
-- the answer to the worker's own signed heartbeat, so nobody else can start it. Challenges of before this
-- version carry no oracle or lease and no longer count.
ALTER TABLE oracle.challenges ADD COLUMN oracle BYTEA, ADD COLUMN lease BYTEA, DROP COLUMN fetched_at;
CREATE INDEX challenges_by_lease ON oracle.challenges (oracle, lease, issued_at);

-- Heartbeats are judged on when the oracle received them (Unix seconds, its own clock, set by the handler);
-- `ts` stays the agent's claim. Rows of before this version keep the time their batch was stored.
ALTER TABLE oracle.heartbeats ALTER COLUMN received_at DROP DEFAULT,
    ALTER COLUMN received_at TYPE BIGINT USING extract(epoch FROM received_at)::BIGINT;
DROP INDEX oracle.heartbeats_by_lease_time;
CREATE INDEX heartbeats_by_lease_received ON oracle.heartbeats (lease, received_at);

-- Spans in which an oracle could not take heartbeats (its database or its chain reads failing, its process
-- down): intervals with nothing heard in them are excused, neither proven nor a fault.
CREATE TABLE oracle.outages (
    oracle  BYTEA  NOT NULL,
    cause   TEXT   NOT NULL CHECK (cause IN ('database', 'chain', 'process')),
    started BIGINT NOT NULL,
    ended   BIGINT NOT NULL CHECK (ended >= started),
    PRIMARY KEY (oracle, cause, started)
);

-- When each oracle process last said it was alive: a restart records the gap as a `process` outage.
CREATE TABLE oracle.liveness (
    oracle BYTEA  PRIMARY KEY,
    alive  BIGINT NOT NULL
);
