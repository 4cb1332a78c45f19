//! The benchmark challenge, sized to the GPU class the worker claims. The oracle sends a random seed; the agent
//! multiplies two seeded n × n matrices over the prime field p = 2^31 − 1 (on the GPU: a product a GPU of the
//! class finishes in about a second, a lesser one or a CPU far later) and, instead of sending the n² entries
//! back, commits to them: the Merkle root of the product's rows. The oracle's clock must see the commitment
//! before the class's deadline. Only then does the oracle reveal a probe seed, from which both sides derive a
//! random vector r and a handful of random rows; the agent answers with y = C·r and the rows with their Merkle
//! proofs. The oracle checks, in O(n²) time and O(n) memory:
//!
//! - y = A(B·r) (Freivalds: a wrong y survives with probability 1/p);
//! - each opened row is the committed one (its proof against the root), and its dot product with r is its
//!   entry of y. As r was drawn after the commitment, a committed row that is not the true row of A·B passes
//!   with probability 1/p: the opened rows are the product's, so the agent must have computed (nearly) all of
//!   it before its deadline.
//!
//! A challenge belongs to one oracle: ids are each oracle's own sequence, so every message signs the oracle's
//! identity and the seed as well as the id. Nothing given to one oracle (or to an oracle posing as another)
//! verifies anywhere else, and a bad oracle cannot replay it to fault the worker at an honest one.

use borsh::BorshSerialize;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use crate::merkle::{self, Hash};
use crate::VerifyError;

/// Prefix of a signed commitment to a product (see [`crate::HEARTBEAT_DOMAIN`]).
pub const COMMIT_DOMAIN: &[u8] = b"timelock-challenge-commit-v1";
/// Prefix of a signed opening.
pub const OPEN_DOMAIN: &[u8] = b"timelock-challenge-open-v1";
/// Prefix of a worker's signed request for its open challenge.
pub const FETCH_DOMAIN: &[u8] = b"timelock-challenge-fetch-v1";
const ROW_DOMAIN: &[u8] = b"timelock-challenge-row-v1";

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
    /// After this (Unix seconds) the challenge counts as failed.
    pub deadline: i64,
    /// The commitment must reach the oracle by then (Unix milliseconds, the oracle's clock): issue plus the
    /// worker's GPU class's time.
    #[serde(default)]
    pub commit_by_ms: i64,
}

/// The oracle's judgement of a challenge.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerJudged {
    pub id: u64,
    pub verdict: ChallengeVerdict,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChallengeVerdict {
    Passed,
    WrongAnswer,
    TooSlow,
}

/// The agent's commitment to its product: the Merkle root of the rows (see [`row_leaf`]).
#[derive(BorshSerialize, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commitment {
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 18_446_744_073_709_551_615_u64))]
    pub id: u64,
    #[serde(with = "hash_hex")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-fA-F]{64}$"))]
    pub root: Hash,
    /// The agent's own measure of its computation (informative: the oracle's clock decides).
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 18_446_744_073_709_551_615_u64))]
    pub duration_micros: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedCommitment {
    #[serde(with = "crate::base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub worker: [u8; 32],
    pub commitment: Commitment,
    #[serde(with = "crate::signature_hex")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-fA-F]{128}$"))]
    pub signature: [u8; 64],
}

/// The oracle's answer to a commitment in time: what to open, derived from a seed revealed only now.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Probe {
    pub id: u64,
    pub seed: [u8; 32],
    /// How many rows to open.
    pub rows: u32,
    /// The opening must arrive by then (Unix seconds, the oracle's clock).
    pub open_by: i64,
}

/// The oracle's answer to a commitment: a probe, or the verdict when the commitment came too late.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommitmentTaken {
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<ChallengeVerdict>,
}

/// A SHA-256 hash as it travels: 64 hex digits (the schema of a Merkle proof's items).
#[cfg(feature = "openapi")]
pub struct HexHash;

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for HexHash {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9a-fA-F]{64}$"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for HexHash {}

