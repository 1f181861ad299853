//! Applying a plan: drives a [`Backend`] through it. The backend starts a change (taking
//! its lock and reading the live state), the plan is checked for staleness against that
//! state, the steps the backend can make run (the rest are left to a person with
//! instructions), and the change is committed only when every step went through.
//! `budget`: the spending limit (`--max-spend`) checked before anything changes.
//! `report`: the report of an apply in words, and the credits steps left to a person.
//! [`ApplyError`]: why an apply refused or did not complete, with apply's own codes.

pub mod budget;
pub mod monthly;
pub mod report;

use std::sync::Arc;

pub use crate::backend::{ApplyContext, ApplyReport, NoProgress, Progress};
use crate::backend::{Backend, BackendError};
use crate::plan::applied::already_applied;
use crate::plan::observe::stale_objects;
use crate::plan::{Operation, Plan};

/// Why an apply refused, changing nothing, or did not complete. The backend's own errors
/// (cannot read, locked, refused credentials) are wrapped as they are.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ApplyError {
    /// Something the plan touches changed since it was planned.
    #[error("the plan is stale: {} changed since it was planned; nothing was changed", .0.join(", "))]
    #[diagnostic(
        code(commcred::apply::stale),
        help("run `commcred plan` again, review the new plan, and apply that")
    )]
    Stale(Vec<String>),
    /// A saved plan applied a second time: what it touches is already as it leaves it.
    #[error("this plan was already applied: {}; nothing was changed", already(.0))]
    #[diagnostic(
        code(commcred::apply::already_applied),
        help(
            "nothing to do; to look for newer changes, run `commcred plan --detailed-exitcode` (exit 0: none)"
        )
    )]
    AlreadyApplied(Vec<String>),
    /// The run stopped before every operation was tried (a deadline, persistent throttling).
    #[error(
        "apply stopped early ({why}): {applied} applied, {failed} failed, {not_attempted} not attempted"
    )]
    #[diagnostic(
        code(commcred::apply::stopped),
        help(
            "run `commcred plan` to see what is left, then apply again (with a longer --timeout if the deadline was too short)"
        )
    )]
    Stopped {
        why: String,
        applied: usize,
        failed: usize,
        not_attempted: usize,
    },
    /// Some operations failed or were not attempted; nothing was committed beyond what went
    /// through (the report says what).
    #[error("apply did not complete: {failed} operation(s) failed, {not_attempted} not attempted")]
    #[diagnostic(
        code(commcred::apply::failed),
        help("fix the problems above and run plan again")
    )]
    Failed { failed: usize, not_attempted: usize },
    /// The backend could not read, lock or change the tenant.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Backend(#[from] BackendError),
}

impl ApplyError {
    /// The error for a report that is not a success ([`ApplyReport::is_success`]); `None`
    /// when every operation went through.
    pub fn from_report(report: &ApplyReport) -> Option<ApplyError> {
        if report.is_success() {
            return None;
        }
        Some(match &report.stopped {
            Some(why) => ApplyError::Stopped {
                why: why.clone(),
                applied: report.applied.len(),
                failed: report.failed.len(),
                not_attempted: report.not_attempted.len(),
            },
            None => ApplyError::Failed {
                failed: report.failed.len(),
                not_attempted: report.not_attempted.len(),
            },
        })
    }
}

/// "the 10 objects it changes (user a, user b, user c, …) are already as it leaves them".
fn already(objects: &[String]) -> String {
    let shown: Vec<&str> = objects.iter().take(3).map(String::as_str).collect();
    format!(
        "the {} object{} it changes ({}{}) {} already as it leaves them",
        objects.len(),
        if objects.len() == 1 { "" } else { "s" },
        shown.join(", "),
        if objects.len() > 3 { ", …" } else { "" },
        if objects.len() == 1 { "is" } else { "are" },
    )
}

/// Applies `plan` without a progress display.
pub fn apply(
    backend: &mut dyn Backend,
    plan: &Plan,
    ctx: &ApplyContext,
) -> Result<ApplyReport, ApplyError> {
    apply_with(backend, plan, ctx, Arc::new(NoProgress))
}

/// Applies `plan`, telling `progress` as steps settle. Refuses with
/// [`ApplyError::Stale`] (or [`ApplyError::AlreadyApplied`]), changing nothing, when any
/// object the plan touches differs from what the plan observed.
pub fn apply_with(
    backend: &mut dyn Backend,
    plan: &Plan,
    ctx: &ApplyContext,
    progress: Arc<dyn Progress>,
) -> Result<ApplyReport, ApplyError> {
    // Groups the plan touches are read even when they carry no license yet.
    backend.want_groups(plan.groups.iter().map(|g| g.group_id.clone()).collect());
    let live = backend.begin()?;
    let (steps, manual) = split_manual(backend, plan.operations());
    // Credits a backend leaves to a person are checked against the ledger when the person
    // confirms them, not here: only what the backend itself changes is compared.
    let manual_credits = manual.iter().any(|(op, _)| op.is_credits());
    let licenses_only;
    let checked = if manual_credits {
        let mut copy = plan.clone();
        copy.credits = None;
        licenses_only = copy;
        &licenses_only
    } else {
        plan
    };
    let stale = stale_objects(checked, &live);
    if !stale.is_empty() {
        // A saved plan applied a second time finds everything it touches changed, into
        // exactly what it leaves: "already applied", not someone else's change.
        let done = already_applied(checked, &live);
        drop(live);
        backend.abort();
        return Err(if done {
            ApplyError::AlreadyApplied(stale)
        } else {
            ApplyError::Stale(stale)
        });
    }
    drop(live);
    progress.start(steps.len() as u64);
    let executed = backend.execute(steps, ctx, progress.clone());
    progress.finish();
    let mut report = match executed {
        Ok(report) => report,
        Err(e) => {
            backend.abort();
            return Err(e.into());
        }
    };
    // The backend's own notes (direct copies kept, say) come after the manual steps.
    let noted = std::mem::replace(&mut report.manual, manual);
    report.manual.extend(noted);
    if report.is_success() {
        backend.commit()?;
    } else {
        backend.abort();
    }
    Ok(report)
}

/// The operations the backend makes, and those it leaves to a person with instructions.
fn split_manual(
    backend: &dyn Backend,
    ops: Vec<Operation>,
) -> (Vec<Operation>, Vec<(Operation, String)>) {
    let mut steps = Vec::with_capacity(ops.len());
    let mut manual = Vec::new();
    for op in ops {
        match backend.manual_step(&op) {
            Some(why) => manual.push((op, why)),
            None => steps.push(op),
        }
    }
    (steps, manual)
}
