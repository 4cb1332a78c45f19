//! Seeds and protocol-wide limits. Limits are constants (not config) when raising them would change account sizes
//! or let an admin set a value that breaks an invariant. Those marked `#[constant]` are in the IDL's `constants`.

use anchor_lang::prelude::*;

#[constant]
pub const CONFIG_SEED: &[u8] = b"config";
#[constant]
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
#[constant]
pub const SUPPLIER_SEED: &[u8] = b"supplier";
#[constant]
pub const WORKER_SEED: &[u8] = b"worker";
#[constant]
pub const EARNINGS_SEED: &[u8] = b"earnings";
#[constant]
pub const CLUSTER_SEED: &[u8] = b"cluster";
#[constant]
pub const ESCROW_SEED: &[u8] = b"escrow";
#[constant]
pub const LEASE_SEED: &[u8] = b"lease";
#[constant]
pub const DEVICE_SEED: &[u8] = b"device";
#[constant]
pub const GPU_SEED: &[u8] = b"gpu";
#[constant]
pub const WORKLOAD_SEED: &[u8] = b"workload";
#[constant]
pub const INCENTIVE_POOL_SEED: &[u8] = b"incentive_pool";
#[constant]
pub const INCENTIVE_VAULT_SEED: &[u8] = b"incentive_vault";
#[constant]
pub const INCENTIVE_EPOCH_SEED: &[u8] = b"incentive_epoch";
#[constant]
pub const SUPPLIER_INCENTIVE_SEED: &[u8] = b"supplier_incentive";

#[constant]
pub const SECS_PER_HOUR: i64 = 3_600;
/// A year of booking at most: keeps `price × gpus × hours` products small and refunds bounded in time.
#[constant]
pub const MAX_CLUSTER_HOURS: u32 = 24 * 366;
#[constant]
pub const MAX_DISPUTE_WINDOW_SECS: i64 = 30 * 86_400;
/// Longest attestation epoch, jail window and jail cool-down: together with the dispute window and timeout they
/// bound how long after its end any lease can stay open, whatever the admin sets.
#[constant]
pub const MAX_EPOCH_SECS: i64 = 86_400;
#[constant]
pub const MAX_JAIL_SECS: i64 = 30 * 86_400;
/// An open dispute lasts at most this long before a crank lets the attested total stand.
#[constant]
pub const MAX_DISPUTE_TIMEOUT_SECS: i64 = 30 * 86_400;
/// Bounds of the collateral exchange rate's terms (whole tokens), so that converting any lease value fits u128.
#[constant]
pub const MAX_RATE_TERM: u64 = 1_000_000_000_000_u64;
/// Mints with more decimals than this are refused: 10^decimals must keep conversions far from overflow.
#[constant]
pub const MAX_MINT_DECIMALS: u8 = 18;

#[constant]
pub const BPS_DENOMINATOR: u64 = 10_000;
/// The oracles count one fault per started span of this length of a faulty run (a foreign process, a missing
/// GPU, a failed challenge, an outage beyond tolerance), so a run of any length costs in proportion to it.
#[constant]
pub const FAULT_SPAN_SECS: i64 = SECS_PER_HOUR;
/// A fault's slash is at least one fault span (an hour) of the lease's value: what a supplier can earn elsewhere
/// with the GPU it sold twice during that span.
#[constant]
pub const MIN_SLASH_BPS: u16 = 10_000;
/// A protocol fee above 20 % would make renting here worse than any centralized cloud; the cap protects renters
/// and suppliers from an admin key mistake or compromise.
#[constant]
pub const MAX_PROTOCOL_FEE_BPS: u16 = 2_000;
pub const MAX_ORACLES: usize = 10;
/// io.net's shortest booking is one hour; shorter leases cost more in attestation fees than they earn.
#[constant]
pub const MIN_RENTAL_SECS: i64 = 3_600;
#[constant]
pub const MAX_UNBONDING_SECS: i64 = 90 * 86_400;
/// Number of GPU model codes with a stake multiplier in the config table (code = index).
pub const GPU_MODEL_SLOTS: usize = 32;
/// Largest multiplier, 100x: keeps `stake × multiplier × gpus` far from u64 overflow for sane stakes.
#[constant]
pub const MAX_GPU_MULTIPLIER_BPS: u32 = 1_000_000;
#[constant]
pub const MAX_GPUS_PER_WORKER: u16 = 16;
/// GPUs `worker_bind_gpus` binds in one instruction: each costs a record created by CPI and a PDA search, about
/// 4,200 CU, so four keep the instruction under 25,000 CU. An eight-GPU host registers in one transaction
/// (`worker_register` and two binds), a sixteen-GPU host in two.
#[constant]
pub const MAX_GPUS_PER_BIND: u16 = 4;
pub const REGION_LEN: usize = 8;
/// Container images a renter may allow on its cluster at once (a job, its sidecars, a debugging image).
pub const MAX_WORKLOAD_IMAGES: usize = 16;
/// How long an image the renter stops listing stays allowed: time for the supplier's agent to see the change
/// and stop the renter's own processes of it (see `Workload`).
#[constant]
pub const WORKLOAD_GRACE_SECS: i64 = 300;

/// Compliance flags of a worker (`WorkerSpec::compliance`, a bit set); a booking's terms name those it requires.
pub mod compliance {
    use anchor_lang::prelude::*;

    /// Compliance flag: the host's operator is SOC 2 audited.
    #[constant]
    pub const SOC2: u8 = 1 << 0;
    /// Compliance flag: the host may process health data under HIPAA.
    #[constant]
    pub const HIPAA: u8 = 1 << 1;
    /// Compliance flag: data is encrypted end to end, at rest and in transit.
    #[constant]
    pub const END_TO_END_ENCRYPTION: u8 = 1 << 2;
    pub const ALL: u8 = SOC2 | HIPAA | END_TO_END_ENCRYPTION;
}

#[constant]
pub const MIN_CONNECTIVITY_TIER: u8 = 1;
#[constant]
pub const MAX_CONNECTIVITY_TIER: u8 = 4;

/// GPU model codes: what a worker registers its GPUs as, and the index of the model's stake multiplier in
/// `ConfigParams::gpu_multipliers_bps`. Appending is safe, renumbering is not (codes are stored in workers).
pub mod gpu_model {
    use anchor_lang::prelude::*;

    #[constant]
    pub const GPU_H100_SXM: u16 = 1;
    #[constant]
    pub const GPU_H100_PCIE: u16 = 2;
    #[constant]
    pub const GPU_H200: u16 = 3;
    #[constant]
    pub const GPU_A100_80G: u16 = 4;
    #[constant]
    pub const GPU_A100_40G: u16 = 5;
    #[constant]
    pub const GPU_L40S: u16 = 6;
    #[constant]
    pub const GPU_RTX_4090: u16 = 7;
    #[constant]
    pub const GPU_RTX_3090: u16 = 8;
    #[constant]
    pub const GPU_A6000: u16 = 9;
    #[constant]
    pub const GPU_B200: u16 = 10;
}
