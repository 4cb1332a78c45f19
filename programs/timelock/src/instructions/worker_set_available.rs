use anchor_lang::prelude::*;

use super::worker_manage::WorkerManage;
use crate::events::{self, WorkerAvailabilityChanged};

impl WorkerManage<'_> {
    /// Whether new bookings may pick this worker; an existing lease is not affected.
    pub fn worker_set_available(ctx: Context<Self>, available: bool) -> Result<()> {
        let worker = &mut ctx.accounts.worker;
        worker.available = available;
        events::emit(
            &ctx.accounts.event_authority,
            &WorkerAvailabilityChanged { worker: worker.key(), available, timestamp: Clock::get()?.unix_timestamp },
        )?;
        Ok(())
    }
}
