use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

use crate::constants::{GPU_SEED, MAX_GPUS_PER_WORKER};
use crate::errors::TimelockError;
use crate::utils::token;

/// Prefix of a GPU UUID's hash, so that the registry's keys can never collide with another use of SHA-256.
pub const GPU_UUID_DOMAIN: &[u8] = b"timelock-gpu-uuid-v1";
/// Prefix of a worker's GPU set digest.
pub const GPU_SET_DOMAIN: &[u8] = b"timelock-gpu-set-v1";

/// One physical GPU, known by the hash of its UUID (as NVML reports it). PDA `["gpu", uuid_hash]`: created when
/// a worker registers with the GPU, closed when it deregisters, so that one GPU can never back two workers and
/// be rented to two renters at once.
#[account]
#[derive(InitSpace, Debug)]
pub struct Gpu {
    /// The worker this GPU is bound to.
    pub worker: Pubkey,
    /// `Gpu::uuid_hash` of the GPU's UUID, the record's seed.
    pub uuid_hash: [u8; 32],
    /// Bump of the account's PDA.
    pub bump: u8,
}

impl Gpu {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    /// The registry key of a GPU UUID such as `GPU-5d9d6fb0-…`. Computed off chain (the agent reports UUIDs, the
    /// oracle hashes them); the program only ever sees hashes.
    pub fn uuid_hash(uuid: &str) -> [u8; 32] {
        hashv(&[GPU_UUID_DOMAIN, uuid.trim().as_bytes()]).to_bytes()
    }

    /// The digest a worker stores of its GPUs: over their UUID hashes in ascending order, so the same GPUs give
    /// the same digest whatever order a host lists them in.
    pub fn set_digest(sorted_hashes: &[[u8; 32]]) -> [u8; 32] {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(sorted_hashes.len() + 1);
        parts.push(GPU_SET_DOMAIN);
        parts.extend(sorted_hashes.iter().map(|h| h.as_slice()));
        hashv(&parts).to_bytes()
    }

    /// The digest of a host's GPU UUIDs, in any order.
    pub fn set_digest_of_uuids<'a>(uuids: impl IntoIterator<Item = &'a str>) -> [u8; 32] {
        let mut hashes: Vec<[u8; 32]> = uuids.into_iter().map(Self::uuid_hash).collect();
        hashes.sort_unstable();
        Self::set_digest(&hashes)
    }

    /// Binds `hashes` (strictly ascending, one per GPU of the worker) to `worker`, creating one record per GPU
    /// at the matching account of `records`. Refuses a GPU that already backs a worker. Returns the set digest.
    pub fn bind_all<'info>(
        records: &[AccountInfo<'info>],
        hashes: &[[u8; 32]],
        gpu_count: u16,
        worker: Pubkey,
        payer: &AccountInfo<'info>,
        system_program: &AccountInfo<'info>,
    ) -> Result<[u8; 32]> {
        require!(
            hashes.len() == usize::from(gpu_count) && hashes.len() <= usize::from(MAX_GPUS_PER_WORKER),
            TimelockError::GpuListMismatch
        );
        require!(records.len() == hashes.len(), TimelockError::GpuListMismatch);
        require!(hashes.windows(2).all(|w| w[0] < w[1]), TimelockError::GpuListNotSorted);
        for (record, uuid_hash) in records.iter().zip(hashes) {
            let (address, bump) = Pubkey::find_program_address(&[GPU_SEED, uuid_hash], &crate::ID);
            require_keys_eq!(record.key(), address, TimelockError::InvalidGpuRecord);
            require!(record.owner != &crate::ID || record.data_is_empty(), TimelockError::GpuInUse);
            let seeds: &[&[u8]] = &[GPU_SEED, uuid_hash, &[bump]];
            token::create_pda_account(payer, record, system_program, Self::SPACE, seeds)?;
            token::write_new(record, &Gpu { worker, uuid_hash: *uuid_hash, bump })?;
        }
        Ok(Self::set_digest(hashes))
    }

    /// Closes every record of `worker`'s GPUs into `receiver`; `records` must be exactly the GPUs whose digest
    /// the worker stores (in ascending order), so no GPU stays bound to a worker that is gone.
    pub fn release_all<'info>(
        records: &'info [AccountInfo<'info>],
        worker: &Pubkey,
        gpu_set: &[u8; 32],
        receiver: &AccountInfo<'info>,
    ) -> Result<()> {
        let mut hashes = Vec::with_capacity(records.len());
        for record in records {
            require!(record.is_writable, TimelockError::InvalidGpuRecord);
            let gpu = Account::<Gpu>::try_from(record).map_err(|_| error!(TimelockError::InvalidGpuRecord))?;
            require_keys_eq!(gpu.worker, *worker, TimelockError::InvalidGpuRecord);
            hashes.push(gpu.uuid_hash);
            gpu.close(receiver.clone())?;
        }
        require!(Self::set_digest(&hashes) == *gpu_set, TimelockError::GpuListMismatch);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_digest_ignores_the_order_a_host_lists_its_gpus_in() {
        let a = Gpu::set_digest_of_uuids(["GPU-a", "GPU-b", "GPU-c"]);
        assert_eq!(a, Gpu::set_digest_of_uuids(["GPU-c", "GPU-a", "GPU-b"]));
        assert_ne!(a, Gpu::set_digest_of_uuids(["GPU-a", "GPU-b"]));
        assert_ne!(a, Gpu::set_digest_of_uuids(["GPU-a", "GPU-b", "GPU-d"]));
        assert_eq!(Gpu::uuid_hash(" GPU-a\n"), Gpu::uuid_hash("GPU-a"));
    }
}
