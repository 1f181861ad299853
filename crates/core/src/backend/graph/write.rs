//! Applying a plan's user changes through `$batch`.
//!
//! Each user with changes is one unit: its `usageLocation` PATCH (if any) and one
//! `assignLicense` carrying all its adds and removes (so a calling-plan swap is atomic).
//! Graph wants every `$batch` fully parallel or one sequential chain ("Combine multiple
//! HTTP requests using JSON batching"; the JavaScript SDK refuses anything else), so no
//! batch here uses `dependsOn`: units run in [`Phase`]s, each finished before the next
//! starts, and a batch holds at most one request per user:
//! 1. every usage-location PATCH, in parallel batches; a user whose PATCH fails gets no
//!    license change (Graph refuses licenses without a location), and the report says why;
//! 2. license changes of users that only free seats, 3. swaps, 4. users that only take
//!    seats — so seats the plan frees exist before other users consume them.
//!
//! Retrying never applies a change twice in effect:
//! - a 429, a 5xx, a dropped connection or a missing item answer is not proof that nothing
//!   happened (Graph has completed requests it then answered 429: Microsoft Q&A, "batch
//!   request with the Graph SDK"): the unit is marked for verification, and before it is
//!   resent the user is read back; what is already in place is dropped from the change,
//!   and if nothing is left the change is reported as applied. Graph refuses to remove a
//!   license the user no longer has, so resending blindly would turn a success into a
//!   failure, and is never done. A 429 waits its own `Retry-After` first;
//! - any other 4xx is Graph's final word: reported, naming the user, and not retried.
//!
//! The run stops early — sends nothing more, reads back every user whose last change has
//! no answer yet, and reports applied / failed / not attempted — when the deadline passes,
//! when one change is throttled [`MAX_THROTTLED`] times in a row, or when no token can be
//! had.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::plan::Operation;
use crate::plan::observe::observe_user;
use crate::tenant::{Snapshot, TenantIndex, User};

use crate::backend::Progress;

use super::client::{BatchAnswer, BatchItem, CallError, GraphClient, RetryPolicy};
use super::diagnose::refusal;
use super::pacer::{BatchSignal, Pacer};
use super::read::user_url;

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
enum Phase {
    /// Usage-location PATCHes.
    Location,
    /// License changes that only remove.
    FreeSeats,
    /// License changes that add and remove (a calling-plan swap).
    Swap,
    /// License changes that only add.
    TakeSeats,
}

const PHASES: [Phase; 4] = [
    Phase::Location,
    Phase::FreeSeats,
    Phase::Swap,
    Phase::TakeSeats,
];

