//! `plan` and `apply`'s first half: load the YAML, read the live tenant (and, for credits,
//! the ledger and the usage), plan; and what `plan --out` saves.

use std::path::{Path, PathBuf};

use crate::backend::Backend;
use crate::config::{BackendSpec, DesiredState};
use crate::plan::Plan;
use crate::plan::saved::SavedPlan;
use crate::tenant::Snapshot;

use super::credits::{CreditsContext, CreditsSource};
use super::{Session, WorkflowError};

/// A plan with what it was made from.
pub struct Planned {
    pub plan: Plan,
    pub backend: Box<dyn Backend>,
    pub backend_spec: BackendSpec,
    pub config_path: PathBuf,
    /// Where the credits state came from (the ledger on Microsoft Graph).
    pub credits: CreditsContext,
}

/// Loads the config, reads the live tenant (and, for credits, the ledger and the usage) and
/// plans. `note` hears what is being read, for the user. Shared by `plan` and `apply`.
pub fn make_plan(
    config_path: &Path,
    session: &Session,
    note: &dyn Fn(&str),
) -> Result<Planned, WorkflowError> {
    make_plan_with_live(config_path, session, note).map(|(planned, _)| planned)
}

/// [`make_plan`], keeping the live tenant it read (the drift report names its SKUs).
pub fn make_plan_with_live(
    config_path: &Path,
    session: &Session,
    note: &dyn Fn(&str),
) -> Result<(Planned, Snapshot), WorkflowError> {
    let desired = crate::config::load(config_path)?;
    let backend_spec = session.backend_spec(&desired);
    let (mut backend, mut live) = read_live(session, &desired, note)?;
    let now = session.now;
    let credits = prepare_credits(&desired, &backend_spec, backend.as_mut(), &mut live, now)?;
    let mut plan = crate::plan::plan(&desired, &live, now)?;
    super::credits::annotate(&mut plan, &credits);
    let summary = plan.summary();
    tracing::info!(
        users = summary.users,
        assign = summary.assign,
        remove = summary.remove,
        settings = summary.settings,
        "planned"
    );
    let planned = Planned {
        plan,
        backend,
        backend_spec,
        config_path: config_path.to_path_buf(),
        credits,
    };
    Ok((planned, live))
}

/// Opens the backend and reads the live tenant.
pub fn read_live(
    session: &Session,
    desired: &DesiredState,
    note: &dyn Fn(&str),
) -> Result<(Box<dyn Backend>, Snapshot), WorkflowError> {
    read_live_with(session, desired, false, note)
}

/// [`read_live`] for a command that reads the PSTN call log even without credits in the
/// configuration (`recommend`, with `pstn_calls`).
pub fn read_live_with(
    session: &Session,
    desired: &DesiredState,
    pstn_calls: bool,
    note: &dyn Fn(&str),
) -> Result<(Box<dyn Backend>, Snapshot), WorkflowError> {
    let mut backend = session.open(&session.backend_spec(desired))?;
    backend.declare(session.intent(desired, pstn_calls));
    note(&format!(
        "Reading the live tenant from {}...",
        backend.describe()
    ));
    backend.want_groups(
        desired
            .groups
            .list
            .iter()
            .map(|g| match &g.key {
                crate::config::GroupKey::Id(s) | crate::config::GroupKey::DisplayName(s) => {
                    s.clone()
                }
            })
            .collect(),
    );
    let live = backend.read()?;
    Ok((backend, live))
}

/// Brings the usage and, on Microsoft Graph (which has no credits API), the credits
/// account from the ledger into `live`.
pub fn prepare_credits(
    desired: &DesiredState,
    spec: &BackendSpec,
    backend: &mut dyn Backend,
    live: &mut Snapshot,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CreditsContext, WorkflowError> {
    let source = match spec {
        BackendSpec::Graph(_) => CreditsSource::Ledger {
            pstn: backend.pstn_calls(),
        },
        BackendSpec::File(_) => CreditsSource::Snapshot,
    };
    Ok(super::credits::prepare(desired, live, source, now)?)
}

/// What `--out` saves. Paths under the working directory are recorded relative to it, so a
/// plan made at the root of a checkout applies from the root of another checkout (CI).
/// Takes the plan by value: a 100,000-user plan is not copied.
pub fn saved_plan(planned: Planned) -> SavedPlan {
    let backend = match &planned.backend_spec {
        BackendSpec::File(path) => BackendSpec::File(relative_to_cwd(path)),
        other => other.clone(),
    };
    SavedPlan {
        plan: planned.plan,
        backend,
        config_path: relative_to_cwd(&planned.config_path).display().to_string(),
        commcred_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

fn relative_to_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
}
