//! Applying a plan's user changes through `$batch`: sending, reading back and settling
//! each answer. What runs when (units, phases, back-off, outcomes) is `schedule.rs`.
//!
//! Each user with changes is one unit: its `usageLocation` PATCH (if any) and one
//! `assignLicense` carrying all its adds and removes (so a calling-plan swap is atomic).
//! Graph wants every `$batch` fully parallel or one sequential chain ("Combine multiple
//! HTTP requests using JSON batching"; the JavaScript SDK refuses anything else), so no
//! batch here uses `dependsOn`: units run in phases, each finished before the next
//! starts, and a batch holds at most one request per user:
//! 1. every usage-location PATCH, in parallel batches; a user whose PATCH fails gets no
//!    license change (Graph refuses licenses without a location), and the report says why;
//! 2. license changes in the order of the seat effect the plan gave them (users that only
//!    free seats, swaps, users that only take seats), so seats the plan frees exist before
//!    other users consume them.
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

use super::assign::AssignLicense;
use super::client::{BatchAnswer, BatchItem, CallError, GraphClient};
use super::diagnose::refusal;
use super::pacer::{BatchSignal, Pacer};
use super::read::user_url;
pub(crate) use super::schedule::Outcome;
use super::schedule::{Job, MAX_BATCH, PHASES, Phase, Sched, Stop, Unit};

pub(crate) struct Engine {
    client: Arc<GraphClient>,
    pacer: Arc<Pacer>,
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
        let index = TenantIndex::build(&live);
        let send_until = deadline.map(|d| {
            let left = d.saturating_duration_since(now);
            d - (left / 5).min(Duration::from_secs(10))
        });
        let sched = Sched::new(&ops, now, client.retry.clone(), progress.clone());
        Engine {
            client,
            pacer,
            live,
            index,
            sched: Mutex::new(sched),
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
            if s.all_done() && matches!(s.stop, Some(Stop::Deadline)) {
                s.stop = None;
            }
            s.stop.clone()
        };
        if stopped.is_some() {
            self.read_back_unconfirmed().await;
        }
        RunResult {
            outcomes: self.sched.lock().expect("sched lock").finish(),
            stopped: stopped.map(|s| s.to_string()),
        }
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
        let cap = MAX_BATCH.min(self.pacer.burst() as usize).max(1);
        s.next_job(now, cap, self.past_send_time(now))
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
                items.extend(request(u, phase, i.to_string()));
                u.mark_sent(phase);
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
        let Some(n) = s.units[i].op_in(phase) else {
            return;
        };
        let upn = s.units[i].upn.clone();
        match answer {
            Some(a) if (200..300).contains(&a.status) => {
                signal.succeeded += 1;
                let u = &mut s.units[i];
                u.throttled = 0;
                u.clear(phase);
                s.resolve(n, Outcome::Applied);
            }
            Some(a) if a.status == 429 => {
                signal.throttled += 1;
                signal.retry_after = signal.retry_after.max(a.retry_after);
                s.units[i].verify = true;
                s.throttled(i, a.retry_after);
            }
            Some(a) if a.status >= 500 => {
                s.units[i].verify = true;
                s.reschedule(i, answer_text(a));
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
                s.reschedule(i, format!("{upn}: no answer for the {what} change"));
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
            s.resolve(m, Outcome::Failed(why));
        }
        if let Some(n) = refused {
            s.resolve(n, Outcome::Failed(reason));
        }
    }

    fn settle_envelope_error(&self, s: &mut Sched, i: usize, e: &CallError) {
        match e {
            CallError::Auth(m) => s.stop = Some(Stop::Fatal(m.clone())),
            CallError::Status { status: 429, .. } => {
                // Graph may have run some items before throttling the rest: check first.
                s.units[i].verify = true;
                s.throttled(i, e.retry_after());
            }
            e if e.is_transient() => {
                // Some items may have run before the answer was lost: check first.
                s.units[i].verify = true;
                s.reschedule(i, e.to_string());
            }
            CallError::Status { status: 401, .. } => {
                s.stop = Some(Stop::Fatal(format!(
                    "Microsoft Graph refused the access token: {e}"
                )));
            }
            e => {
                let reason = format!("{}: Microsoft Graph refused the batch: {e}", s.units[i].upn);
                s.fail_unit(i, &reason);
            }
        }
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
                        Some(a) if a.status == 429 => s.throttled(i, a.retry_after),
                        Some(a) if a.status == 404 => {
                            let (code, message) = a.error();
                            for n in s.units[i].take_ops() {
                                let reason = refusal(&self.ops[n], 404, &code, &message);
                                s.resolve(n, Outcome::Failed(reason));
                            }
                        }
                        Some(a) => s.reschedule(i, answer_text(a)),
                        None => s.reschedule(i, "no answer when reading the user back".into()),
                    }
                }
            }
            Err(CallError::Auth(m)) => s.stop = Some(Stop::Fatal(m)),
            Err(e) => {
                for &i in &units {
                    match e.retry_after() {
                        Some(wait) => s.throttled(i, Some(wait)),
                        None => s.reschedule(i, e.to_string()),
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
                s.reschedule(i, format!("unreadable user: {e}"));
                return false;
            }
        };
        let seen = observe_user(&user, &self.live, &self.index);
        if let Some((n, to)) = s.units[i].location.clone()
            && seen.usage_location.as_deref() == Some(to.as_str())
        {
            s.units[i].location = None;
            s.resolve(n, Outcome::Applied);
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
                s.resolve(n, Outcome::Applied);
            } else {
                s.units[i].license = Some((n, add, remove));
            }
        }
        s.units[i].verify = false;
        true
    }
}

/// The request `unit` sends in `phase`, under the batch id `id`.
fn request(unit: &Unit, phase: Phase, id: String) -> Option<BatchItem> {
    let (url, body) = match phase {
        Phase::Location => {
            let (_, to) = unit.location.as_ref()?;
            (
                format!("/users/{}", unit.user_id),
                json!({ "usageLocation": to }),
            )
        }
        Phase::Licenses(_) => {
            let (_, add, remove) = unit.license.as_ref()?;
            (
                format!("/users/{}/assignLicense", unit.user_id),
                AssignLicense::new(add, remove).to_value(),
            )
        }
    };
    Some(BatchItem {
        id,
        method: if phase == Phase::Location {
            "PATCH"
        } else {
            "POST"
        },
        url,
        body: Some(body),
        depends_on: None,
    })
}

fn answer_text(a: &BatchAnswer) -> String {
    let (code, message) = a.error();
    format!("{} {code}: {message}", a.status)
}
