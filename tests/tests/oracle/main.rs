//! The oracle service against real Postgres (`#[sqlx::test]`: a fresh database per test) and the real .so in
//! LiteSVM: every refusal of the heartbeat API, durability, challenges, and attestation rounds that land on chain.

mod api_fuzz;
mod attestation;
mod challenges;
mod evidence;
mod heartbeats;
mod outages;
mod renter;
mod retention;

use std::collections::BTreeSet;

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sqlx::PgPool;
use timelock_oracle::store::{Store, StoredHeartbeat};
use timelock_oracle::{Config, RunningOracle};
use timelock_protocol::challenge::{self, Challenge, Commitment, Committed, Opening, Probe};
use timelock_protocol::SignedHeartbeat;
use timelock_sdk::ix;
use timelock_tests::oracle_world::{device_key, unix_now, OracleWorld};

use timelock_oracle::store::MIGRATOR as MIGRATIONS;

async fn send(oracle: &RunningOracle, method: &str, path: &str, body: String) -> (u16, Value) {
    let url = format!("http://{}{path}", oracle.addr);
    let client = reqwest::Client::new();
    let request = match method {
        "GET" => client.get(url),
        _ => client.post(url).header("content-type", "application/json").body(body),
    };
    let response = request.send().await.expect("oracle answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn post_heartbeat(oracle: &RunningOracle, heartbeat: &SignedHeartbeat) -> (u16, Value) {
    send(oracle, "POST", "/v1/heartbeats", serde_json::to_string(heartbeat).unwrap()).await
}

#[track_caller]
fn assert_refused(answer: (u16, Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"]["code"], code, "{}", answer.1);
    assert!(answer.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}
