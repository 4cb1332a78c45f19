//! The benchmark challenge: the oracle sends a random seed; the agent multiplies two seeded n × n matrices over
//! the prime field p = 2^31 − 1 and returns the product with how long it took. The oracle checks the answer with
//! Freivalds' algorithm in O(k·n²) instead of O(n³): for random vectors r, A(Br) = Cr. A wrong product survives
//! one round with probability at most 1/p, so a handful of rounds makes cheating hopeless; a right answer that
//! took far longer than the claimed GPU class needs is a fault too (the policy's `FailedChallenge`).
//!
//! A challenge belongs to one oracle: ids are each oracle's own sequence, so an answer signs the oracle's
//! identity and the seed as well as the id. An answer given to one oracle (or to an oracle posing as another)
//! verifies nowhere else, and a bad oracle cannot replay it to fault the worker at an honest one.

use borsh::BorshSerialize;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use crate::VerifyError;

/// Prefix of every signed challenge answer (see [`crate::HEARTBEAT_DOMAIN`]).
pub const ANSWER_DOMAIN: &[u8] = b"timelock-challenge-v2";

/// Prefix of a worker's signed request for its open challenge.
pub const FETCH_DOMAIN: &[u8] = b"timelock-challenge-fetch-v1";

pub const MODULUS: u64 = (1 << 31) - 1;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Challenge {
    pub id: u64,
    pub seed: [u8; 32],
    pub size: u32,
    /// The issuing oracle's signing key: what the answer is bound to.
    #[serde(with = "crate::base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address"))]
    pub oracle: [u8; 32],
}

/// A challenge as the oracle hands it out, with its clock.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenChallenge {
    pub challenge: Challenge,
    /// The oracle's clock (Unix seconds) when it went out: the answer's time runs from here.
    pub issued_at: i64,
    /// After this the challenge counts as failed.
    pub deadline: i64,
}

/// The oracle's judgement of an answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerJudged {
    pub id: u64,
    pub verdict: ChallengeVerdict,
}

#[derive(BorshSerialize, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChallengeAnswer {
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 18_446_744_073_709_551_615_u64))]
    pub id: u64,
    /// The product, row-major, every entry below [`MODULUS`].
    #[serde(deserialize_with = "crate::integral::many")]
    pub product: Vec<u32>,
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 18_446_744_073_709_551_615_u64))]
    pub duration_micros: u64,
}

impl ChallengeAnswer {
    fn signing_bytes(&self, worker: &[u8; 32], challenge: &Challenge) -> Vec<u8> {
        let mut bytes = ANSWER_DOMAIN.to_vec();
        bytes.extend_from_slice(worker);
        bytes.extend_from_slice(&challenge.oracle);
        bytes.extend_from_slice(&challenge.seed);
        BorshSerialize::serialize(self, &mut bytes).expect("writing to a Vec cannot fail");
        bytes
    }

