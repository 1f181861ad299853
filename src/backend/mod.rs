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

    /// Where the PSTN call log (Graph `getPstnCalls`) can be read, for backends that have
    /// one; the credits forecast uses it (`crate::credits::pstn`).
    fn pstn_calls(&mut self) -> Option<&mut dyn crate::credits::pstn::GraphGet> {
        None
    }
}

/// What an apply may need beyond the plan.
pub struct ApplyContext {
    /// The clock (for `purchasedAt` of new funds).
    pub now: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BackendError {
    #[error("cannot read {what}: {message}")]
    #[diagnostic(
        code(commcred::backend::read),
        help("check the path given by --backend or the YAML's `backend`")
    )]
    Read { what: String, message: String },
    #[error("cannot write {what}: {message}")]
    #[diagnostic(
        code(commcred::backend::write),
        help("nothing was changed; check permissions and free space, then apply again")
    )]
    Write { what: String, message: String },
    #[error("the plan is stale: {} changed since it was planned; nothing was changed", .0.join(", "))]
    #[diagnostic(
        code(commcred::apply::stale),
        help("run `commcred plan` again, review the new plan, and apply that")
    )]
    Stale(Vec<String>),
    #[error("{0}")]
    #[diagnostic(code(commcred::backend::error))]
    Other(String),
    /// The live tenant refused commcred's credentials (Microsoft Graph).
    #[error("{0}")]
    #[diagnostic(
        code(commcred::backend::auth),
        help(
            "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (the secret's value, not its id), and that the app has admin consent"
        )
    )]
    Auth(String),
    /// The access token lacks Graph application permissions the command needs; found
    /// before anything was sent that needs them.
    #[error("{0}; nothing was changed")]
    #[diagnostic(
        code(commcred::graph::missing_permissions),
        help(
            "grant the application these Microsoft Graph application permissions and admin consent (Entra admin center > App registrations > API permissions), then run the command again; docs/graph.md lists what each command needs"
        )
    )]
    MissingPermissions(String),
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

/// Opens the backend a spec names.
pub fn open(spec: &crate::config::BackendSpec) -> Result<Box<dyn Backend>, BackendError> {
    match spec {
        crate::config::BackendSpec::File(path) => Ok(Box::new(file::FileBackend::new(path))),
        crate::config::BackendSpec::Graph(url) => {
            Ok(Box::new(graph::GraphBackend::from_env(url.as_deref())?))
        }
    }
}
