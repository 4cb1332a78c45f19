//! The protocol between worker agents and oracles: signed heartbeats (this module), the benchmark challenge
//! ([`challenge`]) and the Time-Lock policy that turns both into proven seconds and faults ([`policy`]).

pub mod challenge;
pub mod evidence;
pub mod merkle;
pub mod policy;
pub mod renter;

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Prefix of every signed heartbeat, so that a device key's signature can never be replayed as anything else.
pub const HEARTBEAT_DOMAIN: &[u8] = b"timelock-heartbeat-v2";

/// A compute process seen on a GPU, with the container (cgroup) it runs in when it has one and that
/// container's image as the container runtime reports it. The oracles judge the image against the renter's
/// workload on chain.
#[derive(BorshSerialize, BorshDeserialize, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GpuProcess {
    #[serde(deserialize_with = "integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 4_294_967_295_u64))]
    pub pid: u32,
    pub container: Option<String>,
    /// The container's image id (`sha256:…`, immutable), when the runtime told.
    #[serde(default)]
    pub image: Option<String>,
    /// The reference the container was created from (`ghcr.io/org/job:v3`), when the runtime told.
    #[serde(default)]
    pub image_name: Option<String>,
}

impl GpuProcess {
    /// The image references a renter may have listed this process under: its image id, then its name.
    pub fn images(&self) -> impl Iterator<Item = &str> {
        self.image.iter().chain(&self.image_name).map(String::as_str)
    }
}

#[derive(BorshSerialize, BorshDeserialize, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GpuSample {
    pub uuid: String,
    pub model: String,
    #[serde(deserialize_with = "integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 255))]
    pub utilization_pct: u8,
    #[serde(deserialize_with = "integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 18_446_744_073_709_551_615_u64))]
    pub memory_used_mib: u64,
    pub processes: Vec<GpuProcess>,
}

/// What a worker agent reports every interval. Keys are raw 32-byte public keys (the worker and lease
/// accounts, as on chain).
#[derive(BorshSerialize, BorshDeserialize, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Heartbeat {
    #[serde(with = "base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub worker: [u8; 32],
    #[serde(with = "base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub lease: [u8; 32],
    /// Strictly increasing per worker (below 2^63): the oracle refuses replays.
    #[serde(deserialize_with = "integral::one")]
    #[cfg_attr(feature = "openapi", schema(maximum = 9_223_372_036_854_775_807_u64))]
    pub sequence: u64,
    /// The agent's clock (Unix seconds): checked within the oracle's skew; the oracle's own receive time is what
    /// is judged.
    #[serde(deserialize_with = "integral::one")]
    #[cfg_attr(feature = "openapi", schema(minimum = -9_223_372_036_854_775_808_i64, maximum = 9_223_372_036_854_775_807_i64))]
    pub timestamp: i64,
    pub gpus: Vec<GpuSample>,
}

impl Heartbeat {
    /// The bytes the device key signs: the domain, then the Borsh encoding (canonical for these types).
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut bytes = HEARTBEAT_DOMAIN.to_vec();
        BorshSerialize::serialize(self, &mut bytes).expect("writing to a Vec cannot fail");
        bytes
    }

    pub fn sign(self, device: &SigningKey) -> SignedHeartbeat {
        let signature = device.sign(&self.signing_bytes()).to_bytes();
        SignedHeartbeat { heartbeat: self, signature }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedHeartbeat {
    pub heartbeat: Heartbeat,
    /// The device key's ed25519 signature of [`HEARTBEAT_DOMAIN`] and the heartbeat's Borsh encoding.
    #[serde(with = "signature_hex")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-fA-F]{128}$"))]
    pub signature: [u8; 64],
}

/// The 202 answer to a stored heartbeat.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeartbeatAccepted {
    pub accepted: bool,
    pub sequence: u64,
    /// The oracle's signing key: what its challenges, their answers and signed reads are bound to.
    #[serde(with = "base58")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"))]
    pub oracle: [u8; 32],
    /// The lease's open challenge from this oracle, when one is due or unanswered: its clock runs from issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_challenge: Option<challenge::OpenChallenge>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("device key is not a valid ed25519 point")]
    BadKey,
    #[error("signature does not match the worker's device key")]
    BadSignature,
}

