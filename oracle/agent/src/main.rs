//! `timelock-agent`: every interval, a heartbeat signed by the device key is posted to each oracle (or printed as
//! a JSON line when no oracle is given), and pending benchmark challenges are answered.
//!
//! Settings come from flags, then `TIMELOCK_AGENT_*` variables, then the `--config` TOML file, whose keys are
//! the flags' names (`keypair = "..."`, `oracle = ["http://..."]`).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use timelock_agent::client::Agent;
use timelock_agent::runtime::Docker;
use timelock_agent::solver::Solver;
use timelock_agent::telemetry::{FileSource, NvmlSource, TelemetrySource};
use timelock_agent::{read_device_key, Identity};

#[derive(Parser, Debug)]
#[command(name = "timelock-agent", version, about = "Signed GPU heartbeats for the timelock oracles")]
struct Args {
    /// TOML file with any of these settings (flags and environment variables take precedence).
    #[arg(long, env = "TIMELOCK_AGENT_CONFIG")]
    config: Option<PathBuf>,
    /// Device keypair (Solana CLI format) whose public key is registered in the worker's spec.
    #[arg(long, env = "TIMELOCK_AGENT_KEYPAIR")]
    keypair: PathBuf,
    /// Worker account (base58).
    #[arg(long, env = "TIMELOCK_AGENT_WORKER")]
    worker: String,
    /// Lease account (base58) the GPUs are committed to.
    #[arg(long, env = "TIMELOCK_AGENT_LEASE")]
    lease: String,
    /// Oracle service URL (repeat for each oracle of the quorum). None: print heartbeats instead.
    #[arg(long = "oracle", env = "TIMELOCK_AGENT_ORACLE", value_delimiter = ',')]
    oracles: Vec<String>,
    /// The container runtime's API socket (Docker's), asked which image each GPU process's container runs.
    #[arg(long, env = "TIMELOCK_AGENT_DOCKER_SOCKET", default_value = "/var/run/docker.sock")]
    docker_socket: PathBuf,
    #[arg(long, env = "TIMELOCK_AGENT_INTERVAL_SECS", default_value_t = 30)]
    interval_secs: u64,
    /// Read telemetry from this JSON file instead of NVML (hosts without a GPU, tests, simulations).
    #[arg(long, env = "TIMELOCK_AGENT_TELEMETRY_FILE")]
    telemetry_file: Option<PathBuf>,
    /// Keep heartbeats an oracle could not take yet in this file, so that a restart delivers them.
    #[arg(long, env = "TIMELOCK_AGENT_SPOOL")]
    spool: Option<PathBuf>,
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

/// Exposes the config file's settings as `TIMELOCK_AGENT_*` variables where none is set, so that clap's
/// precedence (flag, then variable) puts the file last.
fn load_config_file() {
    let args: Vec<String> = std::env::args().collect();
    let from_flag = args.iter().position(|a| a == "--config").and_then(|i| args.get(i + 1)).cloned();
    let Some(path) = from_flag.or_else(|| std::env::var("TIMELOCK_AGENT_CONFIG").ok()) else { return };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| fail(&format!("cannot read {path}: {e}")));
    let table: toml::Table = text.parse().unwrap_or_else(|e| fail(&format!("{path} is not TOML: {e}")));
    for (key, value) in table {
        let variable = format!("TIMELOCK_AGENT_{}", key.to_ascii_uppercase().replace('-', "_"));
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        if std::env::var_os(&variable).is_none() {
            std::env::set_var(variable, value);
        }
    }
}

fn main() {
    load_config_file();
    let args = Args::parse();
    let device = read_device_key(&args.keypair).unwrap_or_else(|e| fail(&e));
    let identity = Identity { worker: account("worker", &args.worker), lease: account("lease", &args.lease) };
    let source: Box<dyn TelemetrySource + Send> = match &args.telemetry_file {
        Some(path) => Box::new(FileSource { path: path.clone() }),
        None => Box::new(NvmlSource::open(Docker::new(&args.docker_socket)).unwrap_or_else(|e| fail(&e.to_string()))),
    };
    let now_millis = || SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as u64;
    let mut agent = Agent::new(identity, device, source, args.oracles.clone());
    let (solver, why_not_gpu) = Solver::detect();
    match why_not_gpu {
        None => eprintln!("challenges are computed on the {}", solver.describe()),
        Some(why) => eprintln!("challenges are computed on the CPU: {why}"),
    }
    agent.solver = solver;
    // Retries of a tick end in time for the next one.
    agent.retry_budget = Duration::from_secs(args.interval_secs) / 2;
    if let Some(path) = &args.spool {
        agent = agent.with_spool(path).unwrap_or_else(|e| fail(&e));
    }
    let mut sent = 0;
    // Ticks keep their schedule (start + k × interval) however long delivery took: a slow oracle must not stretch
    // the intervals the others judge.
    let interval = Duration::from_secs(args.interval_secs.max(1));
    let mut next_tick = std::time::Instant::now();
    loop {
        if args.oracles.is_empty() {
            match agent.next_heartbeat(now_millis()) {
                Ok(signed) => println!("{}", serde_json::to_string(&signed).expect("heartbeats serialize")),
                Err(error) => eprintln!("telemetry: {error}"),
            }
        } else {
            let tick = agent.tick(now_millis());
            let challenges: String =
                tick.challenges.iter().map(|(o, id, v)| format!("; challenge {id} from {o}: {v}")).collect();
            eprintln!(
                "heartbeat {}: stored by {}/{} oracles ({} earlier delivered, {} queued){challenges}",
                tick.sequence,
                tick.delivered,
                args.oracles.len(),
                tick.redelivered,
                tick.queued
            );
            for error in &tick.errors {
                eprintln!("  {error}");
            }
        }
        sent += 1;
        if args.count.is_some_and(|count| sent >= count) {
            break;
        }
        next_tick += interval;
        let now = std::time::Instant::now();
        if next_tick > now {
            std::thread::sleep(next_tick - now);
        } else {
            next_tick = now; // a tick overran: start the schedule again from now rather than burst
        }
    }
}
