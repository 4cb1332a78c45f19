use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;

/// Tunable protocol parameters. `config_init` sets them and `config_update` replaces them as a whole, so both
/// paths share one validation.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct ConfigParams {
    /// Owner of the token accounts that receive protocol fees and slashed stake.
    pub treasury: Pubkey,
    pub protocol_fee_bps: u16,
    /// Stake (stake-mint base units) bonded per GPU at multiplier 1.0x.
    pub min_stake_per_gpu: u64,
    pub unbonding_period_secs: i64,
    /// Share of the collateral slashed per fault.
    pub slash_bps: u16,
    /// Share of a slash paid to the harmed renter; the rest goes to the treasury.
    pub slash_renter_share_bps: u16,
    /// Faults within `jail_window_secs` that jail a worker.
    pub jail_fault_threshold: u16,
    pub jail_window_secs: i64,
    pub jail_cooldown_secs: i64,
    /// Collateral locked per lease, as a multiple (bps) of the lease's hourly value.
    pub collateral_bps: u32,
    pub min_rental_secs: i64,
    /// Attestation period of the oracles; also the grace after a lease ends for its last attestation to land.
    pub epoch_secs: i64,
    /// How long an attested payout stays disputable before it becomes final and payable.
    pub dispute_window_secs: i64,
    /// Bond (payment-mint base units) a renter or supplier posts to open a dispute.
    pub dispute_bond: u64,
    #[max_len(MAX_ORACLES)]
    pub oracles: Vec<Pubkey>,
    pub oracle_threshold: u8,
    /// Stake multiplier (bps, 10,000 = 1.0x) per GPU model code; 0 means the model may not register.
    pub gpu_multipliers_bps: [u32; GPU_MODEL_SLOTS],
}

impl ConfigParams {
    pub fn validate(&self) -> Result<()> {
        require!(self.protocol_fee_bps <= MAX_PROTOCOL_FEE_BPS, TimelockError::FeeTooHigh);
        let bps_ok = |v: u16| u64::from(v) <= BPS_DENOMINATOR;
        require!(bps_ok(self.slash_bps) && bps_ok(self.slash_renter_share_bps), TimelockError::BpsOutOfRange);
        require!(
            self.unbonding_period_secs >= 0 && self.unbonding_period_secs <= MAX_UNBONDING_SECS,
            TimelockError::InvalidUnbondingPeriod
        );
        require!(self.min_rental_secs >= MIN_RENTAL_SECS, TimelockError::RentalTooShort);
        require!(self.epoch_secs > 0, TimelockError::InvalidEpoch);
        require!(
            self.dispute_window_secs >= 0 && self.dispute_window_secs <= MAX_DISPUTE_WINDOW_SECS,
            TimelockError::InvalidDisputeParams
        );
        require!(
            self.jail_fault_threshold > 0
                && self.jail_window_secs > 0
                && self.jail_cooldown_secs >= 0
                && self.collateral_bps > 0,
            TimelockError::InvalidJailParams
        );
        require!(!self.oracles.is_empty() && self.oracles.len() <= MAX_ORACLES, TimelockError::InvalidOracleSet);
        for (i, oracle) in self.oracles.iter().enumerate() {
            require!(
                *oracle != Pubkey::default() && !self.oracles[..i].contains(oracle),
                TimelockError::InvalidOracleSet
            );
        }
        require!(
            self.oracle_threshold >= 1 && usize::from(self.oracle_threshold) <= self.oracles.len(),
            TimelockError::InvalidOracleThreshold
        );
        require!(
            self.gpu_multipliers_bps.iter().all(|m| *m <= MAX_GPU_MULTIPLIER_BPS),
            TimelockError::InvalidGpuMultiplier
        );
        Ok(())
    }
}

/// The protocol's singleton at `pda::CONFIG` (seeds `["config"]`); also the authority of the program's vaults.
#[account]
#[derive(InitSpace, Debug)]
pub struct Config {
    pub admin: Pubkey,
    /// Set by `admin_transfer`, cleared by `admin_accept`; `Pubkey::default()` when none.
    pub pending_admin: Pubkey,
    pub stake_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub stake_vault: Pubkey,
    pub paused: bool,
    /// Set by `incentives_init`: from then on settlement credits final GPU-seconds to the incentive epochs.
    pub incentives_enabled: bool,
    pub params: ConfigParams,
}

impl Config {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    pub fn gpu_multiplier(&self, gpu_model: u16) -> Result<u32> {
        let multiplier = self.params.gpu_multipliers_bps.get(usize::from(gpu_model)).copied().unwrap_or(0);
        require!(multiplier > 0, TimelockError::UnknownGpuModel);
        Ok(multiplier)
    }

    pub fn require_not_paused(&self) -> Result<()> {
        require!(!self.paused, TimelockError::Paused);
        Ok(())
    }
}
