//! `commcred plan`: show what apply would change.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::plan::{Plan, render::human};
use miette::Result;

use super::context::{GlobalArgs, config_path, load_config, now, open_backend};
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

/// Loads the config, reads the live tenant and plans. Shared by `plan` and `apply`.
pub fn make_plan(
    config: Option<PathBuf>,
    global: &GlobalArgs,
    out: &Output,
) -> Result<(Plan, Box<dyn commcred::backend::Backend>)> {
    let desired = load_config(&config_path(config))?;
    let mut backend = open_backend(global, &desired)?;
    out.info(&format!(
        "Reading the live tenant from {}...",
        backend.describe()
    ));
    let live = backend.read()?;
    let plan = commcred::plan::plan(&desired, &live, now()?)?;
    Ok((plan, backend))
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let (plan, _) = make_plan(args.config, global, out)?;
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
