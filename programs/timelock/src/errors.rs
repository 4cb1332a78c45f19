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
    #[msg("Oracle threshold must be a majority of the oracles and at most their number")]
    InvalidOracleThreshold,
    #[msg("Minimum rental must be at least one hour")]
    RentalTooShort,
    #[msg("Unbonding period out of range")]
    InvalidUnbondingPeriod,
    #[msg("Epoch length must be positive and at most a day")]
    InvalidEpoch,
    #[msg("A jail or collateral parameter is out of range")]
    InvalidJailParams,
    #[msg("GPU multiplier out of range")]
    InvalidGpuMultiplier,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Account is not the config's stake mint")]
    InvalidStakeMint,
    #[msg("Account is not the config's payment mint")]
    InvalidPaymentMint,
    #[msg("Account is not the program's vault")]
    InvalidVault,
    #[msg("Dispute window out of range")]
    InvalidDisputeParams,
    #[msg("Cluster length must be whole hours, at least the minimum rental and at most a year")]
    InvalidClusterHours,
    #[msg("Unknown cluster purpose")]
    InvalidPurpose,
    #[msg("The cluster is not open for this change")]
    ClusterNotOpen,
    #[msg("The cluster still has open leases or undistributed escrow")]
    ClusterNotSettled,
    #[msg("Remaining accounts must come as (worker, supplier, lease) triples")]
    InvalidBookingAccounts,
    #[msg("The worker is not available for booking")]
    WorkerUnavailable,
    #[msg("The worker is jailed")]
    WorkerJailed,
    #[msg("The worker is not jailed, or its cool-down has not elapsed")]
    WorkerNotUnjailable,
    #[msg("Lease account is not the canonical PDA for this cluster and worker")]
    InvalidLeaseAddress,
    #[msg("The mint took a fee on transfer: escrow must receive exactly what is booked")]
    TransferFeeNotSupported,
    #[msg("Signer is not in the oracle set")]
    NotOracle,
    #[msg("One report per lease account is required")]
    ReportCountMismatch,
    #[msg("Attestation window ends in the future")]
    WindowInFuture,
    #[msg("The lease has ended")]
    LeaseEnded,
    #[msg("Only the lease's renter or supplier may dispute it")]
    NotLeaseParty,
    #[msg("The lease already has an open dispute")]
    DisputeOpen,
    #[msg("The lease has no open dispute")]
    NoDispute,
    #[msg("A resolution cannot lower what is already final")]
    ResolutionBelowFinal,
    #[msg("A resolution cannot prove more seconds than the lease had run by then")]
    ResolutionBeyondElapsed,
    #[msg("The incentive epoch has not ended")]
    EpochNotOver,
    #[msg("Incentives are enabled: pass the pool, epoch, supplier incentive, payer and system program accounts")]
    IncentiveAccountsMissing,
    #[msg("Nothing to claim")]
    NothingToClaim,
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
    #[msg("A fault must slash at least one hour of the lease's value, and collateral must cover one fault")]
    SlashTooWeak,
    #[msg("Collateral exchange rate terms must be between 1 and 10^12 whole tokens")]
    InvalidCollateralRate,
    #[msg("The mint has an extension that lets its issuer move, block or tax the program's tokens")]
    UnsupportedMintExtension,
    #[msg("Mint decimals exceed 18")]
    UnsupportedMintDecimals,
    #[msg("One set of booking terms per worker is required")]
    BookingTermsMismatch,
    #[msg("The worker's price is above the most the renter agreed to pay")]
    PriceAboveAgreed,
    #[msg("The worker's hardware, region or compliance is not what the renter agreed to book")]
    HardwareNotAsAgreed,
    #[msg("The booking is longer than the worker accepts")]
    LeaseTooLong,
    #[msg("A dispute needs a non-zero bond and a resolution timeout")]
    InvalidDisputeBond,
    #[msg("This party's dispute on this span was already decided: wait for newly attested time")]
    DisputeAlreadyDecided,
    #[msg("A resolution covers the lease's time up to a moment between its last decision and now")]
    InvalidResolutionTime,
    #[msg("The lease's dispute window has closed")]
    DisputeWindowClosed,
    #[msg("The device key of a leased worker cannot change")]
    DeviceChangeWhileLeased,
    #[msg("Incentives need a non-zero protocol fee: otherwise renting your own worker farms them for free")]
    IncentivesNeedAFee,
    #[msg("A jailed worker, or one with faults in its jail window, cannot deregister")]
    WorkerHasOpenFaults,
    #[msg("The device key already backs another worker")]
    DeviceKeyInUse,
    #[msg("Account is not the device record of this worker's device key")]
    InvalidDeviceRecord,
    #[msg("One GPU UUID hash per GPU of the worker is required, matching its records")]
    GpuListMismatch,
    #[msg("GPU UUID hashes must be listed in strictly ascending order, above the GPUs already bound")]
    GpuListNotSorted,
    #[msg("Account is not the registry record of this GPU")]
    InvalidGpuRecord,
    #[msg("The GPU already backs another worker")]
    GpuInUse,
    #[msg("The GPU count is bound to the worker's registered GPUs: deregister and register again to change it")]
    GpuCountChange,
    #[msg("A workload lists 1 to 16 image hashes in strictly ascending order")]
    InvalidWorkload,
    #[msg("The workload changed too often within its grace period: wait for earlier images to retire")]
    WorkloadChangeTooSoon,
    #[msg("Account is not this cluster's workload")]
    InvalidWorkloadAccount,
    #[msg("This oracle has given its verdict on this dispute")]
    VerdictAlreadyGiven,
    #[msg("The verdict was judged for another dispute than the one open")]
    VerdictForAnotherDispute,
    #[msg("The account is not the cluster's renter")]
    NotClusterRenter,
    #[msg("At most MAX_GPUS_PER_BIND GPUs are bound per instruction")]
    TooManyGpusPerBind,
    #[msg("Account is not the worker's PDA for this supplier and index")]
    InvalidWorkerAddress,
    #[msg("More GPUs than the worker's spec declares")]
    GpuCountExceeded,
}
