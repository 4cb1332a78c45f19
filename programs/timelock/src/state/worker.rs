use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;

/// What a supplier declares about a GPU host. Prices are per GPU per hour in payment-mint base units.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct WorkerSpec {
    /// Index into the config's GPU multiplier table (the SDK maps model names to codes).
    pub gpu_model: u16,
    /// GPUs on the host (1 to `MAX_GPUS_PER_WORKER`); fixed once registered.
    pub gpu_count: u16,
    /// Memory of each GPU, GiB.
    pub vram_gib: u16,
    /// CPU cores of the host.
    pub cpu_cores: u16,
    /// Memory of the host, GiB.
    pub ram_gib: u32,
    /// ASCII `A-Z0-9-`, left aligned, zero padded, e.g. `US-EAST\0`.
    pub region: [u8; REGION_LEN],
    /// Network class, 1 (lowest) to 4.
    pub connectivity_tier: u8,
    /// Bits of `constants::compliance`.
    pub compliance: u8,
    /// Whether the host runs on renewable energy, as the supplier declares.
    pub green_energy: bool,
    /// Asking price per GPU per hour, locked into each lease at booking.
    pub price_per_gpu_hour: u64,
    /// Key that signs the worker agent's heartbeats. One device key backs at most one worker.
    pub device_key: Pubkey,
    /// Longest booking (whole hours, extensions included) the supplier accepts for this worker.
    pub max_lease_hours: u32,
}

impl WorkerSpec {
    pub fn validate(&self) -> Result<()> {
        require!(self.gpu_count >= 1 && self.gpu_count <= MAX_GPUS_PER_WORKER, TimelockError::InvalidGpuCount);
        require!(self.vram_gib > 0 && self.cpu_cores > 0 && self.ram_gib > 0, TimelockError::InvalidSpecs);
        require!(region_is_valid(&self.region), TimelockError::InvalidRegion);
        require!(
            (MIN_CONNECTIVITY_TIER..=MAX_CONNECTIVITY_TIER).contains(&self.connectivity_tier),
            TimelockError::InvalidConnectivityTier
        );
        require!(self.compliance & !compliance::ALL == 0, TimelockError::InvalidComplianceFlags);
        require!(self.price_per_gpu_hour > 0, TimelockError::InvalidPrice);
        require!(self.device_key != Pubkey::default(), TimelockError::InvalidSpecs);
        require!(
            self.max_lease_hours >= 1 && self.max_lease_hours <= MAX_CLUSTER_HOURS,
            TimelockError::InvalidClusterHours
        );
        Ok(())
    }

    pub fn same_hardware(&self, other: &WorkerSpec) -> bool {
        self.gpu_model == other.gpu_model && self.gpu_count == other.gpu_count && self.vram_gib == other.vram_gib
    }
}

fn region_is_valid(region: &[u8; REGION_LEN]) -> bool {
    let len = region.iter().position(|b| *b == 0).unwrap_or(REGION_LEN);
    len > 0
        && region[..len].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'-')
        && region[len..].iter().all(|b| *b == 0)
}

/// A GPU host. PDA `["worker", supplier, worker_index (u32 LE)]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Worker {
    /// The supplier that registered the worker, whose stake bonds it.
    pub supplier: Pubkey,
    /// The supplier's number for the worker, part of its seeds.
    pub worker_index: u32,
    /// What the supplier declares and renters book.
    pub spec: WorkerSpec,
    /// Whether new bookings may pick the worker (`worker_set_available`).
    pub available: bool,
    /// The lease holding this worker, `Pubkey::default()` when free.
    pub active_lease: Pubkey,
    /// Stake bonded for this worker when it registered or last changed hardware.
    pub bonded_stake: u64,
    /// Non-zero while jailed: bookings are refused, and `worker_unjail` clears it from this time on.
    pub jailed_until: i64,
    /// Faults slashed on this worker's leases, ever.
    pub fault_count: u64,
    /// Start of the current jail window and the faults counted in it.
    pub fault_window_start: i64,
    /// Faults counted in the current jail window.
    pub window_faults: u64,
    /// When it registered.
    pub registered_at: i64,
    /// Bump of the account's PDA.
    pub bump: u8,
    /// Digest of the GPUs bound to this worker (`Gpu::set_digest` of their UUID hashes): the oracles fault a
    /// heartbeat whose GPUs are not exactly these.
    pub gpu_set: [u8; 32],
    /// GPUs bound so far by `worker_bind_gpus`; the worker is bookable only once all `spec.gpu_count` are.
    pub gpus_bound: u16,
    /// UUID hash of the last GPU bound: the next one must be above it, so that the set digest, built one GPU at a
    /// time, is that of the hashes in ascending order.
    pub last_gpu: [u8; 32],
    /// Zeroed room for fields added later without reallocating existing accounts. Last, so that the offsets of
    /// the fields above never move.
    pub _reserved: [u8; 32],
}

