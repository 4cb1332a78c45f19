-- The oracle's address lookup tables: each lease it attests goes into one, so an attestation transaction names a
-- lease by a one-byte index and carries 60 leases instead of 22. Kept here so that a restarted oracle goes on
-- using (and eventually closes) the tables it paid rent for; what a table holds is read from the chain.
CREATE TABLE oracle.lookup_tables (
    oracle BYTEA NOT NULL,
    address BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when the oracle deactivated it (every lease in it closed); it is closed, and this row deleted, once the
    -- chain lets it go.
    deactivated_at TIMESTAMPTZ,
    PRIMARY KEY (oracle, address)
);
