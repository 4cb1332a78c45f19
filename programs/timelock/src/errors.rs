use anchor_lang::prelude::*;

#[error_code]
pub enum TimelockError {
    #[msg("The program is paused: no new stakes, registrations or rentals")]
    Paused,
    #[msg("Only the admin may do this")]
    NotAdmin,
    #[msg("Only the pending admin may accept the admin role")]
    NotPendingAdmin,
    #[msg("No admin transfer is pending")]
    NoPendingAdmin,
    #[msg("Only the program's upgrade authority may initialise the config")]
    NotUpgradeAuthority,
    #[msg("Protocol fee exceeds the cap")]
    FeeTooHigh,
    #[msg("A basis-point value exceeds 10,000")]
    BpsOutOfRange,
    #[msg("Oracle set is empty, too large, or contains duplicates")]
    InvalidOracleSet,
    #[msg("Oracle threshold must be between 1 and the number of oracles")]
    InvalidOracleThreshold,
    #[msg("Minimum rental must be at least one hour")]
    RentalTooShort,
    #[msg("Unbonding period out of range")]
    InvalidUnbondingPeriod,
    #[msg("Epoch length must be positive")]
    InvalidEpoch,
    #[msg("A jail or collateral parameter is out of range")]
    InvalidJailParams,
    #[msg("GPU multiplier out of range")]
    InvalidGpuMultiplier,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Account is not the config's stake mint")]
    InvalidStakeMint,
    #[msg("Account is not the program's vault")]
    InvalidVault,
    #[msg("Arithmetic overflow")]
    Overflow,
    #[msg("Not enough free stake: stake more or unbond less")]
    InsufficientFreeStake,
    #[msg("Nothing is unbonding")]
    NothingUnbonding,
    #[msg("The unbonding period has not elapsed")]
    UnbondingNotElapsed,
    #[msg("GPU model code has no stake multiplier in the config")]
    UnknownGpuModel,
    #[msg("GPU count must be between 1 and 16")]
    InvalidGpuCount,
    #[msg("Region code must be 1-8 characters of A-Z, 0-9 or '-', zero padded")]
    InvalidRegion,
    #[msg("Connectivity tier must be between 1 and 4")]
    InvalidConnectivityTier,
    #[msg("Unknown compliance flag bits")]
    InvalidComplianceFlags,
    #[msg("Hourly price must be greater than zero")]
    InvalidPrice,
    #[msg("Hardware specs must be non-zero")]
    InvalidSpecs,
    #[msg("The worker is leased: end its lease first")]
    WorkerLeased,
    #[msg("Hardware cannot change while the worker is leased")]
    HardwareChangeWhileLeased,
}
