//! Workers: the H100 spec, registration, updates and deregistration, and suppliers with workers ready to book.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use timelock::state::WorkerSpec;
use timelock_sdk::{batch, catalog, ix, pda};

use crate::{Failed, SendResult, SupplierActor, TestFixture, ONE_STAKE};

/// The UUIDs a test host reports for the GPUs of the worker at `worker`: unique per worker, as real UUIDs are.
pub fn gpu_uuids(worker: &Pubkey, gpu_count: u16) -> Vec<String> {
    (0..gpu_count).map(|i| format!("GPU-{worker}-{i}")).collect()
}

/// The registry hashes of [`gpu_uuids`].
pub fn gpu_hashes(worker: &Pubkey, gpu_count: u16) -> Vec<[u8; 32]> {
    gpu_uuids(worker, gpu_count).iter().map(|uuid| timelock::state::Gpu::uuid_hash(uuid)).collect()
}

/// What a simulated host's telemetry says: its H100s (with the UUIDs registered for the worker), each running
/// one process of each image (`None`: a process outside any container), as the agent reports them.
pub fn simulated_gpus(worker: &Pubkey, gpu_count: u16, images: &[Option<&str>]) -> Vec<timelock_protocol::GpuSample> {
    gpu_uuids(worker, gpu_count)
        .into_iter()
        .map(|uuid| timelock_protocol::GpuSample {
            uuid,
            model: "H100-SXM".into(),
            utilization_pct: 97,
            memory_used_mib: 70_000,
            processes: images
                .iter()
                .enumerate()
                .map(|(p, image)| timelock_protocol::GpuProcess {
                    pid: 4_000 + p as u32,
                    // Container ids are hex, as cgroups show them; one per image.
                    container: image.map(|_| format!("c0ffee{p:06x}")),
                    image: image.map(|i| format!("sha256:{}", hex_of(i))),
                    image_name: image.map(str::to_string),
                })
                .collect(),
        })
        .collect()
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

impl TestFixture {
    /// An 8 × H100 worker spec as io.net lists them.
    pub fn h100_spec(&self) -> WorkerSpec {
        WorkerSpec {
            gpu_model: catalog::gpu_model_code("H100-SXM").unwrap(),
            gpu_count: 8,
            vram_gib: 80,
            cpu_cores: 96,
            ram_gib: 1_024,
            region: catalog::region_code("US-EAST").unwrap(),
            connectivity_tier: 4,
            compliance: catalog::compliance_flags(true, false, true),
            green_energy: true,
            price_per_gpu_hour: 2_000_000,
            device_key: Pubkey::new_unique(),
            max_lease_hours: 720,
        }
    }

    pub fn next_worker_index(&mut self) -> u32 {
        self.next_worker_index += 1;
        self.next_worker_index
    }

    /// Registers a worker for `supplier` with the GPUs of [`gpu_uuids`]; returns its index.
    pub fn register_worker(&mut self, supplier: &SupplierActor, spec: WorkerSpec) -> Result<u32, Failed> {
        let index = self.next_worker_index();
        let register = self.register_worker_ix(supplier, index, spec);
        self.send(&register, &[&supplier.authority]).map(|_| index)
    }

    /// `worker_register` and the `worker_bind_gpus` that bind its GPUs, as one transaction's instructions.
    pub fn register_worker_ix(&self, supplier: &SupplierActor, index: u32, spec: WorkerSpec) -> Vec<Instruction> {
        let worker = pda::worker(&supplier.supplier(), index).0;
        let gpus = gpu_hashes(&worker, spec.gpu_count);
        batch::worker_register(supplier.key(), index, spec, &gpus).concat()
    }

    /// `worker_update` for the worker as it is registered now (its current device key).
    pub fn update_worker_ix(&self, supplier: &SupplierActor, index: u32, spec: WorkerSpec) -> Instruction {
        let current = self.worker_of(supplier, index).spec.device_key;
        ix::worker_update(supplier.key(), index, current, spec)
    }

    pub fn update_worker(&mut self, supplier: &SupplierActor, index: u32, spec: WorkerSpec) -> SendResult {
        let ix = self.update_worker_ix(supplier, index, spec);
        self.send(&[ix], &[&supplier.authority])
    }

    pub fn deregister_worker_ix(&self, supplier: &SupplierActor, index: u32) -> Instruction {
        let registered = self.worker_of(supplier, index);
        let worker = pda::worker(&supplier.supplier(), index).0;
        let gpus = gpu_hashes(&worker, registered.spec.gpu_count);
        ix::worker_deregister(supplier.key(), index, registered.spec.device_key, &gpus)
    }

    pub fn deregister_worker(&mut self, supplier: &SupplierActor, index: u32) -> SendResult {
        let ix = self.deregister_worker_ix(supplier, index);
        self.send(&[ix], &[&supplier.authority])
    }

    pub fn worker_of(&self, supplier: &SupplierActor, index: u32) -> timelock::state::Worker {
        self.account(&pda::worker(&supplier.supplier(), index).0)
    }

    pub fn worker_ref(&self, supplier: &SupplierActor, index: u32) -> ix::WorkerRef {
        self.worker_ref_for(&supplier.key(), index)
    }

    pub fn worker_ref_for(&self, authority: &Pubkey, index: u32) -> ix::WorkerRef {
        let supplier = pda::supplier(authority).0;
        ix::WorkerRef { worker: pda::worker(&supplier, index).0, supplier }
    }

    /// A staked supplier with `count` registered 8 × H100 workers.
    pub fn supplier_with_workers(&mut self, count: u32) -> (SupplierActor, Vec<ix::WorkerRef>) {
        // Bond (8,000 per worker) plus collateral headroom.
        let supplier = self.staked_supplier(u64::from(count) * 8_100 * ONE_STAKE);
        let workers = (0..count)
            .map(|_| {
                let spec = WorkerSpec { device_key: Pubkey::new_unique(), ..self.h100_spec() };
                let index = self.register_worker(&supplier, spec).expect("register worker");
                self.worker_ref(&supplier, index)
            })
            .collect();
        (supplier, workers)
    }

    /// One staked supplier with an H100 worker of `gpu_count` GPUs for each device key (what its agent signs with).
    pub fn workers_with_devices(&mut self, devices: &[Pubkey], gpu_count: u16) -> Vec<ix::WorkerRef> {
        let supplier = self.staked_supplier(devices.len() as u64 * 8_100 * ONE_STAKE);
        devices
            .iter()
            .map(|device| {
                let spec = WorkerSpec { gpu_count, device_key: *device, ..self.h100_spec() };
                let index = self.register_worker(&supplier, spec).expect("register worker");
                self.worker_ref(&supplier, index)
            })
            .collect()
    }

    /// `suppliers` staked suppliers with `per_supplier` single-H100 workers each (a 100-GPU cluster is 4 × 25).
    pub fn single_gpu_workers(&mut self, suppliers: usize, per_supplier: usize) -> Vec<ix::WorkerRef> {
        let mut workers = Vec::new();
        for _ in 0..suppliers {
            let supplier = self.staked_supplier(100_000 * ONE_STAKE);
            for _ in 0..per_supplier {
                let spec = WorkerSpec { gpu_count: 1, device_key: Pubkey::new_unique(), ..self.h100_spec() };
                let index = self.register_worker(&supplier, spec).expect("register worker");
                workers.push(self.worker_ref(&supplier, index));
            }
        }
        workers
    }
}