impl Worker {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    pub fn is_leased(&self) -> bool {
        self.active_lease != Pubkey::default()
    }

    /// Jailed until `worker_unjail` clears it: a cool-down that has passed does not release a worker by itself.
    pub fn is_jailed(&self) -> bool {
        self.jailed_until != 0
    }

    /// Whether all the GPUs the spec declares are bound to the worker.
    pub fn has_all_gpus(&self) -> bool {
        self.gpus_bound == self.spec.gpu_count
    }

    /// The one definition of a worker that `cluster_add_workers` will book: available, not leased, not jailed,
    /// with all its GPUs bound.
    /// The SDK's `WorkerView::bookable` and `WorkerFilter` carry it to the CLI's `--available` and `stats` and to
    /// the indexer (which stores the view); `tests/tests/indexer/` feeds the same accounts to all three.
    pub fn is_bookable(&self) -> bool {
        self.available && !self.is_leased() && !self.is_jailed() && self.has_all_gpus()
    }

    /// Jailed, or with faults still counting toward jail in the current window.
    pub fn has_open_faults(&self, now: i64, window_secs: i64) -> bool {
        self.is_jailed() || (self.window_faults > 0 && now.saturating_sub(self.fault_window_start) < window_secs)
    }

    /// Counts `new_faults` in the jail window (restarting it when expired) and jails the worker once the window
    /// holds `threshold` faults. Returns whether this call jailed it.
    pub fn record_faults(
        &mut self,
        new_faults: u64,
        now: i64,
        window_secs: i64,
        threshold: u16,
        cooldown: i64,
    ) -> bool {
        self.fault_count = self.fault_count.saturating_add(new_faults);
        if now.saturating_sub(self.fault_window_start) >= window_secs {
            self.fault_window_start = now;
            self.window_faults = 0;
        }
        self.window_faults = self.window_faults.saturating_add(new_faults);
        if !self.is_jailed() && self.window_faults >= u64::from(threshold) {
            self.jailed_until = now.saturating_add(cooldown).max(1);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker() -> Worker {
        Worker {
            supplier: Pubkey::default(),
            worker_index: 0,
            spec: WorkerSpec {
                gpu_model: 1,
                gpu_count: 1,
                vram_gib: 1,
                cpu_cores: 1,
                ram_gib: 1,
                region: [b'X', 0, 0, 0, 0, 0, 0, 0],
                connectivity_tier: 1,
                compliance: 0,
                green_energy: false,
                price_per_gpu_hour: 1,
                device_key: Pubkey::new_unique(),
                max_lease_hours: 1,
            },
            available: true,
            active_lease: Pubkey::default(),
            bonded_stake: 0,
            jailed_until: 0,
            fault_count: 0,
            fault_window_start: 0,
            window_faults: 0,
            registered_at: 0,
            bump: 0,
            gpu_set: [0; 32],
            gpus_bound: 1,
            last_gpu: [0; 32],
            _reserved: [0; 32],
        }
    }

    #[test]
    fn jails_after_threshold_faults_within_the_window() {
        let mut w = worker();
        assert!(!w.record_faults(2, 1_000, 100, 3, 50));
        assert!(w.record_faults(1, 1_050, 100, 3, 50));
        assert_eq!(w.jailed_until, 1_100);
        assert!(!w.record_faults(5, 1_060, 100, 3, 50), "already jailed");
        assert_eq!(w.fault_count, 8);
    }

    #[test]
    fn faults_outside_the_window_do_not_add_up() {
        let mut w = worker();
        assert!(!w.record_faults(2, 1_000, 100, 3, 50));
        assert!(!w.record_faults(2, 1_100, 100, 3, 50));
        assert_eq!(w.window_faults, 2);
        assert!(!w.is_jailed());
    }

    fn region(s: &str) -> [u8; REGION_LEN] {
        let mut r = [0u8; REGION_LEN];
        r[..s.len()].copy_from_slice(s.as_bytes());
        r
    }

    #[test]
    fn region_codes() {
        assert!(region_is_valid(&region("US-EAST")));
        assert!(region_is_valid(&region("EU-WEST1")));
        assert!(!region_is_valid(&region("")));
        assert!(!region_is_valid(&region("us-east")));
        let mut gap = region("US");
        gap[3] = b'X';
        assert!(!region_is_valid(&gap));
    }
}
