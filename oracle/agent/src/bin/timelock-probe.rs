//! `timelock-probe`: the renter's voice, run inside the renter's own container. Every interval it reports the GPUs
//! it sees (and, on a GPU, how long a product takes) to each oracle, signed by the probe key the renter granted
//! (`timelock cluster grant-probe --id N --probe <PUBKEY> > grant.json`).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use timelock_agent::probe::Probe;
use timelock_agent::read_device_key;
use timelock_agent::runtime::Docker;
use timelock_agent::solver::Solver;
use timelock_agent::telemetry::{FileSource, NvmlSource, TelemetrySource};
use timelock_protocol::renter::SignedGrant;

#[derive(Parser, Debug)]
#[command(name = "timelock-probe", version, about = "The renter's report of the GPUs its container sees")]
struct Args {
    /// The grant `timelock cluster grant-probe` printed (JSON).
    #[arg(long, env = "TIMELOCK_PROBE_GRANT")]
    grant: PathBuf,
    /// The probe's keypair (Solana CLI format): the key the grant names.
    #[arg(long, env = "TIMELOCK_PROBE_KEYPAIR")]
    keypair: PathBuf,
    /// The lease (base58) whose GPUs this container runs on.
    #[arg(long, env = "TIMELOCK_PROBE_LEASE")]
    lease: String,
    #[arg(long = "oracle", env = "TIMELOCK_PROBE_ORACLE", value_delimiter = ',', required = true)]
    oracles: Vec<String>,
    #[arg(long, env = "TIMELOCK_PROBE_INTERVAL_SECS", default_value_t = 300)]
    interval_secs: u64,
    /// Side of the product timed on the GPUs each report (0: none).
    #[arg(long, env = "TIMELOCK_PROBE_MATMUL_SIZE", default_value_t = 4_096)]
    matmul_size: u32,
    /// Read the GPUs from this JSON file instead of NVML (tests, simulations).
    #[arg(long, env = "TIMELOCK_PROBE_TELEMETRY_FILE")]
    telemetry_file: Option<PathBuf>,
    /// Stop after this many reports.
    #[arg(long)]
    count: Option<u64>,
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

fn main() {
    let args = Args::parse();
    let key = read_device_key(&args.keypair).unwrap_or_else(|e| fail(&e));
    let grant_text = std::fs::read_to_string(&args.grant)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", args.grant.display())));
    let grant: SignedGrant = serde_json::from_str(&grant_text)
        .unwrap_or_else(|e| fail(&format!("{} is not a probe grant: {e}", args.grant.display())));
    if grant.grant.probe != key.verifying_key().to_bytes() {
        fail("the grant names another probe key than --keypair");
    }
    let lease = bs58::decode(&args.lease).into_vec().ok().and_then(|b| b.try_into().ok());
    let lease: [u8; 32] = lease.unwrap_or_else(|| fail("--lease must be a base58 public key"));
    let source: Box<dyn TelemetrySource + Send> = match &args.telemetry_file {
        Some(path) => Box::new(FileSource { path: path.clone() }),
        // Inside the renter's container there is no runtime to ask: only the GPUs' identities are reported.
        None => Box::new(NvmlSource::open(Docker::new("/nonexistent")).unwrap_or_else(|e| fail(&e.to_string()))),
    };
    let mut probe = Probe::new(grant, key, lease, source);
    probe.matmul_size = args.matmul_size;
    probe.solver = Solver::detect().0;
    let interval = Duration::from_secs(args.interval_secs.max(1));
    for sent in 1.. {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as u64;
        match probe.report(now) {
            Ok(report) => {
                for oracle in &args.oracles {
                    match probe.send(oracle, &report) {
                        Ok(answer) => {
                            eprintln!("report {} to {oracle}: agrees = {}", report.report.sequence, answer.agrees)
                        }
                        Err(error) => eprintln!("report {} to {oracle}: {error}", report.report.sequence),
                    }
                }
            }
            Err(error) => eprintln!("telemetry: {error}"),
        }
        if args.count.is_some_and(|count| sent >= count) {
            break;
        }
        std::thread::sleep(interval);
    }
}
