-- An update stamps only the workers whose served row changed: marking rows final (`Store::finalize`, every
-- worker after a start-up snapshot) changes nothing an API process holds, and would otherwise make the next
-- request re-read all of them.
CREATE FUNCTION indexer.stamp_updated_workers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    addresses TEXT[];
    next BIGINT;
BEGIN
    SELECT array_agg(DISTINCT address) INTO addresses
        FROM changed n FULL JOIN unchanged o USING (address)
        WHERE n.address IS NULL OR o.address IS NULL
            OR to_jsonb(n) - 'finalized' IS DISTINCT FROM to_jsonb(o) - 'finalized';
    IF addresses IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE indexer.worker_generation SET generation = generation + 1 RETURNING generation INTO next;
    INSERT INTO indexer.worker_changes (address, generation) SELECT unnest(addresses), next
        ON CONFLICT (address) DO UPDATE SET generation = EXCLUDED.generation;
    RETURN NULL;
END $$;

DROP TRIGGER workers_updated ON indexer.workers;
CREATE TRIGGER workers_updated AFTER UPDATE ON indexer.workers REFERENCING OLD TABLE AS unchanged NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION indexer.stamp_updated_workers();
