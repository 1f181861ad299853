//! Applying a plan's user changes through `$batch`.
//!
//! Each user with changes is one unit: its `usageLocation` PATCH (if any) and one
//! `assignLicense` carrying all its adds and removes (so a calling-plan swap is atomic),
//! the latter `dependsOn` the former inside the same batch. Units run in three phases —
//! users that only free seats (or only move location), then swaps, then users that only
//! take seats — so seats freed by the plan exist before they are consumed.
//!
//! Retrying never applies a change twice in effect:
//! - a 429 (item or envelope) was not run by Graph: the item is resent after `Retry-After`,
//!   and the whole client pauses, since the quota is the tenant's;
//! - a 5xx, a dropped connection or a missing item answer may hide a change that Graph did
//!   make: the unit is marked for verification, and before anything is resent the user is
//!   read back; what is already in place is dropped from the change, and if nothing is left
//!   the change is reported as applied. Graph refuses to remove a license the user no longer
//!   has, so resending blindly would turn a success into a failure, and is never done;
//! - a 424 means the PATCH it depended on failed; it is resent with it;
//! - any other 4xx is Graph's final word: reported, naming the user, and not retried.

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
use super::pacer::Pacer;
use super::read::user_url;

pub(crate) const MAX_BATCH: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Applied,
    Failed(String),
    NotAttempted,
}

type Delays = Box<dyn Iterator<Item = Duration> + Send>;

struct Unit {
    user_id: String,
    upn: String,
    phase: u8,
    /// (op index, desired location) while pending.
    location: Option<(usize, String)>,
    /// (op index, SKU ids to add, SKU ids to remove) while pending.
    license: Option<(usize, Vec<String>, Vec<String>)>,
    /// The last attempt's outcome is unknown: read the user back before resending.
    verify: bool,
    attempts: u32,
    delays: Option<Delays>,
    not_before: Instant,
    in_flight: bool,
    last_error: String,
    /// Sent at least once (for telling failed from not attempted when a run stops).
    sent: bool,
}

impl Unit {
    fn done(&self) -> bool {
        self.location.is_none() && self.license.is_none()
    }

    fn requests(&self) -> usize {
        usize::from(self.location.is_some()) + usize::from(self.license.is_some())
    }
}

struct Sched {
    units: Vec<Unit>,
    outcomes: Vec<Option<Outcome>>,
    phase: u8,
    fatal: Option<String>,
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
}

enum Job {
    Send(Vec<usize>),
    Verify(Vec<usize>),
    Wait(Duration),
    Done,
}

