//! `timelock worker …`: register, update, availability, deregister, unjail, show, search.

use anchor_lang::prelude::Pubkey;
use clap::{Args, Subcommand};
use serde_json::Value;
use timelock::state::{Gpu, WorkerSpec};
use timelock_sdk::client::{Backend, Memcmp};
use timelock_sdk::filter::{WorkerFilter, WorkerSort};
use timelock_sdk::view::WorkerView;
use timelock_sdk::{batch, catalog, ix, pda};

use super::json;
use crate::{usage, CliError, CliResult, Context};

#[derive(Args, Debug)]
pub struct SpecArgs {
    /// GPU model name, e.g. H100-SXM (see the catalog in the README).
    #[arg(long)]
    pub gpu_model: String,
    #[arg(long)]
    pub gpu_count: u16,
    #[arg(long)]
    pub vram_gib: u16,
    #[arg(long)]
    pub cpu_cores: u16,
    #[arg(long)]
    pub ram_gib: u32,
    /// Region code, e.g. US-EAST.
    #[arg(long)]
    pub region: String,
    /// Connectivity tier, 1 (lowest) to 4.
    #[arg(long)]
    pub tier: u8,
    #[command(flatten)]
    pub compliance: ComplianceArgs,
    #[arg(long)]
    pub green: bool,
    /// Price per GPU-hour in payment-mint base units.
    #[arg(long)]
    pub price: u64,
    /// Public key the worker agent signs heartbeats with.
    #[arg(long)]
    pub device_key: Pubkey,
    /// Longest booking, extensions included, this worker accepts (hours).
    #[arg(long, default_value_t = 720)]
    pub max_lease_hours: u32,
}

