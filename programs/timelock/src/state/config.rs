use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;
use crate::math;

/// How much stake backs a unit of lease value: `stake_tokens` whole stake tokens for every `payment_tokens` whole
/// payment tokens. Set by governance in whole tokens, so that mints of different decimals convert correctly.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct CollateralRate {
    /// Whole stake tokens per `payment_tokens` (1 to `MAX_RATE_TERM`).
    pub stake_tokens: u64,
    /// Whole payment tokens that `stake_tokens` back (1 to `MAX_RATE_TERM`).
    pub payment_tokens: u64,
}

/// Stake multipliers (bps, 10,000 = 1.0x) indexed by GPU model code. Serialized as Borsh serializes the array;
/// read with one copy where Borsh reads an array of `u32` one entry at a time, which saves about 500 CU in every
/// instruction that reads the config.
#[derive(AnchorSerialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct GpuMultipliers(pub [u32; GPU_MODEL_SLOTS]);

impl AnchorDeserialize for GpuMultipliers {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let mut bytes = [0u8; 4 * GPU_MODEL_SLOTS];
        reader.read_exact(&mut bytes)?;
        let mut table = [0u32; GPU_MODEL_SLOTS];
        for (entry, le) in table.iter_mut().zip(bytes.chunks_exact(4)) {
            *entry = u32::from_le_bytes([le[0], le[1], le[2], le[3]]);
        }
        Ok(GpuMultipliers(table))
    }
}

