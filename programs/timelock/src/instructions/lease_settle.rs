use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

use crate::errors::TimelockError;
use crate::events::{self, DisputeLapsed, LeaseSettled};
use crate::math;
use crate::pda;
use crate::state::{Cluster, ClusterPurpose, Config, Lease, Supplier, Worker};
use crate::utils::incentives::IncentiveAccounts;
use crate::utils::token::{self, Tokens};

/// Permissionless: anyone may crank a lease. Every destination is pinned to the lease's own parties (supplier
/// earnings vault, the cluster's renter, the config's treasury), so a cranker can only choose when, not where.
#[event_cpi]
#[derive(Accounts)]
pub struct LeaseSettle<'info> {
    /// The protocol config (PDA `["config"]`): the parameters, the treasury and the vaults' authority.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The lease settled (PDA `["lease", cluster, worker]`); closed into the renter's wallet once done.
    #[account(mut, has_one = cluster, has_one = worker, has_one = supplier)]
    pub lease: AccountLoader<'info, Lease>,
    /// The lease's cluster, whose escrow pays and whose totals record what was paid and refunded.
    #[account(mut)]
    pub cluster: Box<Account<'info, Cluster>>,
    /// CHECK: the lease's worker (the lease's `has_one`), read by the handler: jailed here when its faults pass
    /// the limit, released when the lease closes, and written back only then (most settlements leave it as it is,
    /// and writing it back would cost about 1,400 CU).
    #[account(mut)]
    pub worker: UncheckedAccount<'info>,
    /// The worker's supplier: credited its earnings, slashed from its stake, its collateral released at close.
    #[account(mut)]
    pub supplier: Box<Account<'info, Supplier>>,
    /// CHECK: pinned by address; the token program checks it in every transfer.
    #[account(mut, address = cluster.escrow @ TimelockError::InvalidVault)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: pinned by address; the token program checks it in every transfer.
    #[account(mut, address = supplier.earnings_vault @ TimelockError::InvalidVault)]
    pub earnings_vault: UncheckedAccount<'info>,
    /// CHECK: a payment-mint token account of the treasury (`require_party_accounts`).
    #[account(mut)]
    pub treasury_payment_tokens: UncheckedAccount<'info>,
    /// CHECK: a payment-mint token account of the cluster's renter (`require_party_accounts`).
    #[account(mut)]
    pub renter_payment_tokens: UncheckedAccount<'info>,
    /// CHECK: pinned by address; the token program checks it in every transfer.
    #[account(mut, address = config.stake_vault @ TimelockError::InvalidVault)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: a stake-mint token account of the cluster's renter (`require_party_accounts`).
    #[account(mut)]
    pub renter_stake_tokens: UncheckedAccount<'info>,
    /// CHECK: a stake-mint token account of the treasury (`require_party_accounts`).
    #[account(mut)]
    pub treasury_stake_tokens: UncheckedAccount<'info>,
    /// CHECK: pinned by address; its decimals are the config's.
    #[account(address = config.payment_mint @ TimelockError::InvalidPaymentMint)]
    pub payment_mint: UncheckedAccount<'info>,
    /// CHECK: pinned by address; its decimals are the config's.
    #[account(address = config.stake_mint @ TimelockError::InvalidStakeMint)]
    pub stake_mint: UncheckedAccount<'info>,
    /// Receives the lease account's rent when the lease closes (the renter paid it at booking). Pinned by address
    /// and never read, so that nothing the renter does to its wallet after booking (assigning it to another
    /// program, giving it data) can stop settlement.
    /// CHECK: only credited with lamports; its address is the cluster's renter.
    #[account(mut, address = cluster.renter @ TimelockError::NotClusterRenter)]
    pub renter: UncheckedAccount<'info>,
    /// The payment mint's token program (SPL Token or Token-2022).
    pub payment_token_program: Interface<'info, TokenInterface>,
    /// The stake mint's token program (SPL Token or Token-2022).
    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl<'info> LeaseSettle<'info> {
    /// Moves `amount` out of the cluster's escrow (signed by the cluster PDA) to one of the lease's parties.
    fn pay_from_escrow(&self, destination: &UncheckedAccount<'info>, amount: u64) -> Result<()> {
        let tokens = Tokens::of(&self.payment_token_program, &self.payment_mint, self.config.payment_decimals);
        tokens.transfer_from_escrow(&self.escrow, destination, &self.cluster, amount)
    }

    /// The parties' token accounts: of the config's mints, held by the renter and the treasury, under the token
    /// programs given. Checked as Anchor's `token::` constraints would, without unpacking the accounts.
    fn require_party_accounts(&self) -> Result<()> {
        let (config, renter) = (&self.config, &self.cluster.renter);
        let treasury = &config.params.treasury;
        let (payment, stake) = (
            (self.payment_token_program.key, &config.payment_mint),
            (self.stake_token_program.key, &config.stake_mint),
        );
        token::require_token_account(&self.treasury_payment_tokens, payment.0, payment.1, treasury)?;
        token::require_token_account(&self.renter_payment_tokens, payment.0, payment.1, renter)?;
        token::require_token_account(&self.renter_stake_tokens, stake.0, stake.1, renter)?;
        token::require_token_account(&self.treasury_stake_tokens, stake.0, stake.1, treasury)
    }

    /// Brings a lease up to date: lapses a dispute nobody resolved in time, matures attested seconds and faults
    /// past the dispute window, pays newly final seconds at the locked price (supplier share to its earnings
    /// vault; the protocol fee is charged and stays in escrow), slashes newly final faults from the lease's own
    /// collateral (renter compensation + treasury) and jails a worker over the fault limit. Once the lease has
    /// ended, its last attestation had an epoch to land and everything is final, it sends the treasury every fee
    /// the lease charged, refunds the renter every unpaid unit of its escrow, releases the collateral and the
    /// worker, and closes.
    ///
    /// Liveness: nothing here reads an account that a party can change after booking (the renter's wallet only
    /// receives lamports, token accounts are any of the party's accounts for the mint), so after the lease's end,
    /// the dispute window, one epoch and at most one dispute timeout, any cranker settles and closes it.
    ///
    /// With the incentive pool enabled, the remaining accounts must be those of [`IncentiveAccounts`].
    ///
    /// Rounding: the gross for proven seconds is rounded down from the cumulative total, so the renter never
    /// pays for a fraction of a unit and the refund takes every remainder; escrow in = paid + fees + refunds.
    pub fn handler(ctx: Context<'info, LeaseSettle<'info>>) -> Result<()> {
        crate::cu_checkpoint!("settle: accounts loaded");
        ctx.accounts.require_party_accounts()?;
        let now = Clock::get()?.unix_timestamp;
        let accounts = &mut *ctx.accounts;
        let params = &accounts.config.params;
        let cluster = &accounts.cluster;

        let mut lease = accounts.lease.load_mut()?;
        let max_secs = lease.max_secs(cluster.end_ts);
        require_keys_eq!(*accounts.worker.owner, crate::ID, ErrorCode::AccountOwnedByWrongProgram);
        let mut worker = Worker::try_deserialize(&mut &accounts.worker.try_borrow_data()?[..])?;
        let mut worker_changed = false;

        // A dispute nobody resolved in time lapses: the attested totals stand, the bond goes to the other party.
        let mut lapsed = None;
        if lease.dispute_lapsed(now, params.dispute_timeout_secs) {
            let (disputer, bond) = lease.close_dispute(&cluster.renter, now);
            let to_supplier = disputer == cluster.renter;
            let destination = if to_supplier { &accounts.earnings_vault } else { &accounts.renter_payment_tokens };
            accounts.pay_from_escrow(destination, bond)?;
            let bond_to = if to_supplier {
                let supplier = &mut accounts.supplier;
                supplier.earnings_unclaimed =
                    supplier.earnings_unclaimed.checked_add(bond).ok_or(TimelockError::Overflow)?;
                supplier.authority
            } else {
                cluster.renter
            };
            lapsed = Some(DisputeLapsed { lease: accounts.lease.key(), disputer, bond_to, bond, timestamp: now });
        }
        lease.advance_finality(now, params.dispute_window_secs);
        crate::cu_checkpoint!("settle: finality");

        // Pay what became final.
        let payable = lease.final_secs.min(max_secs);
        let (gross, fee) =
            math::settlement_delta(lease.hourly_rate, payable, lease.fee_bps, lease.gross_paid, lease.fees_paid)
                .ok_or(TimelockError::Overflow)?;
        let to_supplier = gross.checked_sub(fee).ok_or(TimelockError::Overflow)?;
        lease.gross_paid = lease.gross_paid.checked_add(gross).ok_or(TimelockError::Overflow)?;
        lease.fees_paid = lease.fees_paid.checked_add(fee).ok_or(TimelockError::Overflow)?;
        // The fee stays in escrow until the lease closes: one transfer less on every settlement before that.
        if to_supplier > 0 {
            accounts.pay_from_escrow(&accounts.earnings_vault, to_supplier)?;
        }
        let supplier = &mut accounts.supplier;
        supplier.earnings_unclaimed =
            supplier.earnings_unclaimed.checked_add(to_supplier).ok_or(TimelockError::Overflow)?;
        crate::cu_checkpoint!("settle: paid");

        // Credit the incentive pool's current epoch with what the renter paid for newly final seconds: weighting by
        // price means a supplier renting its own worker for next to nothing earns next to nothing, and at any
        // price it pays the protocol fee on every unit of credit it farms (so a lease booked while the fee was
        // zero earns no credit).
        let mut incentive_credit = 0;
        if accounts.config.incentives_enabled && payable > lease.incentive_credited_secs {
            incentive_credit = if lease.fee_bps == 0 { 0 } else { gross };
            let supplier_key = supplier.key();
            IncentiveAccounts::from_remaining(ctx.remaining_accounts)?.credit(supplier_key, incentive_credit, now)?;
            lease.incentive_credited_secs = payable;
        }
        crate::cu_checkpoint!("settle: incentives");

        // Slash faults that became final since the last settlement, from this lease's own collateral only.
        // A per-fault amount too large for u64 (parameters changed since booking) takes the whole collateral left
        // rather than failing: an arithmetic error here would freeze the lease.
        let new_faults = lease.final_faults.saturating_sub(lease.faults_slashed);
        let slashed = if new_faults == 0 {
            0
        } else {
            let per_fault = accounts.config.slash_per_fault(lease.hourly_rate).unwrap_or(u64::MAX);
            math::slash_amount(per_fault, new_faults, lease.collateral.saturating_sub(lease.slashed))
        };
        // On bare metal the renter has the host to itself and could cause any fault (kill the agent, start a
        // process outside its containers, hide a GPU): it gets no share, so it can never profit from sabotage.
        let renter_share = if accounts.cluster.purpose == ClusterPurpose::BareMetal {
            0
        } else {
            u64::from(params.slash_renter_share_bps)
        };
        let slash_to_renter = math::bps_floor(slashed, renter_share).ok_or(TimelockError::Overflow)?;
        lease.faults_slashed = lease.final_faults;
        lease.slashed = lease.slashed.checked_add(slashed).ok_or(TimelockError::Overflow)?;
        supplier.staked = supplier.staked.checked_sub(slashed).ok_or(TimelockError::Overflow)?;
        supplier.slashed_total = supplier.slashed_total.checked_add(slashed).ok_or(TimelockError::Overflow)?;
        for (amount, destination) in [
            (slash_to_renter, &accounts.renter_stake_tokens),
            (slashed - slash_to_renter, &accounts.treasury_stake_tokens),
        ] {
            if amount > 0 {
                let decimals = accounts.config.stake_decimals;
                Tokens::of(&accounts.stake_token_program, &accounts.stake_mint, decimals).transfer_from_vault(
                    &accounts.stake_vault,
                    destination,
                    accounts.config.to_account_info(),
                    amount,
                )?;
            }
        }
        if new_faults > 0 {
            accounts.supplier.fault_count = accounts.supplier.fault_count.saturating_add(new_faults);
            worker_changed = true;
            let jailed = worker.record_faults(
                new_faults,
                now,
                params.jail_window_secs,
                params.jail_fault_threshold,
                params.jail_cooldown_secs,
            );
            if jailed {
                // The renter keeps what it booked, but no extension reaches a jailed worker.
                lease.max_end_ts = lease.max_end_ts.min(accounts.cluster.end_ts);
            }
        }

        crate::cu_checkpoint!("settle: slashed");
        // Close once nothing more can be attested, disputed or paid.
        let lease_end = lease.end_ts(accounts.cluster.end_ts);
        let closable =
            now >= lease_end.saturating_add(params.epoch_secs) && !lease.is_disputed() && lease.is_settled(max_secs);
        let (mut refund, mut fees_to_treasury) = (0, 0);
        if closable {
            fees_to_treasury = lease.fees_paid;
            if fees_to_treasury > 0 {
                accounts.pay_from_escrow(&accounts.treasury_payment_tokens, fees_to_treasury)?;
            }
            let entitled = lease.entitled(accounts.cluster.hours).ok_or(TimelockError::Overflow)?;
            refund = entitled.checked_sub(lease.gross_paid).ok_or(TimelockError::Overflow)?;
            if refund > 0 {
                accounts.pay_from_escrow(&accounts.renter_payment_tokens, refund)?;
            }
            let supplier = &mut accounts.supplier;
            supplier.locked = supplier.locked.checked_sub(lease.collateral).ok_or(TimelockError::Overflow)?;
            supplier.active_leases = supplier.active_leases.checked_sub(1).ok_or(TimelockError::Overflow)?;
            worker.active_lease = Pubkey::default();
            worker_changed = true;
            accounts.cluster.leases_open =
                accounts.cluster.leases_open.checked_sub(1).ok_or(TimelockError::Overflow)?;
        }
        let cluster = &mut accounts.cluster;
        cluster.paid_to_suppliers =
            cluster.paid_to_suppliers.checked_add(to_supplier).ok_or(TimelockError::Overflow)?;
        cluster.fees = cluster.fees.checked_add(fees_to_treasury).ok_or(TimelockError::Overflow)?;
        cluster.refunded = cluster.refunded.checked_add(refund).ok_or(TimelockError::Overflow)?;

        let event = LeaseSettled {
            lease: accounts.lease.key(),
            cluster: cluster.key(),
            worker: accounts.worker.key(),
            supplier: accounts.supplier.key(),
            final_secs: lease.final_secs,
            paid_to_supplier: to_supplier,
            fee,
            fees_to_treasury,
            refund,
            slashed,
            slash_to_renter,
            gross_paid: lease.gross_paid,
            faults: lease.faults,
            jailed_until: worker.jailed_until,
            closed: closable,
            supplier_earnings_unclaimed: accounts.supplier.earnings_unclaimed,
            supplier_staked: accounts.supplier.staked,
            supplier_locked: accounts.supplier.locked,
            incentive_credit,
            timestamp: now,
        };
        crate::cu_checkpoint!("settle: closed");
        drop(lease);
        if worker_changed {
            token::write_new(&accounts.worker, &worker)?;
        }
        if closable {
            accounts.lease.close(accounts.renter.to_account_info())?;
        }
        if let Some(lapsed) = lapsed {
            events::emit(&ctx.accounts.event_authority, &lapsed)?;
        }
        crate::cu_checkpoint!("settle: before event");
        events::emit(&ctx.accounts.event_authority, &event)?;
        crate::cu_checkpoint!("settle: event emitted");
        Ok(())
    }
}
