//! Talking to the oracles. Every tick the agent signs one heartbeat and delivers it to every oracle at once,
//! each on its own thread, so a hung oracle costs the others nothing. An oracle that cannot take a heartbeat
//! right now (unreachable, overloaded, its database restarting: 429 and 5xx) keeps it in that oracle's queue,
//! retried with back-off within the tick and then on the next ticks, oldest first. The queue is bounded, and
//! kept in a spool file when one is given so that an agent restart loses nothing; heartbeats an oracle refuses
//! for good (too old for its clock, a replay of one it has) leave it.
//!
//! A challenge comes in the 202 answer to a heartbeat and is answered at once: its clock runs from then. The
//! agent computes the product, commits to it (the Merkle root of its rows), and opens what the oracle's probe
//! names. When an answer was lost, the agent reads its open challenge with a request it signs for that oracle.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use timelock_protocol::challenge::{
    self, AnswerJudged, Challenge, Commitment, CommitmentTaken, Committed, OpenChallenge,
};
use timelock_protocol::{HeartbeatAccepted, SignedHeartbeat};

use crate::solver::Solver;
use crate::telemetry::{TelemetryError, TelemetrySource};
use crate::{heartbeat, Identity};

/// Heartbeats kept per oracle while it cannot take them: an hour of 30 s intervals.
pub const MAX_QUEUED: usize = 120;

/// The largest challenge (matrix side) an agent takes: the largest GPU class's, with room (a 16,384² product is
/// 1 GiB of device memory per matrix).
pub const MAX_CHALLENGE_SIZE: u32 = 16_384;

/// One oracle as this agent knows it.
#[derive(Debug, Default)]
struct Link {
    url: String,
    /// The oracle's signing key, learnt from its answers: what a signed read of challenges is bound to.
    identity: Option<[u8; 32]>,
    queue: VecDeque<SignedHeartbeat>,
    /// The last challenge answered, so that one offered again is not answered twice.
    answered: Option<u64>,
}

pub struct Agent {
    pub identity: Identity,
    pub device: SigningKey,
    pub source: Box<dyn TelemetrySource + Send>,
    links: Vec<Link>,
    http: reqwest::blocking::Client,
    last_sequence: u64,
    /// How long a tick may spend on one oracle, every request and retry included (oracles are served at once).
    pub retry_budget: Duration,
    spool: Option<PathBuf>,
    /// Who computes challenges: the GPU where the driver is, else the CPU.
    pub solver: Solver,
}

/// What one tick did.
#[derive(Debug, Default)]
pub struct Tick {
    pub sequence: u64,
    /// Oracles that stored this tick's heartbeat (202).
    pub delivered: usize,
    /// Earlier heartbeats delivered this tick from the queues.
    pub redelivered: usize,
    /// Heartbeats still queued, all oracles together.
    pub queued: usize,
    /// `(oracle, sequence)` of every heartbeat an oracle confirmed it holds this tick (202, or 409 for one it
    /// had already).
    pub stored: Vec<(String, u64)>,
    pub errors: Vec<String>,
    /// `(oracle, challenge id, verdict)` for challenges answered this tick.
    pub challenges: Vec<(String, u64, String)>,
}

/// What one oracle did with its queue this tick.
#[derive(Default)]
struct Delivery {
    current: bool,
    earlier: usize,
    stored: Vec<(String, u64)>,
    errors: Vec<String>,
    challenges: Vec<(String, u64, String)>,
}

enum Outcome {
    /// Stored (or stored before: a replay), with the challenge that came back.
    Stored(Option<Challenge>),
    /// Refused for good (with why): retrying cannot help.
    Dropped(String),
    /// Not taken now: retry later.
    Retry(String),
}