impl SignedHeartbeat {
    pub fn verify(&self, device_key: &[u8; 32]) -> Result<(), VerifyError> {
        verify_signature(device_key, &self.heartbeat.signing_bytes(), &self.signature)
    }
}

pub(crate) fn verify_signature(device_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<(), VerifyError> {
    let key = VerifyingKey::from_bytes(device_key).map_err(|_| VerifyError::BadKey)?;
    key.verify(message, &Signature::from_bytes(signature)).map_err(|_| VerifyError::BadSignature)
}

/// A device key ready to verify with: decompressed once (the oracle keeps it with the worker's account), since
/// decompressing a point costs about as much as hashing a heartbeat and checking its share of a batch.
pub use ed25519_dalek::VerifyingKey as DeviceKey;

/// The device key `bytes` name, or `BadKey` when they are no ed25519 point.
pub fn device_key(bytes: &[u8; 32]) -> Result<DeviceKey, VerifyError> {
    DeviceKey::from_bytes(bytes).map_err(|_| VerifyError::BadKey)
}

/// Verifies many heartbeats at once (ed25519 batch verification, about twice as fast per signature as one by
/// one). On failure, falls back to single checks so the caller learns exactly which ones are bad.
pub fn verify_batch(items: &[(&SignedHeartbeat, [u8; 32])]) -> Vec<Result<(), VerifyError>> {
    let messages: Vec<Vec<u8>> = items.iter().map(|(h, _)| h.heartbeat.signing_bytes()).collect();
    let keys: Vec<Option<DeviceKey>> = items.iter().map(|(_, k)| device_key(k).ok()).collect();
    let signed: Vec<_> = items
        .iter()
        .zip(&messages)
        .zip(&keys)
        .map(|(((h, _), m), k)| (m.as_slice(), &h.signature, k.as_ref()))
        .collect();
    verify_messages(&signed)
}

/// Signatures batch-verified together. A batch that fails is checked again one signature at a time (about twice
/// the cost of its batch), so one forged heartbeat costs the oracle at most this group's worth of single checks
/// (about 11 ms of a core), not the whole writer batch's (up to 1,024 a core before: about 43 ms): anyone can send
/// heartbeats with a bad signature under a real worker's name. Smaller groups cost honest heartbeats: measured
/// per signature on these 2 cores (medians of three rounds), 27.5 µs in groups of 64, 21.4 in groups of 256, 22.6
/// in groups of 1,024, 42.5 one by one.
pub const VERIFY_GROUP: usize = 256;

/// [`verify_batch`] on what the device keys signed, already encoded (each heartbeat's
/// [`Heartbeat::signing_bytes`]: the caller keeps them, to store the encoding without serialising it again), with
/// the keys already decompressed (`None`: the worker's registered key is no point, and nothing verifies), in
/// groups of [`VERIFY_GROUP`].
pub fn verify_messages(items: &[(&[u8], &[u8; 64], Option<&DeviceKey>)]) -> Vec<Result<(), VerifyError>> {
    let mut results = Vec::with_capacity(items.len());
    for group in items.chunks(VERIFY_GROUP) {
        verify_group(group, &mut results);
    }
    results
}

fn verify_group(group: &[(&[u8], &[u8; 64], Option<&DeviceKey>)], results: &mut Vec<Result<(), VerifyError>>) {
    // A worker registered with a key that is no point fails alone, without spoiling its group's batch.
    let verifiable: Vec<_> =
        group.iter().filter_map(|(m, s, k)| k.map(|k| (*m, Signature::from_bytes(s), *k))).collect();
    let messages: Vec<&[u8]> = verifiable.iter().map(|(m, _, _)| *m).collect();
    let signatures: Vec<Signature> = verifiable.iter().map(|(_, s, _)| *s).collect();
    let keys: Vec<DeviceKey> = verifiable.iter().map(|(_, _, k)| *k).collect();
    let all_good = !verifiable.is_empty() && ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok();
    results.extend(group.iter().map(|(message, signature, key)| {
        let key = key.ok_or(VerifyError::BadKey)?;
        if all_good {
            return Ok(());
        }
        key.verify(message, &Signature::from_bytes(signature)).map_err(|_| VerifyError::BadSignature)
    }));
}

/// Integers as JSON Schema has them: a number with no fractional part (`327.0` is the integer 327), in range.
pub(crate) mod integral {
    use serde::de::{Deserializer, Error, Visitor};

    struct Integral;

    impl Visitor<'_> for Integral {
        type Value = i128;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<i128, E> {
            Ok(v.into())
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<i128, E> {
            Ok(v.into())
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<i128, E> {
            // Beyond 2^64 in magnitude no target type fits anyway; the bound keeps the cast exact.
            if v.fract() == 0.0 && v.abs() < 1.9e19 {
                Ok(v as i128)
            } else {
                Err(E::custom(format!("{v} is not an integer in range")))
            }
        }
    }

    pub fn one<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
        let value = d.deserialize_any(Integral)?;
        T::try_from(value).map_err(|_| D::Error::custom(format!("{value} is out of range")))
    }

    pub fn many<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Vec<T>, D::Error> {
        struct Each<T>(std::marker::PhantomData<T>);
        impl<'de, T: TryFrom<i128>> Visitor<'de> for Each<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of integers")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                #[derive(serde::Deserialize)]
                struct Item(#[serde(deserialize_with = "one")] i128);
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(Item(value)) = seq.next_element()? {
                    items.push(T::try_from(value).map_err(|_| A::Error::custom(format!("{value} is out of range")))?);
                }
                Ok(items)
            }
        }
        d.deserialize_seq(Each(std::marker::PhantomData))
    }
}

