//! What an attestation commits to. Every `lease_attest` transaction carries one Merkle root over a leaf per
//! lease it reports on, in the order of its accounts; the chain stores that root with each lease's vote. A leaf
//! binds what the oracle reported (proven seconds, faults, the resolution counted from) to what it judged: the
//! heartbeats it received in the window (each by its signature and receive time) and its verdict on every
//! interval. Whoever holds the evidence (the oracle serves it) can rebuild the leaf, check it against the
//! root on chain with the leaf's proof, and judge the same heartbeats again.

use sha2::{Digest, Sha256};

use crate::merkle::{self, Hash};
use crate::policy::Reason;

const HEARTBEAT_DOMAIN: &[u8] = b"timelock-evidence-heartbeat-v1";
const VERDICTS_DOMAIN: &[u8] = b"timelock-evidence-verdicts-v1";
const LEASE_DOMAIN: &[u8] = b"timelock-evidence-lease-v1";

/// A heartbeat as judged: its device signature (which covers its content) and when the oracle received it.
pub fn heartbeat_leaf(received_at: i64, signature: &[u8; 64]) -> Hash {
    merkle::leaf(&[HEARTBEAT_DOMAIN, &received_at.to_le_bytes(), signature])
}

/// The root over the judged heartbeats, in the order the oracle received them.
pub fn heartbeats_root(leaves: &[Hash]) -> Hash {
    merkle::root(leaves)
}

/// A digest of the verdicts on consecutive intervals from `start`, `step` seconds each.
pub fn verdicts_digest(start: i64, step: i64, reasons: &[Reason]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(VERDICTS_DOMAIN);
    hasher.update(start.to_le_bytes());
    hasher.update(step.to_le_bytes());
    for reason in reasons {
        // serde_json writes a struct's fields in declaration order: the same verdicts give the same bytes.
        hasher.update(serde_json::to_vec(reason).expect("reasons serialize"));
        hasher.update(b"\n");
    }
    hasher.finalize().into()
}

/// One lease's leaf of an attestation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseEvidence {
    pub lease: [u8; 32],
    pub window_end: i64,
    pub proven_secs: u32,
    pub faults: u16,
    pub resolution: u8,
    pub heartbeats_root: Hash,
    pub verdicts_digest: Hash,
}

impl LeaseEvidence {
    pub fn leaf(&self) -> Hash {
        merkle::leaf(&[
            LEASE_DOMAIN,
            &self.lease,
            &self.window_end.to_le_bytes(),
            &self.proven_secs.to_le_bytes(),
            &self.faults.to_le_bytes(),
            &[self.resolution],
            &self.heartbeats_root,
            &self.verdicts_digest,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_changes_with_anything_it_commits_to() {
        let base = LeaseEvidence {
            lease: [1; 32],
            window_end: 1_000,
            proven_secs: 60,
            faults: 0,
            resolution: 0,
            heartbeats_root: heartbeats_root(&[heartbeat_leaf(10, &[2; 64])]),
            verdicts_digest: verdicts_digest(0, 30, &[Reason::Proven, Reason::Proven]),
        };
        let variants = [
            LeaseEvidence { proven_secs: 30, ..base },
            LeaseEvidence { faults: 1, ..base },
            LeaseEvidence { resolution: 1, ..base },
            LeaseEvidence { window_end: 1_001, ..base },
            LeaseEvidence { heartbeats_root: heartbeats_root(&[heartbeat_leaf(11, &[2; 64])]), ..base },
            LeaseEvidence { verdicts_digest: verdicts_digest(0, 30, &[Reason::Proven, Reason::Missed]), ..base },
        ];
        for variant in variants {
            assert_ne!(variant.leaf(), base.leaf(), "{variant:?}");
        }
    }
}
