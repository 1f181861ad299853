//! `commcred plan`: show what apply would change.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::config::{BackendSpec, DesiredState};
use commcred::credits::live::{CreditsContext, CreditsSource};
use commcred::plan::{Plan, render::human};
use commcred::tenant::Snapshot;
use miette::Result;

use super::context::{GlobalArgs, backend_spec, config_path, load_config, now, open_backend};
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  commcred plan examples/quickstart/commcred.yaml --detailed-exitcode"
)]
pub struct Args {
    /// The desired state (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
    /// Exit 2 when the plan has changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// A plan and what it was made from. Shared by `plan` and `apply`.
pub struct Planned {
    pub plan: Plan,
    pub backend: Box<dyn commcred::backend::Backend>,
    /// Where the credits state came from (the ledger on Microsoft Graph).
    pub credits: CreditsContext,
}

/// Loads the config, reads the live tenant (and, for credits, the ledger and usage) and
/// plans.
pub fn make_plan(config: Option<PathBuf>, global: &GlobalArgs, out: &Output) -> Result<Planned> {
    let desired = load_config(&config_path(config))?;
    let (mut backend, mut live) = read_live(global, &desired, out)?;
    let now = now()?;
    let credits = prepare_credits(global, &desired, &mut backend, &mut live, now)?;
    let mut plan = commcred::plan::plan(&desired, &live, now)?;
    commcred::credits::live::annotate(&mut plan, &credits);
    Ok(Planned {
        plan,
        backend,
        credits,
    })
}

/// Opens the backend and reads the live tenant.
pub fn read_live(
    global: &GlobalArgs,
    desired: &DesiredState,
    out: &Output,
) -> Result<(Box<dyn commcred::backend::Backend>, Snapshot)> {
    let mut backend = open_backend(global, desired)?;
    out.info(&format!(
        "Reading the live tenant from {}...",
        backend.describe()
    ));
    let live = backend.read()?;
    Ok((backend, live))
}

/// Brings usage and, on Microsoft Graph, the credits account from the ledger into `live`.
pub fn prepare_credits(
    global: &GlobalArgs,
    desired: &DesiredState,
    _backend: &mut Box<dyn commcred::backend::Backend>,
    live: &mut Snapshot,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CreditsContext> {
    let source = match backend_spec(global, desired)? {
        BackendSpec::Graph(_) => CreditsSource::Ledger { pstn: None },
        BackendSpec::File(_) => CreditsSource::Snapshot,
    };
    Ok(commcred::credits::live::prepare(
        desired, live, source, now,
    )?)
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let Planned { plan, .. } = make_plan(args.config, global, out)?;
    out.result(&human::render(&plan, out.style));
    Ok(exit_for(&plan, args.detailed_exitcode))
}

/// 0, or 2 for a plan with changes under `--detailed-exitcode`.
pub fn exit_for(plan: &Plan, detailed: bool) -> ExitCode {
    if detailed && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