/// One committed row, opened.
#[derive(BorshSerialize, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenedRow {
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 4_294_967_295_u64))]
    pub index: u32,
    #[serde(deserialize_with = "crate::integral::many")]
    pub values: Vec<u32>,
    #[serde(with = "hashes_hex")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<HexHash>))]
    pub proof: Vec<Hash>,
}

/// The agent's answer to a probe: C·r, and the probed rows with their proofs.
#[derive(BorshSerialize, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Opening {
    #[serde(deserialize_with = "crate::integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 18_446_744_073_709_551_615_u64))]
    pub id: u64,
    #[serde(deserialize_with = "crate::integral::many")]
    pub product_times_probe: Vec<u32>,
    pub rows: Vec<OpenedRow>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedOpening {
    #[serde(with = "crate::base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub worker: [u8; 32],
    pub opening: Opening,
    #[serde(with = "crate::signature_hex")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-fA-F]{128}$"))]
    pub signature: [u8; 64],
}

/// The bytes a worker signs for a message about `challenge`: bound to the worker, the oracle and the seed.
fn bound_bytes(domain: &[u8], worker: &[u8; 32], challenge: &Challenge, message: &impl BorshSerialize) -> Vec<u8> {
    let mut bytes = domain.to_vec();
    bytes.extend_from_slice(worker);
    bytes.extend_from_slice(&challenge.oracle);
    bytes.extend_from_slice(&challenge.seed);
    BorshSerialize::serialize(message, &mut bytes).expect("writing to a Vec cannot fail");
    bytes
}

impl Commitment {
    /// Signed by the worker's device key, so that nobody else can commit (wrongly) in its name.
    pub fn sign(self, worker: [u8; 32], challenge: &Challenge, device: &SigningKey) -> SignedCommitment {
        let signature = device.sign(&bound_bytes(COMMIT_DOMAIN, &worker, challenge, &self)).to_bytes();
        SignedCommitment { worker, commitment: self, signature }
    }
}

impl SignedCommitment {
    /// Checks the signature against the challenge the verifier issued (its own identity and seed).
    pub fn verify(&self, challenge: &Challenge, device_key: &[u8; 32]) -> Result<(), VerifyError> {
        let bytes = bound_bytes(COMMIT_DOMAIN, &self.worker, challenge, &self.commitment);
        crate::verify_signature(device_key, &bytes, &self.signature)
    }
}

impl Opening {
    pub fn sign(self, worker: [u8; 32], challenge: &Challenge, device: &SigningKey) -> SignedOpening {
        let signature = device.sign(&bound_bytes(OPEN_DOMAIN, &worker, challenge, &self)).to_bytes();
        SignedOpening { worker, opening: self, signature }
    }
}

