use anchor_lang::prelude::*;

use super::cluster_add_workers::ClusterFund;
use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, ClusterExtended};
use crate::math;

impl<'info> ClusterFund<'info> {
    /// Books `hours` more for every running lease; the renter pays their escrow now. A lease never runs past the
    /// latest end its worker's supplier accepted, nor past the cluster's end at the time its worker was jailed:
    /// what the renter escrowed beyond is refunded when that lease closes.
    pub fn extend(ctx: Context<'info, Self>, hours: u32) -> Result<()> {
        ctx.accounts.config.require_not_paused()?;
        let now = Clock::get()?.unix_timestamp;
        require!(ctx.accounts.cluster.is_running(now), TimelockError::ClusterNotOpen);
        let cluster = &mut ctx.accounts.cluster;
        let total_hours = cluster.hours.checked_add(hours).ok_or(TimelockError::Overflow)?;
        require!(hours > 0 && total_hours <= MAX_CLUSTER_HOURS, TimelockError::InvalidClusterHours);
        let deposit = math::lease_cost(cluster.hourly_rate_total, hours).ok_or(TimelockError::Overflow)?;
        cluster.hours = total_hours;
        cluster.end_ts = cluster.end_ts.checked_add(i64::from(hours) * SECS_PER_HOUR).ok_or(TimelockError::Overflow)?;
        ctx.accounts.deposit(deposit)?;
        let cluster = &ctx.accounts.cluster;
        let event = ClusterExtended {
            cluster: cluster.key(),
            added_hours: hours,
            hours: cluster.hours,
            end_ts: cluster.end_ts,
            deposit,
            deposited: cluster.deposited,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
