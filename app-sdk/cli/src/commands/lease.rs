//! `timelock lease …`: show, settle and dispute one worker's lease in a cluster.

use anchor_lang::prelude::Pubkey;
use clap::{Args, Subcommand};
use timelock::state::Lease;
use timelock_sdk::client::Backend;
use timelock_sdk::view::LeaseView;
use timelock_sdk::{ix, pda};

use serde_json::Value;

use super::json;
use crate::{usage, CliError, CliResult, Context};

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
    /// Show a lease: proven, final and paid seconds, faults, collateral; with `--oracle`, also every interval that
    /// oracle did not prove, with its reason.
    Show {
        #[command(flatten)]
        lease: LeaseRef,
        /// An oracle's URL, asked for its verdict on each interval of the lease.
        #[arg(long)]
        oracle: Option<String>,
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

pub fn run<B: Backend>(command: &LeaseCommand, ctx: &Context<B>) -> CliResult {
    let me = ctx.me();
    let l = command;
    let lease_ref = match l {
        LeaseCommand::Show { lease, .. } | LeaseCommand::Settle { lease } | LeaseCommand::Dispute { lease } => lease,
    };
    let renter = lease_ref.renter.unwrap_or(me);
    let cluster = pda::cluster(&renter, lease_ref.id).0;
    let address = pda::lease(&cluster, &lease_ref.worker).0;
    match l {
        LeaseCommand::Show { oracle, .. } => {
            let view = json(LeaseView::new(&address, &ctx.client.account::<Lease>(&address)?));
            let Some(oracle) = oracle else { return Ok(view) };
            let unpaid = unpaid_intervals(oracle, &address)?;
            Ok(serde_json::json!({ "lease": view, "oracle": oracle, "unpaid_intervals": unpaid }))
        }
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

/// Every interval of the lease that `oracle` judged and did not prove, oldest first, with its reason, read page by
/// page from `GET /v1/leases/{lease}/intervals`.
fn unpaid_intervals(oracle: &str, lease: &Pubkey) -> Result<Vec<Value>, CliError> {
    let http = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| usage(format!("cannot make an HTTP client: {e}")))?;
    let mut unpaid = Vec::new();
    let mut from = 0i64;
    loop {
        let url = format!("{}/v1/leases/{lease}/intervals?from={from}&limit=1000", oracle.trim_end_matches('/'));
        let response = http.get(&url).send().map_err(|e| usage(format!("oracle {oracle}: {e}")))?;
        let status = response.status();
        let page: Value = response.json().map_err(|e| usage(format!("oracle {oracle}: not its API ({e})")))?;
        if !status.is_success() {
            return Err(usage(format!("oracle {oracle} answered {status}: {page}")));
        }
        let intervals = page["intervals"].as_array().cloned().unwrap_or_default();
        unpaid.extend(intervals.into_iter().filter(|i| i["reason"] != "proven"));
        match page["next"].as_i64() {
            Some(next) if next > from => from = next,
            _ => return Ok(unpaid),
        }
    }
}
