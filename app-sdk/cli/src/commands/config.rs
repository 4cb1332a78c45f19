//! `timelock config …` and `timelock oracle …`: the admin's parameters and oracle set.

use anchor_lang::prelude::Pubkey;
use clap::{Args, Subcommand};
use serde_json::json;
use timelock::state::ConfigParams;
use timelock_sdk::client::Backend;
use timelock_sdk::{catalog, ix};

use crate::{usage, CliResult, Context};

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

pub fn run<B: Backend>(command: &ConfigCommand, ctx: &Context<B>) -> CliResult {
    let me = ctx.me();
    match command {
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
    }
}

pub fn run_oracle<B: Backend>(command: &OracleCommand, ctx: &Context<B>) -> CliResult {
    match command {
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
    }
}