impl std::ops::Deref for GpuMultipliers {
    type Target = [u32; GPU_MODEL_SLOTS];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for GpuMultipliers {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Tunable protocol parameters. `config_init` sets them and `config_update` replaces them as a whole, so both
/// paths share one validation.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct ConfigParams {
    /// Owner of the token accounts that receive protocol fees and slashed stake.
    pub treasury: Pubkey,
    /// Protocol's share (bps) of what renters pay for proven time, at most 20 %; locked into each lease at booking.
    pub protocol_fee_bps: u16,
    /// Stake (stake-mint base units) bonded per GPU at multiplier 1.0x.
    pub min_stake_per_gpu: u64,
    /// Delay between `stake_unbond` and `stake_withdraw` (at most 90 days), so that stake cannot flee a slash.
    pub unbonding_period_secs: i64,
    /// Slash per fault, as a multiple (bps) of the lease's hourly value: at least 10,000 (one hour), since the
    /// oracles count one fault per started hour of a faulty run.
    pub slash_bps: u16,
    /// Share of a slash paid to the harmed renter; the rest goes to the treasury.
    pub slash_renter_share_bps: u16,
    /// Faults within `jail_window_secs` that jail a worker.
    pub jail_fault_threshold: u16,
    /// Span within which `jail_fault_threshold` faults jail a worker.
    pub jail_window_secs: i64,
    /// Time a jailed worker waits before `worker_unjail`.
    pub jail_cooldown_secs: i64,
    /// Collateral locked per lease, as a multiple (bps) of the lease's hourly value: at least one fault's slash.
    /// It is all a lease's faults can take.
    pub collateral_bps: u32,
    /// Converts lease value (payment mint) into collateral and slashes (stake mint).
    pub collateral_rate: CollateralRate,
    /// Shortest booking a cluster may have (at least an hour).
    pub min_rental_secs: i64,
    /// Attestation period of the oracles; also the grace after a lease ends for its last attestation to land.
    pub epoch_secs: i64,
    /// How long an attested payout stays disputable before it becomes final and payable.
    pub dispute_window_secs: i64,
    /// Bond (payment-mint base units, non-zero) a renter or supplier posts to open a dispute.
    pub dispute_bond: u64,
    /// An open dispute not resolved within this time lapses: the attested total stands and the bond goes to the
    /// other party.
    pub dispute_timeout_secs: i64,
    /// Keys that may attest leases and give dispute verdicts (distinct, at most `MAX_ORACLES`).
    #[max_len(MAX_ORACLES)]
    pub oracles: Vec<Pubkey>,
    /// Oracles that must agree for a value to count: a majority of `oracles`, so a minority can never raise a lease's
    /// totals.
    pub oracle_threshold: u8,
    /// Stake multiplier (bps, 10,000 = 1.0x) per GPU model code; 0 means the model may not register.
    pub gpu_multipliers_bps: GpuMultipliers,
}

impl ConfigParams {
    pub fn validate(&self) -> Result<()> {
        require!(self.protocol_fee_bps <= MAX_PROTOCOL_FEE_BPS, TimelockError::FeeTooHigh);
        require!(u64::from(self.slash_renter_share_bps) <= BPS_DENOMINATOR, TimelockError::BpsOutOfRange);
        require!(
            self.slash_bps >= MIN_SLASH_BPS && self.collateral_bps >= u32::from(self.slash_bps),
            TimelockError::SlashTooWeak
        );
        let term_ok = |v: u64| (1..=MAX_RATE_TERM).contains(&v);
        require!(
            term_ok(self.collateral_rate.stake_tokens) && term_ok(self.collateral_rate.payment_tokens),
            TimelockError::InvalidCollateralRate
        );
        require!(
            self.unbonding_period_secs >= 0 && self.unbonding_period_secs <= MAX_UNBONDING_SECS,
            TimelockError::InvalidUnbondingPeriod
        );
        require!(self.min_rental_secs >= MIN_RENTAL_SECS, TimelockError::RentalTooShort);
        require!(self.epoch_secs > 0 && self.epoch_secs <= MAX_EPOCH_SECS, TimelockError::InvalidEpoch);
        require!(
            self.dispute_window_secs >= 0 && self.dispute_window_secs <= MAX_DISPUTE_WINDOW_SECS,
            TimelockError::InvalidDisputeParams
        );
        require!(
            self.dispute_bond > 0
                && self.dispute_timeout_secs > 0
                && self.dispute_timeout_secs <= MAX_DISPUTE_TIMEOUT_SECS,
            TimelockError::InvalidDisputeBond
        );
        require!(
            self.jail_fault_threshold > 0
                && (1..=MAX_JAIL_SECS).contains(&self.jail_window_secs)
                && (0..=MAX_JAIL_SECS).contains(&self.jail_cooldown_secs),
            TimelockError::InvalidJailParams
        );
        require!(!self.oracles.is_empty() && self.oracles.len() <= MAX_ORACLES, TimelockError::InvalidOracleSet);
        for (i, oracle) in self.oracles.iter().enumerate() {
            require!(
                *oracle != Pubkey::default() && !self.oracles[..i].contains(oracle),
                TimelockError::InvalidOracleSet
            );
        }
        // A majority: two disjoint groups of oracles can never both reach the threshold, so a minority cannot
        // raise a lease's proven seconds or faults on its own.
        let threshold = usize::from(self.oracle_threshold);
        require!(
            threshold * 2 > self.oracles.len() && threshold <= self.oracles.len(),
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
    /// Signs every admin instruction; changed by `admin_transfer` then `admin_accept`.
    pub admin: Pubkey,
    /// Set by `admin_transfer`, cleared by `admin_accept`; `Pubkey::default()` when none.
    pub pending_admin: Pubkey,
    /// Mint of stake, collateral, slashes and incentives.
    pub stake_mint: Pubkey,
    /// Mint renters pay in and suppliers earn in.
    pub payment_mint: Pubkey,
    /// Token account holding every supplier's stake (PDA `["stake_vault", config]`).
    pub stake_vault: Pubkey,
    /// Set by `pause`: new stakes, registrations and rentals are refused.
    pub paused: bool,
    /// Set by `incentives_init`: from then on settlement credits what renters paid for final seconds to the incentive
    /// epochs.
    pub incentives_enabled: bool,
    /// Decimals of the mints, read at `config_init` (a mint's decimals never change).
    pub stake_decimals: u8,
    /// Decimals of the payment mint (see `stake_decimals`).
    pub payment_decimals: u8,
    /// The tunable parameters, replaced by `config_update`.
    pub params: ConfigParams,
    /// Zeroed room for fields added later without reallocating existing accounts. Last, so that the offsets of
    /// the fields above never move.
    pub _reserved: [u8; 64],
}

impl Config {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    pub fn gpu_multiplier(&self, gpu_model: u16) -> Result<u32> {
        let multiplier = self.params.gpu_multipliers_bps.get(usize::from(gpu_model)).copied().unwrap_or(0);
        require!(multiplier > 0, TimelockError::UnknownGpuModel);
        Ok(multiplier)
    }

    /// Stake base units worth `payment_units` of lease value at the governance rate, rounded up (collateral and
    /// slashes are never rounded in the supplier's favour).
    pub fn stake_value_of(&self, payment_units: u64) -> Result<u64> {
        let rate = self.params.collateral_rate;
        let (payment_decimals, stake_decimals) = (self.payment_decimals, self.stake_decimals);
        math::payment_to_stake(payment_units, rate.stake_tokens, rate.payment_tokens, payment_decimals, stake_decimals)
            .ok_or_else(|| error!(TimelockError::Overflow))
    }

    /// Collateral a lease of `hourly_rate` locks.
    pub fn collateral_for(&self, hourly_rate: u64) -> Result<u64> {
        let value =
            math::bps_floor(hourly_rate, u64::from(self.params.collateral_bps)).ok_or(TimelockError::Overflow)?;
        self.stake_value_of(value)
    }

    /// What one fault on a lease of `hourly_rate` slashes, before the lease's collateral caps it.
    pub fn slash_per_fault(&self, hourly_rate: u64) -> Result<u64> {
        let value = math::bps_floor(hourly_rate, u64::from(self.params.slash_bps)).ok_or(TimelockError::Overflow)?;
        self.stake_value_of(value)
    }

    /// Incentives are credited by what renters pay; with no protocol fee a supplier renting its own worker
    /// would farm them for free.
    pub fn require_fee_for_incentives(&self) -> Result<()> {
        require!(!self.incentives_enabled || self.params.protocol_fee_bps > 0, TimelockError::IncentivesNeedAFee);
        Ok(())
    }

    pub fn require_not_paused(&self) -> Result<()> {
        require!(!self.paused, TimelockError::Paused);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_multiplier_table_reads_back_as_borsh_writes_an_array() {
        let mut table = [0u32; GPU_MODEL_SLOTS];
        for (i, entry) in table.iter_mut().enumerate() {
            *entry = (i as u32 + 1) * 0x0102_0304;
        }
        let bytes = borsh::to_vec(&table).unwrap();
        assert_eq!(borsh::to_vec(&GpuMultipliers(table)).unwrap(), bytes);
        assert_eq!(GpuMultipliers::deserialize(&mut bytes.as_slice()).unwrap(), GpuMultipliers(table));
        assert!(GpuMultipliers::deserialize(&mut &bytes[..bytes.len() - 1]).is_err(), "a short table is an error");
    }
}
