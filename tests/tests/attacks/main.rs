//! The attacks of the hardening review (renters, suppliers, oracles, crankers and mint issuers against each
//! other), each performed against the real .so and answered with the named refusal or the safe outcome. The
//! numbers in the test names are the items of the review; docs/security.md maps every threat to its test.

mod consent_history_and_mints;
mod liveness_and_resolutions;
mod punishment_and_incentives;
mod terms_and_disputes;

use anchor_lang::prelude::Pubkey;
use timelock::events::{DisputeLapsed, LeaseSettled};
use timelock::state::{ClusterPurpose, Worker, WorkerSpec};
use timelock::BookingTerms;
use timelock_sdk::{catalog, ix, pda, TOKEN_2022_PROGRAM_ID};
use timelock_tests::story::*;
use timelock_tests::*;

const BOND: u64 = 10 * ONE_USDC;
const TIMEOUT: i64 = 3 * 86_400;

/// Dispute and resolution helpers over a [`Story`]'s lease 0.
fn dispute_by(s: &mut Story, party: &Keypair, tokens: Pubkey) -> SendResult {
    let payment = s.f.payment(&s.renter, s.cluster_id);
    let worker = s.workers[0];
    let ix = ix::lease_dispute(party.pubkey(), tokens, payment, worker.worker, worker.supplier);
    s.f.send(&[ix], &[party])
}

fn renter_disputes(s: &mut Story) -> SendResult {
    let renter = s.renter.authority.insecure_clone();
    let tokens = s.renter.payment_tokens;
    dispute_by(s, &renter, tokens)
}

fn supplier_disputes(s: &mut Story) -> SendResult {
    let supplier = s.supplier.authority.insecure_clone();
    let tokens = s.supplier.payment_tokens;
    s.f.mint_to(s.f.payment_mint, tokens, BOND);
    dispute_by(s, &supplier, tokens)
}

fn resolve(s: &mut Story, disputer_tokens: Pubkey, proven_secs: u64, faults: u64, upheld: bool) {
    let admin = s.f.admin.insecure_clone();
    let payment = s.f.payment(&s.renter, s.cluster_id);
    let ix = ix::lease_dispute_resolve(
        admin.pubkey(),
        payment,
        s.workers[0].worker,
        disputer_tokens,
        s.f.treasury_payment_tokens,
        proven_secs,
        faults,
        s.f.now(),
        upheld,
    );
    s.f.exec(ix, &[&admin]);
}
