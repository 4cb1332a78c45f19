//! The rows the indexer derives from events (payouts, slashes, attestations, disputes): one struct per table,
//! built from the program's own event types, written by binary `COPY` (`store::EventRows`: each value in its
//! column's binary form, u64 amounts as exact NUMERIC) and read back into the same struct (an unknown enum value or a
//! missing column is an error, never a silent default; a column it does not know is ignored).

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};

use crate::decode::{EventRecord, ProgramEvent};

#[derive(utoipa::ToSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PayoutKind {
    /// A lease's settlement: the supplier's share, the fee and the renter's refund.
    Settlement,
    /// The supplier claimed its settled earnings.
    Claim,
}

impl PayoutKind {
    /// The stored value (its serde name).
    pub fn name(self) -> &'static str {
        match self {
            PayoutKind::Settlement => "settlement",
            PayoutKind::Claim => "claim",
        }
    }
}

/// Money that reached a supplier.
#[derive(utoipa::ToSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    /// The event's transaction, instruction and index within it: the row's identity (a batch applied twice
    /// adds nothing).
    pub signature: String,
    pub ix_index: u16,
    pub event_index: u16,
    pub slot: u64,
    pub block_time: Option<i64>,
    pub kind: PayoutKind,
    pub supplier: String,
    pub lease: Option<String>,
    pub cluster: Option<String>,
    /// Paid to the supplier (a settlement) or claimed by it (a claim).
    pub amount: u64,
    /// The protocol fee a settlement charged on the seconds it made final. It is held in the cluster's escrow and
    /// reaches the treasury when the lease closes (`LeaseSettled::fees_to_treasury`), so the sum over a lease's
    /// settlements is what its close sent.
    pub fee: u64,
    /// Escrow returned to the renter (at the lease's close).
    pub refund: u64,
}

#[derive(utoipa::ToSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Slash {
    /// The event's transaction, instruction and index within it: the row's identity (a batch applied twice
    /// adds nothing).
    pub signature: String,
    pub ix_index: u16,
    pub event_index: u16,
    pub slot: u64,
    pub block_time: Option<i64>,
    pub supplier: String,
    pub worker: String,
    pub lease: String,
    pub amount: u64,
    pub to_renter: u64,
    pub faults: u64,
    pub jailed_until: i64,
}

/// One lease's line of an oracle's attestation.
#[derive(utoipa::ToSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Attestation {
    /// The event's transaction, instruction and index within it: the row's identity (a batch applied twice
    /// adds nothing).
    pub signature: String,
    pub ix_index: u16,
    pub event_index: u16,
    pub slot: u64,
    pub lease: String,
    pub oracle: String,
    pub window_end: i64,
    pub accepted: bool,
    pub proven_secs: u64,
    pub faults: u64,
    pub final_secs: u64,
}

#[derive(utoipa::ToSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DisputeKind {
    Opened,
    /// The admin decided it.
    Resolved,
    /// Nobody decided it in time: the attested totals stand and the bond went to the other party.
    Lapsed,
}

impl DisputeKind {
    /// The stored value (its serde name).
    pub fn name(self) -> &'static str {
        match self {
            DisputeKind::Opened => "opened",
            DisputeKind::Resolved => "resolved",
            DisputeKind::Lapsed => "lapsed",
        }
    }
}

#[derive(utoipa::ToSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Dispute {
    /// The event's transaction, instruction and index within it: the row's identity (a batch applied twice
    /// adds nothing).
    pub signature: String,
    pub ix_index: u16,
    pub event_index: u16,
    pub slot: u64,
    pub lease: String,
    pub disputer: String,
    pub kind: DisputeKind,
    pub bond: u64,
    pub upheld: Option<bool>,
    pub proven_secs: Option<u64>,
    pub faults: Option<u64>,
    /// For a lapse: who received the bond.
    pub bond_to: Option<String>,
}

/// The derived rows of a batch of events, by table.
#[derive(Default)]
pub struct DerivedRows {
    pub payouts: Vec<Payout>,
    pub slashes: Vec<Slash>,
    pub attestations: Vec<Attestation>,
    pub disputes: Vec<Dispute>,
}

