//! The renter's probe (`timelock-probe`): runs inside the renter's own container with a key the renter granted it
//! (`timelock cluster grant-probe`), and reports to the oracles the GPUs it sees there and how long a product of
//! the challenge's kind takes on them. The oracles compare the GPUs with the worker's registered ones.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use timelock_protocol::challenge::Challenge;
use timelock_protocol::renter::{RenterReport, RenterReportAccepted, SignedGrant, SignedReport};

use crate::solver::Solver;
use crate::telemetry::{TelemetryError, TelemetrySource};

pub struct Probe {
    pub grant: SignedGrant,
    pub key: SigningKey,
    pub lease: [u8; 32],
    pub source: Box<dyn TelemetrySource + Send>,
    pub solver: Solver,
    /// Side of the product timed each report (0: none).
    pub matmul_size: u32,
    last_sequence: u64,
    http: reqwest::blocking::Client,
}

impl Probe {
    pub fn new(grant: SignedGrant, key: SigningKey, lease: [u8; 32], source: Box<dyn TelemetrySource + Send>) -> Self {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().expect("HTTP client");
        Probe { grant, key, lease, source, solver: Solver::Cpu, matmul_size: 0, last_sequence: 0, http }
    }

    /// What the probe sees now, signed.
    pub fn report(&mut self, now_millis: u64) -> Result<SignedReport, TelemetryError> {
        let gpus = self.source.sample()?.into_iter().map(|gpu| gpu.uuid).collect();
        let sequence = now_millis.max(self.last_sequence + 1);
        self.last_sequence = sequence;
        let (matmul_size, matmul_ms) = self.measure(sequence);
        let report = RenterReport {
            lease: self.lease,
            sequence,
            timestamp: (now_millis / 1_000) as i64,
            gpus,
            matmul_size,
            matmul_ms,
        };
        Ok(report.sign(self.grant.clone(), &self.key))
    }

    /// A product timed on the GPU; none on the CPU, whose time says nothing of the GPUs.
    fn measure(&self, sequence: u64) -> (u32, u32) {
        if self.matmul_size == 0 || !matches!(self.solver, Solver::Gpu(_)) {
            return (0, 0);
        }
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&sequence.to_le_bytes());
        let challenge = Challenge { id: sequence, seed, size: self.matmul_size, oracle: [0; 32] };
        let started = Instant::now();
        match self.solver.product(&challenge) {
            Ok(_) => (self.matmul_size, started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32),
            Err(_) => (0, 0),
        }
    }

    /// Posts a report to one oracle.
    pub fn send(&self, oracle: &str, report: &SignedReport) -> Result<RenterReportAccepted, String> {
        let url = format!("{}/v1/renter-reports", oracle.trim_end_matches('/'));
        let response = self.http.post(url).json(report).send().map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().unwrap_or_default();
        if !status.is_success() {
            return Err(format!("{status} {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
    }
}
