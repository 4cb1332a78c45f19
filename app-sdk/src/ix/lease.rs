//! Attestation, settlement, disputes and the supplier's claim of its earnings.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::system_program;
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
use timelock::LeaseReport;
use timelock::{accounts, instruction, ID};

use super::{build, event_authority, RenterPayment};
use crate::pda;

/// One oracle's reports for `leases` (same order) up to `window_end`, with the Merkle root of the evidence it
/// judged for them.
pub fn lease_attest(
    oracle: Pubkey,
    window_end: i64,
    evidence_root: [u8; 32],
    leases: &[(Pubkey, LeaseReport)],
) -> Instruction {
    let mut ix = build(
        accounts::LeaseAttest { oracle, config: pda::config().0, event_authority: event_authority(), program: ID },
        instruction::LeaseAttest { window_end, evidence_root, reports: leases.iter().map(|(_, r)| *r).collect() },
    );
    ix.accounts.extend(leases.iter().map(|(lease, _)| AccountMeta::new(*lease, false)));
    ix
}

/// Everything `lease_settle` pays from and to. The token accounts are the parties' own: the SDK does not guess
/// them because a renter or treasury may hold several.
#[derive(Clone, Copy, Debug)]
pub struct SettleAccounts {
    pub renter: Pubkey,
    pub cluster_id: u64,
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub treasury_payment_tokens: Pubkey,
    pub renter_payment_tokens: Pubkey,
    pub renter_stake_tokens: Pubkey,
    pub treasury_stake_tokens: Pubkey,
    pub payment_mint: Pubkey,
    pub stake_mint: Pubkey,
    pub payment_token_program: Pubkey,
    pub stake_token_program: Pubkey,
    /// With the incentive pool enabled: the pool's current epoch and who pays for new epoch records.
    pub incentives: Option<IncentiveCredit>,
}

#[derive(Clone, Copy, Debug)]
pub struct IncentiveCredit {
    pub epoch: u64,
    pub payer: Pubkey,
}

pub fn lease_settle(a: SettleAccounts) -> Instruction {
    let cluster = pda::cluster(&a.renter, a.cluster_id).0;
    let mut ix = build(
        accounts::LeaseSettle {
            config: pda::config().0,
            lease: pda::lease(&cluster, &a.worker).0,
            cluster,
            worker: a.worker,
            supplier: a.supplier,
            escrow: pda::escrow(&cluster).0,
            earnings_vault: pda::earnings_vault(&a.supplier).0,
            treasury_payment_tokens: a.treasury_payment_tokens,
            renter_payment_tokens: a.renter_payment_tokens,
            stake_vault: pda::stake_vault().0,
            renter_stake_tokens: a.renter_stake_tokens,
            treasury_stake_tokens: a.treasury_stake_tokens,
            payment_mint: a.payment_mint,
            stake_mint: a.stake_mint,
            renter: a.renter,
            payment_token_program: a.payment_token_program,
            stake_token_program: a.stake_token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::LeaseSettle {},
    );
    if let Some(credit) = a.incentives {
        ix.accounts.extend([
            AccountMeta::new(pda::incentive_pool().0, false),
            AccountMeta::new(pda::incentive_epoch(credit.epoch).0, false),
            AccountMeta::new(pda::supplier_incentive(&a.supplier, credit.epoch).0, false),
            AccountMeta::new(credit.payer, true),
            AccountMeta::new_readonly(system_program::ID, false),
        ]);
    }
    ix
}

/// A dispute by `disputer` (the renter or the supplier's authority) on the lease of `worker` in a cluster.
pub fn lease_dispute(
    disputer: Pubkey,
    disputer_tokens: Pubkey,
    payment: RenterPayment,
    worker: Pubkey,
    supplier: Pubkey,
) -> Instruction {
    let cluster = payment.cluster();
    build(
        accounts::LeaseDispute {
            disputer,
            config: pda::config().0,
            lease: pda::lease(&cluster, &worker).0,
            cluster,
            supplier,
            escrow: pda::escrow(&cluster).0,
            payment_mint: payment.payment_mint,
            disputer_tokens,
            token_program: payment.token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::LeaseDispute {},
    )
}

#[allow(clippy::too_many_arguments)]
pub fn lease_dispute_resolve(
    admin: Pubkey,
    payment: RenterPayment,
    worker: Pubkey,
    disputer_tokens: Pubkey,
    treasury_tokens: Pubkey,
    proven_secs: u64,
    faults: u64,
    as_of: i64,
    upheld: bool,
) -> Instruction {
    let cluster = payment.cluster();
    build(
        accounts::LeaseDisputeResolve {
            admin,
            config: pda::config().0,
            lease: pda::lease(&cluster, &worker).0,
            cluster,
            escrow: pda::escrow(&cluster).0,
            payment_mint: payment.payment_mint,
            disputer_tokens,
            treasury_tokens,
            token_program: payment.token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::LeaseDisputeResolve { proven_secs, faults, as_of, upheld },
    )
}

/// An oracle's re-judgment of a disputed lease (`lease_dispute_verdict`), preceded by the idempotent creation of
/// the disputer's and the treasury's associated token accounts for the payment mint: the verdict that completes
/// the quorum pays the bond to one of them, and a party without one must not be able to stall the decision.
#[allow(clippy::too_many_arguments)]
pub fn lease_dispute_verdict(
    oracle: Pubkey,
    payment: RenterPayment,
    worker: Pubkey,
    disputer: Pubkey,
    treasury: Pubkey,
    dispute_opened_at: i64,
    proven_secs: u64,
    faults: u64,
    evidence_root: [u8; 32],
) -> Vec<Instruction> {
    let cluster = payment.cluster();
    let (mint, token_program) = (payment.payment_mint, payment.token_program);
    let ata = |owner: &Pubkey| get_associated_token_address_with_program_id(owner, &mint, &token_program);
    let create = |owner: &Pubkey| create_associated_token_account_idempotent(&oracle, owner, &mint, &token_program);
    let verdict = build(
        accounts::LeaseDisputeVerdict {
            oracle,
            config: pda::config().0,
            lease: pda::lease(&cluster, &worker).0,
            cluster,
            escrow: pda::escrow(&cluster).0,
            payment_mint: mint,
            disputer_tokens: ata(&disputer),
            treasury_tokens: ata(&treasury),
            token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::LeaseDisputeVerdict { dispute_opened_at, proven_secs, faults, evidence_root },
    );
    vec![create(&disputer), create(&treasury), verdict]
}

pub fn earnings_claim(
    authority: Pubkey,
    payment_mint: Pubkey,
    destination: Pubkey,
    token_program: Pubkey,
) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::EarningsClaim {
            authority,
            config: pda::config().0,
            supplier,
            earnings_vault: pda::earnings_vault(&supplier).0,
            payment_mint,
            destination,
            token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::EarningsClaim {},
    )
}