fn key(k: &Pubkey) -> String {
    k.to_string()
}

impl Dispute {
    /// A dispute row with what every outcome has; the outcome's own fields are set by the caller.
    fn of(e: &EventRecord, lease: &Pubkey, disputer: &Pubkey, kind: DisputeKind, bond: u64) -> Self {
        Dispute {
            signature: e.signature.clone(),
            ix_index: e.ix_index,
            event_index: e.event_index,
            slot: e.slot,
            lease: key(lease),
            disputer: key(disputer),
            kind,
            bond,
            upheld: None,
            proven_secs: None,
            faults: None,
            bond_to: None,
        }
    }
}

impl DerivedRows {
    pub fn of<'a>(events: impl IntoIterator<Item = &'a EventRecord>) -> Self {
        let mut rows = DerivedRows::default();
        for e in events {
            match &e.event {
                ProgramEvent::LeaseSettled(s) => {
                    // Each key is written out once (base58 is most of the cost of deriving a row).
                    let (supplier, lease) = (key(&s.supplier), key(&s.lease));
                    if s.slashed > 0 {
                        rows.slashes.push(Slash {
                            signature: e.signature.clone(),
                            ix_index: e.ix_index,
                            event_index: e.event_index,
                            slot: e.slot,
                            block_time: e.block_time,
                            supplier: supplier.clone(),
                            worker: key(&s.worker),
                            lease: lease.clone(),
                            amount: s.slashed,
                            to_renter: s.slash_to_renter,
                            faults: s.faults,
                            jailed_until: s.jailed_until,
                        });
                    }
                    rows.payouts.push(Payout {
                        signature: e.signature.clone(),
                        ix_index: e.ix_index,
                        event_index: e.event_index,
                        slot: e.slot,
                        block_time: e.block_time,
                        kind: PayoutKind::Settlement,
                        supplier,
                        lease: Some(lease),
                        cluster: Some(key(&s.cluster)),
                        amount: s.paid_to_supplier,
                        fee: s.fee,
                        refund: s.refund,
                    });
                }
                ProgramEvent::EarningsClaimed(c) => rows.payouts.push(Payout {
                    signature: e.signature.clone(),
                    ix_index: e.ix_index,
                    event_index: e.event_index,
                    slot: e.slot,
                    block_time: e.block_time,
                    kind: PayoutKind::Claim,
                    supplier: key(&c.supplier),
                    lease: None,
                    cluster: None,
                    amount: c.amount,
                    fee: 0,
                    refund: 0,
                }),
                ProgramEvent::LeasesAttested(a) => {
                    let oracle = key(&a.oracle);
                    rows.attestations.extend(a.leases.iter().map(|lease| Attestation {
                        signature: e.signature.clone(),
                        ix_index: e.ix_index,
                        event_index: e.event_index,
                        slot: e.slot,
                        lease: key(&lease.lease),
                        oracle: oracle.clone(),
                        window_end: a.window_end,
                        accepted: lease.accepted,
                        proven_secs: lease.proven_secs,
                        faults: lease.faults,
                        final_secs: lease.final_secs,
                    }))
                }
                ProgramEvent::DisputeOpened(d) => {
                    rows.disputes.push(Dispute::of(e, &d.lease, &d.disputer, DisputeKind::Opened, d.bond))
                }
                ProgramEvent::DisputeResolved(d) => rows.disputes.push(Dispute {
                    upheld: Some(d.upheld),
                    proven_secs: Some(d.proven_secs),
                    faults: Some(d.faults),
                    ..Dispute::of(
                        e,
                        &d.lease,
                        &d.disputer,
                        DisputeKind::Resolved,
                        d.bond_returned.saturating_add(d.bond_forfeited),
                    )
                }),
                ProgramEvent::DisputeLapsed(d) => rows.disputes.push(Dispute {
                    bond_to: Some(key(&d.bond_to)),
                    ..Dispute::of(e, &d.lease, &d.disputer, DisputeKind::Lapsed, d.bond)
                }),
                _ => {}
            }
        }
        rows
    }
}
