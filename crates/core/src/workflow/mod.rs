//! What a command does, without the terminal: load the YAML, open the backend, read the
//! live tenant and the credits ledger, plan, save. The CLI calls these; so can a test or a
//! library user.

pub mod apply;
pub mod credits;
pub mod drift;
pub mod export;
pub mod ledger;
pub mod plan;
pub mod recommend;
pub mod usage;
pub mod waste;
pub mod workspace;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use miette::Diagnostic;

use crate::apply::ApplyError;
use crate::apply::budget::SpendError;
use crate::apply::monthly::MonthlyError;
use crate::backend::graph::CredentialEnv;
use crate::backend::{self, Backend, BackendError};
use crate::config::{BackendSpec, ConfigError, DesiredState};
use crate::credits::CreditsError;
use crate::plan::PlanErrors;
use crate::plan::saved::PlanFileError;

/// What every workflow needs from its caller: the clock and the backend choice.
#[derive(Debug, Clone)]
pub struct Session {
    /// `--backend` / `COMMCRED_BACKEND`, overriding the YAML's `backend`.
    pub backend_override: Option<BackendSpec>,
    pub now: DateTime<Utc>,
    /// How long to wait for a file that another process holds (`--lock-timeout`).
    pub lock_wait: Duration,
    /// The environment variables Microsoft Graph credentials are read from (a workspace
    /// tenant's own; the Azure SDK's by default).
    pub credentials: CredentialEnv,
    /// When the command must end (`--timeout`): reads that Microsoft Graph keeps
    /// throttling stop waiting by then. `None`: no deadline.
    pub deadline: Option<std::time::Instant>,
    /// The command applies what it plans: the backend checks, before reading, what the
    /// changes will need too (Graph permissions).
    pub applies: bool,
}

/// Why a workflow stopped; each wraps the diagnostic of the layer that found the problem.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Plan(#[from] PlanErrors),
    #[error(transparent)]
    Credits(#[from] CreditsError),
    #[error(transparent)]
    Export(#[from] export::ExportError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    PlanFile(#[from] PlanFileError),
    #[error(transparent)]
    Spend(#[from] SpendError),
    #[error(transparent)]
    Monthly(#[from] MonthlyError),
}

impl WorkflowError {
    fn inner(&self) -> &dyn Diagnostic {
        match self {
            WorkflowError::Config(e) => e,
            WorkflowError::Backend(e) => e,
            WorkflowError::Plan(e) => e,
            WorkflowError::Credits(e) => e,
            WorkflowError::Export(e) => e,
            WorkflowError::Apply(e) => e,
            WorkflowError::PlanFile(e) => e,
            WorkflowError::Spend(e) => e,
            WorkflowError::Monthly(e) => e,
        }
    }
}

/// Transparent: the wrapped error's code, help, labels and related problems.
impl Diagnostic for WorkflowError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner().code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner().severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner().help()
    }
    fn url<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner().url()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.inner().source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.inner().labels()
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        self.inner().related()
    }
    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.inner().diagnostic_source()
    }
}

impl Session {
    /// The backend: the override, else the YAML's `backend`, else `tenant.json` beside
    /// the YAML.
    pub fn backend_spec(&self, desired: &DesiredState) -> BackendSpec {
        match &self.backend_override {
            Some(spec) => spec.clone(),
            None => desired.backend.clone().unwrap_or_else(|| {
                let dir = desired.config_path.parent().unwrap_or(Path::new("."));
                BackendSpec::File(dir.join("tenant.json"))
            }),
        }
    }

    /// Opens the backend `spec` names, with this session's lock wait.
    pub fn open(&self, spec: &BackendSpec) -> Result<Box<dyn Backend>, BackendError> {
        let mut backend = backend::open_with(spec, self.lock_wait, &self.credentials)?;
        backend.set_deadline(self.deadline);
        Ok(backend)
    }

    /// What a command on `desired` will ask of the backend: the PSTN call log when it
    /// manages credits (or `pstn_calls`, for `recommend`), and the changes an apply can
    /// make.
    pub fn intent(&self, desired: &DesiredState, pstn_calls: bool) -> backend::Intent {
        let changes = if self.applies {
            backend::Changes {
                user_licenses: true,
                usage_locations: desired.default_usage_location.is_some()
                    || desired.users.iter().any(|u| u.usage_location.is_some()),
                group_licenses: !desired.groups.list.is_empty(),
            }
        } else {
            backend::Changes::default()
        };
        backend::Intent {
            pstn_calls: pstn_calls || desired.credits.is_some(),
            changes,
        }
    }
}
