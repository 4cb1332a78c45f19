use anchor_lang::prelude::*;

use super::worker_manage::WorkerManage;
use crate::errors::TimelockError;
use crate::events::{self, WorkerUnjailed};

impl WorkerManage<'_> {
    /// Lets a jailed worker be booked again once its cool-down has passed. Its fault window is kept: while the
    /// faults that jailed it still count, one more fault jails it again and it cannot deregister.
    pub fn worker_unjail(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let worker = &mut ctx.accounts.worker;
        require!(worker.is_jailed() && now >= worker.jailed_until, TimelockError::WorkerNotUnjailable);
        worker.jailed_until = 0;
        let event = WorkerUnjailed { worker: worker.key(), timestamp: now };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
