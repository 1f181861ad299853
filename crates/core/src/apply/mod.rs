//! Applying a plan: drives a [`Backend`] through it. The backend starts a change (taking
//! its lock and reading the live state), the plan is checked for staleness against that
//! state, the steps the backend can make run (the rest are left to a person with
//! instructions), and the change is committed only when every step went through.
//! `budget`: the spending limit (`--max-spend`) checked before anything changes.
//! `report`: the report of an apply in words, and the credits steps left to a person.

pub mod budget;
pub mod report;

use std::sync::Arc;

pub use crate::backend::{ApplyContext, ApplyReport, NoProgress, Progress};
use crate::backend::{Backend, BackendError};
use crate::plan::applied::already_applied;
use crate::plan::observe::stale_objects;
use crate::plan::{Operation, Plan};

/// Applies `plan` without a progress display.
pub fn apply(
    backend: &mut dyn Backend,
    plan: &Plan,
    ctx: &ApplyContext,
) -> Result<ApplyReport, BackendError> {
    apply_with(backend, plan, ctx, Arc::new(NoProgress))
}

/// Applies `plan`, telling `progress` as steps settle. Refuses with
/// [`BackendError::Stale`], changing nothing, when any object the plan touches differs
/// from what the plan observed.
pub fn apply_with(
    backend: &mut dyn Backend,
    plan: &Plan,
    ctx: &ApplyContext,
    progress: Arc<dyn Progress>,
) -> Result<ApplyReport, BackendError> {
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
            BackendError::AlreadyApplied(stale)
        } else {
            BackendError::Stale(stale)
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
            return Err(e);
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
