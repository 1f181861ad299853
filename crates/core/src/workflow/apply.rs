//! `apply`: the whole sequence without the terminal. Decide what to apply (a saved plan,
//! told apart by content, or a plan made now from commcred.yaml), choose the backend and
//! the credits ledger, check the spending limit, ask the caller to confirm, apply, and
//! hand back the report. The CLI (`src/cli/apply.rs`) parses the flags, prompts and
//! prints, through [`ApplyHooks`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::apply::budget::{self, MaxSpend};
use crate::apply::monthly::{self, MaxMonthlyIncrease};
use crate::apply::{ApplyContext, ApplyReport, Progress, report};
use crate::config::BackendSpec;
use crate::plan::Plan;
use crate::plan::saved::{SavedPlan, looks_like_plan};

use super::plan::{Planned, make_plan};
use super::{Session, WorkflowError};

/// What to apply and how.
pub struct ApplyRequest {
    /// commcred.yaml, or a plan saved by `plan --out` (told apart by content).
    pub path: PathBuf,
    /// `--max-spend`: the most Communications Credits the plan may buy.
    pub max_spend: Option<MaxSpend>,
    /// `--max-monthly-increase`: the most the seats the plan takes may add a month.
    pub max_monthly_increase: Option<MaxMonthlyIncrease>,
}

/// `--max-spend` and `--max-monthly-increase`, checked before anything changes.
struct Limits<'a> {
    spend: Option<&'a MaxSpend>,
    monthly: Option<&'a MaxMonthlyIncrease>,
}

/// What the workflow asks of its caller. `E` is the caller's error type: a hook that
/// refuses (no terminal to confirm on, the person said no) stops the apply with it.
pub trait ApplyHooks<E> {
    /// A line about what is going on ("Reading the live tenant from ...").
    fn note(&self, text: &str);
    /// A saved plan was read from `path` (said before its changes are shown).
    fn saved_plan(&self, path: &Path, saved: &SavedPlan);
    /// Shows the plan about to be applied. An error stops the apply before anything
    /// changes (its output could not be written, say).
    fn show_plan(&self, plan: &Plan) -> Result<(), E>;
    /// Asks whether to apply a plan made from commcred.yaml (a saved plan was reviewed when
    /// it was saved and is never asked about). An error stops the apply, changing nothing.
    fn confirm(&self, plan: &Plan) -> Result<(), E>;
    /// How to show progress while applying to `backend`.
    fn progress(&self, backend: &BackendSpec) -> Arc<dyn Progress>;
    /// The time the apply records (new funds' `purchasedAt`).
    fn now(&self) -> Result<DateTime<Utc>, E>;
}

/// An apply that ran.
pub struct Applied {
    pub plan: Plan,
    pub report: ApplyReport,
    /// The credits ledger the plan was made against: where confirmed credits steps go.
    pub ledger: Option<PathBuf>,
    /// The report left credits steps for a person (Microsoft has no credits API); they
    /// were taken out of the report.
    pub credits_steps: bool,
}

/// The outcome of [`apply`].
pub enum ApplyOutcome {
    /// The plan has no changes: nothing was asked or applied.
    NoChanges,
    /// The plan was applied (the report says whether everything went through).
    Applied(Box<Applied>),
}

/// Runs `apply` for `request`: plan (or read the saved plan), show, check the spending
/// limit, confirm, apply. Refuses, changing nothing, on a bad plan file, a limit
/// exceeded, a refused confirmation, or a stale plan.
pub fn apply<E: From<WorkflowError>>(
    request: ApplyRequest,
    session: &Session,
    hooks: &dyn ApplyHooks<E>,
) -> Result<ApplyOutcome, E> {
    let limits = Limits {
        spend: request.max_spend.as_ref(),
        monthly: request.max_monthly_increase.as_ref(),
    };
    let (plan, spec, mut backend, ledger) = if is_saved_plan(&request.path) {
        let saved = SavedPlan::read(&request.path).map_err(WorkflowError::from)?;
        hooks.saved_plan(&request.path, &saved);
        if !ready(&saved.plan, &limits, hooks)? {
            return Ok(ApplyOutcome::NoChanges);
        }
        let spec = session
            .backend_override
            .clone()
            .unwrap_or_else(|| saved.backend.clone());
        let backend = session.open(&spec).map_err(WorkflowError::from)?;
        hooks.note(&format!("Applying to {}...", backend.describe()));
        // The ledger the plan was made against (recorded in the plan, relative to where
        // it was made, like the backend's path).
        let ledger = saved
            .plan
            .credits
            .as_ref()
            .and_then(|c| c.ledger.as_deref())
            .map(PathBuf::from);
        (saved.plan, spec, backend, ledger)
    } else {
        let Planned {
            plan,
            backend,
            backend_spec,
            credits,
            ..
        } = make_plan(&request.path, session, &|note| hooks.note(note))?;
        if !ready(&plan, &limits, hooks)? {
            return Ok(ApplyOutcome::NoChanges);
        }
        hooks.confirm(&plan)?;
        (plan, backend_spec, backend, Some(credits.ledger_path))
    };
    let ctx = ApplyContext {
        now: hooks.now()?,
        deadline: session.deadline,
    };
    let progress = hooks.progress(&spec);
    let mut report = crate::apply::apply_with(backend.as_mut(), &plan, &ctx, progress)
        .map_err(WorkflowError::from)?;
    let credits_steps = report::take_credits_steps(&mut report);
    Ok(ApplyOutcome::Applied(Box::new(Applied {
        plan,
        report,
        ledger,
        credits_steps,
    })))
}

/// Shows the plan; false when it has no changes. Checks the spending limits.
fn ready<E: From<WorkflowError>>(
    plan: &Plan,
    limits: &Limits,
    hooks: &dyn ApplyHooks<E>,
) -> Result<bool, E> {
    hooks.show_plan(plan)?;
    if !plan.has_changes() {
        return Ok(false);
    }
    if let Some(limit) = limits.spend {
        budget::check(plan, limit).map_err(WorkflowError::from)?;
    }
    if let Some(limit) = limits.monthly {
        monthly::check(plan, limit).map_err(WorkflowError::from)?;
    }
    Ok(true)
}

/// A saved plan rather than a commcred.yaml? Decided by content, so any file name works;
/// an unreadable path is left to the config loader to report.
pub fn is_saved_plan(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| looks_like_plan(&bytes))
}
