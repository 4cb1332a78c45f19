//! Property tests of everything the oracle reads from the network and of the policy: no input panics, a
//! tampered message never verifies, and the policy's counts keep their bounds whatever the evidence.

use borsh::BorshDeserialize;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use timelock_protocol::challenge::{
    self, Challenge, Commitment, Committed, OpenChallenge, OpenedRow, Opening, Probe, SignedCommitment, SignedOpening,
};
use timelock_protocol::policy::{
    judge, ChallengeResult, Evidence, Expectation, Interval, Observation, Outage, PolicyParams,
};
use timelock_protocol::{GpuProcess, GpuSample, Heartbeat, HeartbeatAccepted, SignedHeartbeat};

fn device() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

prop_compose! {
    fn heartbeats()(
        sequence in 0..u64::MAX, timestamp in any::<i64>(), gpus in 0usize..4, processes in 0usize..3,
        utilization in any::<u8>(), memory in any::<u64>(), container in proptest::option::of("[a-z]{0,8}"),
    ) -> Heartbeat {
        Heartbeat {
            worker: [1; 32],
            lease: [2; 32],
            sequence,
            timestamp,
            gpus: (0..gpus)
                .map(|g| GpuSample {
                    uuid: format!("GPU-{g}"),
                    model: "H100-SXM".into(),
                    utilization_pct: utilization,
                    memory_used_mib: memory,
                    processes: (0..processes)
                        .map(|p| GpuProcess {
                            pid: p as u32,
                            container: container.clone(),
                            image: container.clone(),
                            image_name: None,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The renter runs the image `job`.
struct JobOnly;

impl timelock_protocol::policy::Workload for JobOnly {
    fn declared_at(&self, _at: i64) -> bool {
        true
    }
    fn allows(&self, image: &str, _at: i64) -> bool {
        image == "job"
    }
    fn listed_by_then(&self, image: &str, _at: i64) -> bool {
        image == "job"
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_bytes_panic_any_wire_type(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = serde_json::from_slice::<SignedHeartbeat>(&bytes);
        let _ = serde_json::from_slice::<SignedCommitment>(&bytes);
        let _ = serde_json::from_slice::<SignedOpening>(&bytes);
        let _ = serde_json::from_slice::<HeartbeatAccepted>(&bytes);
        let _ = serde_json::from_slice::<OpenChallenge>(&bytes);
        let _ = Heartbeat::try_from_slice(&bytes);
    }

    #[test]
    fn a_mutated_heartbeat_parses_to_a_refusal_or_verifies_only_unchanged(
        beat in heartbeats(), at in any::<prop::sample::Index>(), len in 0usize..12, insert in "\\PC{0,12}",
    ) {
        let signed = beat.sign(&device());
        let json = serde_json::to_string(&signed).unwrap();
        let start = at.index(json.len());
        let end = (start + len).min(json.len());
        if json.is_char_boundary(start) && json.is_char_boundary(end) {
            let mutated = format!("{}{}{}", &json[..start], insert, &json[end..]);
            if let Ok(parsed) = serde_json::from_str::<SignedHeartbeat>(&mutated) {
                let key = device().verifying_key().to_bytes();
                if parsed.verify(&key).is_ok() {
                    prop_assert_eq!(parsed.heartbeat, signed.heartbeat, "only the signed heartbeat verifies");
                }
            }
        }
    }

    #[test]
    fn integers_are_read_as_json_schema_has_them(value in any::<u32>(), fraction in 1u32..1000) {
        let body = |pid: String| format!(r#"{{"pid": {pid}, "container": null}}"#);
        let whole: GpuProcess = serde_json::from_str(&body(format!("{value}.0"))).unwrap();
        prop_assert_eq!(whole.pid, value);
        let fractional = body(format!("{value}.{fraction}"));
        prop_assert!(serde_json::from_str::<GpuProcess>(&fractional).is_err());
        let too_big = body((u64::from(value) + (1 << 32)).to_string());
        prop_assert!(serde_json::from_str::<GpuProcess>(&too_big).is_err());
    }

    #[test]
    fn a_signature_is_read_only_from_128_hex_digits(text in "[0-9a-fA-F]{120,136}|\\PC{0,130}") {
        let parsed = timelock_protocol::signature_from_hex(&text);
        let is_hex = text.len() == 128 && text.bytes().all(|b| b.is_ascii_hexdigit());
        prop_assert_eq!(parsed.is_some(), is_hex);
        if let Some(bytes) = parsed {
            prop_assert_eq!(timelock_protocol::signature_to_hex(&bytes), text.to_ascii_lowercase());
        }
    }

    #[test]
    fn any_opening_is_judged_without_panic_and_only_the_honest_one_passes(
        size in 1u32..12, values in proptest::collection::vec(any::<u32>(), 0..40), id in 0u64..5,
        index in any::<u32>(), rows in 0u32..6, proof in proptest::collection::vec(any::<[u8; 32]>(), 0..5),
        tamper in any::<bool>(),
    ) {
        let c = Challenge { id: 3, seed: [5; 32], size, oracle: [7; 32] };
        let probe = Probe { id: 3, seed: [9; 32], rows, open_by: 0 };
        let kept = Committed::new(size as usize, challenge::solve(&c));
        // Anything at all: never a panic, never a pass.
        let junk = Opening {
            id,
            product_times_probe: values.clone(),
            rows: vec![OpenedRow { index, values, proof }],
        };
        prop_assert_ne!(challenge::verify_opening(&c, &kept.root, &probe, &junk), challenge::ChallengeVerdict::Passed);
        // The honest opening passes; with any entry changed it fails.
        let mut honest = kept.open(&probe);
        if tamper && !honest.product_times_probe.is_empty() {
            honest.product_times_probe[0] = (honest.product_times_probe[0] + 1) % challenge::MODULUS as u32;
        }
        let verdict = challenge::verify_opening(&c, &kept.root, &probe, &honest);
        prop_assert_eq!(verdict == challenge::ChallengeVerdict::Passed, !tamper);
        let signed = Commitment { id: 3, root: kept.root, duration_micros: 1 }.sign([1; 32], &c, &device());
        prop_assert!(signed.verify(&c, &device().verifying_key().to_bytes()).is_ok());
        let other = Challenge { oracle: [8; 32], ..c.clone() };
        prop_assert!(signed.verify(&other, &device().verifying_key().to_bytes()).is_err());
    }

    #[test]
    fn the_policy_keeps_its_bounds_whatever_the_evidence(
        step in 1i64..120, tolerance in 0u32..5, span in 1i64..7_200, length in 0i64..6_000,
        arrivals in proptest::collection::vec((0i64..6_000, any::<bool>(), 0usize..3), 0..80),
        challenges in proptest::collection::vec((0i64..6_000, any::<bool>()), 0..6),
        outages in proptest::collection::vec((0i64..6_000, 0i64..900), 0..4),
    ) {
        const START: i64 = 1_000_000;
        let params =
            PolicyParams { interval_secs: step, offline_tolerance: tolerance, fault_span_secs: span, renter_cover_secs: step };
        let registered = |_: &[GpuSample]| true;
        let expect =
            Expectation { gpu_count: 2, gpu_model: "H100-SXM", registered_gpus: &registered, workload: &JobOnly };
        let mut observations: Vec<Observation> = arrivals
            .iter()
            .map(|(at, foreign, gpus)| {
                let image = if *foreign { Some("miner".to_string()) } else { Some("job".to_string()) };
                let heartbeat = Heartbeat {
                    worker: [1; 32], lease: [2; 32], sequence: 1, timestamp: START + at,
                    gpus: (0..*gpus).map(|g| GpuSample {
                        uuid: format!("GPU-{g}"), model: "H100-SXM".into(), utilization_pct: 90, memory_used_mib: 1,
                        processes: vec![GpuProcess {
                            pid: 1, container: Some("4f1c2b3a9d8e".into()), image: image.clone(), image_name: None,
                        }],
                    }).collect(),
                };
                Observation { received_at: START + at, heartbeat }
            })
            .collect();
        observations.sort_by_key(|o| o.received_at);
        let mut results: Vec<ChallengeResult> =
            challenges.iter().map(|(at, passed)| ChallengeResult { at: START + at, passed: *passed, prompted: false }).collect();
        results.sort_by_key(|r| r.at);
        let spans: Vec<Outage> = outages.iter().map(|(at, len)| Outage { from: START + at, to: START + at + len }).collect();
        let end = START + length;

        let evidence = Evidence { heartbeats: &observations, challenges: &results, outages: &spans, renter: &[] };
        let j = judge(START, end, evidence, expect, params);
        prop_assert_eq!(j.intervals.len() as i64, length / step);
        prop_assert_eq!(j.reasons.len(), j.intervals.len());
        let proven = j.intervals.iter().filter(|i| **i == Interval::Proven).count() as u64;
        prop_assert_eq!(j.proven_secs, proven * step as u64);
        prop_assert!(j.faults.len() <= j.intervals.len());
        // Time from the oracle: never more proven intervals than distinct arrival intervals.
        let mut heard: Vec<i64> = observations.iter().map(|o| (o.received_at - START) / step).collect();
        heard.dedup();
        prop_assert!(proven as usize <= heard.len());
        // The oracle's own outages only ever excuse: never a new fault.
        let without = judge(START, end, Evidence { outages: &[], ..evidence }, expect, params);
        prop_assert!(j.faults.len() <= without.faults.len());
        prop_assert_eq!(j.proven_secs, without.proven_secs);
    }
}
