//! Applying a plan's number changes through Teams' number orders (`poll.rs`), after every
//! license change of the apply (Teams provisions a newly licensed user with a delay:
//! "it can possibly take up to 24 hours for users to be enabled", Microsoft Teams, "Assign,
//! change, or remove a phone number for a user").
//!
//! - Every unassignment first, then every assignment, so a number moving from one user to
//!   another is free by the time its new holder's order runs. A move whose new holder gets
//!   nothing (its license change failed, or its order is not sent) keeps the number where
//!   it is; a move whose unassignment failed sends no assignment; a number unassigned whose
//!   assignment then fails is reported as free now, with what to do.
//! - An order that fails because Teams has not provisioned the user yet (or does not find
//!   it, which Teams answers for a user licensed minutes ago: office-docs-powershell issue
//!   8989) is placed again after a back-off, until the deadline (`apply --timeout`).
//! - An order whose answer is lost is never taken on trust: before it is reported failed,
//!   the number is read back, and what is already in place is reported applied. Orders are
//!   idempotent in effect (assigning a number to its holder or freeing a free number changes
//!   nothing), so placing one again never changes anything twice.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::backend::Progress;
use crate::plan::Operation;
use crate::tenant::NumberAssignment;
use crate::tenant::numbers::number_key;

use super::super::client::{CallError, GraphClient, RetryPolicy};
use super::super::pacer::Pacer;
use super::super::schedule::Outcome;
use super::poll::{OrderEnd, place, wait};

/// Orders placed and polled at the same time.
const ORDERS_IN_FLIGHT: usize = 32;
/// The longest wait between two orders for a user Teams has not provisioned yet.
const PROVISIONING_MAX_WAIT: Duration = Duration::from_secs(60);
/// The time an order is given to run and be followed: none is placed again for a user
/// waiting on Teams when less than this is left before the deadline.
const ORDER_TIME: Duration = Duration::from_secs(2);

/// What the number orders share.
pub(crate) struct NumberRun {
    pub client: Arc<GraphClient>,
    pub pacer: Arc<Pacer>,
    pub progress: Arc<dyn Progress>,
    /// `apply --timeout`: no order is placed or polled past it.
    pub deadline: Option<Instant>,
    /// Users whose license changes did not all go through: their numbers are not sent.
    pub held_back: HashSet<String>,
    /// Orders waiting for Teams to provision their user, for the progress line.
    waiting: AtomicUsize,
}

impl NumberRun {
    pub(crate) fn new(
        client: Arc<GraphClient>,
        pacer: Arc<Pacer>,
        progress: Arc<dyn Progress>,
        deadline: Option<Instant>,
        held_back: HashSet<String>,
    ) -> NumberRun {
        NumberRun {
            client,
            pacer,
            progress,
            deadline,
            held_back,
            waiting: AtomicUsize::new(0),
        }
    }

    /// Applies `ops` (number changes only, in plan order), each one's outcome in order.
    pub(crate) async fn run(self: Arc<Self>, ops: &[Operation]) -> Vec<Outcome> {
        let mut outcomes = vec![Outcome::NotAttempted; ops.len()];
        let plan = Moves::of(ops, &self.held_back);
        let unassigns: Vec<usize> = (0..ops.len())
            .filter(|&i| matches!(ops[i], Operation::UnassignNumber { .. }))
            .filter(|&i| !plan.skip.contains(&i))
            .collect();
        for (i, outcome) in self.clone().all(ops, &unassigns, &HashMap::new()).await {
            outcomes[i] = outcome;
        }
        // What each moving number's unassignment came to, for its assignment.
        let freed: HashMap<String, (String, Outcome)> = unassigns
            .iter()
            .map(|&i| {
                let (upn, number) = who_and_what(&ops[i]);
                (number_key(number), (upn.to_string(), outcomes[i].clone()))
            })
            .collect();
        let assigns: Vec<usize> = (0..ops.len())
            .filter(|&i| matches!(ops[i], Operation::AssignNumber { .. }))
            .filter(|&i| !plan.skip.contains(&i))
            .collect();
        for (i, outcome) in self.clone().all(ops, &assigns, &freed).await {
            outcomes[i] = outcome;
        }
        for &i in &plan.skip {
            self.progress.advance(1);
            outcomes[i] = Outcome::NotAttempted;
        }
        outcomes
    }