/// Why a run stopped before every change went through.
#[derive(Debug, Clone)]
enum Stop {
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

struct Unit {
    user_id: String,
    upn: String,
    /// The phase of its license change.
    license_phase: Phase,
    /// (op index, desired location) while pending.
    location: Option<(usize, String)>,
    /// (op index, SKU ids to add, SKU ids to remove) while pending.
    license: Option<(usize, Vec<String>, Vec<String>)>,
    /// The last attempt's outcome is unknown: read the user back before resending.
    verify: bool,
    attempts: u32,
    /// 429s in a row.
    throttled: u32,
    delays: Option<Delays>,
    not_before: Instant,
    in_flight: bool,
    last_error: String,
    /// Which parts were sent at least once (to tell failed from not attempted at a stop).
    sent_location: bool,
    sent_license: bool,
    /// Read back after the run stopped: what is still pending is known not to be in place.
    read_back: bool,
}

impl Unit {
    fn new(user_id: &str, upn: &str, now: Instant) -> Unit {
        Unit {
            user_id: user_id.to_string(),
            upn: upn.to_string(),
            license_phase: Phase::FreeSeats,
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
    fn take_ops(&mut self) -> Vec<usize> {
        [
            self.location.take().map(|l| l.0),
            self.license.take().map(|l| l.0),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The request this unit sends in `phase`, under the batch id `id`.
    fn request(&self, phase: Phase, id: String) -> Option<BatchItem> {
        if phase == Phase::Location {
            let (_, to) = self.location.as_ref()?;
            return Some(BatchItem {
                id,
                method: "PATCH",
                url: format!("/users/{}", self.user_id),
                body: Some(json!({ "usageLocation": to })),
                depends_on: None,
            });
        }
        let (_, add, remove) = self.license.as_ref()?;
        let add: Vec<Value> = add
            .iter()
            .map(|id| json!({ "skuId": id, "disabledPlans": [] }))
            .collect();
        Some(BatchItem {
            id,
            method: "POST",
            url: format!("/users/{}/assignLicense", self.user_id),
            body: Some(json!({ "addLicenses": add, "removeLicenses": remove })),
            depends_on: None,
        })
    }
}

struct Sched {
    units: Vec<Unit>,
    outcomes: Vec<Option<Outcome>>,
    phase: Phase,
    stop: Option<Stop>,
}

pub(crate) struct Engine {
    client: Arc<GraphClient>,
    pacer: Arc<Pacer>,
    retry: RetryPolicy,
    live: Snapshot,
    index: TenantIndex,
    ops: Vec<Operation>,
    sched: Mutex<Sched>,
    progress: Arc<dyn Progress>,
    /// Nothing is sent after this; unanswered calls are cut off here.
    send_until: Option<Instant>,
    /// The read-back after a stop ends here.
    deadline: Option<Instant>,
}

enum Job {
    Send(Vec<usize>),
    Verify(Vec<usize>),
    Wait(Duration),
    Done,
}

/// What the run returns: each operation's outcome, and why it stopped early, if it did.
pub(crate) struct RunResult {
    pub outcomes: Vec<Outcome>,
    pub stopped: Option<String>,
}

impl Engine {
    /// `ops` are the plan's user operations, in plan order; `live` is the tenant as read
    /// just before (it resolves SKUs when users are read back). With a `deadline`, sending
    /// stops a little before it (a fifth of the time left, at most 10 s), leaving that
    /// time to read back what the last calls did.
    pub(crate) fn new(
        client: Arc<GraphClient>,
        pacer: Arc<Pacer>,
        live: Snapshot,
        ops: Vec<Operation>,
        progress: Arc<dyn Progress>,
        deadline: Option<Instant>,
    ) -> Engine {
        let now = Instant::now();
        let units = units_of(&ops, now);
        let index = TenantIndex::build(&live);
        let retry = client.retry.clone();
        let send_until = deadline.map(|d| {
            let left = d.saturating_duration_since(now);
            d - (left / 5).min(Duration::from_secs(10))
        });
        Engine {
            client,
            pacer,
            retry,
            live,
            index,
            sched: Mutex::new(Sched {
                units,
                outcomes: vec![None; ops.len()],
                phase: Phase::Location,
                stop: None,
            }),
            ops,
            progress,
            send_until,
            deadline,
        }
    }

    /// Runs every phase with `concurrency` batches in flight.
    pub(crate) async fn run(self: Arc<Self>, concurrency: usize) -> RunResult {
        for phase in PHASES {
            {
                let mut s = self.sched.lock().expect("sched lock");
                if s.stop.is_some() {
                    break;
                }
                s.phase = phase;
            }
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..concurrency.max(1) {
                let engine = self.clone();
                workers.spawn(async move { engine.worker().await });
            }
            while workers.join_next().await.is_some() {}
        }
        let stopped = {
            let mut s = self.sched.lock().expect("sched lock");
            // A deadline that passed once everything was done stopped nothing.
            let all_done = s.units.iter().all(|u| u.pending_ops() == 0);
            if all_done && matches!(s.stop, Some(Stop::Deadline)) {
                s.stop = None;
            }
            s.stop.clone()
        };
        if stopped.is_some() {
            self.read_back_unconfirmed().await;
        }
        RunResult {
            outcomes: self.finish(),
            stopped: stopped.map(|s| s.to_string()),
        }
    }

    /// Every operation's outcome; what is still pending after a stop is reported as not
    /// attempted (never sent) or failed (sent, with what the read-back found).
    fn finish(&self) -> Vec<Outcome> {
        let mut s = self.sched.lock().expect("sched lock");
        let stop = s.stop.clone().map(|s| s.to_string()).unwrap_or_default();
        let mut leftovers = Vec::new();
        for u in &mut s.units {
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
            s.outcomes[n] = Some(outcome);
        }
        s.outcomes
            .iter()
            .map(|o| o.clone().unwrap_or(Outcome::NotAttempted))
            .collect()
    }

    async fn worker(&self) {
        loop {
            let job = self.next_job();
            match job {
                Job::Done => return,
                Job::Wait(d) => tokio::time::sleep(d).await,
                Job::Send(units) => self.send(units).await,
                Job::Verify(units) => self.verify(units).await,
            }
        }
    }

    fn past_send_time(&self, now: Instant) -> bool {
        self.send_until.is_some_and(|t| now >= t)
    }

    fn next_job(&self) -> Job {
        let mut s = self.sched.lock().expect("sched lock");
        let now = Instant::now();
        if self.past_send_time(now) && s.stop.is_none() {
            s.stop = Some(Stop::Deadline);
        }
        if s.stop.is_some() {
            return Job::Done;
        }
        let cap = MAX_BATCH.min(self.pacer.burst() as usize).max(1);
        let phase = s.phase;
        let (mut verify, mut send) = (Vec::new(), Vec::new());
        let mut earliest: Option<Instant> = None;
        let mut busy = false;
        for (i, u) in s.units.iter().enumerate() {
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
                s.units[i].in_flight = true;
            }
        }
        job
    }

    fn resolve(&self, s: &mut Sched, n: usize, outcome: Outcome) {
        s.outcomes[n] = Some(outcome);
        self.progress.advance(1);
    }

    /// Resolves every pending part of unit `i` as failed with `reason`.
    fn fail_unit(&self, s: &mut Sched, i: usize, reason: &str) {
        for n in s.units[i].take_ops() {
            self.resolve(s, n, Outcome::Failed(reason.to_string()));
        }
    }

    /// One `$batch` call, cut off when sending time is over (the answer is then unknown).
    async fn call_batch(
        &self,
        items: &[BatchItem],
    ) -> Result<Vec<(String, BatchAnswer)>, CallError> {
        let call = self.client.batch(items);
        match self.send_until {
            None => call.await,
            Some(t) => tokio::time::timeout_at(t, call).await.unwrap_or_else(|_| {
                Err(CallError::Transport(
                    "cut off at the apply's deadline".into(),
                ))
            }),
        }
    }

    async fn send(&self, units: Vec<usize>) {
        // One request per unit: wait for that many tokens, unless sending time ends first.
        let acquire = self.pacer.acquire(units.len() as u32);
        let acquired = match self.send_until {
            None => {
                acquire.await;
                true
            }
            Some(t) => tokio::time::timeout_at(t, acquire).await.is_ok(),
        };
        if !acquired {
            let mut s = self.sched.lock().expect("sched lock");
            for &i in &units {
                s.units[i].in_flight = false;
            }
            return;
        }
        let items: Vec<BatchItem> = {
            let mut s = self.sched.lock().expect("sched lock");
            let phase = s.phase;
            let mut items = Vec::new();
            for &i in &units {
                let u = &mut s.units[i];
                items.extend(u.request(phase, i.to_string()));
                match phase {
                    Phase::Location => u.sent_location = true,
                    _ => u.sent_license = true,
                }
            }
            items
        };
        let result = self.call_batch(&items).await;
        let mut s = self.sched.lock().expect("sched lock");
        let mut signal = BatchSignal {
            items: items.len(),
            ..BatchSignal::default()
        };
        match result {
            Ok(answers) => {
                let answers: HashMap<String, BatchAnswer> = answers.into_iter().collect();
                for &i in &units {
                    let answer = answers.get(&i.to_string());
                    self.settle_write(&mut s, i, answer, &mut signal);
                }
                self.pacer.report(signal);
            }
            Err(e) => {
                if let CallError::Status { status: 429, .. } = e {
                    self.pacer.batch_throttled(e.retry_after());
                }
                for &i in &units {
                    self.settle_envelope_error(&mut s, i, &e);
                }
            }
        }
        for &i in &units {
            s.units[i].in_flight = false;
        }
        drop(s);
        self.show_rate();
    }

    /// The progress line: the current rate, or the pause everyone waits out and why.
    fn show_rate(&self) {
        let message = match self.pacer.pause() {
            Some(p) => format!("paused {:.0} s: {}", p.left.as_secs_f64().ceil(), p.cause),
            None => format!(
                "{:.1} writes/s (quota {:.1}/s)",
                self.pacer.rate(),
                self.pacer.max_rate()
            ),
        };
        self.progress.status(&message);
    }

    /// Reads one write's answer into the unit: done, failed, or read back before resending.
    fn settle_write(
        &self,
        s: &mut Sched,
        i: usize,
        answer: Option<&BatchAnswer>,
        signal: &mut BatchSignal,
    ) {
        let phase = s.phase;
        let n = match phase {
            Phase::Location => s.units[i].location.as_ref().map(|l| l.0),
            _ => s.units[i].license.as_ref().map(|l| l.0),
        };
        let Some(n) = n else { return };
        let upn = s.units[i].upn.clone();
        match answer {
            Some(a) if (200..300).contains(&a.status) => {
                signal.succeeded += 1;
                let u = &mut s.units[i];
                u.throttled = 0;
                match phase {
                    Phase::Location => u.location = None,
                    _ => u.license = None,
                }
                self.resolve(s, n, Outcome::Applied);
            }
            Some(a) if a.status == 429 => {
                signal.throttled += 1;
                signal.retry_after = signal.retry_after.max(a.retry_after);
                s.units[i].verify = true;
                self.throttled(s, i, a.retry_after);
            }
            Some(a) if a.status >= 500 => {
                s.units[i].verify = true;
                self.reschedule(s, i, answer_text(a));
            }
            Some(a) => {
                let (code, message) = a.error();
                let reason = refusal(&self.ops[n], a.status, &code, &message);
                self.refused(s, i, phase, reason);
            }
            None => {
                s.units[i].verify = true;
                let what = match phase {
                    Phase::Location => "usageLocation",
                    _ => "license",
                };
                self.reschedule(s, i, format!("{upn}: no answer for the {what} change"));
            }
        }
    }

    /// Graph refused the change of this phase for good. A refused usage location also
    /// ends the user's license change, which Graph would refuse without one.
    fn refused(&self, s: &mut Sched, i: usize, phase: Phase, reason: String) {
        let u = &mut s.units[i];
        let (refused, skipped) = match phase {
            Phase::Location => (
                u.location.take().map(|l| l.0),
                u.license.take().map(|l| l.0),
            ),
            _ => (u.license.take().map(|l| l.0), None),
        };
        if let Some(m) = skipped {
            let why = format!(
                "{}: not sent: the user's usage location could not be set, and Microsoft Graph assigns no license without one ({reason})",
                s.units[i].upn
            );
            self.resolve(s, m, Outcome::Failed(why));
        }
        if let Some(n) = refused {
            self.resolve(s, n, Outcome::Failed(reason));
        }
    }

    fn settle_envelope_error(&self, s: &mut Sched, i: usize, e: &CallError) {
        match e {
            CallError::Auth(m) => s.stop = Some(Stop::Fatal(m.clone())),
            CallError::Status { status: 429, .. } => {
                // Graph may have run some items before throttling the rest: check first.
                s.units[i].verify = true;
                self.throttled(s, i, e.retry_after());
            }
            e if e.is_transient() => {
                // Some items may have run before the answer was lost: check first.
                s.units[i].verify = true;
                self.reschedule(s, i, e.to_string());
            }
            CallError::Status { status: 401, .. } => {
                s.stop = Some(Stop::Fatal(format!(
                    "Microsoft Graph refused the access token: {e}"
                )));
            }
            e => {
                let reason = format!("{}: Microsoft Graph refused the batch: {e}", s.units[i].upn);
                self.fail_unit(s, i, &reason);
            }
        }
    }

    /// A 429 for unit `i`: it waits its own `Retry-After`; one throttled too many times in
    /// a row stops the run.
    fn throttled(&self, s: &mut Sched, i: usize, retry_after: Option<Duration>) {
        let u = &mut s.units[i];
        u.throttled += 1;
        u.not_before = Instant::now() + retry_after.unwrap_or(Duration::from_secs(1));
        if u.throttled >= MAX_THROTTLED && s.stop.is_none() {
            tracing::warn!(user = %u.upn, "stopping: Microsoft Graph keeps throttling");
            s.stop = Some(Stop::Throttled(u.upn.clone()));
        }
    }

    /// A failure whose outcome may be unknown: backs the unit off, or gives it up after
    /// the retry policy's attempts.
    fn reschedule(&self, s: &mut Sched, i: usize, reason: String) {
        let retry = &self.retry;
        let u = &mut s.units[i];
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
            self.fail_unit(s, i, &reason);
            return;
        }
        let delays = u.delays.get_or_insert_with(|| Box::new(retry.delays()));
        let backoff = delays.next().unwrap_or(retry.max_delay);
        u.not_before = Instant::now() + backoff;
    }

    /// `$batch` GETs of the given units' users. Reads do not count against the write quota.
    async fn read_users(&self, units: &[usize]) -> Result<HashMap<String, BatchAnswer>, CallError> {
        let items: Vec<BatchItem> = {
            let s = self.sched.lock().expect("sched lock");
            units
                .iter()
                .map(|&i| BatchItem {
                    id: i.to_string(),
                    method: "GET",
                    url: user_url(&s.units[i].user_id),
                    body: None,
                    depends_on: None,
                })
                .collect()
        };
        let answers = self.call_batch(&items).await?;
        Ok(answers.into_iter().collect())
    }

    /// Reads users whose last change has an unknown outcome, and keeps only what is left
    /// to do.
    async fn verify(&self, units: Vec<usize>) {
        let result = self.read_users(&units).await;
        let mut s = self.sched.lock().expect("sched lock");
        match result {
            Ok(answers) => {
                for &i in &units {
                    match answers.get(&i.to_string()) {
                        Some(a) if a.status == 200 => {
                            self.settle_verified(&mut s, i, &a.body);
                        }
                        Some(a) if a.status == 429 => self.throttled(&mut s, i, a.retry_after),
                        Some(a) if a.status == 404 => {
                            let (code, message) = a.error();
                            for n in s.units[i].take_ops() {
                                let reason = refusal(&self.ops[n], 404, &code, &message);
                                self.resolve(&mut s, n, Outcome::Failed(reason));
                            }
                        }
                        Some(a) => self.reschedule(&mut s, i, answer_text(a)),
                        None => self.reschedule(
                            &mut s,
                            i,
                            "no answer when reading the user back".into(),
                        ),
                    }
                }
            }
            Err(CallError::Auth(m)) => s.stop = Some(Stop::Fatal(m)),
            Err(e) => {
                for &i in &units {
                    match e.retry_after() {
                        Some(wait) => self.throttled(&mut s, i, Some(wait)),
                        None => self.reschedule(&mut s, i, e.to_string()),
                    }
                }
            }
        }
        for &i in &units {
            s.units[i].in_flight = false;
        }
    }

    /// After a stop: reads back, once and by the deadline, every user with a change that
    /// was sent and not confirmed, so the report says what actually happened.
    async fn read_back_unconfirmed(&self) {
        let pending: Vec<usize> = {
            let s = self.sched.lock().expect("sched lock");
            s.units
                .iter()
                .enumerate()
                .filter(|(_, u)| {
                    (u.sent_location && u.location.is_some())
                        || (u.sent_license && u.license.is_some())
                })
                .map(|(i, _)| i)
                .collect()
        };
        for chunk in pending.chunks(MAX_BATCH) {
            let read = self.read_users(chunk);
            let result = match self.deadline {
                Some(d) => match tokio::time::timeout_at(d, read).await {
                    Ok(r) => r,
                    Err(_) => return,
                },
                None => read.await,
            };
            let Ok(answers) = result else { continue };
            let mut s = self.sched.lock().expect("sched lock");
            for &i in chunk {
                if let Some(a) = answers.get(&i.to_string()).filter(|a| a.status == 200)
                    && self.settle_verified(&mut s, i, &a.body)
                {
                    s.units[i].read_back = true;
                }
            }
        }
    }

    /// Drops from unit `i` what the user read back already has; what is fully in place is
    /// applied. False when the answer could not be read as a user.
    fn settle_verified(&self, s: &mut Sched, i: usize, body: &Value) -> bool {
        let user: User = match serde_json::from_value(body.clone()) {
            Ok(u) => u,
            Err(e) => {
                self.reschedule(s, i, format!("unreadable user: {e}"));
                return false;
            }
        };
        let seen = observe_user(&user, &self.live, &self.index);
        if let Some((n, to)) = s.units[i].location.clone()
            && seen.usage_location.as_deref() == Some(to.as_str())
        {
            s.units[i].location = None;
            self.resolve(s, n, Outcome::Applied);
        }
        if let Some((n, add, remove)) = s.units[i].license.clone()
            && s.units[i].sent_license
        {
            let held = |id: &String| {
                seen.direct_sku_ids
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(id))
            };
            let add: Vec<String> = add.into_iter().filter(|id| !held(id)).collect();
            let remove: Vec<String> = remove.into_iter().filter(held).collect();
            if add.is_empty() && remove.is_empty() {
                s.units[i].license = None;
                self.resolve(s, n, Outcome::Applied);
            } else {
                s.units[i].license = Some((n, add, remove));
            }
        }
        s.units[i].verify = false;
        true
    }
}

/// One unit per user with changes, in plan order.
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
                unit.license_phase = match (add.is_empty(), remove.is_empty()) {
                    (true, _) => Phase::FreeSeats,
                    (false, false) => Phase::Swap,
                    (false, true) => Phase::TakeSeats,
                };
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

fn answer_text(a: &BatchAnswer) -> String {
    let (code, message) = a.error();
    format!("{} {code}: {message}", a.status)
}
