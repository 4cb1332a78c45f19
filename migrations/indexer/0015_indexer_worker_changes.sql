-- The API serves the worker list and worker reads from a copy of the live workers in memory
-- (`indexer/src/worker_model.rs`), kept equal to this table, which stays the source of truth. Every statement
-- that writes workers takes the next generation and stamps it on each address it wrote. Generations follow commit
-- order: a writer takes the next one by updating the single counter row, whose lock it holds until it commits,
-- so the next writer reads the generation only once the previous one is visible. An API process reads the
-- counter with each request; when it moved past what it holds, it reads the rows stamped since (one statement,
-- one snapshot) before answering. A TRUNCATE leaves no addresses to stamp: it records its generation as `reset`,
-- and a process that holds an older one reloads everything.
CREATE TABLE indexer.worker_generation (
    only_row   BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    generation BIGINT NOT NULL,
    reset      BIGINT NOT NULL
);
INSERT INTO indexer.worker_generation (generation, reset) VALUES (1, 1);

CREATE TABLE indexer.worker_changes (
    address    TEXT PRIMARY KEY,
    generation BIGINT NOT NULL
);
CREATE INDEX worker_changes_by_generation ON indexer.worker_changes (generation);

CREATE FUNCTION indexer.stamp_worker_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next BIGINT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM changed) THEN
        RETURN NULL;
    END IF;
    UPDATE indexer.worker_generation SET generation = generation + 1 RETURNING generation INTO next;
    INSERT INTO indexer.worker_changes (address, generation) SELECT DISTINCT address, next FROM changed
        ON CONFLICT (address) DO UPDATE SET generation = EXCLUDED.generation;
    RETURN NULL;
END $$;

CREATE FUNCTION indexer.reset_worker_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE indexer.worker_generation SET generation = generation + 1, reset = generation + 1;
    DELETE FROM indexer.worker_changes;
    RETURN NULL;
END $$;

CREATE TRIGGER workers_inserted AFTER INSERT ON indexer.workers REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION indexer.stamp_worker_changes();
CREATE TRIGGER workers_updated AFTER UPDATE ON indexer.workers REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION indexer.stamp_worker_changes();
CREATE TRIGGER workers_deleted AFTER DELETE ON indexer.workers REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION indexer.stamp_worker_changes();
CREATE TRIGGER workers_truncated AFTER TRUNCATE ON indexer.workers
    FOR EACH STATEMENT EXECUTE FUNCTION indexer.reset_worker_changes();
