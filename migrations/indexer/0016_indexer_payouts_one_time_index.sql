-- Payouts by time are read through `payouts_by_at` (at = COALESCE(block_time, 0), since 0008): the older index on
-- `block_time` alone served the same ranges and cost every stored payout one more index entry.
DROP INDEX indexer.payouts_by_time;
