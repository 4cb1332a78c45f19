//! Talking to the oracles: every tick the agent posts one signed heartbeat to each oracle and answers any
//! benchmark challenge an oracle has for this worker. A heartbeat an oracle did not take (overloaded, down) is
//! not retried: the next tick's heartbeat covers the next interval, and the policy tolerates short gaps.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use timelock_protocol::challenge::{self, Challenge, ChallengeAnswer};

use timelock_protocol::SignedHeartbeat;

use crate::telemetry::{TelemetryError, TelemetrySource};
use crate::{heartbeat, Identity};

pub struct Agent {
    pub identity: Identity,
    pub device: SigningKey,
    pub source: Box<dyn TelemetrySource + Send>,
    /// Base URLs of the oracle services.
    pub oracles: Vec<String>,
    http: reqwest::blocking::Client,
    last_sequence: u64,
}

/// What one tick did, per oracle.
#[derive(Debug, Default)]
pub struct Tick {
    pub sequence: u64,
    /// Oracles that stored the heartbeat (202).
    pub delivered: usize,
    pub errors: Vec<String>,
    /// `(oracle, challenge id, verdict)` for challenges answered this tick.
    pub challenges: Vec<(String, u64, String)>,
}

#[derive(serde::Deserialize)]
struct Issued {
    challenge: Challenge,
}

impl Agent {
    pub fn new(
        identity: Identity,
        device: SigningKey,
        source: Box<dyn TelemetrySource + Send>,
        oracles: Vec<String>,
    ) -> Self {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(20)).build().expect("HTTP client");
        let oracles = oracles.into_iter().map(|o| o.trim_end_matches('/').to_string()).collect();
        Agent { identity, device, source, oracles, http, last_sequence: 0 }
    }

    /// The heartbeat for `now_millis` (Unix milliseconds, also the sequence number, kept strictly increasing so
    /// that it survives restarts and clock steps).
    pub fn next_heartbeat(&mut self, now_millis: u64) -> Result<SignedHeartbeat, TelemetryError> {
        let sequence = now_millis.max(self.last_sequence + 1);
        self.last_sequence = sequence;
        heartbeat(self.source.as_mut(), &self.identity, &self.device, sequence, (now_millis / 1000) as i64)
    }

    /// One interval's work: the heartbeat to every oracle, then their challenges.
    pub fn tick(&mut self, now_millis: u64) -> Tick {
        let next = self.next_heartbeat(now_millis);
        let mut tick = Tick { sequence: self.last_sequence, ..Tick::default() };
        let signed = match next {
            Ok(signed) => signed,
            Err(error) => {
                tick.errors.push(format!("telemetry: {error}"));
                return tick;
            }
        };
        for oracle in &self.oracles {
            match self.http.post(format!("{oracle}/v1/heartbeats")).json(&signed).send() {
                Ok(response) if response.status().as_u16() == 202 => tick.delivered += 1,
                Ok(response) => {
                    let status = response.status();
                    tick.errors.push(format!("{oracle}: {status} {}", response.text().unwrap_or_default()));
                }
                Err(error) => tick.errors.push(format!("{oracle}: {error}")),
            }
            if let Err(error) = self.answer_challenge(oracle, &mut tick) {
                tick.errors.push(format!("{oracle}: challenge: {error}"));
            }
        }
        tick
    }

    fn answer_challenge(&self, oracle: &str, tick: &mut Tick) -> Result<(), String> {
        let worker = bs58::encode(self.identity.worker).into_string();
        let response = self.http.get(format!("{oracle}/v1/challenges/{worker}")).send().map_err(|e| e.to_string())?;
        if response.status().as_u16() != 200 {
            return Ok(()); // 204: nothing due
        }
        let issued: Issued = response.json().map_err(|e| e.to_string())?;
        let started = Instant::now();
        // The CPU implementation; a GPU build computes the same product on the device.
        let product = challenge::solve(&issued.challenge);
        let duration_micros = started.elapsed().as_micros() as u64;
        let answer = ChallengeAnswer { id: issued.challenge.id, product, duration_micros }
            .sign(self.identity.worker, &self.device);
        let response = self
            .http
            .post(format!("{oracle}/v1/challenges/{}", issued.challenge.id))
            .json(&answer)
            .send()
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body: serde_json::Value = response.json().unwrap_or_default();
        if !status.is_success() {
            return Err(format!("{status} {body}"));
        }
        let verdict = body["verdict"].as_str().unwrap_or("unknown").to_string();
        tick.challenges.push((oracle.to_string(), issued.challenge.id, verdict));
        Ok(())
    }
}
