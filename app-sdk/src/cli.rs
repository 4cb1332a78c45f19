//! The `timelock` command line: every program flow for admins, suppliers and renters. The logic is a library
//! function over any [`Backend`], so the tests drive the very same commands against the real program in LiteSVM.

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::associated_token::{
    get_associated_token_address_with_program_id as ata,
    spl_associated_token_account::instruction::create_associated_token_account_idempotent as create_ata,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use solana_signer::Signer;
use timelock::state::{ClusterPurpose, Config, ConfigParams, Lease, Supplier, Worker, WorkerSpec};

use crate::client::{Backend, Client, ClientError, Memcmp};
use crate::{batch, catalog, ix, pda};

#[derive(Parser, Debug)]
#[command(name = "timelock", version, about = "Stake, rent and settle GPUs on the timelock program")]
pub struct Cli {
    /// Cluster: localhost, devnet, mainnet-beta, or an RPC URL.
    #[arg(long, short = 'u', global = true, default_value = "localhost", env = "TIMELOCK_URL")]
    pub url: String,
    /// Keypair file in the Solana CLI format [default: ~/.config/solana/id.json].
    #[arg(long, short = 'k', global = true, env = "TIMELOCK_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Priority fee in micro-lamports per compute unit.
    #[arg(long, global = true, default_value_t = 0)]
    pub priority_fee: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Protocol configuration (admin).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The oracle set (admin).
    #[command(subcommand)]
    Oracle(OracleCommand),
    /// Supplier stake and earnings.
    #[command(subcommand)]
    Supplier(SupplierCommand),
    /// GPU workers.
    #[command(subcommand)]
    Worker(WorkerCommand),
    /// Rental clusters.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Leases of a cluster.
    #[command(subcommand)]
    Lease(LeaseCommand),
    /// Network totals read from chain.
    Stats,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Initialise the config (the program's upgrade authority only).
    Init {
        #[arg(long)]
        stake_mint: Pubkey,
        #[arg(long)]
        payment_mint: Pubkey,
        #[arg(long)]
        treasury: Pubkey,
        /// Oracle public key (repeat for each member).
        #[arg(long = "oracle", required = true)]
        oracles: Vec<Pubkey>,
        #[arg(long, default_value_t = 1)]
        threshold: u8,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Print the config.
    Show,
    /// Change parameters; the ones not given keep their value.
    Update {
        #[command(flatten)]
        params: ParamArgs,
        #[arg(long)]
        treasury: Option<Pubkey>,
    },
    /// Stop new stakes, registrations and bookings.
    Pause,
    /// Accept new stakes, registrations and bookings again.
    Unpause,
    /// Propose a new admin (who must run `config accept-admin`).
    TransferAdmin { new_admin: Pubkey },
    /// Become admin (run with the proposed new admin's keypair).
    AcceptAdmin,
}

#[derive(Args, Debug, Default)]
pub struct ParamArgs {
    #[arg(long)]
    pub protocol_fee_bps: Option<u16>,
    /// Stake per GPU at multiplier 1.0, in stake-mint base units.
    #[arg(long)]
    pub min_stake_per_gpu: Option<u64>,
    #[arg(long)]
    pub unbonding_period_secs: Option<i64>,
    #[arg(long)]
    pub slash_bps: Option<u16>,
    #[arg(long)]
    pub slash_renter_share_bps: Option<u16>,
    #[arg(long)]
    pub jail_fault_threshold: Option<u16>,
    #[arg(long)]
    pub jail_window_secs: Option<i64>,
    #[arg(long)]
    pub jail_cooldown_secs: Option<i64>,
    #[arg(long)]
    pub collateral_bps: Option<u32>,
    #[arg(long)]
    pub epoch_secs: Option<i64>,
    #[arg(long)]
    pub dispute_window_secs: Option<i64>,
    #[arg(long)]
    pub dispute_bond: Option<u64>,
    #[arg(long)]
    pub dispute_timeout_secs: Option<i64>,
    /// Collateral rate: this many whole stake tokens back...
    #[arg(long, requires = "collateral_payment_tokens")]
    pub collateral_stake_tokens: Option<u64>,
    /// ...this many whole payment tokens of lease value.
    #[arg(long, requires = "collateral_stake_tokens")]
    pub collateral_payment_tokens: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum OracleCommand {
    /// Add an oracle key to the set (at most 10; the threshold rises if it would no longer be a majority).
    Add { oracle: Pubkey },
    /// Remove an oracle key (the threshold is lowered if it would exceed the set).
    Remove { oracle: Pubkey },
    /// How many oracles must agree on a lease's proven time.
    Threshold { threshold: u8 },
}

#[derive(Subcommand, Debug)]
pub enum SupplierCommand {
    /// Register the keypair as a supplier (opens its earnings vault).
    Register,
    /// Deposit stake from the keypair's associated token account (base units).
    Stake { amount: u64 },
    /// Queue stake for withdrawal after the unbonding period (base units).
    Unbond { amount: u64 },
    /// Withdraw unbonded stake to the keypair's associated token account.
    Withdraw,
    /// Claim settled earnings to the keypair's associated payment token account.
    Claim,
    /// Show a supplier [default: the keypair's].
    Show { authority: Option<Pubkey> },
}

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
    #[arg(long)]
    pub soc2: bool,
    #[arg(long)]
    pub hipaa: bool,
    #[arg(long)]
    pub e2e: bool,
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
        filter: WorkerFilter,
    },
}

#[derive(Args, Debug, Default, Clone)]
pub struct WorkerFilter {
    #[arg(long)]
    pub gpu_model: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub min_tier: Option<u8>,
    #[arg(long)]
    pub soc2: bool,
    #[arg(long)]
    pub hipaa: bool,
    #[arg(long)]
    pub e2e: bool,
    #[arg(long)]
    pub green: bool,
    /// Highest price per GPU-hour (base units).
    #[arg(long)]
    pub max_price: Option<u64>,
    /// Only workers free to book now.
    #[arg(long)]
    pub available: bool,
}

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Book a cluster: picks matching available workers and books them in as few transactions as fit.
    Create {
        #[arg(long)]
        id: u64,
        #[arg(long)]
        hours: u32,
        /// Number of workers to book.
        #[arg(long)]
        count: usize,
        #[arg(long, value_enum, default_value_t = Purpose::Ray)]
        purpose: Purpose,
        #[command(flatten)]
        filter: WorkerFilter,
    },
    /// Book more hours for every running worker (pays their escrow now).
    Extend {
        #[arg(long)]
        id: u64,
        #[arg(long)]
        hours: u32,
    },
    /// Add workers by address.
    Add {
        #[arg(long)]
        id: u64,
        #[arg(required = true)]
        workers: Vec<Pubkey>,
    },
    /// Scale down: release one worker from now on (its unproven time is refunded at settlement).
    Remove {
        #[arg(long)]
        id: u64,
        #[arg(long)]
        worker: Pubkey,
    },
    /// End the whole cluster now.
    End {
        #[arg(long)]
        id: u64,
    },
    /// Close a settled cluster and recover its rent.
    Close {
        #[arg(long)]
        id: u64,
    },
    /// Show a cluster.
    Show {
        #[arg(long)]
        id: u64,
        /// Renter [default: the keypair].
        #[arg(long)]
        renter: Option<Pubkey>,
    },
    /// List a renter's clusters [default: the keypair's].
    List {
        #[arg(long)]
        renter: Option<Pubkey>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Purpose {
    Ray,
    Kubernetes,
    Containers,
    BareMetal,
}

impl From<Purpose> for ClusterPurpose {
    fn from(p: Purpose) -> Self {
        match p {
            Purpose::Ray => ClusterPurpose::Ray,
            Purpose::Kubernetes => ClusterPurpose::Kubernetes,
            Purpose::Containers => ClusterPurpose::Containers,
            Purpose::BareMetal => ClusterPurpose::BareMetal,
        }
    }
}

#[derive(Args, Debug)]
pub struct LeaseRef {
    #[arg(long)]
    pub id: u64,
    #[arg(long)]
    pub worker: Pubkey,
    /// Renter [default: the keypair].
    #[arg(long)]
    pub renter: Option<Pubkey>,
}

#[derive(Subcommand, Debug)]
pub enum LeaseCommand {
    /// Show a lease: proven, final and paid seconds, faults, collateral.
    Show {
        #[command(flatten)]
        lease: LeaseRef,
    },
    /// Settle a lease (anyone may; creates the parties' token accounts if missing).
    Settle {
        #[command(flatten)]
        lease: LeaseRef,
    },
    /// Dispute a lease's attested time with the configured bond (renter or supplier).
    Dispute {
        #[command(flatten)]
        lease: LeaseRef,
    },
}

/// What a command produced: a JSON value, printed as JSON or as an aligned table.
pub fn render(value: &Value, output: Output) -> String {
    match output {
        Output::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
        Output::Table => match value {
            Value::Object(map) => {
                let width = map.keys().map(String::len).max().unwrap_or(0);
                map.iter().map(|(k, v)| format!("{k:width$}  {}", plain(v))).collect::<Vec<_>>().join("\n")
            }
            Value::Array(rows) => rows.iter().map(|r| render(r, output)).collect::<Vec<_>>().join("\n\n"),
            other => plain(other),
        },
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    Usage(String),
}

type CliResult = std::result::Result<Value, CliError>;

fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

fn gpu_model(name: &str) -> std::result::Result<u16, CliError> {
    catalog::gpu_model_code(name).ok_or_else(|| {
        let known: Vec<_> = catalog::GPU_MODELS.iter().map(|(_, n)| *n).collect();
        usage(format!("unknown GPU model {name:?}; known models: {}", known.join(", ")))
    })
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
            compliance: catalog::compliance_flags(self.soc2, self.hipaa, self.e2e),
            green_energy: self.green,
            price_per_gpu_hour: self.price,
            device_key: self.device_key,
            max_lease_hours: self.max_lease_hours,
        })
    }
}

impl ParamArgs {
    fn apply(&self, p: &mut ConfigParams) {
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { p.$field = v; })* };
        }
        set!(
            protocol_fee_bps,
            min_stake_per_gpu,
            unbonding_period_secs,
            slash_bps,
            slash_renter_share_bps,
            jail_fault_threshold,
            jail_window_secs,
            jail_cooldown_secs,
            collateral_bps,
            epoch_secs,
            dispute_window_secs,
            dispute_bond,
            dispute_timeout_secs
        );
        if let (Some(stake_tokens), Some(payment_tokens)) =
            (self.collateral_stake_tokens, self.collateral_payment_tokens)
        {
            p.collateral_rate = timelock::state::CollateralRate { stake_tokens, payment_tokens };
        }
    }
}

