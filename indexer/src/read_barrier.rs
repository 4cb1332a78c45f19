//! One check that a copy is current, shared by every request that waits for it. A request may be answered from
//! the copy only after a check that *started after the request arrived* (a check already running may have read the
//! source before the request's own change was committed). So a request that finds no check running starts one,
//! and every request that arrives while one runs waits for the next, which starts as soon as that one ends: at
//! most one check runs and one waits, whatever the request rate, and none is answered from a check older than
//! itself.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Where the checks stand.
struct Rounds {
    /// The round that requests arriving now join: it has not started.
    next: u64,
    /// Some request waits for round `next`.
    wanted: bool,
    /// A task runs rounds (and starts the next one while any request waits for it).
    running: bool,
}

/// How the last rounds ended.
struct Outcome<E> {
    /// Every round up to this one has been passed by a successful round (a later success vouches for an
    /// earlier round, since it also started after that round's requests arrived).
    passed: u64,
    /// The last round that failed, with why.
    failed: Option<(u64, Arc<E>)>,
}

pub struct ReadBarrier<E> {
    rounds: Mutex<Rounds>,
    outcome: watch::Sender<Outcome<E>>,
}

/// A request's place: the round it waits for, and whether it must start the task that runs rounds.
#[must_use]
pub struct Ticket {
    round: u64,
    pub start_runner: bool,
}

impl<E> Default for ReadBarrier<E> {
    fn default() -> Self {
        ReadBarrier {
            rounds: Mutex::new(Rounds { next: 1, wanted: false, running: false }),
            outcome: watch::Sender::new(Outcome { passed: 0, failed: None }),
        }
    }
}

impl<E> ReadBarrier<E> {
    fn rounds(&self) -> std::sync::MutexGuard<'_, Rounds> {
        self.rounds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a place in the next round to start. When `start_runner` is set, the caller spawns
    /// [`ReadBarrier::run`] (no task runs rounds now).
    pub fn join(&self) -> Ticket {
        let mut rounds = self.rounds();
        rounds.wanted = true;
        let start_runner = !rounds.running;
        rounds.running = true;
        Ticket { round: rounds.next, start_runner }
    }

    /// Waits until the ticket's round (or a later one) has passed, or fails with why its round failed.
    pub async fn wait(&self, ticket: Ticket) -> Result<(), Arc<E>> {
        let mut outcome = self.outcome.subscribe();
        let reached =
            |o: &Outcome<E>| o.passed >= ticket.round || o.failed.as_ref().is_some_and(|(r, _)| *r >= ticket.round);
        let outcome = outcome.wait_for(reached).await.expect("the barrier owns its sender");
        match &outcome.failed {
            Some((round, error)) if outcome.passed < ticket.round && *round >= ticket.round => Err(error.clone()),
            _ => Ok(()),
        }
    }

    /// Runs rounds of `check` while requests wait for one; returns when none does.
    pub async fn run<F: Future<Output = Result<(), E>>>(&self, check: impl Fn() -> F) {
        // A check that panics must not leave the barrier believing a runner exists: the next request starts one
        // (and its round, later than the lost one, releases that one's requests too).
        struct OnPanic<'a, E>(&'a ReadBarrier<E>);
        impl<E> Drop for OnPanic<'_, E> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.rounds().running = false;
                }
            }
        }
        let _on_panic = OnPanic(self);
        loop {
            let round = {
                let mut rounds = self.rounds();
                if !rounds.wanted {
                    rounds.running = false;
                    return;
                }
                rounds.wanted = false;
                rounds.next += 1;
                rounds.next - 1
            };
            // Started only now, after every request of this round took its place.
            let result = check().await;
            self.outcome.send_modify(|outcome| match result {
                Ok(()) => outcome.passed = round,
                Err(error) => outcome.failed = Some((round, Arc::new(error))),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use super::*;

    /// A source, a copy of it that a check brings up to date (reading the source when it starts, storing what it
    /// read after a delay, like a query), and how many checks ran.
    #[derive(Default)]
    struct Mirror {
        barrier: ReadBarrier<String>,
        source: AtomicU64,
        copy: AtomicU64,
        checks: AtomicU64,
        fail: std::sync::atomic::AtomicBool,
    }

    impl Mirror {
        async fn check(&self) -> Result<(), String> {
            let read = self.source.load(Ordering::SeqCst);
            self.checks.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_micros(300)).await;
            if self.fail.load(Ordering::SeqCst) {
                return Err("source unavailable".into());
            }
            self.copy.fetch_max(read, Ordering::SeqCst);
            Ok(())
        }

        async fn current(self: &Arc<Self>) -> Result<u64, Arc<String>> {
            let ticket = self.barrier.join();
            if ticket.start_runner {
                let mirror = self.clone();
                tokio::spawn(async move { mirror.barrier.run(|| mirror.check()).await });
            }
            self.barrier.wait(ticket).await?;
            Ok(self.copy.load(Ordering::SeqCst))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn every_answer_holds_what_the_source_held_when_its_request_arrived_and_checks_are_shared() {
        let mirror = Arc::new(Mirror::default());
        let requests = 64 * 200;
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let mirror = mirror.clone();
                tokio::spawn(async move {
                    for _ in 0..200 {
                        // A write committed before the request arrives, then the request.
                        let written = mirror.source.fetch_add(1, Ordering::SeqCst) + 1;
                        let seen = mirror.current().await.unwrap();
                        assert!(seen >= written, "answered {seen} after {written} was written");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let checks = mirror.checks.load(Ordering::SeqCst);
        assert!(checks * 4 < requests, "{checks} checks for {requests} requests");
    }

    #[tokio::test]
    async fn a_failed_check_fails_its_requests_and_the_next_request_checks_again() {
        let mirror = Arc::new(Mirror::default());
        mirror.source.store(5, Ordering::SeqCst);
        mirror.fail.store(true, Ordering::SeqCst);
        assert_eq!(mirror.current().await.unwrap_err().as_str(), "source unavailable");
        mirror.fail.store(false, Ordering::SeqCst);
        assert_eq!(mirror.current().await.unwrap(), 5);
    }
}
