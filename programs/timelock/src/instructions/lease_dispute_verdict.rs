use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TimelockError;
use crate::events::{self, DisputeVerdictGiven};
use crate::pda;
use crate::state::{Cluster, Config, Lease};
use crate::utils::dispute::{pay_bond, Decided};
use crate::utils::token::Tokens;

#[event_cpi]
#[derive(Accounts)]
pub struct LeaseDisputeVerdict<'info> {
    /// One of the config's oracles.
    pub oracle: Signer<'info>,
    /// The config (PDA `["config"]`): the oracle set, threshold and treasury.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The disputed lease (PDA `["lease", cluster, worker]`).
    #[account(mut, has_one = cluster, constraint = lease.load()?.is_disputed() @ TimelockError::NoDispute)]
    pub lease: AccountLoader<'info, Lease>,
    /// The lease's cluster: its renter, end and escrow.
    pub cluster: Box<Account<'info, Cluster>>,
    /// The cluster's escrow (PDA token account `["escrow", cluster]`), which holds the bond.
    #[account(mut, address = cluster.escrow @ TimelockError::InvalidVault)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The cluster's payment mint.
    #[account(address = cluster.payment_mint @ TimelockError::InvalidPaymentMint, mint::token_program = token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// A payment-mint account of the disputer: receives the bond of an upheld dispute.
    #[account(
        mut,
        token::mint = payment_mint,
        token::authority = lease.load()?.disputer,
        token::token_program = token_program,
    )]
    pub disputer_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// A payment-mint account of the treasury: receives the bond of a rejected dispute.
    #[account(
        mut,
        token::mint = payment_mint,
        token::authority = config.params.treasury,
        token::token_program = token_program,
    )]
    pub treasury_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub token_program: Interface<'info, TokenInterface>,
}

impl LeaseDisputeVerdict<'_> {
    /// An oracle's re-judgment of the dispute opened at `dispute_opened_at`: the proven seconds and faults it
    /// finds, on the evidence it committed to (`evidence_root`, in the instruction and its event for anyone to
    /// check against the oracle's served leaves), from the lease's start or last resolution to the window the
    /// dispute contests (`disputed_as_of`). One per oracle and dispute. Once the verdicts still missing can no
    /// longer change the value `oracle_threshold` of the current oracles agree on (two agreeing of three decide;
    /// two that differ wait for the third), that quorum decides the dispute as the admin would, without the
    /// admin: final at once as of `disputed_as_of`, never below what was final, never beyond what the lease had
    /// run. The dispute is upheld when the decision moves the contested totals the disputer's way (the renter:
    /// fewer seconds or more faults; the supplier: more seconds or fewer faults): its bond comes back; otherwise
    /// it goes to the treasury.
    pub fn handler(
        ctx: Context<Self>,
        dispute_opened_at: i64,
        proven_secs: u64,
        faults: u64,
        evidence_root: [u8; 32],
    ) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &mut *ctx.accounts;
        let params = &accounts.config.params;
        let oracle = accounts.oracle.key();
        require!(params.oracles.contains(&oracle), TimelockError::NotOracle);
        let threshold = usize::from(params.oracle_threshold);
        let renter = accounts.cluster.renter;
        let decided = {
            let mut lease = accounts.lease.load_mut()?;
            let slot = lease.claim_vote(&oracle, &params.oracles).ok_or(TimelockError::InvalidOracleSet)?;
            let dispute = lease.dispute_opened_at;
            // A verdict judged for one dispute never counts for another opened since.
            require!(dispute_opened_at == dispute, TimelockError::VerdictForAnotherDispute);
            require!(lease.votes[slot].verdict_for != dispute, TimelockError::VerdictAlreadyGiven);
            let as_of = lease.disputed_as_of;
            let elapsed = u64::try_from(as_of.saturating_sub(lease.evidence_since())).unwrap_or(0);
            let proven_secs = proven_secs.min(elapsed);
            let vote = &mut lease.votes[slot];
            (vote.verdict_secs, vote.verdict_faults, vote.verdict_for) = (proven_secs, faults, dispute);
            let lease_key = accounts.lease.key();
            let given =
                DisputeVerdictGiven { lease: lease_key, oracle, proven_secs, faults, evidence_root, timestamp: now };
            events::emit(&accounts.event_authority, &given)?;
            match lease.verdict_quorum(&params.oracles, threshold) {
                None => None,
                Some((quorum_secs, quorum_faults)) => {
                    let ran = lease.ran_by(as_of, accounts.cluster.end_ts);
                    // What was final may have been paid or slashed: the decision never goes below it.
                    let secs = lease.resolved_secs.saturating_add(quorum_secs).min(ran).max(lease.final_secs.min(ran));
                    let faults = lease.resolved_faults.saturating_add(quorum_faults).max(lease.final_faults);
                    let (contested_secs, contested_faults) = (lease.disputed_secs, lease.disputed_faults);
                    let upheld = if lease.disputer == renter {
                        secs < contested_secs || faults > contested_faults
                    } else {
                        secs > contested_secs || faults < contested_faults
                    };
                    let (disputer, bond) = lease.resolve(&renter, secs, faults, as_of, now);
                    let lease = accounts.lease.key();
                    Some(Decided { lease, disputer, bond, upheld, proven_secs: secs, faults, timestamp: now })
                }
            }
        };
        let Some(decided) = decided else { return Ok(()) };
        let mint = &accounts.payment_mint;
        let tokens = Tokens::of(&accounts.token_program, &**mint, mint.decimals);
        let (to_disputer, to_treasury) = (&*accounts.disputer_tokens, &*accounts.treasury_tokens);
        let event = pay_bond(&tokens, &*accounts.escrow, to_disputer, to_treasury, &accounts.cluster, decided)?;
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
