//! Many tenants from one workspace file (`crate::config::workspace`): plan, apply (saved
//! plans, or plan-and-apply), drift, each tenant on its own thread (`pool.rs`, at most
//! `parallel` at once: Graph's quota is per tenant, so tenants do not slow each other).
//!
//! Isolation: a tenant's job opens its own backend with its own credentials (so its own
//! token and pacer), reads its own config and credits ledger, and holds its own lock
//! (`<workspace folder>/.commcred/locks/NAME.lock`) while it applies, so two runs on the same
//! workspace never interleave a tenant. Any error — a broken config, a refused sign-in, a
//! config pointing at another tenant, persistent throttling — is that tenant's outcome;
//! the others go on (unless `fail_fast`).

pub mod pool;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::Diagnostic;

use crate::apply::{ApplyContext, NoProgress};
use crate::backend::graph::CredentialEnv;
use crate::base::fsio::{FileLock, write_atomically};
use crate::config::workspace::{AuthEnv, Workspace, WorkspaceTenant};
use crate::plan::PlanSummary;
use crate::plan::saved::SavedPlan;

use super::Session;

/// How a workspace run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Tenants at once (`--parallel`).
    pub parallel: usize,
    /// Start no tenant after one fails (`--fail-fast`).
    pub fail_fast: bool,
}

/// The default `--parallel`: a few, since each tenant has its own Graph quota.
pub const DEFAULT_PARALLEL: usize = 4;

/// Why a tenant failed: the diagnostic's code, its message, and its full plain rendering
/// (file, line, column, help) for the details.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    pub code: String,
    pub message: String,
    #[serde(skip)]
    pub detail: String,
}

impl Failure {
    pub fn from_diagnostic(e: &dyn Diagnostic) -> Failure {
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_links(false)
                .with_width(100);
        let mut detail = String::new();
        let _ = handler.render_report(&mut detail, e);
        Failure {
            code: e
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "commcred::error".into()),
            // A config's wrapper ("has 2 problems") leads with its first problem.
            message: match e.related().and_then(|mut r| r.next()) {
                Some(first) => format!("{e}: {first}"),
                None => e.to_string(),
            },
            detail,
        }
    }

    fn new(code: &str, message: String) -> Failure {
        Failure {
            code: code.into(),
            detail: message.clone(),
            message,
        }
    }
}

/// What a tenant's plan holds, for the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub summary: PlanSummary,
    pub has_changes: bool,
    /// Where `--out` saved it.
    pub saved: Option<PathBuf>,
}

/// What applying did to a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    pub applied: usize,
    pub failed: usize,
    pub not_attempted: usize,
    /// Credits steps left to a person (Microsoft has no credits API).
    pub manual: usize,
    /// The apply's own report (what failed and why), for the details.
    pub report: String,
}

/// One tenant's outcome.
#[derive(Debug, Clone)]
pub enum Outcome<T> {
    Ok(T),
    Failed(Failure),
    /// `--fail-fast` stopped the run before this tenant started.
    NotStarted,
}

impl<T> Outcome<T> {
    pub fn is_failure(&self) -> bool {
        !matches!(self, Outcome::Ok(_))
    }
}

#[derive(Debug, Clone)]
pub struct TenantResult<T> {
    pub name: String,
    pub outcome: Outcome<T>,
}

/// The credential variables of a tenant: its workspace `auth`, else the Azure SDK's.
pub fn credential_env(auth: Option<&AuthEnv>) -> CredentialEnv {
    match auth {
        None => CredentialEnv::default(),
        Some(a) => CredentialEnv {
            tenant: a.tenant_id_env.clone(),
            client_id: a.client_id_env.clone(),
            client_secret: a.client_secret_env.clone(),
            certificate_path: a.certificate_path_env.clone(),
            certificate_password: a.certificate_password_env.clone(),
            federated_token_file: a.federated_token_file_env.clone(),
        },
    }
}

/// The session a tenant runs in: the caller's clock and lock wait, the tenant's own
/// credentials, and no `--backend` override (each config names its own tenant).
fn tenant_session(base: &Session, tenant: &WorkspaceTenant) -> Session {
    Session {
        backend_override: None,
        now: base.now,
        lock_wait: base.lock_wait,
        credentials: credential_env(tenant.auth.as_ref()),
        deadline: base.deadline,
        applies: base.applies,
    }
}

/// Where `--out DIR` keeps a tenant's saved plan.
pub fn plan_path(dir: &Path, tenant: &str) -> PathBuf {
    dir.join(format!("{tenant}.json"))
}

