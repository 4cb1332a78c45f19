//! `timelock cluster …`: book, extend, add, remove, end, close, show, list.

use anchor_lang::prelude::Pubkey;
use clap::{Subcommand, ValueEnum};
use serde_json::Value;
use timelock::state::{Cluster, Worker};
use timelock_protocol::renter::{ProbeGrant, SignedGrant};
use timelock_sdk::client::{Backend, ClientError, Memcmp};
use timelock_sdk::view::{ClusterView, Purpose};
use timelock_sdk::{ix, pda};

use super::json;
use super::worker::WorkerFilterArgs;
use crate::context::booking_as_listed;
use crate::{usage, CliResult, Context};

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
        #[arg(long, value_enum, default_value_t = PurposeArg::Ray)]
        purpose: PurposeArg,
        #[command(flatten)]
        filter: WorkerFilterArgs,
        /// A container image your job runs (digest `sha256:…` or name), once per image: a GPU process of any
        /// other image is a foreign process, the supplier's fault. Without any, GPU processes are not judged.
        #[arg(long = "image", value_name = "IMAGE")]
        images: Vec<String>,
    },
    /// Declare or replace the container images that may run on the cluster's GPUs (an image you drop stays
    /// allowed for five minutes, while the supplier's agent stops it).
    Workload {
        #[arg(long)]
        id: u64,
        #[arg(long = "image", value_name = "IMAGE", required = true)]
        images: Vec<String>,
    },
    /// Give a probe key a voice on one lease of the cluster: prints the grant, signed by your wallet, that the
    /// probe in your container on that worker (`timelock-probe --grant`) presents to the oracles. Your wallet never
    /// enters the container; the probe's reports can withhold pay for time no passed challenge proves, never slash.
    GrantProbe {
        #[arg(long)]
        id: u64,
        /// The worker whose lease the probe speaks for.
        #[arg(long)]
        worker: Pubkey,
        /// The probe's public key (`solana-keygen new -o probe.json`).
        #[arg(long)]
        probe: Pubkey,
        #[arg(long, default_value_t = 30)]
        valid_days: u32,
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
pub enum PurposeArg {
    Ray,
    Kubernetes,
    Containers,
    BareMetal,
}

impl From<PurposeArg> for Purpose {
    fn from(p: PurposeArg) -> Self {
        match p {
            PurposeArg::Ray => Purpose::Ray,
            PurposeArg::Kubernetes => Purpose::Kubernetes,
            PurposeArg::Containers => Purpose::Containers,
            PurposeArg::BareMetal => Purpose::BareMetal,
        }
    }
}

pub fn run<B: Backend>(command: &ClusterCommand, ctx: &Context<B>) -> CliResult {
    let me = ctx.me();
    match command {
        ClusterCommand::Create { id, hours, count, purpose, filter, images } => {
            if *count == 0 {
                return Err(usage("--count must be at least 1"));
            }
            let available = WorkerFilterArgs { available: true, ..filter.clone() };
            let found = ctx.find_workers(&available.filter())?;
            if found.len() < *count {
                return Err(usage(format!(
                    "only {} available workers match; relax the filters or lower --count",
                    found.len()
                )));
            }
            let (payment, _) = ctx.renter_payment(*id)?;
            let mut create = vec![ix::cluster_create(payment, *hours, Purpose::from(*purpose).into())];
            if !images.is_empty() {
                let images: Vec<&str> = images.iter().map(String::as_str).collect();
                create.push(ix::cluster_set_workload(ctx.me(), *id, &images));
            }
            ctx.client.send(&create, &[ctx.signer])?;
            // Booked on the terms listed when they were found: a worker whose supplier changed its price or
            // hardware since is refused by the program, not booked at the new terms.
            let bookings = found.iter().take(*count).map(|(a, w)| booking_as_listed(a, w)).collect();
            ctx.book(*id, bookings)
        }
        ClusterCommand::Workload { id, images } => {
            let images: Vec<&str> = images.iter().map(String::as_str).collect();
            ctx.send(vec![ix::cluster_set_workload(ctx.me(), *id, &images)])
        }
        ClusterCommand::GrantProbe { id, worker, probe, valid_days } => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let grant = ProbeGrant {
                lease: pda::lease(&pda::cluster(&me, *id).0, worker).0.to_bytes(),
                probe: probe.to_bytes(),
                expires_at: (now + u64::from(*valid_days) * 86_400) as i64,
            };
            let signature = ctx.signer.sign_message(&grant.signing_bytes());
            Ok(json(SignedGrant { grant, signature: signature.into() }))
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
            Ok(json(ClusterView::new(&address, &ctx.client.account::<Cluster>(&address)?)))
        }
        ClusterCommand::List { renter } => {
            let renter = renter.unwrap_or(me);
            let clusters = ctx.client.search::<Cluster>(&[Memcmp { offset: 8, bytes: renter.to_bytes().to_vec() }])?;
            Ok(Value::Array(clusters.iter().map(|(a, c)| json(ClusterView::new(a, c))).collect()))
        }
    }
}
