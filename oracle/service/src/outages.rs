//! The oracle's own unavailability. While its database or its chain reads fail, or its process is down, it
//! cannot hear heartbeats, and a worker must not be faulted for that: such spans are recorded and the policy
//! excuses the intervals in them that heard nothing (unpaid, not a fault). A span still open when a round
//! judges counts up to that moment.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use timelock_protocol::policy::Outage;
use timelock_service_kit::{Metrics, Readiness};

use crate::api::unix_now;
use crate::store::{Key, OutageCause, Store};

pub struct Outages {
    oracle: Key,
    store: Store,
    /// Since when each failing part has been failing.
    open: Mutex<HashMap<OutageCause, i64>>,
    /// Per cause: failed operations, and 1 while failing.
    failures: HashMap<OutageCause, (Arc<AtomicU64>, Arc<AtomicU64>)>,
    /// `/ready` names each cause failing now.
    readiness: Readiness,
}

impl Outages {
    pub fn new(oracle: Key, store: Store, metrics: &Metrics, readiness: Readiness) -> Self {
        let failures = OutageCause::ALL
            .iter()
            .map(|cause| {
                let label = format!("cause=\"{}\"", cause.as_str());
                let failed = metrics.counter("oracle_failures_total", "Failed database or chain operations.", &label);
                let down =
                    metrics.gauge("oracle_unavailable", "1 while the oracle cannot hear heartbeats, by cause.", &label);
                (*cause, (failed, down))
            })
            .collect();
        Outages { oracle, store, open: Mutex::default(), failures, readiness }
    }

    /// The gauge and `/ready` say whether `cause` is failing, and since when.
    fn publish(&self, cause: OutageCause, since: Option<i64>) {
        if let Some((_, down)) = self.failures.get(&cause) {
            down.store(u64::from(since.is_some()), Ordering::Relaxed);
        }
        let why = since.map(|since| format!("failing since {since} (the intervals it cannot hear are excused)"));
        self.readiness.stalled(cause.as_str(), why);
    }

    /// `cause` failed now; the span starts at its first failure.
    pub fn failed(&self, cause: OutageCause) {
        let now = unix_now();
        let since = *self.open.lock().expect("outages lock").entry(cause).or_insert(now);
        if let Some((failed, _)) = self.failures.get(&cause) {
            failed.fetch_add(1, Ordering::Relaxed);
        }
        self.publish(cause, Some(since));
    }

    /// `cause` works again: an open span is closed and stored (kept open when it cannot be stored yet).
    pub async fn recovered(&self, cause: OutageCause) {
        let Some(from) = self.open.lock().expect("outages lock").remove(&cause) else { return };
        self.publish(cause, None);
        // A span ends a second after its last failure could have been seen, so that an interval that ended in
        // the failing second is covered.
        let outage = Outage { from, to: unix_now() + 1 };
        if let Err(error) = self.store.record_outage(&self.oracle, cause, outage).await {
            tracing::warn!(%error, cause = cause.as_str(), "cannot record an outage yet");
            let since = *self.open.lock().expect("outages lock").entry(cause).or_insert(from);
            self.publish(cause, Some(since));
        } else {
            tracing::warn!(cause = cause.as_str(), from, to = outage.to, "outage over");
        }
    }

    /// Spans still open, up to now.
    fn open_spans(&self) -> Vec<Outage> {
        let now = unix_now();
        self.open.lock().expect("outages lock").values().map(|&from| Outage { from, to: now + 1 }).collect()
    }

    /// Every span overlapping `[from, to)`: recorded ones and those still open.
    pub async fn during(&self, from: i64, to: i64) -> sqlx::Result<Vec<Outage>> {
        let mut spans = self.store.outages(&self.oracle, from, to).await?;
        spans.extend(self.open_spans());
        Ok(spans)
    }

    /// Records this process's liveness; at start, the gap since the last record (the process was down).
    pub async fn beat(&self, starting: bool, tolerance_secs: i64) {
        let now = unix_now();
        match self.store.alive(&self.oracle, now).await {
            Ok(previous) => {
                self.recovered(OutageCause::Database).await;
                if let Some(last) = previous.filter(|last| starting && now - last > tolerance_secs) {
                    let outage = Outage { from: last, to: now + 1 };
                    match self.store.record_outage(&self.oracle, OutageCause::Process, outage).await {
                        Ok(()) => tracing::warn!(from = last, to = now, "the oracle was down"),
                        Err(error) => tracing::warn!(%error, "cannot record the process outage"),
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "database unavailable");
                self.failed(OutageCause::Database);
            }
        }
    }
}