impl Engine {
    /// `ops` are the plan's user operations, in plan order; `live` is the tenant as read
    /// just before (it resolves SKUs when users are read back).
    pub(crate) fn new(
        client: Arc<GraphClient>,
        pacer: Arc<Pacer>,
        live: Snapshot,
        ops: Vec<Operation>,
        progress: Arc<dyn Progress>,
    ) -> Engine {
        let mut units: Vec<Unit> = Vec::new();
        let mut by_user: HashMap<String, usize> = HashMap::new();
        let now = Instant::now();
        for (n, op) in ops.iter().enumerate() {
            let (user_id, upn) = match op {
                Operation::SetUsageLocation { user_id, upn, .. }
                | Operation::AssignLicenses { user_id, upn, .. } => (user_id, upn),
                _ => continue,
            };
            let u = *by_user
                .entry(user_id.to_ascii_lowercase())
                .or_insert_with(|| {
                    units.push(Unit {
                        user_id: user_id.clone(),
                        upn: upn.clone(),
                        phase: 0,
                        location: None,
                        license: None,
                        verify: false,
                        attempts: 0,
                        delays: None,
                        not_before: now,
                        in_flight: false,
                        last_error: String::new(),
                        sent: false,
                    });
                    units.len() - 1
                });
            let unit = &mut units[u];
            match op {
                Operation::SetUsageLocation { to, .. } => unit.location = Some((n, to.clone())),
                Operation::AssignLicenses { add, remove, .. } => {
                    unit.phase = match (add.is_empty(), remove.is_empty()) {
                        (true, _) => 0,
                        (false, false) => 1,
                        (false, true) => 2,
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
        let index = TenantIndex::build(&live);
        let retry = client.retry.clone();
        Engine {
            client,
            pacer,
            retry,
            live,
            index,
            sched: Mutex::new(Sched {
                units,
                outcomes: vec![None; ops.len()],
                phase: 0,
                fatal: None,
            }),
            ops,
            progress,
        }
    }

    /// Runs every phase with `concurrency` batches in flight; returns each operation's
    /// outcome, in the order of `ops`.
    pub(crate) async fn run(self: Arc<Self>, concurrency: usize) -> Vec<Outcome> {
        for phase in 0..3u8 {
            {
                let mut s = self.sched.lock().expect("sched lock");
                if s.fatal.is_some() {
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
        self.finish()
    }

    fn finish(&self) -> Vec<Outcome> {
        let mut s = self.sched.lock().expect("sched lock");
        let fatal = s.fatal.clone();
        let mut leftovers = Vec::new();
        for u in &s.units {
            for n in [
                u.location.as_ref().map(|l| l.0),
                u.license.as_ref().map(|l| l.0),
            ]
            .into_iter()
            .flatten()
            {
                let outcome = match (&fatal, u.sent) {
                    (Some(f), true) => Outcome::Failed(format!(
                        "{}: stopped before this change was confirmed: {f}",
                        u.upn
                    )),
                    _ => Outcome::NotAttempted,
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

    fn next_job(&self) -> Job {
        let mut s = self.sched.lock().expect("sched lock");
        if s.fatal.is_some() {
            return Job::Done;
        }
        let now = Instant::now();
        let cap = MAX_BATCH.min(self.pacer.burst() as usize).max(1);
        let phase = s.phase;
        let (mut verify, mut send, mut send_requests) = (Vec::new(), Vec::new(), 0);
        let mut earliest: Option<Instant> = None;
        let mut busy = false;
        for (i, u) in s.units.iter().enumerate() {
            if u.phase != phase || u.done() {
                continue;
            }
            if u.in_flight {
                busy = true;
                continue;
            }
            if u.not_before > now {
                earliest = Some(earliest.map_or(u.not_before, |e| e.min(u.not_before)));
                continue;
            }
            if u.verify {
                verify.push(i);
                if verify.len() == MAX_BATCH {
                    break;
                }
            } else if send_requests + u.requests() <= cap {
                send.push(i);
                send_requests += u.requests();
                if send_requests == cap {
                    break;
                }
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

    async fn send(&self, units: Vec<usize>) {
        let items: Vec<BatchItem> = {
            let mut s = self.sched.lock().expect("sched lock");
            let mut items = Vec::new();
            for &i in &units {
                let u = &mut s.units[i];
                u.sent = true;
                let loc_id = format!("{i}-loc");
                if let Some((_, to)) = &u.location {
                    items.push(BatchItem {
                        id: loc_id.clone(),
                        method: "PATCH",
                        url: format!("/users/{}", u.user_id),
                        body: Some(json!({ "usageLocation": to })),
                        depends_on: None,
                    });
                }
                if let Some((_, add, remove)) = &u.license {
                    let add: Vec<Value> = add
                        .iter()
                        .map(|id| json!({ "skuId": id, "disabledPlans": [] }))
                        .collect();
                    items.push(BatchItem {
                        id: format!("{i}-lic"),
                        method: "POST",
                        url: format!("/users/{}/assignLicense", u.user_id),
                        body: Some(json!({ "addLicenses": add, "removeLicenses": remove })),
                        depends_on: u.location.is_some().then_some(loc_id),
                    });
                }
            }
            items
        };
        self.pacer.acquire(items.len() as u32).await;
        let result = self.client.batch(&items).await;
        let mut s = self.sched.lock().expect("sched lock");
        match result {
            Ok(answers) => {
                let answers: HashMap<String, BatchAnswer> = answers.into_iter().collect();
                for &i in &units {
                    self.settle_send(&mut s, i, &answers);
                }
            }
            Err(e) => {
                for &i in &units {
                    self.settle_envelope_error(&mut s, i, &e);
                }
            }
        }
        for &i in &units {
            s.units[i].in_flight = false;
        }
    }

    /// Reads an item's answer into the unit: done, failed, retry, or verify first.
    fn settle_send(&self, s: &mut Sched, i: usize, answers: &HashMap<String, BatchAnswer>) {
        let mut throttle: Option<Duration> = None;
        let mut failure: Option<String> = None;
        let upn = s.units[i].upn.clone();
        if let Some((n, _)) = s.units[i].location.clone() {
            match answers.get(&format!("{i}-loc")) {
                Some(a) if (200..300).contains(&a.status) => {
                    s.units[i].location = None;
                    self.resolve(s, n, Outcome::Applied);
                }
                Some(a) if a.status == 429 => throttle = Some(self.throttled(a.retry_after)),
                Some(a) if a.status >= 500 => {
                    s.units[i].verify = true;
                    failure = Some(answer_text(a));
                }
                Some(a) => {
                    let (code, message) = a.error();
                    let reason = refusal(&self.ops[n], a.status, &code, &message);
                    s.units[i].location = None;
                    self.resolve(s, n, Outcome::Failed(reason));
                    // The licenses need the location: they are not attempted.
                    if let Some((m, ..)) = s.units[i].license.take() {
                        self.resolve(s, m, Outcome::NotAttempted);
                    }
                }
                None => {
                    s.units[i].verify = true;
                    failure = Some(format!("{upn}: no answer for the usageLocation change"));
                }
            }
        }
        if let Some((n, ..)) = s.units[i].license.clone() {
            match answers.get(&format!("{i}-lic")) {
                Some(a) if (200..300).contains(&a.status) => {
                    s.units[i].license = None;
                    self.resolve(s, n, Outcome::Applied);
                }
                // Its dependency failed transiently and is retried; so is this.
                Some(a) if a.status == 424 => {}
                Some(a) if a.status == 429 => throttle = Some(self.throttled(a.retry_after)),
                Some(a) if a.status >= 500 => {
                    s.units[i].verify = true;
                    failure = Some(answer_text(a));
                }
                Some(a) => {
                    let (code, message) = a.error();
                    let reason = refusal(&self.ops[n], a.status, &code, &message);
                    s.units[i].license = None;
                    self.resolve(s, n, Outcome::Failed(reason));
                }
                None => {
                    s.units[i].verify = true;
                    failure = Some(format!("{upn}: no answer for the license change"));
                }
            }
        }
        self.reschedule(s, i, throttle, failure);
    }

    fn settle_envelope_error(&self, s: &mut Sched, i: usize, e: &CallError) {
        match e {
            CallError::Auth(m) => s.fatal = Some(m.clone()),
            CallError::Status {
                status: 429,
                retry_after,
                ..
            } => {
                let wait = self.throttled(*retry_after);
                self.reschedule(s, i, Some(wait), None);
            }
            e if e.is_transient() => {
                // Some items may have run before the answer was lost: check first.
                s.units[i].verify = true;
                self.reschedule(s, i, None, Some(e.to_string()));
            }
            CallError::Status { status: 401, .. } => {
                s.fatal = Some(format!("Microsoft Graph refused the access token: {e}"));
            }
            e => {
                let upn = s.units[i].upn.clone();
                let parts: Vec<usize> = [
                    s.units[i].location.take().map(|l| l.0),
                    s.units[i].license.take().map(|l| l.0),
                ]
                .into_iter()
                .flatten()
                .collect();
                for n in parts {
                    self.resolve(
                        s,
                        n,
                        Outcome::Failed(format!("{upn}: Microsoft Graph refused the batch: {e}")),
                    );
                }
            }
        }
    }

    /// Pauses the pacer for a 429 and returns how long this unit waits.
    fn throttled(&self, retry_after: Option<Duration>) -> Duration {
        let wait = retry_after.unwrap_or(Duration::from_secs(1));
        self.pacer.throttled(wait);
        wait
    }

    /// Decides when a unit that is not done goes again, or gives it up.
    fn reschedule(
        &self,
        s: &mut Sched,
        i: usize,
        throttle: Option<Duration>,
        failure: Option<String>,
    ) {
        let now = Instant::now();
        if let Some(reason) = failure {
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
                let parts: Vec<usize> = [
                    u.location.take().map(|l| l.0),
                    u.license.take().map(|l| l.0),
                ]
                .into_iter()
                .flatten()
                .collect();
                for n in parts {
                    self.resolve(s, n, Outcome::Failed(reason.clone()));
                }
                return;
            }
            let delays = u.delays.get_or_insert_with(|| Box::new(retry.delays()));
            let backoff = delays.next().unwrap_or(retry.max_delay);
            u.not_before = now + throttle.unwrap_or(backoff).max(backoff);
        } else if let Some(wait) = throttle {
            s.units[i].not_before = now + wait;
        }
    }

    /// Reads users whose last change has an unknown outcome, and keeps only what is left
    /// to do. Reads do not count against the write quota.
    async fn verify(&self, units: Vec<usize>) {
        let items: Vec<BatchItem> = {
            let s = self.sched.lock().expect("sched lock");
            units
                .iter()
                .map(|&i| BatchItem {
                    id: format!("{i}-get"),
                    method: "GET",
                    url: user_url(&s.units[i].user_id),
                    body: None,
                    depends_on: None,
                })
                .collect()
        };
        let result = self.client.batch(&items).await;
        let mut s = self.sched.lock().expect("sched lock");
        match result {
            Ok(answers) => {
                let answers: HashMap<String, BatchAnswer> = answers.into_iter().collect();
                for &i in &units {
                    match answers.get(&format!("{i}-get")) {
                        Some(a) if a.status == 200 => self.settle_verified(&mut s, i, &a.body),
                        Some(a) if a.status == 429 => {
                            let wait = a.retry_after.unwrap_or(Duration::from_secs(1));
                            self.reschedule(&mut s, i, Some(wait), None);
                        }
                        Some(a) if a.status == 404 => {
                            let (code, message) = a.error();
                            let parts: Vec<usize> = [
                                s.units[i].location.take().map(|l| l.0),
                                s.units[i].license.take().map(|l| l.0),
                            ]
                            .into_iter()
                            .flatten()
                            .collect();
                            for n in parts {
                                let reason = refusal(&self.ops[n], 404, &code, &message);
                                self.resolve(&mut s, n, Outcome::Failed(reason));
                            }
                        }
                        Some(a) => self.reschedule(&mut s, i, None, Some(answer_text(a))),
                        None => self.reschedule(
                            &mut s,
                            i,
                            None,
                            Some("no answer when reading the user back".into()),
                        ),
                    }
                }
            }
            Err(CallError::Auth(m)) => s.fatal = Some(m),
            Err(e) => {
                let wait = (e.retry_after().is_some()).then(|| self.throttled(e.retry_after()));
                for &i in &units {
                    if wait.is_some() {
                        self.reschedule(&mut s, i, wait, None);
                    } else {
                        self.reschedule(&mut s, i, None, Some(e.to_string()));
                    }
                }
            }
        }
        for &i in &units {
            s.units[i].in_flight = false;
        }
    }

    fn settle_verified(&self, s: &mut Sched, i: usize, body: &Value) {
        let user: User = match serde_json::from_value(body.clone()) {
            Ok(u) => u,
            Err(e) => {
                self.reschedule(s, i, None, Some(format!("unreadable user: {e}")));
                return;
            }
        };
        let seen = observe_user(&user, &self.live, &self.index);
        if let Some((n, to)) = s.units[i].location.clone()
            && seen.usage_location.as_deref() == Some(to.as_str())
        {
            s.units[i].location = None;
            self.resolve(s, n, Outcome::Applied);
        }
        if let Some((n, add, remove)) = s.units[i].license.clone() {
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
    }
}

fn answer_text(a: &BatchAnswer) -> String {
    let (code, message) = a.error();
    format!("{} {code}: {message}", a.status)
}