impl WorkerFilter {
    /// On-chain prefilter (exact GPU model) for `getProgramAccounts`; the rest is checked on the decoded worker.
    fn memcmp(&self) -> std::result::Result<Vec<Memcmp>, CliError> {
        let mut filters = Vec::new();
        if let Some(model) = &self.gpu_model {
            filters.push(Memcmp { offset: worker_layout::GPU_MODEL, bytes: gpu_model(model)?.to_le_bytes().to_vec() });
        }
        Ok(filters)
    }

    pub fn matches(&self, w: &Worker) -> std::result::Result<bool, CliError> {
        let s = &w.spec;
        let region_ok = match &self.region {
            Some(r) => s.region == catalog::region_code(r).map_err(|e| usage(e.to_string()))?,
            None => true,
        };
        let flags = catalog::compliance_flags(self.soc2, self.hipaa, self.e2e);
        Ok(region_ok
            && self.gpu_model.as_deref().map_or(Ok(true), |m| gpu_model(m).map(|c| c == s.gpu_model))?
            && self.min_tier.is_none_or(|t| s.connectivity_tier >= t)
            && s.compliance & flags == flags
            && (!self.green || s.green_energy)
            && self.max_price.is_none_or(|p| s.price_per_gpu_hour <= p)
            && (!self.available || w.is_bookable()))
    }
}

