use anchor_lang::prelude::*;

/// The optional incentive pool (PDA `["incentive_pool"]`): stake-mint emissions funded by the admin into its vault
/// (PDA token account `["incentive_vault"]`) and paid per epoch, pro rata to the credit that became final
/// in that epoch.
#[account]
#[derive(InitSpace, Debug)]
pub struct IncentivePool {
    /// The pool's stake-mint vault (PDA token account `["incentive_vault"]`), owned by the config.
    pub vault: Pubkey,
    /// Most an epoch pays out, in stake-mint base units.
    pub emission_per_epoch: u64,
    /// Length of an emission epoch (set by `incentives_init`); unrelated to the oracles' attestation epoch
    /// (`ConfigParams::epoch_secs`).
    pub emission_epoch_secs: i64,
    /// Start of epoch 0 (`incentives_init`).
    pub genesis_ts: i64,
    /// Stake-mint base units deposited by `incentives_fund`, in total.
    pub funded: u64,
    /// Emissions promised to epochs that have started; never more than `funded`.
    pub committed: u64,
    /// Paid out by `incentives_claim`, in total.
    pub paid: u64,
    /// Bump of the account's PDA.
    pub bump: u8,
}

impl IncentivePool {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    pub fn epoch_at(&self, now: i64) -> u64 {
        u64::try_from(now.saturating_sub(self.genesis_ts) / self.emission_epoch_secs).unwrap_or(0)
    }

    pub fn epoch_end(&self, epoch: u64) -> i64 {
        let epochs = i64::try_from(epoch).unwrap_or(i64::MAX).saturating_add(1);
        self.genesis_ts.saturating_add(epochs.saturating_mul(self.emission_epoch_secs))
    }
}

/// One epoch's totals. PDA `["incentive_epoch", epoch (u64 LE)]`, created by the first settlement in it.
#[account]
#[derive(InitSpace, Debug)]
pub struct IncentiveEpoch {
    /// Index of the epoch, counted from the pool's `genesis_ts`.
    pub epoch: u64,
    /// Emission fixed when the epoch started (bounded by what the pool still had uncommitted).
    pub emission: u64,
    /// Payment base units renters paid for final seconds (the credit an epoch's emission is shared by).
    pub credit: u64,
    /// Paid out of `emission` by `incentives_claim` so far.
    pub paid: u64,
    /// Bump of the account's PDA.
    pub bump: u8,
}

impl IncentiveEpoch {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;
}

/// A supplier's credit in one epoch. PDA `["supplier_incentive", supplier, epoch (u64 LE)]`; closed by the
/// claim, its rent going back to whoever paid it.
#[account]
#[derive(InitSpace, Debug)]
pub struct SupplierIncentive {
    /// The supplier credited.
    pub supplier: Pubkey,
    /// Index of the epoch.
    pub epoch: u64,
    /// Payment base units renters paid for final seconds (the credit an epoch's emission is shared by).
    pub credit: u64,
    /// Who paid the record's rent (the settling transaction's payer); it gets it back at the claim.
    pub rent_payer: Pubkey,
    /// Bump of the account's PDA.
    pub bump: u8,
}

impl SupplierIncentive {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;
}
