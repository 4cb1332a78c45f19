use anchor_lang::prelude::*;

use crate::constants::*;
use crate::pda;
use crate::state::{Config, Supplier, Worker};

/// Accounts of the supplier's instructions on one of its workers.
#[event_cpi]
#[derive(Accounts)]
pub struct WorkerManage<'info> {
    pub authority: Signer<'info>,
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump = supplier.bump,
        has_one = authority,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
    #[account(
        mut,
        seeds = [WORKER_SEED, supplier.key().as_ref(), &worker.worker_index.to_le_bytes()],
        bump = worker.bump,
        has_one = supplier,
    )]
    pub worker: Box<Account<'info, Worker>>,
}
