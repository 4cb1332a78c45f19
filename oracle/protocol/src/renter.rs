//! The renter's voice: a probe inside the renter's own container reports the GPUs it sees and a short
//! throughput measurement to the oracles. It signs with a probe key the renter granted it for one lease (the
//! renter's wallet, the cluster's renter on chain, signs the grant), so the wallet never enters the container and
//! nobody else speaks for the renter.
//!
//! What a report may change on its own is narrow, because a renter could lie to win refunds: a report whose GPUs
//! are not the worker's registered ones makes each oracle challenge the worker at its next turn, and leaves the
//! interval unpaid (never a fault: the renter's word alone slashes nobody, and the challenge it prompts faults
//! nobody if it fails) unless a challenge passed in it or soon after. Positive proof from a correct, fast answer
//! outweighs the complaint.

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use crate::{base58, signature_hex, VerifyError};

pub const GRANT_DOMAIN: &[u8] = b"timelock-probe-grant-v1";
pub const REPORT_DOMAIN: &[u8] = b"timelock-renter-report-v1";
/// GPUs one report may list (the largest worker has 64).
pub const MAX_REPORTED_GPUS: usize = 64;

/// The renter's grant of a probe key for one lease (the container on that worker), until `expires_at` (Unix
/// seconds): a key copied off one host speaks for no other lease.
#[derive(BorshSerialize, BorshDeserialize, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProbeGrant {
    #[serde(with = "base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub lease: [u8; 32],
    #[serde(with = "base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub probe: [u8; 32],
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(minimum = -9_223_372_036_854_775_808_i64, maximum = 9_223_372_036_854_775_807_i64))]
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedGrant {
    pub grant: ProbeGrant,
    /// The renter's (wallet) signature of [`GRANT_DOMAIN`] and the grant's Borsh encoding.
    #[serde(with = "signature_hex")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-fA-F]{128}$"))]
    pub signature: [u8; 64],
}

/// What the probe saw inside the renter's container.
#[derive(BorshSerialize, BorshDeserialize, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenterReport {
    #[serde(with = "base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub lease: [u8; 32],
    /// Increasing per probe and lease (below 2^63): the oracle refuses a replay.
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 9_223_372_036_854_775_807_u64))]
    pub sequence: u64,
    /// The probe's clock (Unix seconds), checked within the oracle's skew.
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(minimum = -9_223_372_036_854_775_808_i64, maximum = 9_223_372_036_854_775_807_i64))]
    pub timestamp: i64,
    /// UUIDs of the GPUs visible in the container (at most [`MAX_REPORTED_GPUS`]).
    #[cfg_attr(feature = "openapi", schema(max_items = 64))]
    pub gpus: Vec<String>,
    /// A product of this side, timed by the probe on those GPUs (0 when it measured none): recorded with the
    /// report, not judged (the renter's own job shares the GPUs it is timed on).
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 4_294_967_295_u32))]
    pub matmul_size: u32,
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 4_294_967_295_u32))]
    pub matmul_ms: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedReport {
    pub grant: SignedGrant,
    pub report: RenterReport,
    /// The probe key's signature of [`REPORT_DOMAIN`] and the report's Borsh encoding.
    #[serde(with = "signature_hex")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-fA-F]{128}$"))]
    pub signature: [u8; 64],
}

/// The 202 answer to a stored renter report.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenterReportAccepted {
    pub accepted: bool,
    /// Whether the GPUs the probe saw are the worker's registered ones; when not, the worker is challenged at
    /// its next heartbeat in that oracle's turn.
    pub agrees: bool,
}

fn signing_bytes(domain: &[u8], message: &impl BorshSerialize) -> Vec<u8> {
    let mut bytes = domain.to_vec();
    BorshSerialize::serialize(message, &mut bytes).expect("writing to a Vec cannot fail");
    bytes
}

impl ProbeGrant {
    /// The bytes the renter's wallet signs (any ed25519 signer: a Solana keypair's `sign_message`).
    pub fn signing_bytes(&self) -> Vec<u8> {
        signing_bytes(GRANT_DOMAIN, self)
    }
}

impl RenterReport {
    pub fn sign(self, grant: SignedGrant, probe: &SigningKey) -> SignedReport {
        let signature = probe.sign(&signing_bytes(REPORT_DOMAIN, &self)).to_bytes();
        SignedReport { grant, report: self, signature }
    }
}

impl SignedReport {
    /// The grant is the cluster renter's and the report its probe's.
    pub fn verify(&self, renter: &[u8; 32]) -> Result<(), VerifyError> {
        crate::verify_signature(renter, &self.grant.grant.signing_bytes(), &self.grant.signature)?;
        crate::verify_signature(&self.grant.grant.probe, &signing_bytes(REPORT_DOMAIN, &self.report), &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_renters_grant_and_its_probes_report_verify() {
        let (renter, probe, other) =
            (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]), SigningKey::from_bytes(&[3; 32]));
        let grant = ProbeGrant { lease: [8; 32], probe: probe.verifying_key().to_bytes(), expires_at: 100 };
        let signed_grant = SignedGrant { signature: renter.sign(&grant.signing_bytes()).to_bytes(), grant };
        let report = RenterReport {
            lease: [8; 32],
            sequence: 1,
            timestamp: 50,
            gpus: vec!["GPU-a".into()],
            matmul_size: 1024,
            matmul_ms: 3,
        };
        let renter_key = renter.verifying_key().to_bytes();
        let signed = report.clone().sign(signed_grant.clone(), &probe);
        assert_eq!(signed.verify(&renter_key), Ok(()));
        let json = serde_json::to_string(&signed).unwrap();
        assert_eq!(serde_json::from_str::<SignedReport>(&json).unwrap().verify(&renter_key), Ok(()));

        assert_eq!(signed.verify(&other.verifying_key().to_bytes()), Err(VerifyError::BadSignature), "not the renter");
        let forged = report.clone().sign(signed_grant.clone(), &other);
        assert_eq!(forged.verify(&renter_key), Err(VerifyError::BadSignature), "not the granted probe");
        let mut widened = signed.clone();
        widened.grant.grant.expires_at = i64::MAX;
        assert_eq!(widened.verify(&renter_key), Err(VerifyError::BadSignature), "a grant cannot be stretched");
        let mut edited = signed;
        edited.report.gpus.push("GPU-b".into());
        assert_eq!(edited.verify(&renter_key), Err(VerifyError::BadSignature));
    }
}
