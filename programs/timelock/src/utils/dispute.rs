//! What every decision of a dispute does with its bond, whoever decided it (the admin or the oracle quorum).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::events::DisputeResolved;
use crate::state::Cluster;
use crate::utils::token;

/// The decided dispute of `lease`: the totals decided and whether it was upheld.
pub struct Decided {
    pub lease: Pubkey,
    pub disputer: Pubkey,
    pub bond: u64,
    pub upheld: bool,
    pub proven_secs: u64,
    pub faults: u64,
    pub timestamp: i64,
}

/// Pays the bond out of escrow (back to the disputer when upheld, to the treasury otherwise); the event to emit.
pub fn pay_bond<'info>(
    token_program: &Interface<'info, TokenInterface>,
    mint: &InterfaceAccount<'info, Mint>,
    escrow: &InterfaceAccount<'info, TokenAccount>,
    disputer_tokens: &InterfaceAccount<'info, TokenAccount>,
    treasury_tokens: &InterfaceAccount<'info, TokenAccount>,
    cluster: &Account<'info, Cluster>,
    decided: Decided,
) -> Result<DisputeResolved> {
    let destination = if decided.upheld { disputer_tokens } else { treasury_tokens };
    token::transfer_from_escrow(token_program, mint, escrow, destination, cluster, decided.bond)?;
    Ok(DisputeResolved {
        lease: decided.lease,
        disputer: decided.disputer,
        upheld: decided.upheld,
        proven_secs: decided.proven_secs,
        faults: decided.faults,
        bond_returned: if decided.upheld { decided.bond } else { 0 },
        bond_forfeited: if decided.upheld { 0 } else { decided.bond },
        timestamp: decided.timestamp,
    })
}