    /// Runs the orders of `which` side by side, at most [`ORDERS_IN_FLIGHT`] at a time.
    async fn all(
        self: Arc<Self>,
        ops: &[Operation],
        which: &[usize],
        freed: &HashMap<String, (String, Outcome)>,
    ) -> Vec<(usize, Outcome)> {
        let permits = Arc::new(Semaphore::new(ORDERS_IN_FLIGHT));
        let mut tasks = tokio::task::JoinSet::new();
        for &i in which {
            let (run, permits, op) = (self.clone(), permits.clone(), ops[i].clone());
            let before = freed.get(&number_key(who_and_what(&op).1)).cloned();
            tasks.spawn(async move {
                let _permit = permits.acquire().await.expect("never closed");
                let outcome = run.one(&op, before).await;
                run.progress.advance(1);
                (i, outcome)
            });
        }
        let mut out = Vec::with_capacity(which.len());
        while let Some(joined) = tasks.join_next().await {
            out.push(joined.expect("a number order does not panic"));
        }
        out
    }

    /// One number change; `freed` is the unassignment of the same number from its former
    /// holder in this apply, if it moves.
    async fn one(&self, op: &Operation, freed: Option<(String, Outcome)>) -> Outcome {
        let (upn, number) = who_and_what(op);
        if let Some((from, outcome)) = &freed
            && *outcome != Outcome::Applied
        {
            return Outcome::Failed(format!(
                "{upn}: {number} not assigned: it could not be unassigned from {from} first (see {from}); it stays with {from}"
            ));
        }
        let outcome = self.with_retries(op).await;
        match (outcome, freed) {
            (Outcome::Failed(why), Some((from, _))) => Outcome::Failed(format!(
                "{why}. {number} was unassigned from {from} in this apply and is free now: run `commcred apply` again to give it to {upn}"
            )),
            (outcome, _) => outcome,
        }
    }

