//! `timelock-agent`: prints a signed heartbeat (JSON, one per line) every interval. Posting to the oracle
//! service comes with the service (issue 5); until then the output is what it will post.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use timelock_agent::telemetry::{FileSource, NvmlSource, TelemetrySource};
use timelock_agent::{heartbeat, read_device_key, Identity};

#[derive(Parser, Debug)]
#[command(name = "timelock-agent", version, about = "Signed GPU heartbeats for the timelock oracles")]
struct Args {
    /// Device keypair (Solana CLI format) whose public key is registered in the worker's spec.
    #[arg(long, env = "TIMELOCK_AGENT_KEYPAIR")]
    keypair: PathBuf,
    /// Worker account (base58).
    #[arg(long, env = "TIMELOCK_AGENT_WORKER")]
    worker: String,
    /// Lease account (base58) the GPUs are committed to.
    #[arg(long, env = "TIMELOCK_AGENT_LEASE")]
    lease: String,
    /// A container of the renter's job (repeat for each).
    #[arg(long = "allow", env = "TIMELOCK_AGENT_ALLOW", value_delimiter = ',')]
    allowed_containers: Vec<String>,
    #[arg(long, env = "TIMELOCK_AGENT_INTERVAL_SECS", default_value_t = 30)]
    interval_secs: u64,
    /// Read telemetry from this JSON file instead of NVML (hosts without a GPU, tests, simulations).
    #[arg(long, env = "TIMELOCK_AGENT_TELEMETRY_FILE")]
    telemetry_file: Option<PathBuf>,
    /// Stop after this many heartbeats.
    #[arg(long)]
    count: Option<u64>,
}

fn account(name: &str, text: &str) -> [u8; 32] {
    let bytes = bs58::decode(text).into_vec().unwrap_or_default();
    bytes.try_into().unwrap_or_else(|_| fail(&format!("--{name} must be a base58 public key, got {text:?}")))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

fn main() {
    let args = Args::parse();
    let device = read_device_key(&args.keypair).unwrap_or_else(|e| fail(&e));
    let identity = Identity {
        worker: account("worker", &args.worker),
        lease: account("lease", &args.lease),
        allowed_containers: args.allowed_containers.clone(),
    };
    let mut source: Box<dyn TelemetrySource> = match &args.telemetry_file {
        Some(path) => Box::new(FileSource { path: path.clone() }),
        None => Box::new(NvmlSource::open().unwrap_or_else(|e| fail(&e.to_string()))),
    };
    let mut sent = 0;
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970");
        let sequence = now.as_millis() as u64;
        match heartbeat(source.as_mut(), &identity, &device, sequence, now.as_secs() as i64) {
            Ok(signed) => println!("{}", serde_json::to_string(&signed).expect("heartbeats serialize")),
            Err(error) => eprintln!("telemetry: {error}"),
        }
        sent += 1;
        if args.count.is_some_and(|count| sent >= count) {
            break;
        }
        std::thread::sleep(Duration::from_secs(args.interval_secs));
    }
}