impl Agent {
    pub fn new(
        identity: Identity,
        device: SigningKey,
        source: Box<dyn TelemetrySource + Send>,
        oracles: Vec<String>,
    ) -> Self {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(20)).build().expect("HTTP client");
        let links =
            oracles.into_iter().map(|o| Link { url: o.trim_end_matches('/').to_string(), ..Link::default() }).collect();
        Agent {
            identity,
            device,
            source,
            links,
            http,
            last_sequence: 0,
            retry_budget: Duration::from_secs(10),
            spool: None,
            solver: Solver::Cpu,
        }
    }

    /// Keeps the queues in `path` (read now, rewritten after every tick).
    pub fn with_spool(mut self, path: &Path) -> Result<Self, String> {
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            // A spool cut short (power lost mid-write on a file system that reorders) costs what it held, not the
            // agent: it starts with empty queues.
            let mut saved: BTreeMap<String, Vec<SignedHeartbeat>> = serde_json::from_str(&text).unwrap_or_else(|e| {
                eprintln!("warning: {} is not a spool file ({e}); starting with empty queues", path.display());
                BTreeMap::new()
            });
            for link in &mut self.links {
                link.queue = saved.remove(&link.url).unwrap_or_default().into();
                let newest = link.queue.iter().map(|h| h.heartbeat.sequence).max().unwrap_or(0);
                self.last_sequence = self.last_sequence.max(newest);
            }
        }
        self.spool = Some(path.to_path_buf());
        Ok(self)
    }

    /// The heartbeat for `now_millis` (Unix milliseconds, also the sequence number, kept strictly increasing so
    /// that it survives restarts and clock steps).
    pub fn next_heartbeat(&mut self, now_millis: u64) -> Result<SignedHeartbeat, TelemetryError> {
        let sequence = now_millis.max(self.last_sequence + 1);
        self.last_sequence = sequence;
        heartbeat(self.source.as_mut(), &self.identity, &self.device, sequence, (now_millis / 1000) as i64)
    }

    /// One interval's work: the heartbeat to every oracle (with what each still had queued), and the challenges
    /// that came back.
    pub fn tick(&mut self, now_millis: u64) -> Tick {
        let next = self.next_heartbeat(now_millis);
        let mut tick = Tick { sequence: self.last_sequence, ..Tick::default() };
        match next {
            Ok(signed) => {
                for link in &mut self.links {
                    if link.queue.len() >= MAX_QUEUED {
                        link.queue.pop_front();
                    }
                    link.queue.push_back(signed.clone());
                }
            }
            Err(error) => tick.errors.push(format!("telemetry: {error}")),
        }
        let sequence = tick.sequence;
        let (http, device, worker, budget) = (&self.http, &self.device, self.identity.worker, self.retry_budget);
        let solver = &self.solver;
        let deliveries: Vec<Delivery> = std::thread::scope(|scope| {
            let running: Vec<_> = self
                .links
                .iter_mut()
                .map(|link| scope.spawn(move || link.deliver(http, device, solver, worker, sequence, budget)))
                .collect();
            running.into_iter().map(|r| r.join().expect("delivery thread")).collect()
        });
        for delivery in deliveries {
            tick.delivered += usize::from(delivery.current);
            tick.redelivered += delivery.earlier;
            tick.stored.extend(delivery.stored);
            tick.errors.extend(delivery.errors);
            tick.challenges.extend(delivery.challenges);
        }
        tick.queued = self.links.iter().map(|l| l.queue.len()).sum();
        if let Err(error) = self.save_spool() {
            tick.errors.push(error);
        }
        tick
    }

    fn save_spool(&self) -> Result<(), String> {
        let Some(path) = &self.spool else { return Ok(()) };
        let saved: BTreeMap<&str, &VecDeque<SignedHeartbeat>> =
            self.links.iter().map(|l| (l.url.as_str(), &l.queue)).collect();
        let text = serde_json::to_string(&saved).expect("heartbeats serialize");
        // Written beside and renamed over: a crash mid-write leaves the previous spool whole.
        let partial = path.with_extension("partial");
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&partial)?;
            std::io::Write::write_all(&mut file, text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&partial, path)
        };
        write().map_err(|e| format!("spool {}: {e}", path.display()))
    }
}