fn run_all<T: Send>(
    tenants: &[&WorkspaceTenant],
    options: &RunOptions,
    job: impl Fn(&WorkspaceTenant) -> Outcome<T> + Sync,
) -> Vec<TenantResult<T>> {
    let ran = pool::run(
        tenants,
        options.parallel,
        options.fail_fast,
        |t| job(t),
        Outcome::is_failure,
    );
    tenants
        .iter()
        .zip(ran)
        .map(|(t, ran)| TenantResult {
            name: t.name.clone(),
            outcome: match ran {
                pool::Ran::Done(o) => o,
                pool::Ran::Panicked(why) => Outcome::Failed(Failure::new(
                    "commcred::workspace::panic",
                    format!("commcred stopped working on this tenant: {why}"),
                )),
                pool::Ran::NotStarted => Outcome::NotStarted,
            },
        })
        .collect()
}

/// Plans every tenant; with `out`, saves each plan as `out/NAME.json` and removes the
/// saved plan of a tenant that failed (so that `apply DIR` never applies an older one).
pub fn plan(
    workspace: &Workspace,
    tenants: &[&WorkspaceTenant],
    session: &Session,
    out: Option<&Path>,
    options: &RunOptions,
) -> Vec<TenantResult<Planned>> {
    let _ = workspace;
    run_all(tenants, options, |tenant| {
        let session = tenant_session(session, tenant);
        let result = super::plan::make_plan(&tenant.config, &session, &|_| {});
        match result {
            Err(e) => {
                if let Some(dir) = out {
                    let _ = std::fs::remove_file(plan_path(dir, &tenant.name));
                }
                Outcome::Failed(Failure::from_diagnostic(&e))
            }
            Ok(planned) => {
                let summary = planned.plan.summary();
                let has_changes = planned.plan.has_changes();
                let saved = match out {
                    None => None,
                    Some(dir) => {
                        let path = plan_path(dir, &tenant.name);
                        let doc = super::plan::saved_plan(planned);
                        if let Err(e) = write_atomically(&path, doc.to_json().as_bytes()) {
                            return Outcome::Failed(Failure::new(
                                "commcred::plan_file::write",
                                format!("cannot save the plan to {}: {e}", path.display()),
                            ));
                        }
                        Some(path)
                    }
                };
                Outcome::Ok(Planned {
                    summary,
                    has_changes,
                    saved,
                })
            }
        }
    })
}

/// Holds the tenant's workspace lock while `f` runs: a second run on the same workspace
/// waits (at most the lock wait), then fails that tenant, rather than interleave with it.
fn locked<T>(
    workspace: &Workspace,
    tenant: &WorkspaceTenant,
    session: &Session,
    f: impl FnOnce() -> Outcome<T>,
) -> Outcome<T> {
    let folder = workspace.path.parent().unwrap_or(Path::new("."));
    let locks = folder.join(".commcred").join("locks");
    if let Err(e) = std::fs::create_dir_all(&locks) {
        return Outcome::Failed(Failure::new(
            "commcred::workspace::lock",
            format!("cannot create {}: {e}", locks.display()),
        ));
    }
    let purpose = format!("commcred workspace apply (pid {})", std::process::id());
    match FileLock::acquire(&locks.join(&tenant.name), &purpose, session.lock_wait) {
        Ok(_lock) => f(),
        Err(e) => Outcome::Failed(Failure::new(
            "commcred::workspace::lock",
            format!(
                "tenant `{}` is being applied by another run: {e}",
                tenant.name
            ),
        )),
    }
}

fn apply_plan(
    plan: &crate::plan::Plan,
    backend: &mut dyn crate::backend::Backend,
    ctx: &ApplyContext,
) -> Outcome<Applied> {
    match crate::apply::apply_with(backend, plan, ctx, Arc::new(NoProgress)) {
        Err(e) => Outcome::Failed(Failure::from_diagnostic(&e)),
        Ok(mut report) => {
            let manual = usize::from(crate::apply::report::take_credits_steps(&mut report));
            let applied = Applied {
                applied: report.applied.len(),
                failed: report.failed.len(),
                not_attempted: report.not_attempted.len(),
                manual,
                report: crate::apply::report::render(plan, &report),
            };
            if report.is_success() {
                Outcome::Ok(applied)
            } else {
                Outcome::Failed(Failure {
                    code: if report.stopped.is_some() {
                        "commcred::apply::stopped".into()
                    } else {
                        "commcred::apply::failed".into()
                    },
                    message: format!(
                        "{} applied, {} failed, {} not attempted",
                        applied.applied, applied.failed, applied.not_attempted
                    ),
                    detail: applied.report,
                })
            }
        }
    }
}

