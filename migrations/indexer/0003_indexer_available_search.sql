-- The explorer's most common search: bookable workers of a model in a region, cheapest first. Only rows that
-- can be booked are in the index, so a page reads about as many rows as it returns.
CREATE INDEX workers_bookable_by_model_region_price ON indexer.workers (gpu_model, region, price_per_gpu_hour, address)
    WHERE NOT closed AND available AND active_lease IS NULL;
CREATE INDEX workers_bookable_by_price ON indexer.workers (price_per_gpu_hour, address)
    WHERE NOT closed AND available AND active_lease IS NULL;
