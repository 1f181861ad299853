//! Where the live tenant lives: the [`Backend`] trait and its implementations.

use crate::plan::{Operation, Plan};
use crate::tenant::Snapshot;

pub mod file;
pub mod graph;

/// A live tenant that can be read into the shared model and changed by a plan.
pub trait Backend {
    /// A short human name, e.g. `file:examples/quickstart/tenant.json`.
    fn describe(&self) -> String;

    /// Reads the live state. Credits come from wherever the backend keeps them.
    fn read(&mut self) -> Result<Snapshot, BackendError>;

    /// Applies `plan`. Before changing anything the backend re-reads the live state and
    /// refuses with [`BackendError::Stale`] when any object the plan touches differs from
    /// what the plan observed.
    fn apply(&mut self, plan: &Plan, ctx: &ApplyContext) -> Result<ApplyReport, BackendError>;
}

/// What an apply may need beyond the plan.
pub struct ApplyContext {
    /// The clock (for `purchasedAt` of new funds).
    pub now: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot read {what}: {message}")]
    Read { what: String, message: String },
    #[error("cannot write {what}: {message}")]
    Write { what: String, message: String },
    #[error("the plan is stale: {} changed since it was planned", .0.join(", "))]
    Stale(Vec<String>),
    #[error("{0}")]
    Other(String),
}

/// What happened to each operation of an apply.
#[derive(Debug, Default, Clone)]
pub struct ApplyReport {
    pub applied: Vec<Operation>,
    /// Operations refused or failed, with the reason in words naming the user.
    pub failed: Vec<(Operation, String)>,
    /// Operations skipped because an earlier one failed or the run stopped.
    pub not_attempted: Vec<Operation>,
    /// Operations that need a person (credits on Microsoft Graph), with the instructions.
    pub manual: Vec<(Operation, String)>,
}

impl ApplyReport {
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.not_attempted.is_empty()
    }
}
