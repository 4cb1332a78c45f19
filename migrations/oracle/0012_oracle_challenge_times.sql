-- Challenges come at times the worker cannot predict: each issue draws when the lease's next one is due (around
-- `challenge_every_secs`, from half to one and a half of it), so a supplier cannot keep a GPU only for the moments
-- it expects to be tested. Challenges of before this version fall back to their issue time plus the period.
ALTER TABLE oracle.challenges ADD COLUMN next_due BIGINT;
-- A challenge issued early because the renter complained is marked: it comes at a moment the renter chose (and
-- could load the GPUs at), so its failure faults nobody; its pass still answers the complaint.
ALTER TABLE oracle.challenges ADD COLUMN prompted BOOLEAN NOT NULL DEFAULT false;