    /// Places the order, and again while Teams has not provisioned the user, until the
    /// deadline.
    async fn with_retries(&self, op: &Operation) -> Outcome {
        let (upn, number) = who_and_what(op);
        let mut delays = RetryPolicy {
            max_attempts: u32::MAX,
            min_delay: Duration::from_secs(1),
            max_delay: PROVISIONING_MAX_WAIT,
        }
        .delays();
        let mut tries = 0u32;
        let mut last_detail: Option<String> = None;
        let given_up = |tries: u32, detail: &str, last: &str| {
            Outcome::Failed(format!(
                "{upn}: {number} not assigned: Teams has not provisioned the user yet ({detail}); the order was placed {tries} time{} until the deadline (--timeout){last}. Microsoft: it can take up to 24 hours after licensing for users to be enabled; run `commcred apply` again later (`commcred readiness` shows who is not provisioned)",
                if tries == 1 { "" } else { "s" }
            ))
        };
        loop {
            tries += 1;
            let detail = match self.order(op).await {
                Ok(()) => return Outcome::Applied,
                Err(Refused::NotProvisioned(detail)) => detail,
                Err(Refused::Unconfirmed(why)) if last_detail.is_some() => {
                    let last = format!(", and the last one was not confirmed: {why}");
                    return given_up(tries, last_detail.as_deref().unwrap_or_default(), &last);
                }
                Err(Refused::Final(why) | Refused::Unconfirmed(why)) => {
                    return Outcome::Failed(format!("{upn}: {why}"));
                }
            };
            let wait = delays.next().unwrap_or(PROVISIONING_MAX_WAIT);
            // An order placed now must have time to run and be followed before the deadline.
            if self
                .deadline
                .is_some_and(|d| Instant::now() + wait + ORDER_TIME >= d)
            {
                return given_up(tries, &detail, "");
            }
            last_detail = Some(detail);
            let waiting = self.waiting.fetch_add(1, Ordering::Relaxed) + 1;
            self.progress.status(&format!(
                "{waiting} number order(s) waiting for Teams to provision the user"
            ));
            tokio::time::sleep(wait).await;
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// One order, placed (with Graph's `Retry-After` on 429s and a few retries of lost
    /// answers) and polled to its end; a failure is checked against the number as Graph
    /// shows it before it is believed.
    async fn order(&self, op: &Operation) -> Result<(), Refused> {
        let (action, body) = order_body(op);
        let (_, number) = who_and_what(op);
        let end = match self.place_with_retries(action, &body).await {
            Ok(location) => wait(&self.client, &location, self.deadline).await,
            // Graph's final word on the request itself (a 4xx): no order was placed.
            Err(e @ (CallError::Status { .. } | CallError::Auth(_))) if !e.is_transient() => {
                return Err(Refused::Final(format!(
                    "Microsoft Graph refused the {action} order for {number}: {e}"
                )));
            }
            Err(e) => OrderEnd::Unknown(e.to_string()),
        };
        if end == OrderEnd::Succeeded {
            return Ok(());
        }
        // Already as the plan leaves it (an earlier order whose answer was lost): done.
        if self.in_place(op).await {
            return Ok(());
        }
        Err(match end {
            OrderEnd::Failed(detail) if not_provisioned(&detail) => Refused::NotProvisioned(detail),
            OrderEnd::Failed(detail) => Refused::Final(format!(
                "Teams refused the {action} order for {number}: {detail}"
            )),
            OrderEnd::StillRunning => Refused::Unconfirmed(format!(
                "the {action} order for {number} was still running at the deadline (--timeout): whether it took effect is unknown; run `commcred plan` to see"
            )),
            OrderEnd::Unknown(e) => Refused::Unconfirmed(format!(
                "the {action} order for {number} could not be followed: {e}; whether it took effect is unknown: run `commcred plan` to see"
            )),
            OrderEnd::Succeeded => unreachable!("handled above"),
        })
    }

    async fn place_with_retries(&self, action: &str, body: &Value) -> Result<String, CallError> {
        let mut delays = self.client.retry.delays();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let acquire = self.pacer.acquire(1);
            match self.deadline {
                Some(d) => {
                    if tokio::time::timeout_at(d, acquire).await.is_err() {
                        return Err(CallError::Transport(
                            "not sent: the deadline (--timeout) passed".into(),
                        ));
                    }
                }
                None => acquire.await,
            }
            match place(&self.client, action, body).await {
                Ok(location) => return Ok(location),
                // Graph promises a throttled request was not run: wait and send it again.
                Err(e) if e.is_throttling() => {
                    let wait = e.retry_after().unwrap_or(Duration::from_secs(1));
                    self.pacer.batch_throttled(Some(wait));
                    tokio::time::sleep(wait).await;
                }
                Err(e) if e.is_transient() && attempt < self.client.retry.max_attempts => {
                    let backoff = delays.next().unwrap_or(self.client.retry.max_delay);
                    tokio::time::sleep(backoff).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether the number is already as `op` leaves it, read back from Graph.
    async fn in_place(&self, op: &Operation) -> bool {
        let (_, number) = who_and_what(op);
        let Some(entry) = read_number(&self.client, number).await else {
            return false;
        };
        match op {
            Operation::AssignNumber { user_id, .. } => entry.is_assigned_to(user_id),
            _ => entry.is_free(),
        }
    }
}

/// Why an order did not go through.
enum Refused {
    /// Teams has not provisioned the user yet: worth placing again later.
    NotProvisioned(String),
    /// Teams refused it, in words.
    Final(String),
    /// Whether it took effect is unknown (still running at the deadline, or not followed).
    Unconfirmed(String),
}

/// Teams' answers for a user it has not provisioned yet: the emulator's text, and the
/// "not found" Teams gives for a user licensed minutes before (office-docs-powershell
/// issue 8989). A number Teams does not find is not this: it is final.
fn not_provisioned(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("not provisioned")
        || d.contains("not yet provisioned")
        || (d.starts_with("user ") && d.contains("not found"))
}

/// The order's action and body ("numberAssignment: assignNumber" / "unassignNumber").
fn order_body(op: &Operation) -> (&'static str, Value) {
    match op {
        Operation::AssignNumber {
            user_id, number, ..
        } => (
            "assignNumber",
            json!({
                "telephoneNumber": number.number,
                "assignmentTargetId": user_id,
                "numberType": number.number_type.to_string(),
                "assignmentCategory": "primary",
            }),
        ),
        Operation::UnassignNumber { number, .. } => (
            "unassignNumber",
            json!({
                "telephoneNumber": number.number,
                "numberType": number.number_type.to_string(),
            }),
        ),
        other => unreachable!("not a number change: {}", other.describe()),
    }
}

fn who_and_what(op: &Operation) -> (&str, &str) {
    match op {
        Operation::AssignNumber { upn, number, .. }
        | Operation::UnassignNumber { upn, number, .. } => (upn, &number.number),
        _ => ("", ""),
    }
}

/// The number's entry in the inventory (`$filter=telephoneNumber eq '…'`, as "List
/// numberAssignments" shows); `None` when it cannot be read.
async fn read_number(client: &GraphClient, number: &str) -> Option<NumberAssignment> {
    let mut url = reqwest::Url::parse(
        "http://graph.invalid/admin/teams/telephoneNumberManagement/numberAssignments",
    )
    .expect("a valid URL");
    url.query_pairs_mut().append_pair(
        "$filter",
        &format!("telephoneNumber eq '{}'", number.replace('\'', "''")),
    );
    let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
    let mut page = client.get(&path).await.ok()?;
    let first = page.get_mut("value")?.as_array_mut()?.first_mut()?.take();
    serde_json::from_value(first).ok()
}

/// Changes held back because a user's licenses did not go through: a held-back user's
/// assignment, and the unassignment of a number that would move to a held-back user (the
/// number stays with its holder rather than end up with nobody).
struct Moves {
    skip: HashSet<usize>,
}

impl Moves {
    fn of(ops: &[Operation], held_back: &HashSet<String>) -> Moves {
        let held = |id: &str| held_back.contains(&id.to_ascii_lowercase());
        let mut skip = HashSet::new();
        let mut held_numbers = HashSet::new();
        for (i, op) in ops.iter().enumerate() {
            if let Operation::AssignNumber {
                user_id, number, ..
            } = op
                && held(user_id)
            {
                skip.insert(i);
                held_numbers.insert(number_key(&number.number));
            }
        }
        for (i, op) in ops.iter().enumerate() {
            if let Operation::UnassignNumber { number, .. } = op
                && held_numbers.contains(&number_key(&number.number))
            {
                skip.insert(i);
            }
        }
        Moves { skip }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::phone::NumberType;
    use crate::plan::PlannedNumber;

    fn number(n: &str) -> PlannedNumber {
        PlannedNumber {
            number: n.into(),
            number_type: NumberType::CallingPlan,
        }
    }

    #[test]
    fn a_number_moving_to_a_held_back_user_stays_where_it_is() {
        let ops = vec![
            Operation::UnassignNumber {
                user_id: "a".into(),
                upn: "a@x".into(),
                number: number("+14255550100"),
            },
            Operation::UnassignNumber {
                user_id: "c".into(),
                upn: "c@x".into(),
                number: number("+14255550199"),
            },
            Operation::AssignNumber {
                user_id: "B".into(),
                upn: "b@x".into(),
                number: number("+14255550100"),
            },
        ];
        let held: HashSet<String> = ["b".to_string()].into();
        let skip = Moves::of(&ops, &held).skip;
        assert_eq!(skip, [0, 2].into());
        assert!(Moves::of(&ops, &HashSet::new()).skip.is_empty());
    }

    #[test]
    fn not_provisioned_is_told_from_a_missing_number() {
        assert!(not_provisioned(
            "User 'u1' is not provisioned in Microsoft Teams yet; retry once its licenses have reached Teams"
        ));
        assert!(not_provisioned("User 'u1' is not found"));
        assert!(!not_provisioned(
            "Telephone Number '+1' is not found from tenant 't'"
        ));
        assert!(!not_provisioned(
            "User 'u1' lacks appropriate licenses to assign a 'CallingPlan' number"
        ));
    }
}
