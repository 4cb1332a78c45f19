//! Simulated worker agents: [`SimulatedAgent`] threads and the telemetry files they read.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use timelock_agent::client::Agent;
use timelock_agent::telemetry::FileSource;
use timelock_agent::Identity;

/// A simulated worker agent: a thread that ticks every `interval` with the telemetry in `telemetry` (which the
/// caller may rewrite to simulate a foreign process or a lost GPU) until `online` is cleared.
pub struct SimulatedAgent {
    pub telemetry: PathBuf,
    pub online: Arc<AtomicBool>,
    /// `(oracle URL, sequence)` of every heartbeat an oracle confirmed it holds.
    pub stored: Arc<Mutex<Vec<(String, u64)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimulatedAgent {
    pub fn start(
        identity: Identity,
        device: ed25519_dalek::SigningKey,
        telemetry: PathBuf,
        oracles: Vec<String>,
        interval: Duration,
    ) -> Self {
        let online = Arc::new(AtomicBool::new(true));
        let stored = Arc::new(Mutex::new(Vec::new()));
        let (running, path, confirmed) = (online.clone(), telemetry.clone(), stored.clone());
        let thread = std::thread::spawn(move || {
            let mut agent = Agent::new(identity, device, Box::new(FileSource { path }), oracles);
            agent.retry_budget = interval / 2;
            while running.load(Ordering::SeqCst) {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
                let tick = agent.tick(now as u64);
                confirmed.lock().expect("acknowledgements").extend(tick.stored);
                for error in tick.errors {
                    eprintln!("agent: {error}");
                }
                std::thread::sleep(interval);
            }
        });
        SimulatedAgent { telemetry, online, stored, thread: Some(thread) }
    }

    /// The agent goes offline (its host lost power or network).
    pub fn stop(&mut self) {
        self.online.store(false, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SimulatedAgent {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the agent of the host at `worker` reads as telemetry: its `gpu_count` registered H100s, each running a
/// process of each image (`None`: outside any container).
pub fn write_telemetry(path: &Path, worker: &Pubkey, gpu_count: u16, images: &[Option<&str>]) {
    write_gpus(path, &crate::simulated_gpus(worker, gpu_count, images));
}

/// Replaces the telemetry file at `path` with `gpus`, at once (an agent never reads half a file).
pub fn write_gpus(path: &Path, gpus: &[timelock_protocol::GpuSample]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_string(gpus).unwrap()).expect("telemetry");
    std::fs::rename(&tmp, path).expect("telemetry");
}
