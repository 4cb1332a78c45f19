//! The Time-Lock policy: a pure judgement of one lease's heartbeats over a window. An interval is *proven* when
//! a valid heartbeat covers it, every GPU of the worker is present with the registered model, no process outside
//! the renter's containers uses a GPU, and the latest benchmark challenge passed. Faults are counted once per
//! started `fault_span_secs` of a contiguous run (a foreign process seen for ten intervals is one fault, not ten;
//! seen for three hours, three), so that a fault's slash, sized on chain to the value of one span, makes a run
//! of any length cost more than it earns; missed intervals are a fault only when more than `offline_tolerance`
//! of them run together.
//!
//! Time is the oracle's: a heartbeat counts for the interval in which the oracle received it, whatever its
//! own timestamp says (the agent's clock is only checked within a skew), so a burst of heartbeats stamped
//! across several intervals proves one. Intervals the oracle itself could not hear (its database, its chain
//! reads or its process were down) are `Excused`: unpaid, but nobody's fault.

use serde::{Deserialize, Serialize};

use crate::{GpuSample, Heartbeat};

/// A heartbeat as the oracle received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The oracle's clock (Unix seconds) when the heartbeat arrived.
    pub received_at: i64,
    pub heartbeat: Heartbeat,
}

/// A span `[from, to)` (oracle clock) in which this oracle could not take heartbeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    pub from: i64,
    pub to: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyParams {
    /// Length of one judged interval: the agents' heartbeat interval.
    pub interval_secs: i64,
    /// Consecutive missed intervals tolerated (unpaid, but not a fault), e.g. a network blip or a restart.
    pub offline_tolerance: u32,
    /// A run longer than this is one more fault per started span (the program's `FAULT_SPAN_SECS`).
    pub fault_span_secs: i64,
    /// How long after an interval a passed challenge still answers a renter's complaint about it (the oracle
    /// challenges the worker at its next heartbeat after a complaint).
    pub renter_cover_secs: i64,
}

/// A renter probe's report as the oracle received it: whether the GPUs it saw are the worker's registered ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenterSight {
    pub received_at: i64,
    pub agrees: bool,
    /// GPUs the probe saw.
    pub gpus: usize,
}

/// Everything an oracle holds about one lease, each sorted by time (outages in any order).
#[derive(Clone, Copy, Debug, Default)]
pub struct Evidence<'a> {
    /// Signature-checked heartbeats of this lease.
    pub heartbeats: &'a [Observation],
    /// This lease's settled challenges.
    pub challenges: &'a [ChallengeResult],
    pub outages: &'a [Outage],
    pub renter: &'a [RenterSight],
}

/// What the chain says: the worker's GPUs, and what its renter allows to run on them. The rules that compare
/// (GPU UUID and image hashes) are the program's; the oracle passes them in, so this crate needs no chain types.
#[derive(Clone, Copy)]
pub struct Expectation<'a> {
    pub gpu_count: usize,
    pub gpu_model: &'a str,
    /// Whether a heartbeat's GPUs are exactly the ones registered to the worker (by UUID).
    pub registered_gpus: &'a dyn Fn(&[GpuSample]) -> bool,
    pub workload: &'a dyn Workload,
}

/// The renter's declared workload over time (the program's `Workload`, version by version).
pub trait Workload {
    /// Whether the renter had declared a workload by `at`: before, GPU processes are not judged.
    fn declared_at(&self, at: i64) -> bool;
    /// Whether the workload in force at `at` allows a process of the image reference `image`.
    fn allows(&self, image: &str, at: i64) -> bool;
    /// Whether the renter listed `image` at any time up to `at`: its own image, which it stopped allowing.
    fn listed_by_then(&self, image: &str, at: i64) -> bool;
}

/// Longest text of an agent's (container id, image) kept in a reason.
pub const MAX_REASON_TEXT: usize = 256;

/// A renter that declared nothing.
pub struct Undeclared;

impl Workload for Undeclared {
    fn declared_at(&self, _at: i64) -> bool {
        false
    }
    fn allows(&self, _image: &str, _at: i64) -> bool {
        true
    }
    fn listed_by_then(&self, _image: &str, _at: i64) -> bool {
        false
    }
}

