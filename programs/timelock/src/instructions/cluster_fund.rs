use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, ClusterExtended, LeaseBooked, LeasesBooked};
use crate::math;
use crate::pda;
use crate::state::{Cluster, Config, Lease, Supplier, Worker, WorkerSpec};
use crate::utils::token;

/// What the renter agreed to for one worker. The program books only a worker that still matches it, so a
/// `worker_update` that lands first (a higher price, other hardware) cannot take the renter's balance.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookingTerms {
    /// Highest price per GPU per hour the renter accepts.
    pub max_price_per_gpu_hour: u64,
    /// GPU model code the worker must have.
    pub gpu_model: u16,
    /// GPUs the worker must have.
    pub gpu_count: u16,
    /// Memory per GPU the worker must have, GiB.
    pub vram_gib: u16,
    /// Region the worker must be in.
    pub region: [u8; REGION_LEN],
    /// Compliance flags the worker must have (it may have more).
    pub compliance: u8,
}

impl BookingTerms {
    /// The terms of a worker as it is listed now.
    pub fn as_listed(spec: &WorkerSpec) -> Self {
        BookingTerms {
            max_price_per_gpu_hour: spec.price_per_gpu_hour,
            gpu_model: spec.gpu_model,
            gpu_count: spec.gpu_count,
            vram_gib: spec.vram_gib,
            region: spec.region,
            compliance: spec.compliance,
        }
    }

    fn require_met_by(&self, spec: &WorkerSpec) -> Result<()> {
        require!(spec.price_per_gpu_hour <= self.max_price_per_gpu_hour, TimelockError::PriceAboveAgreed);
        require!(
            spec.gpu_model == self.gpu_model
                && spec.gpu_count == self.gpu_count
                && spec.vram_gib == self.vram_gib
                && spec.region == self.region
                && spec.compliance & self.compliance == self.compliance,
            TimelockError::HardwareNotAsAgreed
        );
        Ok(())
    }
}

/// Accounts of the renter's instructions that put money into a cluster's escrow.
#[event_cpi]
#[derive(Accounts)]
pub struct ClusterFund<'info> {
    /// The cluster's renter: pays the escrow and the rent of new leases.
    #[account(mut)]
    pub renter: Signer<'info>,
    /// The config (PDA `["config"]`): collateral rate, protocol fee and pause flag.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The renter's running cluster (PDA `["cluster", renter, cluster_id (u64 LE)]`).
    #[account(
        mut,
        seeds = [CLUSTER_SEED, renter.key().as_ref(), &cluster.cluster_id.to_le_bytes()],
        bump = cluster.bump,
        has_one = renter,
    )]
    pub cluster: Box<Account<'info, Cluster>>,
    /// The cluster's escrow (PDA token account `["escrow", cluster]`), which receives the deposit.
    #[account(mut, address = cluster.escrow @ TimelockError::InvalidVault)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The cluster's payment mint.
    #[account(address = cluster.payment_mint @ TimelockError::InvalidPaymentMint, mint::token_program = token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The renter's payment-mint account the deposit comes from.
    #[account(mut, token::mint = payment_mint, token::authority = renter, token::token_program = token_program)]
    pub renter_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub token_program: Interface<'info, TokenInterface>,
    /// Creates the leases.
    pub system_program: Program<'info, System>,
}

impl<'info> ClusterFund<'info> {
    /// Moves exactly `amount` from the renter into escrow; a mint that skims a transfer fee is refused, because
    /// escrow must hold to the unit what the leases are entitled to.
    pub(crate) fn deposit(&mut self, amount: u64) -> Result<()> {
        let before = self.escrow.amount;
        token::Tokens::of(&self.token_program, &*self.payment_mint, self.payment_mint.decimals).transfer(
            &*self.renter_tokens,
            &*self.escrow,
            self.renter.to_account_info(),
            &[],
            amount,
        )?;
        self.escrow.reload()?;
        require!(self.escrow.amount.checked_sub(before) == Some(amount), TimelockError::TransferFeeNotSupported);
        self.cluster.deposited = self.cluster.deposited.checked_add(amount).ok_or(TimelockError::Overflow)?;
        Ok(())
    }

