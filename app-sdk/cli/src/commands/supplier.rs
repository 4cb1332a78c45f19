//! `timelock supplier …`: stake, unbond, withdraw, claim earnings, show.

use anchor_lang::prelude::Pubkey;
use clap::Subcommand;
use timelock_sdk::client::Backend;
use timelock_sdk::view::SupplierView;
use timelock_sdk::{ix, pda};

use super::json;
use crate::{CliResult, Context};

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

pub fn run<B: Backend>(command: &SupplierCommand, ctx: &Context<B>) -> CliResult {
    let me = ctx.me();
    match command {
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
            ctx.send(vec![create, ix::earnings_claim(me, config.payment_mint, tokens, program)])
        }
        SupplierCommand::Show { authority } => {
            let address = pda::supplier(&authority.unwrap_or(me)).0;
            Ok(json(SupplierView::new(&address, &ctx.client.account(&address)?)))
        }
    }
}
