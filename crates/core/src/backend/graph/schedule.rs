//! The scheduling side of applying user changes through `$batch` (the sending and
//! verifying side is `write.rs`): the units (one per user with changes), the phases they
//! run in, what to do next (send, read back, wait, done), retries and back-off, and each
//! operation's outcome.
//!
//! Phases: 1. every usage-location PATCH; then the license changes in the order the plan
//! gave them ([`SeatEffect::ORDER`]: those that only free seats, swaps, those that only
//! take seats). Each phase is finished before the next starts, and a unit has at most one
//! request in flight.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::backend::Progress;
use crate::plan::{Operation, SeatEffect};

use super::client::RetryPolicy;

/// Requests per `$batch` (Graph's limit: "Combine multiple HTTP requests using JSON
/// batching").
pub(crate) const MAX_BATCH: usize = 20;
/// A change answered 429 this many times in a row means Graph keeps throttling this
/// application: the run stops and reports instead of waiting for ever.
pub(crate) const MAX_THROTTLED: u32 = 12;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Applied,
    Failed(String),
    NotAttempted,
}

/// The order changes are sent in; each phase is finished before the next starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Usage-location PATCHes.
    Location,
    /// License changes with this effect on seats, as the plan decided it.
    Licenses(SeatEffect),
}

pub(super) const PHASES: [Phase; 4] = [
    Phase::Location,
    Phase::Licenses(SeatEffect::ORDER[0]),
    Phase::Licenses(SeatEffect::ORDER[1]),
    Phase::Licenses(SeatEffect::ORDER[2]),
];

/// Why a run stopped before every change went through.
#[derive(Debug, Clone)]
pub(super) enum Stop {
    Deadline,
    Throttled(String),
    Fatal(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Deadline => write!(f, "the apply's deadline passed"),
            Stop::Throttled(upn) => write!(
                f,
                "Microsoft Graph kept throttling: the change to {upn} was answered 429 {MAX_THROTTLED} times in a row"
            ),
            Stop::Fatal(m) => write!(f, "{m}"),
        }
    }
}

type Delays = Box<dyn Iterator<Item = Duration> + Send>;

/// One user's pending changes.
pub(super) struct Unit {
    pub user_id: String,
    pub upn: String,
    /// The phase of its license change.
    license_phase: Phase,
    /// (op index, desired location) while pending.
    pub location: Option<(usize, String)>,
    /// (op index, SKU ids to add, SKU ids to remove) while pending.
    pub license: Option<(usize, Vec<String>, Vec<String>)>,
    /// The last attempt's outcome is unknown: read the user back before resending.
    pub verify: bool,
    attempts: u32,
    /// 429s in a row.
    pub throttled: u32,
    delays: Option<Delays>,
    not_before: Instant,
    pub in_flight: bool,
    last_error: String,
    /// Which parts were sent at least once (to tell failed from not attempted at a stop).
    pub sent_location: bool,
    pub sent_license: bool,
    /// Read back after the run stopped: what is still pending is known not to be in place.
    pub read_back: bool,
}

impl Unit {
    fn new(user_id: &str, upn: &str, now: Instant) -> Unit {
        Unit {
            user_id: user_id.to_string(),
            upn: upn.to_string(),
            license_phase: Phase::Licenses(SeatEffect::Frees),
            location: None,
            license: None,
            verify: false,
            attempts: 0,
            throttled: 0,
            delays: None,
            not_before: now,
            in_flight: false,
            last_error: String::new(),
            sent_location: false,
            sent_license: false,
            read_back: false,
        }
    }

    /// Has something to send in `phase`.
    fn active_in(&self, phase: Phase) -> bool {
        match phase {
            Phase::Location => self.location.is_some(),
            p => self.location.is_none() && self.license.is_some() && self.license_phase == p,
        }
    }

    /// How many plan operations are still pending.
    fn pending_ops(&self) -> usize {
        usize::from(self.location.is_some()) + usize::from(self.license.is_some())
    }