/// Why an interval was or was not paid, as the oracle serves it (`GET /v1/leases/{lease}/intervals`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    Proven,
    /// No heartbeat arrived: unpaid; an offline fault once more than the tolerance run together.
    Missed,
    /// No heartbeat arrived while this oracle was itself unavailable: unpaid, nobody's fault.
    Excused,
    /// A GPU process the renter's workload does not allow.
    ForeignProcess {
        pid: u32,
        container: Option<String>,
        image: Option<String>,
        image_name: Option<String>,
    },
    /// A GPU process of an image the renter listed earlier and dropped: unpaid, not a fault.
    DroppedImage {
        pid: u32,
        container: Option<String>,
        image: Option<String>,
        image_name: Option<String>,
    },
    /// Fewer GPUs than booked, or of another model.
    MissingGpu {
        reported: usize,
        expected: usize,
        model: String,
    },
    /// The GPUs reported are not the ones registered to the worker.
    GpuMismatch,
    /// The last benchmark challenge failed (wrong, late or unanswered).
    ChallengeFailed,
    /// The renter's probe saw other GPUs than the worker's registered ones, and no passed challenge answered it:
    /// unpaid, not a fault.
    RenterDisagreement {
        renter_saw: usize,
        expected: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChallengeResult {
    pub at: i64,
    pub passed: bool,
    /// Issued because the renter complained, at a moment the renter chose: its pass is positive proof like any,
    /// but its failure faults nobody (the renter could have loaded the GPUs then); the complaint just stands.
    pub prompted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    Offline,
    ForeignProcess,
    MissingGpu,
    GpuMismatch,
    FailedChallenge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    Proven,
    Missed,
    /// Nothing heard while the oracle was unavailable: unpaid, not a fault, and neither part nor end of a run.
    Excused,
    /// Heard, but running an image the renter itself listed and since dropped: unpaid, and nobody's fault (the
    /// renter's own job outside its own list cannot be turned into the supplier's slash). Neither part nor end
    /// of a run.
    Unpaid,
    Faulty(Fault),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// Start of the first judged interval, and the intervals' length.
    pub start: i64,
    pub step: i64,
    pub proven_secs: u64,
    /// Each fault with the start of the interval where its run began.
    pub faults: Vec<(i64, Fault)>,
    pub intervals: Vec<Interval>,
    /// Each interval's reason, in the same order.
    pub reasons: Vec<Reason>,
}

/// Judges the whole intervals of `[start, end)` on the lease's evidence.
pub fn judge(start: i64, end: i64, evidence: Evidence, expect: Expectation, params: PolicyParams) -> Judgement {
    let Evidence { heartbeats, challenges, outages, renter } = evidence;
    let step = params.interval_secs.max(1);
    let count = usize::try_from(end.saturating_sub(start) / step).unwrap_or(0);
    let mut intervals = Vec::with_capacity(count);
    let mut reasons = Vec::with_capacity(count);
    let outages = merged(outages);
    let mut next_outage = 0;
    let mut next_heartbeat = 0;
    let mut next_challenge = 0;
    let mut next_sight = 0;
    let mut challenge_passed = true;
    for i in 0..count {
        let from = start + step * i as i64;
        let to = from + step;
        let mut latest = None;
        while next_heartbeat < heartbeats.len() && heartbeats[next_heartbeat].received_at < to {
            if heartbeats[next_heartbeat].received_at >= from {
                latest = Some((heartbeats[next_heartbeat].received_at, &heartbeats[next_heartbeat].heartbeat));
            }
            next_heartbeat += 1;
        }
        while next_challenge < challenges.len() && challenges[next_challenge].at < to {
            let result = challenges[next_challenge];
            if result.passed || !result.prompted {
                challenge_passed = result.passed;
            }
            next_challenge += 1;
        }
        // Outages are sorted and disjoint, and intervals come in order: a cursor, not a scan per interval.
        while next_outage < outages.len() && outages[next_outage].to <= from {
            next_outage += 1;
        }
        let unheard: i64 =
            outages[next_outage..].iter().take_while(|o| o.from < to).map(|o| o.to.min(to) - o.from.max(from)).sum();
        let mut complaint = None;
        while next_sight < renter.len() && renter[next_sight].received_at < to {
            let sight = renter[next_sight];
            if sight.received_at >= from && !sight.agrees {
                complaint = Some(sight);
            }
            next_sight += 1;
        }
        let (interval, reason) = match latest {
            // Excused only when the oracle was deaf for at least half of it: a blip is no cover for a silence.
            None if 2 * unheard >= step => (Interval::Excused, Reason::Excused),
            None => (Interval::Missed, Reason::Missed),
            Some((received_at, heartbeat)) => {
                match (verdict(heartbeat, received_at, challenge_passed, expect), complaint) {
                    // The supplier's evidence holds, the renter's contradicts it: a challenge passed in the interval
                    // or answering the complaint (issued at the next heartbeat) decides; without one the interval is
                    // unpaid, and nobody's fault.
                    ((Interval::Proven, _), Some(sight))
                        if !challenges
                            .iter()
                            .any(|c| c.passed && c.at >= from && c.at < to + params.renter_cover_secs) =>
                    {
                        (
                            Interval::Unpaid,
                            Reason::RenterDisagreement { renter_saw: sight.gpus, expected: expect.gpu_count },
                        )
                    }
                    (judged, _) => judged,
                }
            }
        };
        intervals.push(interval);
        reasons.push(reason);
    }
    let proven = intervals.iter().filter(|v| **v == Interval::Proven).count() as u64;
    Judgement {
        start,
        step,
        proven_secs: proven * step as u64,
        faults: faults(start, step, &intervals, params),
        intervals,
        reasons,
    }
}

/// The outages sorted and merged into disjoint spans.
fn merged(outages: &[Outage]) -> Vec<Outage> {
    let mut sorted: Vec<Outage> = outages.iter().copied().filter(|o| o.to > o.from).collect();
    sorted.sort_by_key(|o| o.from);
    let mut spans: Vec<Outage> = Vec::with_capacity(sorted.len());
    for outage in sorted {
        match spans.last_mut() {
            Some(last) if outage.from <= last.to => last.to = last.to.max(outage.to),
            _ => spans.push(outage),
        }
    }
    spans
}

impl Judgement {
    /// What this judgement counts from `since` on: `(proven seconds of the intervals that start at or after it,
    /// faults detected at or after it)`. Judging from the lease's start and counting from a dispute resolution
    /// keeps runs and outages that straddle the resolution whole (a run the decision already counted is not
    /// counted again, nor does an outage escape its tolerance).
    pub fn counted_from(&self, since: i64) -> (u64, usize) {
        let starts = (self.start..).step_by(self.step as usize);
        let proven = starts.zip(&self.intervals).filter(|(at, v)| *at >= since && **v == Interval::Proven).count();
        let faults = self.faults.iter().filter(|(at, _)| *at >= since).count();
        (proven as u64 * self.step as u64, faults)
    }
}

fn verdict(heartbeat: &Heartbeat, received_at: i64, challenge_passed: bool, expect: Expectation) -> (Interval, Reason) {
    let wrong_model = heartbeat.gpus.iter().find(|g| !g.model.eq_ignore_ascii_case(expect.gpu_model));
    if heartbeat.gpus.len() < expect.gpu_count || wrong_model.is_some() {
        let model = wrong_model.map_or_else(|| expect.gpu_model.to_string(), |g| g.model.clone());
        let reason = Reason::MissingGpu { reported: heartbeat.gpus.len(), expected: expect.gpu_count, model };
        return (Interval::Faulty(Fault::MissingGpu), reason);
    }
    if !(expect.registered_gpus)(&heartbeat.gpus) {
        return (Interval::Faulty(Fault::GpuMismatch), Reason::GpuMismatch);
    }
    let workload = expect.workload;
    if workload.declared_at(received_at) {
        // A process outside any container, or whose image the runtime did not tell, is foreign: the renter's
        // job runs in the containers it declared.
        let foreign = heartbeat
            .gpus
            .iter()
            .flat_map(|g| &g.processes)
            .find(|p| p.container.is_none() || !p.images().any(|image| workload.allows(image, received_at)));
        if let Some(p) = foreign {
            // Reasons are served and kept: what the agent wrote is cut to a sane length.
            let text = |s: &Option<String>| s.as_ref().map(|s| s.chars().take(MAX_REASON_TEXT).collect());
            let (pid, container, image, image_name) = (p.pid, text(&p.container), text(&p.image), text(&p.image_name));
            if p.container.is_some() && p.images().any(|image| workload.listed_by_then(image, received_at)) {
                let reason = Reason::DroppedImage { pid, container, image, image_name };
                return (Interval::Unpaid, reason);
            }
            let reason = Reason::ForeignProcess { pid, container, image, image_name };
            return (Interval::Faulty(Fault::ForeignProcess), reason);
        }
    }
    if !challenge_passed {
        return (Interval::Faulty(Fault::FailedChallenge), Reason::ChallengeFailed);
    }
    (Interval::Proven, Reason::Proven)
}

fn faults(start: i64, step: i64, intervals: &[Interval], params: PolicyParams) -> Vec<(i64, Fault)> {
    // Intervals per fault span, at least one.
    let span = usize::try_from((params.fault_span_secs / step).max(1)).unwrap_or(usize::MAX);
    let tolerance = params.offline_tolerance as usize;
    let mut found = Vec::new();
    let mut missed_run = 0usize;
    let mut run_start = start;
    let mut faulty_run = 0usize;
    let mut previous = None;
    for (i, interval) in intervals.iter().enumerate() {
        let at = start + step * i as i64;
        // What the oracle could not hear is no evidence either way: it neither counts toward a run nor ends
        // one (ending it would cut one outage of the host into two faults).
        if matches!(interval, Interval::Excused | Interval::Unpaid) {
            continue;
        }
        if *interval == Interval::Missed {
            missed_run += 1;
            if missed_run == 1 {
                run_start = at;
            }
            // The run becomes a fault once it exceeds the tolerance, and one more per span after that.
            if missed_run > tolerance && (missed_run - tolerance - 1).is_multiple_of(span) {
                let fault_at = if missed_run == tolerance + 1 { run_start } else { at };
                found.push((fault_at, Fault::Offline));
            }
        } else {
            missed_run = 0;
        }
        if let Interval::Faulty(fault) = interval {
            faulty_run = if previous == Some(*interval) { faulty_run + 1 } else { 1 };
            if (faulty_run - 1).is_multiple_of(span) {
                found.push((at, *fault));
            }
        } else {
            faulty_run = 0;
        }
        previous = Some(*interval);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GpuProcess, GpuSample};

    const START: i64 = 1_000;
    const PARAMS: PolicyParams =
        PolicyParams { interval_secs: 30, offline_tolerance: 2, fault_span_secs: 3_600, renter_cover_secs: 60 };
    fn registered(gpus: &[GpuSample]) -> bool {
        gpus.iter().all(|g| g.uuid.starts_with("GPU-"))
    }
    /// The renter runs the image `job`.
    struct JobOnly;
    impl Workload for JobOnly {
        fn declared_at(&self, _at: i64) -> bool {
            true
        }
        fn allows(&self, image: &str, _at: i64) -> bool {
            image == "job"
        }
        fn listed_by_then(&self, image: &str, _at: i64) -> bool {
            image == "job" || image == "old-job"
        }
    }
    const EXPECT: Expectation<'static> =
        Expectation { gpu_count: 2, gpu_model: "H100-SXM", registered_gpus: &registered, workload: &JobOnly };

    /// A heartbeat with a process of each image (`None`: a process outside any container) on every GPU.
    fn beat(at: i64, images: &[Option<&str>], gpus: usize) -> Heartbeat {
        Heartbeat {
            worker: [1; 32],
            lease: [2; 32],
            sequence: at as u64,
            timestamp: at,
            gpus: (0..gpus)
                .map(|i| GpuSample {
                    uuid: format!("GPU-{i}"),
                    model: "H100-SXM".into(),
                    utilization_pct: 99,
                    memory_used_mib: 1,
                    processes: images
                        .iter()
                        .map(|image| GpuProcess {
                            pid: 7,
                            container: image.map(|_| "4f1c2b3a9d8e".to_string()),
                            image: image.map(str::to_string),
                            image_name: None,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn honest(intervals: i64) -> Vec<Heartbeat> {
        (0..intervals).map(|i| beat(START + 30 * i + 5, &[Some("job")], 2)).collect()
    }

    /// Heartbeats received when they say they were made.
    fn on_time(beats: &[Heartbeat]) -> Vec<Observation> {
        beats.iter().map(|b| Observation { received_at: b.timestamp, heartbeat: b.clone() }).collect()
    }

    fn judge_on_time(
        start: i64,
        end: i64,
        beats: &[Heartbeat],
        challenges: &[ChallengeResult],
        params: PolicyParams,
    ) -> Judgement {
        judge(start, end, Evidence { heartbeats: &on_time(beats), challenges, ..Evidence::default() }, EXPECT, params)
    }

    #[test]
    fn honest_worker_proves_every_interval() {
        let j = judge_on_time(START, START + 300, &honest(10), &[], PARAMS);
        assert_eq!((j.proven_secs, j.faults.len()), (300, 0));
    }

    #[test]
    fn a_partial_last_interval_is_not_judged_yet() {
        let j = judge_on_time(START, START + 315, &honest(11), &[], PARAMS);
        assert_eq!(j.intervals.len(), 10);
    }

    #[test]
    fn foreign_process_is_one_fault_per_run_and_unpaid() {
        let mut beats = honest(10);
        for b in &mut beats[3..6] {
            *b = beat(b.timestamp, &[Some("job"), Some("miner")], 2);
        }
        beats[8] = beat(beats[8].timestamp, &[None], 2); // a host process outside any container
        let j = judge_on_time(START, START + 300, &beats, &[], PARAMS);
        assert_eq!(j.proven_secs, 6 * 30);
        assert_eq!(j.faults, vec![(START + 90, Fault::ForeignProcess), (START + 240, Fault::ForeignProcess)]);
    }

    #[test]
    fn a_run_is_one_fault_per_started_span() {
        // Five minutes spans of ten intervals: a 25-interval foreign process is three faults.
        let params = PolicyParams { fault_span_secs: 300, ..PARAMS };
        let mut beats = honest(30);
        for b in &mut beats[2..27] {
            *b = beat(b.timestamp, &[Some("job"), Some("miner")], 2);
        }
        let j = judge_on_time(START, START + 900, &beats, &[], params);
        let at = |interval: i64| (START + 30 * interval, Fault::ForeignProcess);
        assert_eq!(j.faults, vec![at(2), at(12), at(22)]);
        // An outage: the first fault once the tolerance is exceeded, then one per further span.
        let beats: Vec<_> = honest(30).into_iter().take(3).collect();
        let j = judge_on_time(START, START + 900, &beats, &[], params);
        assert_eq!(
            j.faults,
            vec![(START + 90, Fault::Offline), (START + 30 * 15, Fault::Offline), (START + 30 * 25, Fault::Offline)]
        );
    }

    #[test]
    fn counting_from_a_resolution_keeps_runs_whole() {
        // A foreign process from 60 s to 240 s; a decision at 150 s already counted its fault.
        let mut beats = honest(10);
        for b in &mut beats[2..8] {
            *b = beat(b.timestamp, &[Some("job"), Some("miner")], 2);
        }
        let j = judge_on_time(START, START + 300, &beats, &[], PARAMS);
        assert_eq!(j.counted_from(START), (4 * 30, 1));
        // From the decision on: proven intervals 240..300 only, and no new fault for the run it counted.
        assert_eq!(j.counted_from(START + 150), (2 * 30, 0));
    }

    #[test]
    fn missing_or_wrong_gpus_are_faults() {
        let mut beats = honest(4);
        beats[1] = beat(beats[1].timestamp, &[Some("job")], 1);
        beats[2].gpus[0].model = "RTX-4090".into();
        let j = judge_on_time(START, START + 120, &beats, &[], PARAMS);
        assert_eq!(j.proven_secs, 60);
        assert_eq!(j.faults, vec![(START + 30, Fault::MissingGpu)]);
        assert_eq!(j.reasons[1], Reason::MissingGpu { reported: 1, expected: 2, model: "H100-SXM".into() });
        assert_eq!(j.reasons[2], Reason::MissingGpu { reported: 2, expected: 2, model: "RTX-4090".into() });
    }

    #[test]
    fn short_gaps_are_unpaid_and_long_gaps_are_offline_faults() {
        let mut beats = honest(20);
        beats.drain(2..4); // 2 missed: tolerated
        let j = judge_on_time(START, START + 600, &beats, &[], PARAMS);
        assert_eq!((j.proven_secs, j.faults.len()), (18 * 30, 0));
        beats.drain(8..13); // 5 more missed in a row: one offline fault
        let j = judge_on_time(START, START + 600, &beats, &[], PARAMS);
        assert_eq!(j.proven_secs, 13 * 30);
        assert_eq!(j.faults, vec![(START + 300, Fault::Offline)]);
    }

    #[test]
    fn a_failed_challenge_faults_until_one_passes() {
        let challenges = [
            ChallengeResult { at: START + 70, passed: false, prompted: false },
            ChallengeResult { at: START + 160, passed: true, prompted: false },
        ];
        let j = judge_on_time(START, START + 300, &honest(10), &challenges, PARAMS);
        // Intervals 2..5 (from 60 s to 150 s) carry the failure.
        assert_eq!(j.proven_secs, 7 * 30);
        assert_eq!(j.faults, vec![(START + 60, Fault::FailedChallenge)]);
    }

    #[test]
    fn a_burst_stamped_across_intervals_proves_only_the_interval_it_arrived_in() {
        // Five heartbeats stamped -59, -29, +1, +31 and +59 s around their arrival, all received at once.
        let arrival = START + 65;
        let burst: Vec<Observation> = [-59, -29, 1, 31, 59]
            .iter()
            .map(|skew| Observation { received_at: arrival, heartbeat: beat(arrival + skew, &[Some("job")], 2) })
            .collect();
        let j = judge(START, START + 150, Evidence { heartbeats: &burst, ..Evidence::default() }, EXPECT, PARAMS);
        assert_eq!(j.proven_secs, 30);
        assert_eq!(j.intervals[2], Interval::Proven);
    }

    #[test]
    fn the_oracles_own_outage_is_excused_not_a_fault() {
        // Ten minutes of silence, of which the oracle was down from 60 s to 540 s.
        let beats: Vec<_> =
            honest(20).into_iter().enumerate().filter(|(i, _)| !(2..18).contains(i)).map(|(_, b)| b).collect();
        let outage = Outage { from: START + 60, to: START + 540 };
        let j = judge(
            START,
            START + 600,
            Evidence { heartbeats: &on_time(&beats), outages: &[outage], ..Evidence::default() },
            EXPECT,
            PARAMS,
        );
        assert_eq!((j.proven_secs, j.faults.len()), (4 * 30, 0));
        assert_eq!(j.intervals.iter().filter(|i| **i == Interval::Excused).count(), 16);
        // The same silence without the outage is an offline fault.
        let j =
            judge(START, START + 600, Evidence { heartbeats: &on_time(&beats), ..Evidence::default() }, EXPECT, PARAMS);
        assert_eq!(j.faults, vec![(START + 60, Fault::Offline)]);
        // A heartbeat that did arrive during a partial outage is judged as usual.
        let j = judge(
            START,
            START + 600,
            Evidence { heartbeats: &on_time(&honest(20)), outages: &[outage], ..Evidence::default() },
            EXPECT,
            PARAMS,
        );
        assert_eq!(j.proven_secs, 600);
        // Blips of a second each (a flapping node) cover no silence: the outage is still the host's.
        let blips: Vec<Outage> = (2..18).map(|i| Outage { from: START + 30 * i, to: START + 30 * i + 1 }).collect();
        let j = judge(
            START,
            START + 600,
            Evidence { heartbeats: &on_time(&beats), outages: &blips, ..Evidence::default() },
            EXPECT,
            PARAMS,
        );
        assert_eq!(j.faults, vec![(START + 60, Fault::Offline)]);
    }

    #[test]
    fn the_renters_workload_decides_what_is_foreign_and_the_reason_names_it() {
        let mut beats = honest(4);
        beats[1] = beat(beats[1].timestamp, &[Some("job"), Some("miner")], 2);
        beats[2].gpus[1].processes[0].image = None; // the runtime did not tell: not the renter's declared image
        let j = judge_on_time(START, START + 120, &beats, &[], PARAMS);
        assert_eq!(j.proven_secs, 60);
        assert_eq!(j.reasons[0], Reason::Proven);
        assert_eq!(
            j.reasons[1],
            Reason::ForeignProcess {
                pid: 7,
                container: Some("4f1c2b3a9d8e".into()),
                image: Some("miner".into()),
                image_name: None
            }
        );
        assert!(matches!(j.reasons[2], Reason::ForeignProcess { image: None, .. }));
        // A process listed under its name rather than its id is the renter's too.
        let mut named = honest(1);
        for gpu in &mut named[0].gpus {
            gpu.processes[0].image = Some("sha256:abcd".into());
            gpu.processes[0].image_name = Some("job".into());
        }
        assert_eq!(judge_on_time(START, START + 30, &named, &[], PARAMS).proven_secs, 30);
        // The renter's own earlier image, dropped from its list while it still runs: unpaid, nobody's fault.
        let mut dropped = honest(3);
        for gpu in &mut dropped[1].gpus {
            gpu.processes[0].image = Some("old-job".into());
        }
        let j = judge_on_time(START, START + 90, &dropped, &[], PARAMS);
        assert_eq!((j.proven_secs, j.faults.len()), (60, 0));
        assert_eq!(j.intervals[1], Interval::Unpaid);
        assert!(matches!(j.reasons[1], Reason::DroppedImage { .. }));
        // An agent's text is kept to a sane length.
        let mut long = honest(1);
        long[0].gpus[0].processes[0].image_name = Some("x".repeat(10_000));
        long[0].gpus[0].processes[0].image = None;
        let j = judge_on_time(START, START + 30, &long, &[], PARAMS);
        let Reason::ForeignProcess { image_name: Some(name), .. } = &j.reasons[0] else { panic!("{:?}", j.reasons) };
        assert_eq!(name.len(), MAX_REASON_TEXT);
        // Without a declared workload, processes are not judged.
        let undeclared = Expectation { workload: &Undeclared, ..EXPECT };
        let j = judge(
            START,
            START + 120,
            Evidence { heartbeats: &on_time(&beats), ..Evidence::default() },
            undeclared,
            PARAMS,
        );
        assert_eq!(j.proven_secs, 120);
    }

    #[test]
    fn a_renters_complaint_withholds_pay_until_a_passed_challenge_answers_it_and_never_faults() {
        let beats = on_time(&honest(10));
        let complaint = |at: i64| RenterSight { received_at: START + at, agrees: false, gpus: 1 };
        let renter = [RenterSight { received_at: START + 10, agrees: true, gpus: 2 }, complaint(40), complaint(250)];
        let judged = |challenges: &[ChallengeResult]| {
            let evidence = Evidence { heartbeats: &beats, challenges, renter: &renter, ..Evidence::default() };
            judge(START, START + 300, evidence, EXPECT, PARAMS)
        };
        // Nothing answers either complaint: both intervals unpaid, with the renter's reason, and no fault.
        let j = judged(&[]);
        assert_eq!((j.proven_secs, j.faults.len()), (8 * 30, 0));
        assert_eq!(j.intervals[1], Interval::Unpaid);
        assert_eq!(j.reasons[1], Reason::RenterDisagreement { renter_saw: 1, expected: 2 });
        assert_eq!(j.reasons[8], Reason::RenterDisagreement { renter_saw: 1, expected: 2 });
        assert_eq!(j.reasons[0], Reason::Proven, "a report that agrees changes nothing");
        // A challenge passed soon after the first complaint outweighs it; one long after answers nothing.
        let j = judged(&[ChallengeResult { at: START + 95, passed: true, prompted: true }]);
        assert_eq!(j.intervals[1], Interval::Proven);
        assert_eq!(j.intervals[8], Interval::Unpaid);
        // The challenge a complaint prompted fails (at a moment the renter chose, when it could have loaded the
        // GPUs): the complaint stands, and still nobody is at fault.
        let j = judged(&[ChallengeResult { at: START + 95, passed: false, prompted: true }]);
        assert_eq!((j.intervals[1], j.faults.len()), (Interval::Unpaid, 0));
        assert_eq!(j.intervals[4], Interval::Proven, "a prompted failure is no failed challenge");
        // The supplier's own evidence failing stays the supplier's fault, whatever the renter says.
        let mut swapped = honest(10);
        swapped[1].gpus[0].uuid = "swapped-in".into();
        let evidence = Evidence { heartbeats: &on_time(&swapped), renter: &renter, ..Evidence::default() };
        let j = judge(START, START + 300, evidence, EXPECT, PARAMS);
        assert_eq!(j.reasons[1], Reason::GpuMismatch);
    }

    #[test]
    fn gpus_other_than_the_registered_ones_are_a_mismatch() {
        let mut beats = honest(3);
        beats[1].gpus[0].uuid = "swapped-in".into();
        let j = judge_on_time(START, START + 90, &beats, &[], PARAMS);
        assert_eq!(j.intervals[1], Interval::Faulty(Fault::GpuMismatch));
        assert_eq!(j.reasons[1], Reason::GpuMismatch);
        assert_eq!(j.faults, vec![(START + 30, Fault::GpuMismatch)]);
    }

    #[test]
    fn heartbeats_outside_the_window_do_not_count() {
        let beats = vec![beat(START - 10, &[Some("job")], 2), beat(START + 400, &[Some("job")], 2)];
        let j = judge_on_time(START, START + 300, &beats, &[], PARAMS);
        assert_eq!(j.proven_secs, 0);
        assert_eq!(j.faults, vec![(START, Fault::Offline)]);
    }
}