/// Applies the saved plans in `dir` (`DIR/NAME.json`, as `plan --workspace --out DIR`
/// wrote them). A tenant without one fails (its plan failed or was not made); each plan is
/// checked for staleness against its live tenant as `apply PLAN` does.
pub fn apply_saved(
    workspace: &Workspace,
    tenants: &[&WorkspaceTenant],
    session: &Session,
    dir: &Path,
    ctx: &ApplyContext,
    options: &RunOptions,
) -> Vec<TenantResult<Applied>> {
    run_all(tenants, options, |tenant| {
        let path = plan_path(dir, &tenant.name);
        if !path.exists() {
            return Outcome::Failed(Failure::new(
                "commcred::workspace::no_plan",
                format!(
                    "no saved plan {} (its plan failed, or it was not planned into this folder)",
                    path.display()
                ),
            ));
        }
        let saved = match SavedPlan::read(&path) {
            Ok(saved) => saved,
            Err(e) => return Outcome::Failed(Failure::from_diagnostic(&e)),
        };
        if !saved.plan.has_changes() {
            return Outcome::Ok(Applied::default());
        }
        let session = tenant_session(session, tenant);
        locked(workspace, tenant, &session, || {
            let mut backend = match session.open(&saved.backend) {
                Ok(b) => b,
                Err(e) => return Outcome::Failed(Failure::from_diagnostic(&e)),
            };
            apply_plan(&saved.plan, backend.as_mut(), ctx)
        })
    })
}

/// Plans and applies each tenant in one go (`apply --workspace FILE --auto-approve`).
pub fn plan_and_apply(
    workspace: &Workspace,
    tenants: &[&WorkspaceTenant],
    session: &Session,
    ctx: &ApplyContext,
    options: &RunOptions,
) -> Vec<TenantResult<Applied>> {
    run_all(tenants, options, |tenant| {
        let session = tenant_session(session, tenant);
        locked(
            workspace,
            tenant,
            &session,
            || match super::plan::make_plan(&tenant.config, &session, &|_| {}) {
                Err(e) => Outcome::Failed(Failure::from_diagnostic(&e)),
                Ok(planned) if !planned.plan.has_changes() => Outcome::Ok(Applied::default()),
                Ok(mut planned) => apply_plan(&planned.plan, planned.backend.as_mut(), ctx),
            },
        )
    })
}

/// What drift found in a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drifted {
    pub differs: bool,
    /// The unified diff (empty when the tenant matches).
    pub diff: String,
}

/// `drift` for every tenant.
pub fn drift(
    tenants: &[&WorkspaceTenant],
    session: &Session,
    options: &RunOptions,
) -> Vec<TenantResult<Drifted>> {
    run_all(tenants, options, |tenant| {
        let session = tenant_session(session, tenant);
        match super::drift::drift(&tenant.config, &session, &|_| {}) {
            Err(e) => Outcome::Failed(Failure::from_diagnostic(&e)),
            Ok(report) => Outcome::Ok(Drifted {
                differs: !report.drift.is_empty(),
                diff: report
                    .drift
                    .unified_diff(&report.config_name, &report.live_name),
            }),
        }
    })
}

/// What `waste` found in a tenant: the totals for the summary and the tenant's own report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wasted {
    pub totals: crate::waste::WasteTotals,
    /// The tenant's report as `commcred waste` prints it (empty when there is no waste).
    pub report: String,
}

/// `waste` for every tenant, each judged on its own call log over `window_days`.
pub fn waste(
    tenants: &[&WorkspaceTenant],
    session: &Session,
    options: &RunOptions,
    window_days: i64,
) -> Vec<TenantResult<Wasted>> {
    run_all(tenants, options, |tenant| {
        let session = tenant_session(session, tenant);
        let request = super::waste::WasteRequest {
            config: tenant.config.clone(),
            usage_csv: None,
            window_days,
        };
        match super::waste::waste(&request, &session, &|_| {}) {
            Err(e) => Outcome::Failed(Failure::from_diagnostic(&e)),
            Ok(report) => Outcome::Ok(Wasted {
                totals: report.totals(),
                report: if report.is_empty() {
                    String::new()
                } else {
                    crate::waste::render::human(&report)
                },
            }),
        }
    })
}

/// What `readiness` found in a tenant: the counts for the summary and the tenant's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readied {
    pub calling: usize,
    pub ready: usize,
    /// The tenant's report as `commcred readiness` prints it.
    pub report: String,
}

/// `readiness` for every tenant.
pub fn readiness(
    tenants: &[&WorkspaceTenant],
    session: &Session,
    options: &RunOptions,
) -> Vec<TenantResult<Readied>> {
    run_all(tenants, options, |tenant| {
        let session = tenant_session(session, tenant);
        match super::readiness::readiness_report(&tenant.config, &session, &|_| {}) {
            Err(e) => Outcome::Failed(Failure::from_diagnostic(&e)),
            Ok(report) => Outcome::Ok(Readied {
                calling: report.users.len(),
                ready: report.users.iter().filter(|u| u.ready).count(),
                report: report.human(),
            }),
        }
    })
}
