//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the handlers' annotations and the wire
//! types of `timelock-protocol` themselves, so that it cannot drift from what the oracle reads and writes.
//!
//! Account keys carry the format `solana-address` (base58 of 32 bytes; the pattern alone admits other lengths),
//! which API fuzzers are taught to generate (`tests/schemathesis/hooks.py`).

use serde_json::Value;
use timelock_protocol::challenge::{
    AnswerJudged, Challenge, ChallengeVerdict, Commitment, CommitmentTaken, HexHash, OpenChallenge, OpenedRow, Opening,
    Probe, SignedCommitment, SignedOpening,
};
use timelock_protocol::policy::Reason;
use timelock_protocol::renter::{ProbeGrant, RenterReport, RenterReportAccepted, SignedGrant, SignedReport};
use timelock_protocol::{GpuProcess, GpuSample, Heartbeat, HeartbeatAccepted, SignedHeartbeat};
use timelock_service_kit::{ErrorBody, ErrorCode, ErrorDetail, Health};
use utoipa::OpenApi;

use crate::api::*;
use crate::renter::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "timelock oracle API",
        description = "Worker agents post signed heartbeats and answer benchmark challenges; the oracle judges every \
                       lease under the Time-Lock policy and attests proven time on chain. Keys are base58, signatures \
                       128 hex digits, times Unix seconds on the oracle's clock."
    ),
    paths(
        post_heartbeat,
        get_challenge,
        post_commitment,
        post_opening,
        get_intervals,
        post_renter_report,
        health,
        ready
    ),
    components(schemas(
        SignedHeartbeat,
        Heartbeat,
        GpuSample,
        GpuProcess,
        HeartbeatAccepted,
        Challenge,
        OpenChallenge,
        Commitment,
        SignedCommitment,
        CommitmentTaken,
        Probe,
        Opening,
        OpenedRow,
        HexHash,
        SignedOpening,
        AnswerJudged,
        ChallengeVerdict,
        LeaseIntervals,
        JudgedInterval,
        Reason,
        SignedReport,
        RenterReport,
        SignedGrant,
        ProbeGrant,
        RenterReportAccepted,
        Health,
        ErrorBody,
        ErrorDetail,
        ErrorCode
    ))
)]
struct OracleApi;

/// Every route the router serves but `/metrics` and `/openapi.json`, with its method; a test checks each is in
/// the document.
pub const PATHS: &[(&str, &str)] = &[
    ("/v1/heartbeats", "post"),
    ("/v1/renter-reports", "post"),
    ("/v1/workers/{worker}/challenge", "get"),
    ("/v1/challenges/{id}/commitment", "post"),
    ("/v1/challenges/{id}/opening", "post"),
    ("/v1/leases/{lease}/intervals", "get"),
    ("/health", "get"),
    ("/ready", "get"),
];

pub fn document() -> Value {
    let mut document = OracleApi::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_string();
    serde_json::to_value(document).expect("the document serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_and_every_reference_resolves() {
        let document = document();
        for (path, method) in PATHS {
            assert!(document["paths"][path][method].is_object(), "{method} {path} documented");
        }
        assert_eq!(timelock_service_kit::unresolved_refs(&document), Vec::<String>::new());
        let heartbeat = &document["components"]["schemas"]["Heartbeat"]["properties"];
        assert_eq!(heartbeat["worker"]["format"], "solana-address");
        assert_eq!(heartbeat["sequence"]["maximum"], 9_223_372_036_854_775_807_u64);
        let signed = &document["components"]["schemas"]["SignedHeartbeat"]["properties"];
        assert_eq!(signed["signature"]["pattern"], "^[0-9a-fA-F]{128}$");
    }
}
