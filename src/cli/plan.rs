//! `commcred plan`: show what apply would change, and optionally save it (`--out`) so that
//! exactly this plan can be applied later.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use commcred::backend::Backend;
use commcred::backend::file::write_atomically;
use commcred::config::{BackendSpec, DesiredState};
use commcred::credits::live::{CreditsContext, CreditsSource};
use commcred::plan::Plan;
use commcred::plan::file::SavedPlan;
use commcred::plan::render::human;
use commcred::tenant::Snapshot;
use miette::{Result, miette};

use super::context::{GlobalArgs, backend_spec, config_path, load_config, now, open_backend};
use super::output::Output;
use super::show::{Format, render};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    commcred plan examples/quickstart/commcred.yaml --detailed-exitcode\n  \
    commcred plan --out plan.json --format markdown > plan.md   # CI: save and comment")]
pub struct Args {
    /// The desired state (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
    /// Exit 2 when the plan has changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also save the plan to PLAN (JSON), to apply exactly it later with
    /// `commcred apply PLAN`.
    #[arg(long, value_name = "PLAN")]
    pub out: Option<PathBuf>,
    /// How to print the plan on stdout.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

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
/// plans. Shared by `plan` and `apply`.
pub fn make_plan(config: Option<PathBuf>, global: &GlobalArgs, out: &Output) -> Result<Planned> {
    make_plan_with_live(config, global, out).map(|(planned, _)| planned)
}

/// [`make_plan`], keeping the live tenant it read (the drift report names its SKUs).
pub fn make_plan_with_live(
    config: Option<PathBuf>,
    global: &GlobalArgs,
    out: &Output,
) -> Result<(Planned, Snapshot)> {
    let config_path = config_path(config);
    let desired = load_config(&config_path)?;
    let backend_spec = backend_spec(global, &desired)?;
    let (mut backend, mut live) = read_live(global, &desired, out)?;
    let now = now()?;
    let credits = prepare_credits(&desired, &backend_spec, backend.as_mut(), &mut live, now)?;
    let mut plan = commcred::plan::plan(&desired, &live, now)?;
    commcred::credits::live::annotate(&mut plan, &credits);
    let summary = plan.summary();
    tracing::info!(
        users = summary.users,
        assign = summary.assign,
        remove = summary.remove,
        settings = summary.settings,
        "planned"
    );
    Ok((
        Planned {
            plan,
            backend,
            backend_spec,
            config_path,
            credits,
        },
        live,
    ))
}

/// Opens the backend and reads the live tenant.
pub fn read_live(
    global: &GlobalArgs,
    desired: &DesiredState,
    out: &Output,
) -> Result<(Box<dyn Backend>, Snapshot)> {
    let mut backend = open_backend(global, desired)?;
    out.info(&format!(
        "Reading the live tenant from {}...",
        backend.describe()
    ));
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
) -> Result<CreditsContext> {
    let source = match spec {
        BackendSpec::Graph(_) => CreditsSource::Ledger {
            pstn: backend.pstn_calls(),
        },
        BackendSpec::File(_) => CreditsSource::Snapshot,
    };
    Ok(commcred::credits::live::prepare(
        desired, live, source, now,
    )?)
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let planned = make_plan(args.config, global, out)?;
    let saved = saved_plan(planned);
    if let Some(path) = &args.out {
        write_atomically(path, saved.to_json().as_bytes()).map_err(|e| {
            miette!(
                code = "commcred::plan_file::write",
                help = "check that the folder exists and is writable",
                "cannot save the plan to {}: {e}",
                path.display()
            )
        })?;
    }
    match args.format {
        Format::Human => out.stream(|w| human::write_to(w, &saved.plan, out.style)),
        format => out.result(&render(format, &saved, out.style)),
    }
    if let Some(path) = &args.out {
        out.info(&format!(
            "\nSaved the plan to {0}. To apply exactly this plan:\n  commcred apply {0}",
            path.display()
        ));
    }
    Ok(exit_for(&saved.plan, args.detailed_exitcode))
}

/// What `--out` saves. Paths under the working directory are recorded relative to it, so a
/// plan made at the root of a checkout applies from the root of another checkout (CI).
/// Takes the plan by value: a 100,000-user plan is not copied.
fn saved_plan(planned: Planned) -> SavedPlan {
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

/// 0, or 2 for a plan with changes under `--detailed-exitcode`.
pub fn exit_for(plan: &Plan, detailed: bool) -> ExitCode {
    if detailed && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
