//! What every decision of a dispute does with its bond, whoever decided it (the admin or the oracle quorum).

use anchor_lang::prelude::*;

use crate::events::DisputeResolved;
use crate::state::Cluster;
use crate::utils::token::Tokens;

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
    tokens: &Tokens<'info>,
    escrow: &impl ToAccountInfo<'info>,
    disputer_tokens: &impl ToAccountInfo<'info>,
    treasury_tokens: &impl ToAccountInfo<'info>,
    cluster: &Account<'info, Cluster>,
    decided: Decided,
) -> Result<DisputeResolved> {
    if decided.upheld {
        tokens.transfer_from_escrow(escrow, disputer_tokens, cluster, decided.bond)?;
    } else {
        tokens.transfer_from_escrow(escrow, treasury_tokens, cluster, decided.bond)?;
    }
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
