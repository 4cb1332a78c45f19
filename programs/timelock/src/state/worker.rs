use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;

/// What a supplier declares about a GPU host. Prices are per GPU per hour in payment-mint base units.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct WorkerSpec {
    /// Index into the config's GPU multiplier table (the SDK maps model names to codes).
    pub gpu_model: u16,
    pub gpu_count: u16,
    pub vram_gib: u16,
    pub cpu_cores: u16,
    pub ram_gib: u32,
    /// ASCII `A-Z0-9-`, left aligned, zero padded, e.g. `US-EAST\0`.
    pub region: [u8; REGION_LEN],
    pub connectivity_tier: u8,
    /// Bits of `constants::compliance`.
    pub compliance: u8,
    pub green_energy: bool,
    pub price_per_gpu_hour: u64,
    /// Key that signs the worker agent's heartbeats.
    pub device_key: Pubkey,
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
    pub supplier: Pubkey,
    pub worker_index: u32,
    pub spec: WorkerSpec,
    pub available: bool,
    /// The lease holding this worker, `Pubkey::default()` when free.
    pub active_lease: Pubkey,
    /// Stake bonded for this worker when it registered or last changed hardware.
    pub bonded_stake: u64,
    pub jailed_until: i64,
    pub fault_count: u32,
    pub registered_at: i64,
    pub bump: u8,
}

impl Worker {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    pub fn is_leased(&self) -> bool {
        self.active_lease != Pubkey::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