/// Byte offsets of `Worker` fields for `getProgramAccounts` filters, checked against a serialized worker in
/// the tests (`worker_layout_offsets`).
pub mod worker_layout {
    /// discriminator (8) + supplier (32) + worker_index (4)
    pub const GPU_MODEL: usize = 44;
}

pub struct Context<'a, B: Backend> {
    pub client: &'a Client<B>,
    pub signer: &'a (dyn Signer + Sync),
}

impl<B: Backend> Context<'_, B> {
    fn me(&self) -> Pubkey {
        self.signer.pubkey()
    }

    fn send(&self, instructions: Vec<Instruction>) -> CliResult {
        let signature = self.client.send(&instructions, &[self.signer])?;
        Ok(json!({ "signature": signature.to_string() }))
    }

    fn config(&self) -> Result<Config, ClientError> {
        self.client.account(&pda::config().0)
    }

    fn token_program_of(&self, mint: &Pubkey) -> Result<Pubkey, ClientError> {
        Ok(self.client.account_raw(mint)?.owner)
    }

    /// The owner's associated token account for `mint`, and an instruction creating it if it does not exist.
    fn ata(&self, owner: &Pubkey, mint: &Pubkey) -> Result<(Pubkey, Instruction), ClientError> {
        let program = self.token_program_of(mint)?;
        Ok((ata(owner, mint, &program), create_ata(&self.me(), owner, mint, &program)))
    }

    /// The current incentive epoch when the pool is enabled, with the caller paying for new epoch records.
    fn incentive_credit(&self, config: &Config) -> Result<Option<ix::IncentiveCredit>, ClientError> {
        if !config.incentives_enabled {
            return Ok(None);
        }
        let pool: timelock::state::IncentivePool = self.client.account(&pda::incentive_pool().0)?;
        let epoch = pool.epoch_at(self.client.backend.unix_timestamp()?);
        Ok(Some(ix::IncentiveCredit { epoch, payer: self.me() }))
    }

    fn update_params(&self, change: impl FnOnce(&mut ConfigParams)) -> CliResult {
        let mut params = self.config()?.params;
        change(&mut params);
        self.send(vec![ix::config_update(self.me(), params)])
    }

    fn stake_accounts(&self) -> Result<(ix::StakeAccounts, Instruction), ClientError> {
        let config = self.config()?;
        let (tokens, create) = self.ata(&self.me(), &config.stake_mint)?;
        let accounts = ix::StakeAccounts {
            authority: self.me(),
            stake_mint: config.stake_mint,
            supplier_tokens: tokens,
            token_program: self.token_program_of(&config.stake_mint)?,
        };
        Ok((accounts, create))
    }

    fn renter_payment(&self, cluster_id: u64) -> Result<(ix::RenterPayment, Instruction), ClientError> {
        let config = self.config()?;
        let (tokens, create) = self.ata(&self.me(), &config.payment_mint)?;
        let payment = ix::RenterPayment {
            renter: self.me(),
            cluster_id,
            payment_mint: config.payment_mint,
            renter_tokens: tokens,
            token_program: self.token_program_of(&config.payment_mint)?,
        };
        Ok((payment, create))
    }

    fn find_workers(&self, filter: &WorkerFilter) -> std::result::Result<Vec<(Pubkey, Worker)>, CliError> {
        let mut found = Vec::new();
        for (address, worker) in self.client.search::<Worker>(&filter.memcmp()?)? {
            if filter.matches(&worker)? {
                found.push((address, worker));
            }
        }
        // Cheapest first, then by address for a stable order.
        found.sort_by_key(|(address, w)| (w.spec.price_per_gpu_hour, *address));
        Ok(found)
    }

    fn my_worker(&self, index: u32) -> std::result::Result<Worker, CliError> {
        Ok(self.client.account(&pda::worker(&pda::supplier(&self.me()).0, index).0)?)
    }

    fn book(&self, cluster_id: u64, workers: Vec<ix::Booking>) -> CliResult {
        let (payment, _) = self.renter_payment(cluster_id)?;
        let batches = batch::cluster_add_workers(payment, &workers);
        let total = batches.len();
        let report = self.client.send_batches_with_progress(&batches, &[self.signer], |done| {
            eprintln!("booking: {done}/{total} transactions confirmed");
        });
        if !report.is_success() {
            let failures: Vec<_> = report.failures.iter().map(|(i, e)| format!("batch {i}: {e}")).collect();
            return Err(usage(format!(
                "{} of {} booking transactions failed (booked workers stay booked; retry `cluster add` for the rest):\n{}",
                failures.len(),
                batches.len(),
                failures.join("\n")
            )));
        }
        Ok(json!({
            "cluster": payment.cluster().to_string(),
            "workers": workers.len(),
            "transactions": report.signatures.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        }))
    }
}

