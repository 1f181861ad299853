//! `commcred plan`: show what apply would change, and optionally save it (`--out`) so that
//! exactly this plan can be applied later.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::base::fsio::write_atomically;
use commcred::plan::render::human;
use commcred::workflow::{self, plan::Planned, plan::saved_plan};
use miette::{Result, miette};

use super::common::{Format, exit_for, render};
use super::context::{GlobalArgs, config_path, session};
use super::output::Output;

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

/// [`commcred::workflow::plan::make_plan`] with the CLI's options, telling the user what
/// is being read.
pub fn make_plan(config: Option<PathBuf>, global: &GlobalArgs, out: &Output) -> Result<Planned> {
    let session = session(global)?;
    Ok(workflow::plan::make_plan(
        &config_path(config),
        &session,
        &|note| out.info(note),
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