    /// Signed by the worker's device key, so that nobody else can answer (wrongly) in its name, and bound to the
    /// challenge's oracle and seed, so that the answer counts for that challenge only.
    pub fn sign(self, worker: [u8; 32], challenge: &Challenge, device: &SigningKey) -> SignedAnswer {
        let signature = device.sign(&self.signing_bytes(&worker, challenge)).to_bytes();
        SignedAnswer { worker, answer: self, signature }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedAnswer {
    #[serde(with = "crate::base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub worker: [u8; 32],
    pub answer: ChallengeAnswer,
    #[serde(with = "crate::signature_hex")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-fA-F]{128}$"))]
    pub signature: [u8; 64],
}

impl SignedAnswer {
    /// Checks the signature against the challenge the verifier issued (its own identity and seed).
    pub fn verify(&self, challenge: &Challenge, device_key: &[u8; 32]) -> Result<(), VerifyError> {
        crate::verify_signature(device_key, &self.answer.signing_bytes(&self.worker, challenge), &self.signature)
    }
}

fn fetch_signing_bytes(worker: &[u8; 32], oracle: &[u8; 32], timestamp: i64) -> Vec<u8> {
    let mut bytes = FETCH_DOMAIN.to_vec();
    bytes.extend_from_slice(worker);
    bytes.extend_from_slice(oracle);
    bytes.extend_from_slice(&timestamp.to_le_bytes());
    bytes
}

/// The worker's signature on a request for its open challenge at `oracle`, made at `timestamp` (Unix seconds):
/// only the worker may read its challenges, a request is good at one oracle, and for a short time only.
pub fn sign_fetch(worker: [u8; 32], oracle: [u8; 32], timestamp: i64, device: &SigningKey) -> [u8; 64] {
    device.sign(&fetch_signing_bytes(&worker, &oracle, timestamp)).to_bytes()
}

pub fn verify_fetch(
    worker: &[u8; 32],
    oracle: &[u8; 32],
    timestamp: i64,
    signature: &[u8; 64],
    device_key: &[u8; 32],
) -> Result<(), VerifyError> {
    crate::verify_signature(device_key, &fetch_signing_bytes(worker, oracle, timestamp), signature)
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChallengeVerdict {
    Passed,
    WrongAnswer,
    TooSlow,
}

/// Deterministic field elements from a seed (SplitMix64), so both sides derive the same matrices.
fn elements(seed: &[u8; 32], salt: u64, count: usize) -> Vec<u64> {
    let mut state = salt;
    for chunk in seed.chunks(8) {
        state ^= u64::from_le_bytes(chunk.try_into().expect("8-byte chunks"));
        state = state.rotate_left(17).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) % MODULUS
        })
        .collect()
}

fn matrices(challenge: &Challenge) -> (Vec<u64>, Vec<u64>) {
    let n = challenge.size as usize;
    (elements(&challenge.seed, 1, n * n), elements(&challenge.seed, 2, n * n))
}

/// The agent's work (the CPU implementation; a GPU agent computes the same product on the device).
pub fn solve(challenge: &Challenge) -> Vec<u32> {
    let n = challenge.size as usize;
    let (a, b) = matrices(challenge);
    let mut c = vec![0u32; n * n];
    for i in 0..n {
        let mut row = vec![0u64; n];
        for k in 0..n {
            let aik = a[i * n + k];
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = (*cell + aik * b[k * n + j]) % MODULUS;
            }
        }
        for (j, v) in row.into_iter().enumerate() {
            c[i * n + j] = v as u32;
        }
    }
    c
}

fn mat_vec(m: &[u64], v: &[u64], n: usize) -> Vec<u64> {
    (0..n).map(|i| (0..n).fold(0u64, |acc, k| (acc + m[i * n + k] * v[k]) % MODULUS)).collect()
}