fn booking_as_listed(address: &Pubkey, w: &Worker) -> ix::Booking {
    ix::Booking {
        worker: ix::WorkerRef { worker: *address, supplier: w.supplier },
        terms: timelock::BookingTerms::as_listed(&w.spec),
    }
}

fn worker_json(address: &Pubkey, w: &Worker) -> Value {
    let s = &w.spec;
    json!({
        "address": address.to_string(),
        "supplier": w.supplier.to_string(),
        "index": w.worker_index,
        "gpu_model": catalog::gpu_model_name(s.gpu_model).unwrap_or("unknown"),
        "gpu_count": s.gpu_count,
        "vram_gib": s.vram_gib,
        "cpu_cores": s.cpu_cores,
        "ram_gib": s.ram_gib,
        "region": catalog::region_name(&s.region),
        "connectivity_tier": s.connectivity_tier,
        "compliance": s.compliance,
        "green_energy": s.green_energy,
        "price_per_gpu_hour": s.price_per_gpu_hour,
        "device_key": s.device_key.to_string(),
        "available": w.available,
        "active_lease": (w.is_leased()).then(|| w.active_lease.to_string()),
        "jailed_until": w.jailed_until,
        "bonded_stake": w.bonded_stake,
        "fault_count": w.fault_count,
    })
}

