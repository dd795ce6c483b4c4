//! Background jobs: expensive work (a scoring run) started by a request and polled by
//! id, at most one of a kind per brand at a time. Jobs live in the process's memory;
//! finished ones are kept for an hour, and at most [`MAX_JOBS`] at all.

use crate::Services;
use regulars_domain::BrandId;
use regulars_ports::ScoringRun;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Most jobs held (running ones are never dropped).
pub const MAX_JOBS: usize = 1024;

/// How long a finished job can still be polled.
pub const KEEP_FINISHED: Duration = Duration::hours(1);

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// A scoring run of the brand.
    Scoring,
}

impl JobKind {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Scoring => "scoring",
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Still working.
    Running,
    /// Done: a scoring run.
    Scored(ScoringRun),
    /// Stopped with an error; the message is safe to show the brand.
    Failed(String),
}

/// One job as a caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its id.
    pub id: Uuid,
    /// The brand it works for.
    pub brand: BrandId,
    /// What it does.
    pub kind: JobKind,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When it finished.
    pub finished_at: Option<OffsetDateTime>,
    /// Where it is.
    pub state: JobState,
}

/// The process's jobs, and the expensive reads running now.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    jobs: Mutex<HashMap<Uuid, Job>>,
    busy: Arc<Mutex<HashSet<(BrandId, &'static str)>>>,
}

/// Holds a brand's slot for one kind of expensive work; freed when dropped.
#[derive(Debug)]
pub struct Exclusive {
    busy: Arc<Mutex<HashSet<(BrandId, &'static str)>>>,
    key: (BrandId, &'static str),
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        self.busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.key);
    }
}

impl Services {
    /// Takes the brand's slot for `work` (a campaign preview, a report): `None` while
    /// another request of the brand does the same, so one brand runs at most one of each
    /// expensive read at a time.
    pub fn exclusive(&self, brand: BrandId, work: &'static str) -> Option<Exclusive> {
        let mut busy = self
            .jobs
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        busy.insert((brand, work)).then(|| Exclusive {
            busy: self.jobs.busy.clone(),
            key: (brand, work),
        })
    }

    /// Starts a job of `kind` for the brand, or returns the one already running (then
    /// `false`): the caller runs the work when it gets `true`, and ends it with
    /// [`Services::finish_job`].
    pub fn begin_job(&self, brand: BrandId, kind: JobKind) -> (Job, bool) {
        let now = self.clock.now();
        let mut jobs = self
            .jobs
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(running) = jobs
            .values()
            .find(|j| j.brand == brand && j.kind == kind && j.state == JobState::Running)
        {
            return (running.clone(), false);
        }
        let horizon = now.checked_sub(KEEP_FINISHED).unwrap_or(now);
        jobs.retain(|_, j| j.finished_at.is_none_or(|at| at > horizon));
        if jobs.len() >= MAX_JOBS {
            let mut finished: Vec<(OffsetDateTime, Uuid)> = jobs
                .values()
                .filter_map(|j| j.finished_at.map(|at| (at, j.id)))
                .collect();
            finished.sort_unstable();
            for (_, id) in finished.iter().take(jobs.len() + 1 - MAX_JOBS) {
                jobs.remove(id);
            }
        }
        let job = Job {
            id: self.ids.new_id(),
            brand,
            kind,
            started_at: now,
            finished_at: None,
            state: JobState::Running,
        };
        jobs.insert(job.id, job.clone());
        (job, true)
    }

    /// Records how a job ended.
    pub fn finish_job(&self, id: Uuid, state: JobState) {
        let now = self.clock.now();
        let mut jobs = self
            .jobs
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(job) = jobs.get_mut(&id) {
            job.state = state;
            job.finished_at = Some(now);
        }
    }

    /// One of the brand's jobs; `None` for another brand's or an unknown id.
    pub fn job(&self, brand: BrandId, id: Uuid) -> Option<Job> {
        let jobs = self
            .jobs
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.get(&id).filter(|j| j.brand == brand).cloned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use regulars_ports::{MockClock, MockIdGen, MockUnitOfWork};
    use std::sync::atomic::{AtomicU8, Ordering};
    use time::macros::datetime;

    fn services() -> Services {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| datetime!(2026-03-01 8:00 UTC));
        let mut ids = MockIdGen::new();
        let next = AtomicU8::new(1);
        ids.expect_new_id()
            .returning(move || Uuid::from_bytes([next.fetch_add(1, Ordering::Relaxed); 16]));
        Services::new(
            Arc::new(MockUnitOfWork::new()),
            Arc::new(clock),
            Arc::new(ids),
        )
    }

    #[test]
    fn one_job_of_a_kind_per_brand_runs_at_a_time() {
        let s = services();
        let (a, b) = (
            BrandId::from_uuid(Uuid::from_bytes([0xa; 16])),
            BrandId::from_uuid(Uuid::from_bytes([0xb; 16])),
        );
        let (first, started) = s.begin_job(a, JobKind::Scoring);
        assert!(started);
        let (again, started) = s.begin_job(a, JobKind::Scoring);
        assert!(!started, "a second request gets the running job");
        assert_eq!(again.id, first.id);
        let (other, started) = s.begin_job(b, JobKind::Scoring);
        assert!(started, "another brand has its own");
        assert_ne!(other.id, first.id);

        s.finish_job(first.id, JobState::Failed("no".into()));
        let (next, started) = s.begin_job(a, JobKind::Scoring);
        assert!(started, "a new one once the first finished");
        assert_ne!(next.id, first.id);
    }

    #[test]
    fn expensive_reads_are_one_at_a_time_per_brand() {
        let s = services();
        let a = BrandId::from_uuid(Uuid::from_bytes([0xa; 16]));
        let b = BrandId::from_uuid(Uuid::from_bytes([0xb; 16]));
        let held = s.exclusive(a, "preview");
        assert!(held.is_some());
        assert!(s.exclusive(a, "preview").is_none());
        assert!(s.exclusive(a, "report").is_some());
        assert!(s.exclusive(b, "preview").is_some());
        drop(held);
        assert!(s.exclusive(a, "preview").is_some());
    }

    #[test]
    fn a_brand_sees_only_its_own_jobs() {
        let s = services();
        let a = BrandId::from_uuid(Uuid::from_bytes([0xa; 16]));
        let b = BrandId::from_uuid(Uuid::from_bytes([0xb; 16]));
        let (job, _) = s.begin_job(a, JobKind::Scoring);
        assert_eq!(s.job(a, job.id).map(|j| j.state), Some(JobState::Running));
        assert_eq!(s.job(b, job.id), None);
    }
}