/// Checks an answer with `rounds` Freivalds rounds driven by `verifier_seed` (the oracle's own secret), and its
/// duration against `max_micros` for the worker's GPU class.
pub fn verify(
    challenge: &Challenge,
    answer: &ChallengeAnswer,
    verifier_seed: &[u8; 32],
    rounds: u32,
    max_micros: u64,
) -> ChallengeVerdict {
    let n = challenge.size as usize;
    if answer.id != challenge.id
        || answer.product.len() != n * n
        || answer.product.iter().any(|v| u64::from(*v) >= MODULUS)
    {
        return ChallengeVerdict::WrongAnswer;
    }
    let (a, b) = matrices(challenge);
    let c: Vec<u64> = answer.product.iter().map(|v| u64::from(*v)).collect();
    for round in 0..rounds {
        let r = elements(verifier_seed, 100 + u64::from(round), n);
        if mat_vec(&a, &mat_vec(&b, &r, n), n) != mat_vec(&c, &r, n) {
            return ChallengeVerdict::WrongAnswer;
        }
    }
    if answer.duration_micros > max_micros {
        return ChallengeVerdict::TooSlow;
    }
    ChallengeVerdict::Passed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> Challenge {
        Challenge { id: 9, seed: [7; 32], size: 48, oracle: [3; 32] }
    }

    fn answer(product: Vec<u32>, duration_micros: u64) -> ChallengeAnswer {
        ChallengeAnswer { id: 9, product, duration_micros }
    }

    #[test]
    fn honest_answers_pass() {
        let c = challenge();
        assert_eq!(verify(&c, &answer(solve(&c), 1_000), &[1; 32], 4, 10_000), ChallengeVerdict::Passed);
    }

    #[test]
    fn any_wrong_entry_is_caught() {
        let c = challenge();
        let mut product = solve(&c);
        product[1_000] = (product[1_000] + 1) % MODULUS as u32;
        assert_eq!(verify(&c, &answer(product, 1_000), &[1; 32], 2, 10_000), ChallengeVerdict::WrongAnswer);
    }

    #[test]
    fn malformed_or_mismatched_answers_are_wrong() {
        let c = challenge();
        let good = solve(&c);
        assert_eq!(verify(&c, &answer(good[1..].to_vec(), 1), &[1; 32], 2, 10), ChallengeVerdict::WrongAnswer);
        let mut out_of_field = good.clone();
        out_of_field[0] = u32::MAX;
        assert_eq!(verify(&c, &answer(out_of_field, 1), &[1; 32], 2, 10), ChallengeVerdict::WrongAnswer);
        let other = ChallengeAnswer { id: 10, product: good, duration_micros: 1 };
        assert_eq!(verify(&c, &other, &[1; 32], 2, 10), ChallengeVerdict::WrongAnswer);
    }

    #[test]
    fn a_right_answer_too_slow_for_the_class_fails() {
        let c = challenge();
        assert_eq!(verify(&c, &answer(solve(&c), 50_000), &[1; 32], 2, 10_000), ChallengeVerdict::TooSlow);
    }

    #[test]
    fn different_seeds_give_different_work() {
        let c = challenge();
        let other = Challenge { seed: [8; 32], ..c.clone() };
        assert_ne!(solve(&c), solve(&other));
    }

    #[test]
    fn answers_are_bound_to_the_worker_and_its_device_key() {
        let c = challenge();
        let device = SigningKey::from_bytes(&[4; 32]);
        let key = device.verifying_key().to_bytes();
        let signed = answer(solve(&c), 10).sign([1; 32], &c, &device);
        let json = serde_json::to_string(&signed).unwrap();
        let back: SignedAnswer = serde_json::from_str(&json).unwrap();
        assert_eq!(back.verify(&c, &key), Ok(()));
        let mut other_worker = back.clone();
        other_worker.worker = [2; 32];
        assert_eq!(other_worker.verify(&c, &key), Err(VerifyError::BadSignature));
        let mut faster = back;
        faster.answer.duration_micros = 1;
        assert_eq!(faster.verify(&c, &key), Err(VerifyError::BadSignature));
    }

    #[test]
    fn an_answer_counts_only_for_the_oracle_and_seed_it_was_given() {
        // A bad oracle issues its own challenge under an id an honest oracle also uses, then replays the
        // worker's answer there: the honest oracle's identity and seed are not what the worker signed.
        let honest = challenge();
        let bad = Challenge { seed: [8; 32], oracle: [6; 32], ..honest.clone() };
        let device = SigningKey::from_bytes(&[4; 32]);
        let key = device.verifying_key().to_bytes();
        let given_to_bad = answer(solve(&bad), 10).sign([1; 32], &bad, &device);
        assert_eq!(given_to_bad.verify(&bad, &key), Ok(()));
        assert_eq!(given_to_bad.verify(&honest, &key), Err(VerifyError::BadSignature));
        let same_seed_other_oracle = Challenge { oracle: [6; 32], ..honest.clone() };
        let given = answer(solve(&honest), 10).sign([1; 32], &same_seed_other_oracle, &device);
        assert_eq!(given.verify(&honest, &key), Err(VerifyError::BadSignature));
    }

    #[test]
    fn a_fetch_is_good_for_one_worker_oracle_and_moment() {
        let device = SigningKey::from_bytes(&[4; 32]);
        let key = device.verifying_key().to_bytes();
        let signature = sign_fetch([1; 32], [3; 32], 1_800_000_000, &device);
        assert_eq!(verify_fetch(&[1; 32], &[3; 32], 1_800_000_000, &signature, &key), Ok(()));
        assert!(verify_fetch(&[1; 32], &[6; 32], 1_800_000_000, &signature, &key).is_err(), "another oracle");
        assert!(verify_fetch(&[1; 32], &[3; 32], 1_800_000_001, &signature, &key).is_err(), "another time");
        assert!(verify_fetch(&[2; 32], &[3; 32], 1_800_000_000, &signature, &key).is_err(), "another worker");
    }
}