    /// The plan operations still pending, taken out of the unit.
    pub fn take_ops(&mut self) -> Vec<usize> {
        [
            self.location.take().map(|l| l.0),
            self.license.take().map(|l| l.0),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The pending operation of `phase`.
    pub fn op_in(&self, phase: Phase) -> Option<usize> {
        match phase {
            Phase::Location => self.location.as_ref().map(|l| l.0),
            Phase::Licenses(_) => self.license.as_ref().map(|l| l.0),
        }
    }

    /// Marks the part of `phase` sent.
    pub fn mark_sent(&mut self, phase: Phase) {
        match phase {
            Phase::Location => self.sent_location = true,
            Phase::Licenses(_) => self.sent_license = true,
        }
    }

    /// The part of `phase` is done.
    pub fn clear(&mut self, phase: Phase) {
        match phase {
            Phase::Location => self.location = None,
            Phase::Licenses(_) => self.license = None,
        }
    }
}

/// What a worker does next.
pub(super) enum Job {
    Send(Vec<usize>),
    Verify(Vec<usize>),
    Wait(Duration),
    Done,
}

/// The units, every operation's outcome so far, the phase running and why the run
/// stopped, if it did. Held under the engine's lock.
pub(super) struct Sched {
    pub units: Vec<Unit>,
    outcomes: Vec<Option<Outcome>>,
    pub phase: Phase,
    pub stop: Option<Stop>,
    retry: RetryPolicy,
    progress: Arc<dyn Progress>,
}

impl Sched {
    /// One unit per user with changes in `ops`, in plan order.
    pub fn new(
        ops: &[Operation],
        now: Instant,
        retry: RetryPolicy,
        progress: Arc<dyn Progress>,
    ) -> Sched {
        Sched {
            units: units_of(ops, now),
            outcomes: vec![None; ops.len()],
            phase: Phase::Location,
            stop: None,
            retry,
            progress,
        }
    }

    /// True when no operation is left pending.
    pub fn all_done(&self) -> bool {
        self.units.iter().all(|u| u.pending_ops() == 0)
    }

    /// The next job of the current phase: up to `cap` units to send, up to
    /// [`MAX_BATCH`] to read back first, or a wait. `past_send_time` stops the run.
    pub fn next_job(&mut self, now: Instant, cap: usize, past_send_time: bool) -> Job {
        if past_send_time && self.stop.is_none() {
            self.stop = Some(Stop::Deadline);
        }
        if self.stop.is_some() {
            return Job::Done;
        }
        let phase = self.phase;
        let (mut verify, mut send) = (Vec::new(), Vec::new());
        let mut earliest: Option<Instant> = None;
        let mut busy = false;
        for (i, u) in self.units.iter().enumerate() {
            if !u.active_in(phase) {
                continue;
            }
            if u.in_flight {
                busy = true;
            } else if u.not_before > now {
                earliest = Some(earliest.map_or(u.not_before, |e| e.min(u.not_before)));
            } else if u.verify {
                verify.push(i);
            } else {
                send.push(i);
            }
            if verify.len() == MAX_BATCH || send.len() == cap {
                break;
            }
        }
        let job = if !verify.is_empty() {
            Job::Verify(verify)
        } else if !send.is_empty() {
            Job::Send(send)
        } else if let Some(e) = earliest {
            Job::Wait((e - now).min(Duration::from_millis(100)))
        } else if busy {
            // Others are in flight and may come back for a retry.
            Job::Wait(Duration::from_millis(20))
        } else {
            Job::Done
        };
        if let Job::Send(units) | Job::Verify(units) = &job {
            for &i in units {
                self.units[i].in_flight = true;
            }
        }
        job
    }

    pub fn resolve(&mut self, n: usize, outcome: Outcome) {
        self.outcomes[n] = Some(outcome);
        self.progress.advance(1);
    }

    /// Resolves every pending part of unit `i` as failed with `reason`.
    pub fn fail_unit(&mut self, i: usize, reason: &str) {
        for n in self.units[i].take_ops() {
            self.resolve(n, Outcome::Failed(reason.to_string()));
        }
    }

    /// A 429 for unit `i`: it waits its own `Retry-After`; one throttled too many times in
    /// a row stops the run.
    pub fn throttled(&mut self, i: usize, retry_after: Option<Duration>) {
        let u = &mut self.units[i];
        u.throttled += 1;
        u.not_before = Instant::now() + retry_after.unwrap_or(Duration::from_secs(1));
        if u.throttled >= MAX_THROTTLED && self.stop.is_none() {
            tracing::warn!(user = %u.upn, "stopping: Microsoft Graph keeps throttling");
            self.stop = Some(Stop::Throttled(u.upn.clone()));
        }
    }

    /// A failure whose outcome may be unknown: backs the unit off, or gives it up after
    /// the retry policy's attempts.
    pub fn reschedule(&mut self, i: usize, reason: String) {
        let retry = &self.retry;
        let u = &mut self.units[i];
        u.attempts += 1;
        u.last_error = reason;
        if u.attempts >= retry.max_attempts {
            let note = if u.verify {
                "; whether the last attempt took effect is unknown: run `commcred plan` to see"
            } else {
                ""
            };
            let reason = format!(
                "{}: gave up after {} attempts: {}{note}",
                u.upn, u.attempts, u.last_error
            );
            self.fail_unit(i, &reason);
            return;
        }
        let delays = u.delays.get_or_insert_with(|| Box::new(retry.delays()));
        let backoff = delays.next().unwrap_or(retry.max_delay);
        u.not_before = Instant::now() + backoff;
    }

    /// Every operation's outcome; what is still pending after a stop is reported as not
    /// attempted (never sent) or failed (sent, with what the read-back found).
    pub fn finish(&mut self) -> Vec<Outcome> {
        let stop = self.stop.clone().map(|s| s.to_string()).unwrap_or_default();
        let mut leftovers = Vec::new();
        for u in &mut self.units {
            let sent = [
                (u.sent_location, &u.location.as_ref().map(|l| l.0)),
                (u.sent_license, &u.license.as_ref().map(|l| l.0)),
            ];
            for (sent, n) in sent {
                let Some(n) = *n else { continue };
                let outcome = match (sent, u.read_back) {
                    (false, _) => Outcome::NotAttempted,
                    (true, true) => Outcome::Failed(format!(
                        "{}: not applied: {stop} before it went through (read back from Microsoft Graph)",
                        u.upn
                    )),
                    (true, false) => Outcome::Failed(format!(
                        "{}: {stop} before this change was confirmed, and the user could not be read back: whether it took effect is unknown; run `commcred plan` to see",
                        u.upn
                    )),
                };
                leftovers.push((n, outcome));
            }
        }
        for (n, outcome) in leftovers {
            self.outcomes[n] = Some(outcome);
        }
        self.outcomes
            .iter()
            .map(|o| o.clone().unwrap_or(Outcome::NotAttempted))
            .collect()
    }
}

/// One unit per user with changes, in plan order; a license change runs in the phase of
/// the seat effect the plan gave it.
fn units_of(ops: &[Operation], now: Instant) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let mut by_user: HashMap<String, usize> = HashMap::new();
    for (n, op) in ops.iter().enumerate() {
        let (user_id, upn) = match op {
            Operation::SetUsageLocation { user_id, upn, .. }
            | Operation::AssignLicenses { user_id, upn, .. } => (user_id, upn),
            _ => continue,
        };
        let u = *by_user
            .entry(user_id.to_ascii_lowercase())
            .or_insert_with(|| {
                units.push(Unit::new(user_id, upn, now));
                units.len() - 1
            });
        let unit = &mut units[u];
        match op {
            Operation::SetUsageLocation { to, .. } => unit.location = Some((n, to.clone())),
            Operation::AssignLicenses { add, remove, .. } => {
                // The plan never makes an empty license change; one would free nothing.
                let effect = op.seat_effect().unwrap_or(SeatEffect::Frees);
                unit.license_phase = Phase::Licenses(effect);
                unit.license = Some((
                    n,
                    add.iter().map(|s| s.sku_id.to_string()).collect(),
                    remove.iter().map(|s| s.sku_id.to_string()).collect(),
                ));
            }
            _ => {}
        }
    }
    units
}
