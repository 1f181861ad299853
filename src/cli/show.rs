//! `commcred show PLAN`: a saved plan in any format (a pipeline renders the plan it
//! applies, a reviewer reads a downloaded artifact).

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::plan::saved::SavedPlan;
use miette::Result;

use super::common::{Format, describe, exit_for, render};
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  commcred show plan.json --format markdown")]
pub struct Args {
    /// A plan saved by `commcred plan --out PLAN`.
    pub plan: PathBuf,
    /// How to print the plan.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Exit 2 when the plan has changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let saved = SavedPlan::read(&args.plan)?;
    out.info(&describe(&args.plan.display().to_string(), &saved));
    out.result(&render(args.format, &saved, out.style));
    Ok(exit_for(&saved.plan, args.detailed_exitcode))
}
