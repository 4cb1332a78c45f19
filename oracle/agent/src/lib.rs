//! The worker agent beside a GPU: every interval it samples telemetry and emits a heartbeat signed by the
//! worker's device key (the key registered on chain in the worker's spec).

pub mod cgroup;
pub mod client;
pub mod gpu;
pub mod probe;
pub mod runtime;
pub mod solver;
pub mod telemetry;

use std::path::Path;

use ed25519_dalek::SigningKey;
use timelock_protocol::{Heartbeat, SignedHeartbeat};

use crate::telemetry::{TelemetryError, TelemetrySource};

/// Reads a device keypair in the Solana CLI format (64 bytes: secret, then public key), checking that the two
/// halves belong together.
pub fn read_device_key(path: &Path) -> Result<SigningKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let bytes: Vec<u8> =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a keypair file: {e}", path.display()))?;
    let bytes: [u8; 64] = bytes.try_into().map_err(|_| format!("{} must hold 64 bytes", path.display()))?;
    let key = SigningKey::from_keypair_bytes(&bytes)
        .map_err(|_| format!("{}: public half does not match", path.display()))?;
    Ok(key)
}

/// What one agent reports about.
pub struct Identity {
    pub worker: [u8; 32],
    pub lease: [u8; 32],
}

/// One signed heartbeat from the current telemetry. `sequence` must grow strictly (the agent uses Unix
/// milliseconds, which also survives restarts).
pub fn heartbeat(
    source: &mut dyn TelemetrySource,
    identity: &Identity,
    device: &SigningKey,
    sequence: u64,
    timestamp: i64,
) -> Result<SignedHeartbeat, TelemetryError> {
    let heartbeat =
        Heartbeat { worker: identity.worker, lease: identity.lease, sequence, timestamp, gpus: source.sample()? };
    Ok(heartbeat.sign(device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::FileSource;

    #[test]
    fn heartbeats_carry_telemetry_and_verify_with_the_device_key() {
        let dir = tempfile::tempdir().unwrap();
        let telemetry = dir.path().join("gpus.json");
        std::fs::write(
            &telemetry,
            r#"[{"uuid":"GPU-1","model":"H100-SXM","utilization_pct":97,"memory_used_mib":1000,
                 "processes":[{"pid":7,"container":"job"}]}]"#,
        )
        .unwrap();
        let device = SigningKey::from_bytes(&[5; 32]);
        let keypair_file = dir.path().join("device.json");
        std::fs::write(&keypair_file, serde_json::to_string(&device.to_keypair_bytes().to_vec()).unwrap()).unwrap();
        let device = read_device_key(&keypair_file).unwrap();
        let identity = Identity { worker: [1; 32], lease: [2; 32] };
        let signed = heartbeat(&mut FileSource { path: telemetry }, &identity, &device, 10, 1_800_000_000).unwrap();
        assert_eq!(signed.heartbeat.gpus[0].processes[0].container.as_deref(), Some("job"));
        assert_eq!(signed.verify(&device.verifying_key().to_bytes()), Ok(()));
    }

    #[test]
    fn bad_keypair_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        std::fs::write(&path, "[1,2,3]").unwrap();
        assert!(read_device_key(&path).unwrap_err().contains("64 bytes"));
        let mut mismatched = SigningKey::from_bytes(&[5; 32]).to_keypair_bytes();
        mismatched[40] ^= 1;
        std::fs::write(&path, serde_json::to_string(&mismatched.to_vec()).unwrap()).unwrap();
        assert!(read_device_key(&path).unwrap_err().contains("does not match"));
        assert!(read_device_key(&dir.path().join("missing.json")).unwrap_err().contains("cannot read"));
    }
}