fn supplier_json(address: &Pubkey, s: &Supplier) -> Value {
    json!({
        "address": address.to_string(),
        "authority": s.authority.to_string(),
        "staked": s.staked,
        "unbonding": s.unbonding,
        "unbond_ready_at": s.unbond_ready_at,
        "reserved": s.reserved,
        "locked": s.locked,
        "free": s.free_stake().unwrap_or(0),
        "slashed_total": s.slashed_total,
        "earnings_unclaimed": s.earnings_unclaimed,
        "earnings_claimed": s.earnings_claimed,
        "workers": s.worker_count,
        "gpus": s.gpu_count,
        "active_leases": s.active_leases,
    })
}

fn lease_json(address: &Pubkey, l: &Lease) -> Value {
    json!({
        "address": address.to_string(),
        "cluster": l.cluster.to_string(),
        "worker": l.worker.to_string(),
        "supplier": l.supplier.to_string(),
        "price_per_gpu_hour": l.price_per_gpu_hour,
        "gpu_count": l.gpu_count,
        "start_ts": l.start_ts,
        "ended_at": l.ended_at,
        "proven_secs": l.proven_secs,
        "final_secs": l.final_secs,
        "faults": l.faults,
        "gross_paid": l.gross_paid,
        "fees_paid": l.fees_paid,
        "slashed": l.slashed,
        "collateral": l.collateral,
        "disputed": l.is_disputed(),
    })
}