impl Link {
    /// Delivers the queue oldest first within `budget` (no request outlives it, so one slow oracle never holds
    /// the tick past it), retrying what the oracle cannot take now with back-off. A challenge that comes back is
    /// answered at once, before anything else (its clock runs); with none, the open one is read.
    fn deliver(
        &mut self,
        http: &reqwest::blocking::Client,
        device: &SigningKey,
        solver: &Solver,
        worker: [u8; 32],
        current: u64,
        budget: Duration,
    ) -> Delivery {
        let mut delivery = Delivery::default();
        let started = Instant::now();
        let left = || budget.saturating_sub(started.elapsed());
        let mut backoff = Duration::from_millis(250);
        let mut heard = false;
        while let Some(next) = self.queue.front().cloned() {
            if left() < Duration::from_millis(100) {
                delivery.errors.push(format!("{}: out of time this tick; {} queued", self.url, self.queue.len()));
                break;
            }
            let sequence = next.heartbeat.sequence;
            match self.post(http, &next, left()) {
                Outcome::Stored(challenge) => {
                    heard = true;
                    if sequence == current {
                        delivery.current = true;
                    } else {
                        delivery.earlier += 1;
                    }
                    delivery.stored.push((self.url.clone(), sequence));
                    self.queue.pop_front();
                    if let Some(challenge) = challenge {
                        self.take_challenge(http, device, solver, worker, &challenge, &mut delivery);
                    }
                }
                Outcome::Dropped(why) => {
                    delivery.errors.push(format!("{}: heartbeat {sequence} refused: {why}", self.url));
                    self.queue.pop_front();
                }
                Outcome::Retry(why) => {
                    if backoff >= left() {
                        delivery.errors.push(format!("{}: {why}; {} queued", self.url, self.queue.len()));
                        break;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        // An answer lost on its way back: the open challenge is read again (only from an oracle that answers).
        if heard && left() > Duration::ZERO {
            match self.read_open_challenge(http, device, worker, left()) {
                Ok(Some(challenge)) => self.take_challenge(http, device, solver, worker, &challenge, &mut delivery),
                Ok(None) => {}
                Err(error) => delivery.errors.push(format!("{}: challenge: {error}", self.url)),
            }
        }
        delivery
    }

    /// Answers `challenge` unless it was answered already; it counts as answered once the oracle judged it.
    fn take_challenge(
        &mut self,
        http: &reqwest::blocking::Client,
        device: &SigningKey,
        solver: &Solver,
        worker: [u8; 32],
        challenge: &Challenge,
        delivery: &mut Delivery,
    ) {
        if self.answered == Some(challenge.id) {
            return;
        }
        // A challenge is this oracle's, and of a size an oracle sets (an absurd one would exhaust the host).
        if self.identity.is_some_and(|me| me != challenge.oracle) || challenge.size > MAX_CHALLENGE_SIZE {
            delivery
                .errors
                .push(format!("{}: challenge {} refused: not this oracle's or too large", self.url, challenge.id));
            return;
        }
        match self.answer(http, device, solver, worker, challenge) {
            Ok(verdict) => {
                self.answered = Some(challenge.id);
                delivery.challenges.push((self.url.clone(), challenge.id, verdict));
            }
            Err(error) => delivery.errors.push(format!("{}: challenge {}: {error}", self.url, challenge.id)),
        }
    }

    fn post(&mut self, http: &reqwest::blocking::Client, heartbeat: &SignedHeartbeat, within: Duration) -> Outcome {
        let request = http.post(format!("{}/v1/heartbeats", self.url)).timeout(within).json(heartbeat);
        let response = match request.send() {
            Ok(response) => response,
            Err(error) => return Outcome::Retry(error.to_string()),
        };
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        match status {
            202 => {
                // Stored either way; an answer this agent cannot read only costs it the challenge's early start.
                match serde_json::from_str::<HeartbeatAccepted>(&text) {
                    Ok(accepted) => {
                        self.identity = Some(accepted.oracle);
                        Outcome::Stored(accepted.open_challenge.map(|open| open.challenge))
                    }
                    Err(_) => Outcome::Stored(None),
                }
            }
            // The oracle holds this sequence or a higher one: nothing more to deliver, but not counted as stored
            // (a clock stepped back, or a key used elsewhere, shows here).
            409 => Outcome::Dropped(format!("{status} {text}")),
            429 | 500..=599 => Outcome::Retry(format!("{status} {text}")),
            _ => Outcome::Dropped(format!("{status} {text}")),
        }
    }

    /// The open challenge, by a request signed for this oracle (only once its identity is known).
    fn read_open_challenge(
        &self,
        http: &reqwest::blocking::Client,
        device: &SigningKey,
        worker: [u8; 32],
        within: Duration,
    ) -> Result<Option<Challenge>, String> {
        let Some(oracle) = self.identity else { return Ok(None) };
        let timestamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let signature = challenge::sign_fetch(worker, oracle, timestamp, device);
        let url = format!(
            "{}/v1/workers/{}/challenge?timestamp={timestamp}&signature={}",
            self.url,
            bs58::encode(worker).into_string(),
            timelock_protocol::signature_to_hex(&signature)
        );
        let response = http.get(url).timeout(within).send().map_err(|e| e.to_string())?;
        match response.status().as_u16() {
            200 => Ok(Some(response.json::<OpenChallenge>().map_err(|e| e.to_string())?.challenge)),
            204 => Ok(None),
            status => Err(format!("{status} {}", response.text().unwrap_or_default())),
        }
    }

    /// Computes the product, commits to it and opens what the oracle's probe names; the oracle's verdict.
    fn answer(
        &self,
        http: &reqwest::blocking::Client,
        device: &SigningKey,
        solver: &Solver,
        worker: [u8; 32],
        challenge: &Challenge,
    ) -> Result<String, String> {
        let started = Instant::now();
        let kept = Committed::new(challenge.size as usize, solver.product(challenge)?);
        let duration_micros = started.elapsed().as_micros() as u64;
        let commitment =
            Commitment { id: challenge.id, root: kept.root, duration_micros }.sign(worker, challenge, device);
        let taken: CommitmentTaken =
            self.post_json(http, &format!("/v1/challenges/{}/commitment", challenge.id), &commitment)?;
        let Some(probe) = taken.probe else {
            return Ok(format!("{:?}", taken.verdict.unwrap_or(challenge::ChallengeVerdict::TooSlow)));
        };
        let opening = kept.open(&probe).sign(worker, challenge, device);
        let judged: AnswerJudged =
            self.post_json(http, &format!("/v1/challenges/{}/opening", challenge.id), &opening)?;
        Ok(format!("{:?}", judged.verdict))
    }

    fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        http: &reqwest::blocking::Client,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, String> {
        let response = http.post(format!("{}{path}", self.url)).json(body).send().map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().unwrap_or_default();
        if !status.is_success() {
            return Err(format!("{status} {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
    }
}