/// Account keys as base58 text on the wire, as everywhere else in Solana.
pub(crate) mod base58 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&bs58::encode(bytes).into_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = bs58::decode(&text).into_vec().map_err(serde::de::Error::custom)?;
        bytes.try_into().map_err(|_| serde::de::Error::custom("a public key is 32 bytes"))
    }
}

/// `N` bytes from exactly `2N` hex digits; `None` for anything else.
pub(crate) fn bytes_from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Read as bytes: a string of 2N bytes may hold multi-byte characters, and slicing it by byte offsets would
    // split one (a panic, not a refusal).
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(bytes)
}

pub(crate) fn bytes_to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A signature as the 128 hex digits it travels as; `None` for anything else.
pub fn signature_from_hex(text: &str) -> Option<[u8; 64]> {
    bytes_from_hex(text)
}

pub fn signature_to_hex(signature: &[u8; 64]) -> String {
    bytes_to_hex(signature)
}

pub(crate) mod signature_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::signature_to_hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let text = String::deserialize(d)?;
        super::signature_from_hex(&text).ok_or_else(|| serde::de::Error::custom("signature must be 128 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat(sequence: u64) -> Heartbeat {
        Heartbeat {
            worker: [1; 32],
            lease: [2; 32],
            sequence,
            timestamp: 1_800_000_000,
            gpus: vec![GpuSample {
                uuid: "GPU-1".into(),
                model: "H100-SXM".into(),
                utilization_pct: 97,
                memory_used_mib: 70_000,
                processes: vec![GpuProcess {
                    pid: 42,
                    container: Some("job".into()),
                    image: Some("sha256:1234".into()),
                    image_name: Some("ghcr.io/renter/job:v1".into()),
                }],
            }],
        }
    }

    fn device() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    #[test]
    fn signed_heartbeats_verify_and_tampering_is_caught() {
        let device = device();
        let key = device.verifying_key().to_bytes();
        let signed = heartbeat(1).sign(&device);
        assert_eq!(signed.verify(&key), Ok(()));
        let mut tampered = signed.clone();
        tampered.heartbeat.gpus[0].processes.clear();
        assert_eq!(tampered.verify(&key), Err(VerifyError::BadSignature));
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key().to_bytes();
        assert_eq!(signed.verify(&other), Err(VerifyError::BadSignature));
    }

    #[test]
    fn a_signature_of_non_ascii_characters_is_refused_not_a_panic() {
        let json = serde_json::to_string(&heartbeat(1).sign(&device())).unwrap();
        let start = json.find("\"signature\":\"").unwrap() + "\"signature\":\"".len();
        // 128 bytes: '€' is three, so byte offsets 1..4 are inside one character.
        let forged = format!("0€{}", "0".repeat(124));
        assert_eq!(forged.len(), 128);
        let body = format!("{}{}{}", &json[..start], forged, &json[start + 128..]);
        let refused = serde_json::from_str::<SignedHeartbeat>(&body).unwrap_err();
        assert!(refused.to_string().contains("128 hex digits"), "{refused}");
    }

    #[test]
    fn json_round_trip_keeps_the_signature_valid() {
        let device = device();
        let signed = heartbeat(7).sign(&device);
        let json = serde_json::to_string(&signed).unwrap();
        assert!(json.contains("\"signature\":\""));
        assert!(json.contains("\"worker\":\"4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi\""), "{json}");
        let back: SignedHeartbeat = serde_json::from_str(&json).unwrap();
        assert_eq!(back, signed);
        assert_eq!(back.verify(&device.verifying_key().to_bytes()), Ok(()));
        let short = json.replace(&json[json.find("\"signature\"").unwrap()..], "\"signature\":\"abcd\"}");
        assert!(serde_json::from_str::<SignedHeartbeat>(&short).is_err());
    }

    #[test]
    fn batch_verification_names_the_bad_ones() {
        let device = device();
        let key = device.verifying_key().to_bytes();
        let good: Vec<_> = (0..8).map(|i| heartbeat(i).sign(&device)).collect();
        let items: Vec<_> = good.iter().map(|h| (h, key)).collect();
        assert!(verify_batch(&items).iter().all(Result::is_ok));
        let mut bad = good.clone();
        bad[3].signature[0] ^= 1;
        let items: Vec<_> = bad.iter().map(|h| (h, key)).collect();
        let results = verify_batch(&items);
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
        assert_eq!(results[3], Err(VerifyError::BadSignature));
    }

    #[test]
    fn forgeries_are_named_exactly_in_whichever_group_they_fall() {
        let device = device();
        let key = device_key(&device.verifying_key().to_bytes()).unwrap();
        let mut signed: Vec<_> = (0..3 * VERIFY_GROUP as u64 + 5).map(|i| heartbeat(i).sign(&device)).collect();
        let forged = [0, VERIFY_GROUP - 1, VERIFY_GROUP, 2 * VERIFY_GROUP + 7, signed.len() - 1];
        for i in forged {
            signed[i].signature[40] ^= 0x10;
        }
        let messages: Vec<Vec<u8>> = signed.iter().map(|h| h.heartbeat.signing_bytes()).collect();
        let items: Vec<_> =
            signed.iter().zip(&messages).map(|(h, m)| (m.as_slice(), &h.signature, Some(&key))).collect();
        let results = verify_messages(&items);
        for (i, result) in results.iter().enumerate() {
            let expected = if forged.contains(&i) { Err(VerifyError::BadSignature) } else { Ok(()) };
            assert_eq!(*result, expected, "heartbeat {i}");
        }
    }

    #[test]
    fn verifying_the_encoding_once_judges_as_verifying_the_heartbeat() {
        let device = device();
        let key = device_key(&device.verifying_key().to_bytes()).unwrap();
        let mut signed: Vec<_> = (0..8).map(|i| heartbeat(i).sign(&device)).collect();
        signed[5].signature[9] ^= 1;
        let messages: Vec<Vec<u8>> = signed.iter().map(|h| h.heartbeat.signing_bytes()).collect();
        let items: Vec<_> =
            signed.iter().zip(&messages).map(|(h, m)| (m.as_slice(), &h.signature, Some(&key))).collect();
        let results = verify_messages(&items);
        let expected: Vec<_> = signed.iter().map(|h| h.verify(&device.verifying_key().to_bytes())).collect();
        assert_eq!(results, expected);
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
        // A registered key that is no point verifies nothing, and fails nothing else in the batch.
        let mut items = items;
        items[2].2 = None;
        let results = verify_messages(&items);
        assert_eq!(
            (results[2], results[5], results[0]),
            (Err(VerifyError::BadKey), Err(VerifyError::BadSignature), Ok(()))
        );
        let no_point =
            (0..=255u8).map(|b| [b; 32]).find(|k| device_key(k).is_err()).expect("many encodings are no point");
        assert_eq!(verify_batch(&[(&signed[0], no_point)]), vec![Err(VerifyError::BadKey)]);
    }
}