/// Runs one parsed command.
pub fn run<B: Backend>(command: &Command, ctx: &Context<B>) -> CliResult {
    let me = ctx.me();
    match command {
        Command::Config(c) => match c {
            ConfigCommand::Init { stake_mint, payment_mint, treasury, oracles, threshold, params } => {
                let mut p = catalog::default_config_params(*treasury, oracles.clone(), *threshold);
                params.apply(&mut p);
                let stake_program = ctx.token_program_of(stake_mint)?;
                ctx.send(vec![ix::config_init(me, *stake_mint, *payment_mint, stake_program, p)])
            }
            ConfigCommand::Show => {
                let c = ctx.config()?;
                Ok(json!({
                    "admin": c.admin.to_string(),
                    "pending_admin": c.pending_admin.to_string(),
                    "stake_mint": c.stake_mint.to_string(),
                    "payment_mint": c.payment_mint.to_string(),
                    "paused": c.paused,
                    "treasury": c.params.treasury.to_string(),
                    "protocol_fee_bps": c.params.protocol_fee_bps,
                    "min_stake_per_gpu": c.params.min_stake_per_gpu,
                    "unbonding_period_secs": c.params.unbonding_period_secs,
                    "slash_bps": c.params.slash_bps,
                    "collateral_bps": c.params.collateral_bps,
                    "epoch_secs": c.params.epoch_secs,
                    "dispute_window_secs": c.params.dispute_window_secs,
                    "oracles": c.params.oracles.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
                    "oracle_threshold": c.params.oracle_threshold,
                }))
            }
            ConfigCommand::Update { params, treasury } => ctx.update_params(|p| {
                params.apply(p);
                if let Some(t) = treasury {
                    p.treasury = *t;
                }
            }),
            ConfigCommand::Pause => ctx.send(vec![ix::pause(me)]),
            ConfigCommand::Unpause => ctx.send(vec![ix::unpause(me)]),
            ConfigCommand::TransferAdmin { new_admin } => ctx.send(vec![ix::admin_transfer(me, *new_admin)]),
            ConfigCommand::AcceptAdmin => ctx.send(vec![ix::admin_accept(me)]),
        },
        Command::Oracle(o) => match o {
            OracleCommand::Add { oracle } => ctx.update_params(|p| {
                p.oracles.push(*oracle);
                p.oracle_threshold = p.oracle_threshold.max(p.oracles.len() as u8 / 2 + 1);
            }),
            OracleCommand::Remove { oracle } => {
                let config = ctx.config()?;
                if !config.params.oracles.contains(oracle) {
                    return Err(usage(format!("{oracle} is not in the oracle set")));
                }
                ctx.update_params(|p| {
                    p.oracles.retain(|k| k != oracle);
                    p.oracle_threshold = p.oracle_threshold.min(p.oracles.len() as u8);
                })
            }
            OracleCommand::Threshold { threshold } => ctx.update_params(|p| p.oracle_threshold = *threshold),
        },
        Command::Supplier(s) => match s {
            SupplierCommand::Register => {
                let config = ctx.config()?;
                let program = ctx.token_program_of(&config.payment_mint)?;
                ctx.send(vec![ix::supplier_register(me, config.payment_mint, program)])
            }
            SupplierCommand::Stake { amount } => {
                let (accounts, _) = ctx.stake_accounts()?;
                ctx.send(vec![ix::stake_deposit(accounts, *amount)])
            }
            SupplierCommand::Unbond { amount } => ctx.send(vec![ix::stake_unbond(me, *amount)]),
            SupplierCommand::Withdraw => {
                let (accounts, create) = ctx.stake_accounts()?;
                ctx.send(vec![create, ix::stake_withdraw(accounts)])
            }
            SupplierCommand::Claim => {
                let config = ctx.config()?;
                let (tokens, create) = ctx.ata(&me, &config.payment_mint)?;
                let program = ctx.token_program_of(&config.payment_mint)?;
                ctx.send(vec![create, ix::rewards_claim(me, config.payment_mint, tokens, program)])
            }
            SupplierCommand::Show { authority } => {
                let address = pda::supplier(&authority.unwrap_or(me)).0;
                Ok(supplier_json(&address, &ctx.client.account(&address)?))
            }
        },
        Command::Worker(w) => match w {
            WorkerCommand::Register { index, spec } => ctx.send(vec![ix::worker_register(me, *index, spec.spec()?)]),
            WorkerCommand::Update { index, spec } => {
                let current = ctx.my_worker(*index)?.spec.device_key;
                ctx.send(vec![ix::worker_update(me, *index, current, spec.spec()?)])
            }
            WorkerCommand::Available { index, available } => {
                ctx.send(vec![ix::worker_set_available(me, *index, *available)])
            }
            WorkerCommand::Deregister { index } => {
                let device_key = ctx.my_worker(*index)?.spec.device_key;
                ctx.send(vec![ix::worker_deregister(me, *index, device_key)])
            }
            WorkerCommand::Unjail { index } => ctx.send(vec![ix::worker_unjail(me, *index)]),
            WorkerCommand::Show { address } => Ok(worker_json(address, &ctx.client.account(address)?)),
            WorkerCommand::List { filter } => {
                Ok(Value::Array(ctx.find_workers(filter)?.iter().map(|(a, w)| worker_json(a, w)).collect()))
            }
        },
        Command::Cluster(c) => match c {
            ClusterCommand::Create { id, hours, count, purpose, filter } => {
                if *count == 0 {
                    return Err(usage("--count must be at least 1"));
                }
                let available = WorkerFilter { available: true, ..filter.clone() };
                let found = ctx.find_workers(&available)?;
                if found.len() < *count {
                    return Err(usage(format!(
                        "only {} available workers match; relax the filters or lower --count",
                        found.len()
                    )));
                }
                let (payment, _) = ctx.renter_payment(*id)?;
                ctx.client.send(&[ix::cluster_create(payment, *hours, (*purpose).into())], &[ctx.signer])?;
                // Booked on the terms listed when they were found: a worker whose supplier changed its price or
                // hardware since is refused by the program, not booked at the new terms.
                let bookings = found.iter().take(*count).map(|(a, w)| booking_as_listed(a, w)).collect();
                ctx.book(*id, bookings)
            }
            ClusterCommand::Extend { id, hours } => {
                let (payment, _) = ctx.renter_payment(*id)?;
                ctx.send(vec![ix::cluster_extend(payment, *hours)])
            }
            ClusterCommand::Add { id, workers } => {
                let accounts = ctx.client.accounts::<Worker>(workers)?;
                let mut bookings = Vec::new();
                for (address, worker) in workers.iter().zip(accounts) {
                    let worker = worker.ok_or(ClientError::AccountNotFound(*address))?;
                    bookings.push(booking_as_listed(address, &worker));
                }
                ctx.book(*id, bookings)
            }
            ClusterCommand::Remove { id, worker } => ctx.send(vec![ix::cluster_remove_worker(me, *id, *worker)]),
            ClusterCommand::End { id } => ctx.send(vec![ix::cluster_end(me, *id)]),
            ClusterCommand::Close { id } => {
                let (payment, create) = ctx.renter_payment(*id)?;
                ctx.send(vec![create, ix::cluster_close(payment)])
            }
            ClusterCommand::Show { id, renter } => {
                let address = pda::cluster(&renter.unwrap_or(me), *id).0;
                let c: timelock::state::Cluster = ctx.client.account(&address)?;
                Ok(json!({
                    "address": address.to_string(),
                    "renter": c.renter.to_string(),
                    "id": c.cluster_id,
                    "purpose": format!("{:?}", c.purpose),
                    "status": format!("{:?}", c.status),
                    "start_ts": c.start_ts,
                    "end_ts": c.end_ts,
                    "hours": c.hours,
                    "leases": c.lease_count,
                    "leases_open": c.leases_open,
                    "deposited": c.deposited,
                    "paid_to_suppliers": c.paid_to_suppliers,
                    "fees": c.fees,
                    "refunded": c.refunded,
                }))
            }
            ClusterCommand::List { renter } => {
                let renter = renter.unwrap_or(me);
                let clusters = ctx
                    .client
                    .search::<timelock::state::Cluster>(&[Memcmp { offset: 8, bytes: renter.to_bytes().to_vec() }])?;
                Ok(Value::Array(
                    clusters
                        .iter()
                        .map(|(a, c)| json!({ "address": a.to_string(), "id": c.cluster_id, "hours": c.hours, "leases_open": c.leases_open, "end_ts": c.end_ts }))
                        .collect(),
                ))
            }
        },
        Command::Lease(l) => {
            let lease_ref = match l {
                LeaseCommand::Show { lease } | LeaseCommand::Settle { lease } | LeaseCommand::Dispute { lease } => {
                    lease
                }
            };
            let renter = lease_ref.renter.unwrap_or(me);
            let cluster = pda::cluster(&renter, lease_ref.id).0;
            let address = pda::lease(&cluster, &lease_ref.worker).0;
            match l {
                LeaseCommand::Show { .. } => Ok(lease_json(&address, &ctx.client.account(&address)?)),
                LeaseCommand::Settle { .. } => {
                    let config = ctx.config()?;
                    let lease: Lease = ctx.client.account(&address)?;
                    let treasury = config.params.treasury;
                    let (renter_pay, c1) = ctx.ata(&renter, &config.payment_mint)?;
                    let (renter_stake, c2) = ctx.ata(&renter, &config.stake_mint)?;
                    let (treasury_pay, c3) = ctx.ata(&treasury, &config.payment_mint)?;
                    let (treasury_stake, c4) = ctx.ata(&treasury, &config.stake_mint)?;
                    let settle = ix::lease_settle(ix::SettleAccounts {
                        renter,
                        cluster_id: lease_ref.id,
                        worker: lease.worker,
                        supplier: lease.supplier,
                        treasury_payment_tokens: treasury_pay,
                        renter_payment_tokens: renter_pay,
                        renter_stake_tokens: renter_stake,
                        treasury_stake_tokens: treasury_stake,
                        payment_mint: config.payment_mint,
                        stake_mint: config.stake_mint,
                        payment_token_program: ctx.token_program_of(&config.payment_mint)?,
                        stake_token_program: ctx.token_program_of(&config.stake_mint)?,
                        incentives: ctx.incentive_credit(&config)?,
                    });
                    ctx.send(vec![c1, c2, c3, c4, settle])
                }
                LeaseCommand::Dispute { .. } => {
                    let lease: Lease = ctx.client.account(&address)?;
                    let (payment, _) = ctx.renter_payment(lease_ref.id)?;
                    let payment = ix::RenterPayment { renter, ..payment };
                    let (tokens, _) = ctx.ata(&me, &payment.payment_mint)?;
                    ctx.send(vec![ix::lease_dispute(me, tokens, payment, lease.worker, lease.supplier)])
                }
            }
        }
        Command::Stats => {
            let workers = ctx.client.search::<Worker>(&[])?;
            let gpus: u64 = workers.iter().map(|(_, w)| u64::from(w.spec.gpu_count)).sum();
            let gpus_where = |keep: fn(&Worker) -> bool| -> u64 {
                workers.iter().filter(|(_, w)| keep(w)).map(|(_, w)| u64::from(w.spec.gpu_count)).sum()
            };
            let suppliers = ctx.client.search::<Supplier>(&[])?;
            Ok(json!({
                "workers": workers.len(),
                "gpus_total": gpus,
                "gpus_rented": gpus_where(Worker::is_leased),
                "gpus_available": gpus_where(Worker::is_bookable),
                "suppliers": suppliers.len(),
                "staked_total": suppliers.iter().map(|(_, s)| s.staked).sum::<u64>(),
            }))
        }
    }
}
