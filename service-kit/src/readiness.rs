//! Readiness, as distinct from liveness: `/health` says the process answers, `/ready` says it does its job.
//! Each background loop that must keep succeeding (the indexer's ingest, the oracle's attestation rounds)
//! registers here and beats after every successful step; one silent for longer than it may be makes the
//! service not ready, with the loop's name and how long it has been silent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::{ApiError, ErrorCode};

/// The body of `/health` and `/ready` when all is well.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (`/health`) or `ready` (`/ready`)
    pub status: String,
}

/// `/health`: the process answers and its database does.
pub async fn health(pool: &sqlx::PgPool) -> Response {
    match database_answers(pool).await {
        Ok(()) => Json(Health { status: "ok".into() }).into_response(),
        Err(why) => ApiError::new(ErrorCode::DatabaseUnavailable, why).into_response(),
    }
}

/// How long a health check waits for the database: a server that is down makes the pool retry its connection
/// for much longer, and the check must say so well before the request times out.
const DATABASE_CHECK: Duration = Duration::from_secs(2);

async fn database_answers(pool: &sqlx::PgPool) -> Result<(), String> {
    match tokio::time::timeout(DATABASE_CHECK, sqlx::query("SELECT 1").execute(pool)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {} s", DATABASE_CHECK.as_secs())),
    }
}

#[derive(Clone, Default)]
pub struct Readiness {
    loops: Arc<Mutex<BTreeMap<&'static str, (Instant, Duration)>>>,
    /// Loops that run but cannot make progress, with why (a stall is red at once, not after the silence).
    stalls: Arc<Mutex<BTreeMap<&'static str, String>>>,
}

impl Readiness {
    /// A loop that must succeed at least every `max_silence`; it counts as fresh from now.
    pub fn register(&self, name: &'static str, max_silence: Duration) {
        self.loops.lock().expect("readiness lock").insert(name, (Instant::now(), max_silence));
    }

    pub fn beat(&self, name: &'static str) {
        if let Some((last, _)) = self.loops.lock().expect("readiness lock").get_mut(name) {
            *last = Instant::now();
        }
    }

    /// The loop runs but cannot make progress (`Some(why)`), or can again (`None`).
    pub fn stalled(&self, name: &'static str, why: Option<String>) {
        let mut stalls = self.stalls.lock().expect("readiness lock");
        match why {
            Some(why) => stalls.insert(name, why),
            None => stalls.remove(name),
        };
    }

    /// `/ready`'s verdict: the database answers and every loop is fresh, or 503 `not_ready` saying what is not.
    pub async fn check(&self, pool: &sqlx::PgPool) -> Result<(), ApiError> {
        let mut problems = self.problems();
        if let Err(why) = database_answers(pool).await {
            problems.push(format!("database: {why}"));
        }
        match problems.is_empty() {
            true => Ok(()),
            false => Err(ApiError::new(ErrorCode::NotReady, problems.join("; "))),
        }
    }

    /// `/ready`: 200 `ready`, or 503 `not_ready` saying what is not.
    pub async fn respond(&self, pool: &sqlx::PgPool) -> Response {
        match self.check(pool).await {
            Ok(()) => Json(Health { status: "ready".into() }).into_response(),
            Err(not_ready) => not_ready.into_response(),
        }
    }

    /// What is wrong, one line per silent or stalled loop; empty when every loop is fresh.
    pub fn problems(&self) -> Vec<String> {
        let loops = self.loops.lock().expect("readiness lock");
        let mut problems: Vec<String> = loops
            .iter()
            .filter(|(_, (last, max))| last.elapsed() > *max)
            .map(|(name, (last, _))| format!("{name}: no successful step for {} s", last.elapsed().as_secs()))
            .collect();
        let stalls = self.stalls.lock().expect("readiness lock");
        problems.extend(stalls.iter().map(|(name, why)| format!("{name}: stalled: {why}")));
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_silent_for_too_long_is_named() {
        let readiness = Readiness::default();
        readiness.register("ingest", Duration::from_millis(20));
        readiness.register("rounds", Duration::from_secs(60));
        assert!(readiness.problems().is_empty());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(readiness.problems().len(), 1);
        assert!(readiness.problems()[0].starts_with("ingest:"));
        readiness.beat("ingest");
        assert!(readiness.problems().is_empty());
        readiness.stalled("rounds", Some("the node is behind".into()));
        assert_eq!(readiness.problems(), vec!["rounds: stalled: the node is behind".to_string()]);
        readiness.stalled("rounds", None);
        assert!(readiness.problems().is_empty());
    }
}