#[derive(Subcommand, Debug)]
pub enum WorkerCommand {
    /// Register a GPU host; needs free stake of base × model multiplier × GPUs.
    Register {
        /// Index of this worker among the supplier's (any unused number).
        #[arg(long)]
        index: u32,
        #[command(flatten)]
        spec: SpecArgs,
        /// UUID of each of the host's GPUs as NVML reports it (`nvidia-smi -L`), once per GPU: a GPU can back one
        /// worker only, and the oracles fault heartbeats from any other set.
        #[arg(long = "gpu", value_name = "UUID", required = true)]
        gpus: Vec<String>,
    },
    /// Replace a worker's spec (hardware is frozen while leased; the bond is recomputed).
    Update {
        #[arg(long)]
        index: u32,
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Accept new bookings (true) or not (false).
    Available {
        index: u32,
        #[arg(action = clap::ArgAction::Set)]
        available: bool,
    },
    /// Remove a worker that is not leased; releases its bond and returns its rent.
    Deregister { index: u32 },
    /// Make a jailed worker bookable again after its cool-down.
    Unjail { index: u32 },
    /// Show a worker by address.
    Show { address: Pubkey },
    /// Search workers on chain.
    List {
        #[command(flatten)]
        filter: WorkerFilterArgs,
    },
}

/// Compliance bits by name: what a worker has, or what a search requires.
#[derive(Args, Debug, Default, Clone)]
pub struct ComplianceArgs {
    /// SOC 2 (bit 1).
    #[arg(long)]
    pub soc2: bool,
    /// HIPAA (bit 2).
    #[arg(long)]
    pub hipaa: bool,
    /// End-to-end encryption (bit 4).
    #[arg(long)]
    pub e2e: bool,
}

impl ComplianceArgs {
    pub fn bits(&self) -> u8 {
        catalog::compliance_flags(self.soc2, self.hipaa, self.e2e)
    }
}

/// `WorkerFilter`'s fields as flags, under the same names as the indexer API's query parameters.
#[derive(Args, Debug, Default, Clone)]
pub struct WorkerFilterArgs {
    /// GPU model name, any case (H100-SXM).
    #[arg(long)]
    pub gpu_model: Option<String>,
    #[arg(long)]
    pub min_gpus: Option<u16>,
    #[arg(long)]
    pub min_vram_gib: Option<u16>,
    /// Region code, any case (US-EAST).
    #[arg(long)]
    pub region: Option<String>,
    /// Lowest connectivity tier accepted (1-4).
    #[arg(long)]
    pub min_connectivity_tier: Option<u8>,
    /// Compliance bits, all required (1 SOC 2, 2 HIPAA, 4 end-to-end encryption).
    #[arg(long)]
    pub compliance: Option<u8>,
    /// The same bits by name.
    #[command(flatten)]
    pub certified: ComplianceArgs,
    /// Only green-energy workers.
    #[arg(long)]
    pub green: bool,
    /// Only workers bookable now (available, not leased, not jailed, all GPUs bound).
    #[arg(long)]
    pub available: bool,
    /// Highest price per GPU-hour (payment-mint base units).
    #[arg(long)]
    pub max_price: Option<u64>,
    /// Supplier account address.
    #[arg(long)]
    pub supplier: Option<Pubkey>,
    /// price (default), -price, -gpus or -registered.
    #[arg(long, value_parser = parse_sort, allow_hyphen_values = true)]
    pub sort: Option<WorkerSort>,
    /// At most this many workers (1-500, default 50).
    #[arg(long)]
    pub limit: Option<u32>,
}

fn parse_sort(text: &str) -> Result<WorkerSort, String> {
    serde_json::from_value(Value::String(text.to_string()))
        .map_err(|_| format!("{text:?}: use price, -price, -gpus or -registered"))
}

impl WorkerFilterArgs {
    pub fn filter(&self) -> WorkerFilter {
        let shorthand = self.certified.bits();
        let compliance = match (self.compliance, shorthand) {
            (None, 0) => None,
            (bits, flags) => Some(bits.unwrap_or(0) | flags),
        };
        WorkerFilter {
            gpu_model: self.gpu_model.clone(),
            min_gpus: self.min_gpus,
            min_vram_gib: self.min_vram_gib,
            region: self.region.clone(),
            min_connectivity_tier: self.min_connectivity_tier,
            compliance,
            green: self.green.then_some(true),
            available: self.available.then_some(true),
            max_price: self.max_price,
            supplier: self.supplier.map(|k| k.to_string()),
            sort: self.sort,
            limit: self.limit,
            cursor: None,
        }
    }
}

pub(crate) fn gpu_model(name: &str) -> std::result::Result<u16, CliError> {
    catalog::parse_gpu_model(name).map_err(|e| usage(e.to_string()))
}

impl SpecArgs {
    fn spec(&self) -> std::result::Result<WorkerSpec, CliError> {
        Ok(WorkerSpec {
            gpu_model: gpu_model(&self.gpu_model)?,
            gpu_count: self.gpu_count,
            vram_gib: self.vram_gib,
            cpu_cores: self.cpu_cores,
            ram_gib: self.ram_gib,
            region: catalog::region_code(&self.region).map_err(|e| usage(e.to_string()))?,
            connectivity_tier: self.tier,
            compliance: self.compliance.bits(),
            green_energy: self.green,
            price_per_gpu_hour: self.price,
            device_key: self.device_key,
            max_lease_hours: self.max_lease_hours,
        })
    }
}

/// Byte offsets of `Worker` fields for `getProgramAccounts` filters, checked against a serialized worker in
/// the tests (`worker_layout_offsets`).
pub mod worker_layout {
    /// discriminator (8) + supplier (32) + worker_index (4)
    pub const GPU_MODEL: usize = 44;
}

pub fn run<B: Backend>(command: &WorkerCommand, ctx: &Context<B>) -> CliResult {
    let me = ctx.me();
    match command {
        WorkerCommand::Register { index, spec, gpus } => {
            let hashes: Vec<[u8; 32]> = gpus.iter().map(|uuid| Gpu::uuid_hash(uuid)).collect();
            // Run again after a transaction that did not land, it binds the GPUs still missing.
            let batches = match ctx.my_worker(*index) {
                Ok(worker) if !worker.has_all_gpus() => {
                    let missing: Vec<[u8; 32]> =
                        hashes.into_iter().filter(|h| worker.gpus_bound == 0 || *h > worker.last_gpu).collect();
                    let still = usize::from(worker.spec.gpu_count - worker.gpus_bound);
                    if missing.len() != still {
                        return Err(usage(format!(
                            "worker {index} has {} of its {} GPUs bound and needs {still} more above the last one                              bound; {} of the GPUs given are (GPUs bind in ascending hash order: if one was left out                              below, deregister the worker and register it again)",
                            worker.gpus_bound,
                            worker.spec.gpu_count,
                            missing.len()
                        )));
                    }
                    batch::worker_bind_gpus(me, *index, &missing)
                }
                _ => batch::worker_register(me, *index, spec.spec()?, &hashes),
            };
            let mut signatures = Vec::with_capacity(batches.len());
            for instructions in &batches {
                signatures.push(ctx.client.send(instructions, &[ctx.signer])?.to_string());
            }
            Ok(
                serde_json::json!({ "worker": pda::worker(&pda::supplier(&me).0, *index).0.to_string(), "transactions": signatures }),
            )
        }
        WorkerCommand::Update { index, spec } => {
            let current = ctx.my_worker(*index)?.spec.device_key;
            ctx.send(vec![ix::worker_update(me, *index, current, spec.spec()?)])
        }
        WorkerCommand::Available { index, available } => {
            ctx.send(vec![ix::worker_set_available(me, *index, *available)])
        }
        WorkerCommand::Deregister { index } => {
            let device_key = ctx.my_worker(*index)?.spec.device_key;
            let worker = pda::worker(&pda::supplier(&me).0, *index).0;
            let records = ctx.client.search::<Gpu>(&[Memcmp { offset: 8, bytes: worker.to_bytes().to_vec() }])?;
            let hashes: Vec<[u8; 32]> = records.iter().map(|(_, gpu)| gpu.uuid_hash).collect();
            ctx.send(vec![ix::worker_deregister(me, *index, device_key, &hashes)])
        }
        WorkerCommand::Unjail { index } => ctx.send(vec![ix::worker_unjail(me, *index)]),
        WorkerCommand::Show { address } => Ok(json(WorkerView::new(address, &ctx.client.account(address)?))),
        WorkerCommand::List { filter } => {
            let filter = filter.filter();
            let page = filter.check().map_err(|e| usage(e.to_string()))?.limit as usize;
            let found = ctx.find_workers(&filter)?;
            Ok(Value::Array(found.iter().take(page).map(|(a, w)| json(WorkerView::new(a, w))).collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// `worker list`'s flags are the indexer API's query parameters: one name for each filter everywhere.
    #[test]
    fn the_filter_flags_are_the_api_parameter_names() {
        let every = WorkerFilter {
            gpu_model: Some(String::new()),
            min_gpus: Some(0),
            min_vram_gib: Some(0),
            region: Some(String::new()),
            min_connectivity_tier: Some(0),
            compliance: Some(0),
            green: Some(true),
            available: Some(true),
            max_price: Some(0),
            supplier: Some(String::new()),
            sort: Some(WorkerSort::Price),
            limit: Some(1),
            cursor: Some(String::new()),
        };
        let api = serde_json::to_value(every).unwrap();
        let cli = crate::Cli::command();
        let list = cli.find_subcommand("worker").unwrap().find_subcommand("list").unwrap();
        let shorthands = ["soc2", "hipaa", "e2e"];
        for arg in list.get_arguments().filter_map(|a| a.get_long()) {
            let name = arg.replace('-', "_");
            if !shorthands.contains(&name.as_str())
                && !["url", "keypair", "output", "priority-fee", "help"].contains(&arg)
            {
                assert!(api.get(&name).is_some(), "--{arg} is not an API parameter");
            }
        }
    }
}
