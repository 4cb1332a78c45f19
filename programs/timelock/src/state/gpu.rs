use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

use crate::constants::{GPU_SEED, MAX_GPUS_PER_BIND};
use crate::errors::TimelockError;
use crate::pda;
use crate::state::Worker;
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

    /// The digest a worker stores of its GPUs, over their UUID hashes in ascending order, so the same GPUs give
    /// the same digest whatever order a host lists them in. Built one GPU at a time (`extend_set_digest`), since
    /// a worker's GPUs are bound over several instructions.
    pub fn set_digest(sorted_hashes: &[[u8; 32]]) -> [u8; 32] {
        sorted_hashes.iter().fold(Self::empty_set_digest(), |digest, hash| Self::extend_set_digest(&digest, hash))
    }

    /// The digest of no GPU, which a worker holds until its first is bound.
    pub fn empty_set_digest() -> [u8; 32] {
        hashv(&[GPU_SET_DOMAIN]).to_bytes()
    }

    /// The digest of a set with `next` added above every hash already in it.
    pub fn extend_set_digest(digest: &[u8; 32], next: &[u8; 32]) -> [u8; 32] {
        hashv(&[digest, next]).to_bytes()
    }

    /// The digest of a host's GPU UUIDs, in any order.
    pub fn set_digest_of_uuids<'a>(uuids: impl IntoIterator<Item = &'a str>) -> [u8; 32] {
        let mut hashes: Vec<[u8; 32]> = uuids.into_iter().map(Self::uuid_hash).collect();
        hashes.sort_unstable();
        Self::set_digest(&hashes)
    }

    /// Binds `hashes` (strictly ascending, above the worker's GPUs already bound, at most `MAX_GPUS_PER_BIND`) to
    /// `worker`, creating one record per GPU at the matching account of `records` and adding it to the worker's
    /// set digest. Refuses a GPU that already backs a worker, and more GPUs than the worker's spec declares.
    pub fn bind<'info>(
        records: &[AccountInfo<'info>],
        hashes: &[[u8; 32]],
        worker: &mut Worker,
        worker_key: Pubkey,
        payer: &AccountInfo<'info>,
        system_program: &AccountInfo<'info>,
    ) -> Result<()> {
        require!(hashes.len() <= usize::from(MAX_GPUS_PER_BIND), TimelockError::TooManyGpusPerBind);
        require!(!hashes.is_empty() && records.len() == hashes.len(), TimelockError::GpuListMismatch);
        let bound = usize::from(worker.gpus_bound) + hashes.len();
        require!(bound <= usize::from(worker.spec.gpu_count), TimelockError::GpuCountExceeded);
        for (record, uuid_hash) in records.iter().zip(hashes) {
            require!(worker.gpus_bound == 0 || worker.last_gpu < *uuid_hash, TimelockError::GpuListNotSorted);
            crate::cu_checkpoint!("gpu: start");
            let seeds: &[&[u8]] = &[GPU_SEED, uuid_hash];
            let bump = pda::require_canonical(record.key, seeds, TimelockError::InvalidGpuRecord)?;
            crate::cu_checkpoint!("gpu: found");
            require!(record.owner != &crate::ID || record.data_is_empty(), TimelockError::GpuInUse);
            token::create_pda_account(payer, record, system_program, Self::SPACE, seeds, bump)?;
            crate::cu_checkpoint!("gpu: created");
            token::write_new(record, &Gpu { worker: worker_key, uuid_hash: *uuid_hash, bump })?;
            crate::cu_checkpoint!("gpu: written");
            worker.gpu_set = Self::extend_set_digest(&worker.gpu_set, uuid_hash);
            worker.last_gpu = *uuid_hash;
            worker.gpus_bound += 1;
        }
        Ok(())
    }

    /// Closes every record of `worker`'s GPUs into `receiver`; `records` must be exactly the GPUs bound to it, in
    /// ascending order (their digest is the worker's), so no GPU stays bound to a worker that is gone.
    pub fn release_all<'info>(
        records: &'info [AccountInfo<'info>],
        worker_key: &Pubkey,
        worker: &Worker,
        receiver: &AccountInfo<'info>,
    ) -> Result<()> {
        require!(records.len() == usize::from(worker.gpus_bound), TimelockError::GpuListMismatch);
        let mut digest = Self::empty_set_digest();
        for record in records {
            require!(record.is_writable, TimelockError::InvalidGpuRecord);
            let gpu = Account::<Gpu>::try_from(record).map_err(|_| error!(TimelockError::InvalidGpuRecord))?;
            require_keys_eq!(gpu.worker, *worker_key, TimelockError::InvalidGpuRecord);
            digest = Self::extend_set_digest(&digest, &gpu.uuid_hash);
            gpu.close(receiver.clone())?;
        }
        require!(digest == worker.gpu_set, TimelockError::GpuListMismatch);
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

    #[test]
    fn the_set_digest_built_one_gpu_at_a_time_is_that_of_the_sorted_set() {
        let mut hashes: Vec<[u8; 32]> = ["GPU-a", "GPU-b", "GPU-c"].map(Gpu::uuid_hash).to_vec();
        hashes.sort_unstable();
        let stepwise = hashes.iter().fold(Gpu::empty_set_digest(), |d, h| Gpu::extend_set_digest(&d, h));
        assert_eq!(stepwise, Gpu::set_digest(&hashes));
        assert_eq!(stepwise, Gpu::set_digest_of_uuids(["GPU-c", "GPU-a", "GPU-b"]));
        assert_ne!(Gpu::set_digest(&hashes[..2]), Gpu::set_digest(&hashes[1..]));
    }
}
