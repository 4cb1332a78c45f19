use anchor_lang::prelude::*;

use crate::events::{self, WorkerGpusBound};
use crate::state::{Gpu, Supplier, Worker};

#[event_cpi]
#[derive(Accounts)]
pub struct WorkerBindGpus<'info> {
    /// The supplier's authority; pays the rent of the GPU records.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The signer's supplier record (PDA `["supplier", authority]`). The program creates supplier records only at
    /// that address, so its type, owner and authority identify it without deriving the address again.
    #[account(has_one = authority)]
    pub supplier: Box<Account<'info, Supplier>>,
    /// The worker whose GPUs are bound (PDA `["worker", supplier, worker_index (u32 LE)]`).
    #[account(mut, has_one = supplier)]
    pub worker: Box<Account<'info, Worker>>,
    /// Creates the GPU records.
    pub system_program: Program<'info, System>,
}

impl<'info> WorkerBindGpus<'info> {
    /// Binds GPUs to a registered worker: `gpus` are the `Gpu::uuid_hash`es of their UUIDs, strictly ascending
    /// and above the GPUs already bound, at most `MAX_GPUS_PER_BIND`, with their registry records (`["gpu",
    /// hash]`) as the remaining accounts in the same order. A GPU that backs another worker is refused, and so
    /// is a GPU beyond the spec's count. Not refused while paused: it completes a registration made before, and
    /// a paused program books nothing.
    pub fn handler(ctx: Context<'info, Self>, gpus: Vec<[u8; 32]>) -> Result<()> {
        crate::cu_checkpoint!("bind: accounts loaded");
        let worker_key = ctx.accounts.worker.key();
        let worker = &mut ctx.accounts.worker;
        Gpu::bind(
            ctx.remaining_accounts,
            &gpus,
            worker,
            worker_key,
            &ctx.accounts.authority.to_account_info(),
            &ctx.accounts.system_program.to_account_info(),
        )?;
        crate::cu_checkpoint!("bind: bound");
        events::emit(
            &ctx.accounts.event_authority,
            &WorkerGpusBound {
                worker: worker_key,
                supplier: worker.supplier,
                gpus,
                gpus_bound: worker.gpus_bound,
                gpu_set: worker.gpu_set,
                timestamp: Clock::get()?.unix_timestamp,
            },
        )?;
        crate::cu_checkpoint!("bind: emitted");
        Ok(())
    }
}