impl SignedOpening {
    pub fn verify(&self, challenge: &Challenge, device_key: &[u8; 32]) -> Result<(), VerifyError> {
        let bytes = bound_bytes(OPEN_DOMAIN, &self.worker, challenge, &self.opening);
        crate::verify_signature(device_key, &bytes, &self.signature)
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

/// The SplitMix64 state a stream of field elements starts from: both sides derive the same matrices.
pub fn stream_start(seed: &[u8; 32], salt: u64) -> u64 {
    let mut state = salt;
    for chunk in seed.chunks(8) {
        state ^= u64::from_le_bytes(chunk.try_into().expect("8-byte chunks"));
        state = state.rotate_left(17).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    state
}

/// Element `index` of the stream that starts at `start` (counter-based: any element without the ones before,
/// which is how the GPU fills a matrix in parallel and the verifier streams one without storing it).
pub fn element_at(start: u64, index: u64) -> u64 {
    let mut z = start.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % MODULUS
}

fn elements(seed: &[u8; 32], salt: u64, count: usize) -> Vec<u64> {
    let start = stream_start(seed, salt);
    (0..count as u64).map(|i| element_at(start, i)).collect()
}

/// Salts of the two matrices, of the probe vector and of the probed rows.
pub const SALT_A: u64 = 1;
pub const SALT_B: u64 = 2;
const SALT_PROBE: u64 = 100;
const SALT_ROWS: u64 = 200;

/// The product on the CPU: the reference for tests and hosts without CUDA, far too slow for a GPU class.
pub fn solve(challenge: &Challenge) -> Vec<u32> {
    let n = challenge.size as usize;
    let (a, b) = (elements(&challenge.seed, SALT_A, n * n), elements(&challenge.seed, SALT_B, n * n));
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

/// A product row's leaf: its index and its entries (little-endian).
pub fn row_leaf(index: u32, values: &[u32]) -> Hash {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    merkle::leaf(&[ROW_DOMAIN, &index.to_le_bytes(), &bytes])
}

/// The probe vector r and the rows to open, from the probe's seed.
pub fn probe_plan(seed: &[u8; 32], n: usize, rows: u32) -> (Vec<u64>, Vec<u32>) {
    let r = elements(seed, SALT_PROBE, n);
    let start = stream_start(seed, SALT_ROWS);
    let picked = (0..u64::from(rows)).map(|i| (element_at(start, i) % n.max(1) as u64) as u32).collect();
    (r, picked)
}

/// What the agent keeps of its product between committing and opening.
pub struct Committed {
    pub n: usize,
    pub product: Vec<u32>,
    pub leaves: Vec<Hash>,
    pub root: Hash,
}

impl Committed {
    /// Commits to an n × n product (row-major).
    pub fn new(n: usize, product: Vec<u32>) -> Self {
        let leaves: Vec<Hash> = product.chunks(n.max(1)).enumerate().map(|(i, row)| row_leaf(i as u32, row)).collect();
        let root = merkle::root(&leaves);
        Committed { n, product, leaves, root }
    }

    /// The answer to `probe`: C·r and the probed rows with their proofs.
    pub fn open(&self, probe: &Probe) -> Opening {
        let (r, picked) = probe_plan(&probe.seed, self.n, probe.rows);
        let n = self.n;
        let product_times_probe =
            (0..n).map(|i| dot(self.product[i * n..(i + 1) * n].iter().map(|v| u64::from(*v)), &r) as u32).collect();
        let rows = picked
            .iter()
            .map(|&i| OpenedRow {
                index: i,
                values: self.product[i as usize * n..(i as usize + 1) * n].to_vec(),
                proof: merkle::proof(&self.leaves, i as usize),
            })
            .collect();
        Opening { id: probe.id, product_times_probe, rows }
    }
}

fn dot(row: impl Iterator<Item = u64>, v: &[u64]) -> u64 {
    row.zip(v).fold(0u64, |acc, (a, b)| (acc + a * b) % MODULUS)
}

/// Row `i` of the product A·B alone, with A and B streamed from the seed: O(n²) time, O(n) memory.
pub fn product_row(challenge: &Challenge, i: u32) -> Vec<u32> {
    let n = challenge.size as usize;
    let (sa, sb) = (stream_start(&challenge.seed, SALT_A), stream_start(&challenge.seed, SALT_B));
    let mut row = vec![0u64; n];
    for k in 0..n {
        let aik = element_at(sa, (i as usize * n + k) as u64);
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (*cell + aik * element_at(sb, (k * n + j) as u64)) % MODULUS;
        }
    }
    row.into_iter().map(|v| v as u32).collect()
}

/// `A(B·r)` with A and B streamed from the seed: O(n²) time, O(n) memory.
pub fn product_times(challenge: &Challenge, r: &[u64]) -> Vec<u64> {
    let n = challenge.size as usize;
    let (sa, sb) = (stream_start(&challenge.seed, SALT_A), stream_start(&challenge.seed, SALT_B));
    let row_of = |start: u64, i: usize| (0..n).map(move |k| element_at(start, (i * n + k) as u64));
    let br: Vec<u64> = (0..n).map(|k| dot(row_of(sb, k), r)).collect();
    (0..n).map(|i| dot(row_of(sa, i), &br)).collect()
}

/// Judges an opening against the commitment's `root` and the probe the oracle sent.
pub fn verify_opening(challenge: &Challenge, root: &Hash, probe: &Probe, opening: &Opening) -> ChallengeVerdict {
    let n = challenge.size as usize;
    let (r, picked) = probe_plan(&probe.seed, n, probe.rows);
    let in_field = |values: &[u32]| values.len() == n && values.iter().all(|v| u64::from(*v) < MODULUS);
    let shaped = opening.id == challenge.id
        && in_field(&opening.product_times_probe)
        && opening.rows.len() == picked.len()
        && opening.rows.iter().zip(&picked).all(|(row, i)| row.index == *i && in_field(&row.values));
    if !shaped {
        return ChallengeVerdict::WrongAnswer;
    }
    let y = &opening.product_times_probe;
    for row in &opening.rows {
        let i = row.index as usize;
        let committed = merkle::verify(&row_leaf(row.index, &row.values), i, n, &row.proof, root);
        if !committed || dot(row.values.iter().map(|v| u64::from(*v)), &r) != u64::from(y[i]) {
            return ChallengeVerdict::WrongAnswer;
        }
    }
    let expected = product_times(challenge, &r);
    if expected.iter().zip(y).any(|(e, y)| *e != u64::from(*y)) {
        return ChallengeVerdict::WrongAnswer;
    }
    ChallengeVerdict::Passed
}

/// Hashes as 64 hex digits on the wire.
mod hash_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hash: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::bytes_to_hex(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        crate::bytes_from_hex(&text).ok_or_else(|| serde::de::Error::custom("a hash is 64 hex digits"))
    }
}

mod hashes_hex {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hashes: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(hashes.len()))?;
        for hash in hashes {
            seq.serialize_element(&crate::bytes_to_hex(hash))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| crate::bytes_from_hex(t).ok_or_else(|| serde::de::Error::custom("a hash is 64 hex digits")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> Challenge {
        Challenge { id: 9, seed: [7; 32], size: 48, oracle: [3; 32] }
    }

    fn probe(c: &Challenge) -> Probe {
        Probe { id: c.id, seed: [5; 32], rows: 8, open_by: 0 }
    }

    fn committed(c: &Challenge) -> Committed {
        Committed::new(c.size as usize, solve(c))
    }

    #[test]
    fn an_honest_product_opens_and_passes() {
        let c = challenge();
        let kept = committed(&c);
        let opening = kept.open(&probe(&c));
        assert_eq!(opening.rows.len(), 8);
        assert_eq!(verify_opening(&c, &kept.root, &probe(&c), &opening), ChallengeVerdict::Passed);
    }

    #[test]
    fn a_row_streamed_alone_is_the_products() {
        let c = challenge();
        let product = solve(&c);
        let n = c.size as usize;
        assert_eq!(product_row(&c, 5), product[5 * n..6 * n]);
    }

    #[test]
    fn the_counter_based_stream_is_the_sequential_one() {
        // What the GPU computes element by element is what the verifier streams.
        let start = stream_start(&[7; 32], SALT_A);
        let all = elements(&[7; 32], SALT_A, 100);
        assert!((0..100).all(|i| element_at(start, i as u64) == all[i]));
    }

    #[test]
    fn a_wrong_opened_row_is_refused() {
        let c = challenge();
        let kept = committed(&c);
        let p = probe(&c);
        // The row as committed but changed when opened: its proof no longer holds.
        let mut opening = kept.open(&p);
        opening.rows[0].values[3] = (opening.rows[0].values[3] + 1) % MODULUS as u32;
        assert_eq!(verify_opening(&c, &kept.root, &p, &opening), ChallengeVerdict::WrongAnswer);
        // Another row's proof, or another row than the probe asked for.
        let mut opening = kept.open(&p);
        opening.rows[0].proof = opening.rows[1].proof.clone();
        let moved = opening.rows[0].index != opening.rows[1].index;
        assert!(!moved || verify_opening(&c, &kept.root, &p, &opening) == ChallengeVerdict::WrongAnswer);
        let mut opening = kept.open(&p);
        opening.rows[0].index = (opening.rows[0].index + 1) % c.size;
        assert_eq!(verify_opening(&c, &kept.root, &p, &opening), ChallengeVerdict::WrongAnswer);
    }

    #[test]
    fn a_product_committed_wrong_fails_whatever_it_opens() {
        // A cheater computes only half the rows, commits, and when probed computes the probed rows honestly
        // (cheap) and y = A(Br) honestly (cheap): the probed rows it did not compute are not the committed ones.
        let c = challenge();
        let n = c.size as usize;
        let honest = solve(&c);
        let mut half = honest.clone();
        for v in &mut half[n * n / 2..] {
            *v = 0;
        }
        let kept = Committed::new(n, half);
        let p = Probe { rows: 16, ..probe(&c) };
        let mut opening = Committed::new(n, honest).open(&p);
        for row in &mut opening.rows {
            row.proof = merkle::proof(&kept.leaves, row.index as usize);
        }
        assert_eq!(verify_opening(&c, &kept.root, &p, &opening), ChallengeVerdict::WrongAnswer);
        // Opening what it committed instead: the rows from the half it skipped disagree with y.
        let opening = kept.open(&p);
        assert_eq!(verify_opening(&c, &kept.root, &p, &opening), ChallengeVerdict::WrongAnswer);
    }

    #[test]
    fn malformed_openings_are_wrong_not_a_panic() {
        let c = challenge();
        let kept = committed(&c);
        let p = probe(&c);
        let good = kept.open(&p);
        let mut short = good.clone();
        short.product_times_probe.pop();
        let mut out_of_field = good.clone();
        out_of_field.product_times_probe[0] = u32::MAX;
        let mut fewer = good.clone();
        fewer.rows.pop();
        let mut other_id = good.clone();
        other_id.id += 1;
        let mut ragged = good;
        ragged.rows[2].values.push(1);
        for opening in [short, out_of_field, fewer, other_id, ragged] {
            assert_eq!(verify_opening(&c, &kept.root, &p, &opening), ChallengeVerdict::WrongAnswer);
        }
    }

    #[test]
    fn different_seeds_give_different_work() {
        let c = challenge();
        let other = Challenge { seed: [8; 32], ..c.clone() };
        assert_ne!(solve(&c), solve(&other));
    }

    #[test]
    fn messages_are_bound_to_the_worker_the_oracle_and_the_seed() {
        let c = challenge();
        let device = SigningKey::from_bytes(&[4; 32]);
        let key = device.verifying_key().to_bytes();
        let kept = committed(&c);
        let signed = Commitment { id: c.id, root: kept.root, duration_micros: 10 }.sign([1; 32], &c, &device);
        let json = serde_json::to_string(&signed).unwrap();
        let back: SignedCommitment = serde_json::from_str(&json).unwrap();
        assert_eq!(back.verify(&c, &key), Ok(()));
        let mut other_worker = back.clone();
        other_worker.worker = [2; 32];
        assert_eq!(other_worker.verify(&c, &key), Err(VerifyError::BadSignature));
        let other_oracle = Challenge { oracle: [6; 32], ..c.clone() };
        assert_eq!(back.verify(&other_oracle, &key), Err(VerifyError::BadSignature));
        let other_seed = Challenge { seed: [8; 32], ..c.clone() };
        assert_eq!(back.verify(&other_seed, &key), Err(VerifyError::BadSignature));

        let opened = kept.open(&probe(&c)).sign([1; 32], &c, &device);
        let back: SignedOpening = serde_json::from_str(&serde_json::to_string(&opened).unwrap()).unwrap();
        assert_eq!(back.verify(&c, &key), Ok(()));
        let mut tampered = back;
        tampered.opening.product_times_probe[0] ^= 1;
        assert_eq!(tampered.verify(&c, &key), Err(VerifyError::BadSignature));
        // A commitment's signature is not an opening's.
        let as_opening = SignedOpening { worker: [1; 32], opening: kept.open(&probe(&c)), signature: signed.signature };
        assert_eq!(as_opening.verify(&c, &key), Err(VerifyError::BadSignature));
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