    /// Books the workers given as `(worker, supplier, lease)` triples in the remaining accounts, each on the renter's
    /// `terms` for it (same order): each gets a lease at its current price until the cluster's end (no later than its
    /// worker accepts), locks collateral from its supplier's free stake, and is marked leased. The renter pays all
    /// their escrow in one transfer.
    pub fn cluster_add_workers(ctx: Context<'info, Self>, terms: Vec<BookingTerms>) -> Result<()> {
        let config = &ctx.accounts.config;
        config.require_not_paused()?;
        let now = Clock::get()?.unix_timestamp;
        require!(ctx.accounts.cluster.is_running(now), TimelockError::ClusterNotOpen);
        let triples = ctx.remaining_accounts;
        require!(!triples.is_empty() && triples.len().is_multiple_of(3), TimelockError::InvalidBookingAccounts);
        require!(terms.len() == triples.len() / 3, TimelockError::BookingTermsMismatch);

        let cluster_key = ctx.accounts.cluster.key();
        let hours = ctx.accounts.cluster.hours;
        let mut deposit: u64 = 0;
        let mut booked = Vec::with_capacity(triples.len() / 3);
        for (triple, terms) in triples.chunks_exact(3).zip(terms) {
            let (worker_info, supplier_info, lease_info) = (&triple[0], &triple[1], &triple[2]);
            require!(worker_info.is_writable && supplier_info.is_writable, TimelockError::InvalidBookingAccounts);
            let mut worker = Account::<Worker>::try_from(worker_info)?;
            let mut supplier = Account::<Supplier>::try_from(supplier_info)?;
            require_keys_eq!(worker.supplier, supplier.key(), TimelockError::InvalidBookingAccounts);
            require!(!worker.is_jailed(), TimelockError::WorkerJailed);
            require!(worker.is_bookable(), TimelockError::WorkerUnavailable);
            terms.require_met_by(&worker.spec)?;
            let max_end_ts = now
                .checked_add(i64::from(worker.spec.max_lease_hours) * SECS_PER_HOUR)
                .ok_or(TimelockError::Overflow)?;
            require!(ctx.accounts.cluster.end_ts <= max_end_ts, TimelockError::LeaseTooLong);

            let lease_seeds: &[&[u8]] = &[LEASE_SEED, cluster_key.as_ref(), worker_info.key.as_ref()];
            let lease_address = *lease_info.key;
            let lease_bump = pda::require_canonical(&lease_address, lease_seeds, TimelockError::InvalidLeaseAddress)?;
            token::create_pda_account(
                &ctx.accounts.renter.to_account_info(),
                lease_info,
                &ctx.accounts.system_program.to_account_info(),
                Lease::SPACE,
                lease_seeds,
                lease_bump,
            )?;

            let price = worker.spec.price_per_gpu_hour;
            let gpu_count = worker.spec.gpu_count;
            let hourly_rate = math::hourly_rate(price, gpu_count).ok_or(TimelockError::Overflow)?;
            let collateral = config.collateral_for(hourly_rate)?;
            require!(collateral <= supplier.free_stake()?, TimelockError::InsufficientFreeStake);
            supplier.locked = supplier.locked.checked_add(collateral).ok_or(TimelockError::Overflow)?;
            supplier.active_leases = supplier.active_leases.checked_add(1).ok_or(TimelockError::Overflow)?;
            let cost = math::lease_cost(hourly_rate, hours).ok_or(TimelockError::Overflow)?;
            deposit = deposit.checked_add(cost).ok_or(TimelockError::Overflow)?;

            let loader = AccountLoader::<Lease>::try_from_unchecked(&crate::ID, lease_info)?;
            {
                let mut lease = loader.load_init()?;
                lease.cluster = cluster_key;
                lease.worker = worker.key();
                lease.supplier = supplier.key();
                lease.price_per_gpu_hour = price;
                lease.hourly_rate = hourly_rate;
                lease.collateral = collateral;
                lease.start_ts = now;
                lease.max_end_ts = max_end_ts;
                lease.pending_since = now;
                lease.fee_bps = config.params.protocol_fee_bps;
                lease.gpu_count = gpu_count;
                lease.bump = lease_bump;
            }
            loader.exit(&crate::ID)?;
            worker.active_lease = lease_address;
            worker.exit(&crate::ID)?;
            supplier.exit(&crate::ID)?;

            let cluster = &mut ctx.accounts.cluster;
            cluster.lease_count = cluster.lease_count.checked_add(1).ok_or(TimelockError::Overflow)?;
            cluster.leases_open = cluster.leases_open.checked_add(1).ok_or(TimelockError::Overflow)?;
            cluster.hourly_rate_total =
                cluster.hourly_rate_total.checked_add(hourly_rate).ok_or(TimelockError::Overflow)?;
            booked.push(LeaseBooked {
                lease: lease_address,
                worker: worker.key(),
                supplier: supplier.key(),
                price_per_gpu_hour: price,
                gpu_count,
                collateral,
                supplier_locked: supplier.locked,
            });
        }
        ctx.accounts.deposit(deposit)?;
        let cluster = &ctx.accounts.cluster;
        let event = LeasesBooked {
            cluster: cluster_key,
            start_ts: now,
            end_ts: cluster.end_ts,
            deposit,
            hourly_rate_total: cluster.hourly_rate_total,
            leases: booked,
            timestamp: now,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }

    /// Books `hours` more for every running lease; the renter pays their escrow now. A lease never runs past the
    /// latest end its worker's supplier accepted, nor past the cluster's end at the time its worker was jailed:
    /// what the renter escrowed beyond is refunded when that lease closes.
    pub fn cluster_extend(ctx: Context<'info, Self>, hours: u32) -> Result<()> {
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
            timestamp: now,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
