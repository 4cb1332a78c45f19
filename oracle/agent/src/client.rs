//! Talking to the oracles. Every tick the agent signs one heartbeat and delivers it to every oracle at once,
//! each on its own thread, so a hung oracle costs the others nothing. An oracle that cannot take a heartbeat
//! right now (unreachable, overloaded, its database restarting: 429 and 5xx) keeps it in that oracle's queue,
//! retried with back-off within the tick and then on the next ticks, oldest first. The queue is bounded, and
//! kept in a spool file when one is given so that an agent restart loses nothing; heartbeats an oracle refuses
//! for good (too old for its clock, a replay of one it has) leave it.
//!
//! A challenge comes in the 202 answer to a heartbeat and is answered at once: its clock runs from then. When
//! an answer was lost, the agent reads its open challenge with a request it signs for that oracle.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use timelock_protocol::challenge::{self, AnswerJudged, Challenge, ChallengeAnswer, OpenChallenge};
use timelock_protocol::{HeartbeatAccepted, SignedHeartbeat};

use crate::telemetry::{TelemetryError, TelemetrySource};
use crate::{heartbeat, Identity};

/// Heartbeats kept per oracle while it cannot take them: an hour of 30 s intervals.
pub const MAX_QUEUED: usize = 120;

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
    /// How long a tick keeps retrying an oracle that cannot take heartbeats.
    pub retry_budget: Duration,
    spool: Option<PathBuf>,
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
        }
    }

    /// Keeps the queues in `path` (read now, rewritten after every tick).
    pub fn with_spool(mut self, path: &Path) -> Result<Self, String> {
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mut saved: BTreeMap<String, Vec<SignedHeartbeat>> =
                serde_json::from_str(&text).map_err(|e| format!("{} is not a spool file: {e}", path.display()))?;
            for link in &mut self.links {
                link.queue = saved.remove(&link.url).unwrap_or_default().into();
                let newest = link.queue.iter().map(|h| h.heartbeat.sequence).max().unwrap_or(0);
                self.last_sequence = self.last_sequence.max(newest);
            }
        }
        self.spool = Some(path.to_path_buf());
        Ok(self)
    }

    pub fn oracles(&self) -> impl Iterator<Item = &str> {
        self.links.iter().map(|l| l.url.as_str())
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
        let deliveries: Vec<Delivery> = std::thread::scope(|scope| {
            let running: Vec<_> = self
                .links
                .iter_mut()
                .map(|link| scope.spawn(move || link.deliver(http, device, worker, sequence, budget)))
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
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| format!("spool {}: {e}", path.display()))
    }
}

impl Link {
    /// Delivers the queue oldest first, retrying what the oracle cannot take now until `budget` is spent, then
    /// answers a challenge that came back (or reads the open one when nothing came back).
    fn deliver(
        &mut self,
        http: &reqwest::blocking::Client,
        device: &SigningKey,
        worker: [u8; 32],
        current: u64,
        budget: Duration,
    ) -> Delivery {
        let mut delivery = Delivery::default();
        let started = Instant::now();
        let mut backoff = Duration::from_millis(250);
        let mut offered = None;
        while let Some(next) = self.queue.front().cloned() {
            let sequence = next.heartbeat.sequence;
            match self.post(http, &next) {
                Outcome::Stored(challenge) => {
                    if sequence == current {
                        delivery.current = true;
                    } else {
                        delivery.earlier += 1;
                    }
                    offered = challenge.or(offered);
                    delivery.stored.push((self.url.clone(), sequence));
                    self.queue.pop_front();
                }
                Outcome::Dropped(why) => {
                    delivery.errors.push(format!("{}: heartbeat {sequence} refused: {why}", self.url));
                    self.queue.pop_front();
                }
                Outcome::Retry(why) => {
                    if started.elapsed() + backoff > budget {
                        delivery.errors.push(format!("{}: {why}; {} queued", self.url, self.queue.len()));
                        break;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        let offered = match offered {
            Some(challenge) => Some(challenge),
            None => self.read_open_challenge(http, device, worker).unwrap_or_else(|error| {
                delivery.errors.push(format!("{}: challenge: {error}", self.url));
                None
            }),
        };
        if let Some(challenge) = offered.filter(|c| self.answered != Some(c.id)) {
            match self.answer(http, device, worker, &challenge) {
                Ok(verdict) => delivery.challenges.push((self.url.clone(), challenge.id, verdict)),
                Err(error) => delivery.errors.push(format!("{}: challenge {}: {error}", self.url, challenge.id)),
            }
            self.answered = Some(challenge.id);
        }
        delivery
    }

    fn post(&mut self, http: &reqwest::blocking::Client, heartbeat: &SignedHeartbeat) -> Outcome {
        let response = match http.post(format!("{}/v1/heartbeats", self.url)).json(heartbeat).send() {
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
            // Already stored: this one's answer was lost on the way back.
            409 => Outcome::Stored(None),
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
        let response = http.get(url).send().map_err(|e| e.to_string())?;
        match response.status().as_u16() {
            200 => Ok(Some(response.json::<OpenChallenge>().map_err(|e| e.to_string())?.challenge)),
            204 => Ok(None),
            status => Err(format!("{status} {}", response.text().unwrap_or_default())),
        }
    }

    fn answer(
        &self,
        http: &reqwest::blocking::Client,
        device: &SigningKey,
        worker: [u8; 32],
        challenge: &Challenge,
    ) -> Result<String, String> {
        let started = Instant::now();
        // The CPU implementation; a GPU build computes the same product on the device.
        let product = challenge::solve(challenge);
        let duration_micros = started.elapsed().as_micros() as u64;
        let answer = ChallengeAnswer { id: challenge.id, product, duration_micros }.sign(worker, challenge, device);
        let response = http
            .post(format!("{}/v1/challenges/{}", self.url, challenge.id))
            .json(&answer)
            .send()
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().unwrap_or_default();
        if !status.is_success() {
            return Err(format!("{status} {text}"));
        }
        let judged: AnswerJudged = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        Ok(format!("{:?}", judged.verdict))
    }
}
