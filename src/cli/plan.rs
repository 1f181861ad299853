//! `commcred plan`: show what apply would change, and optionally save it (`--out`) so that
//! exactly this plan can be applied later.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::base::fsio::write_atomically;
use commcred::plan::Plan;
use commcred::plan::render::human;
use commcred::workflow::{self, plan::Planned, plan::saved_plan};
use miette::{Result, miette};

use super::context::{GlobalArgs, Timeout, config_path, deadline, parse_timeout, session_until};
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
    /// Give up after DURATION (`90s`, `20m`, `2h`) when Microsoft Graph keeps throttling
    /// the reads, exiting 1 with nothing changed. Default: none on a terminal (Ctrl-C
    /// stops), 2h without one (CI); `none` for no deadline.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Timeout>,
}

/// [`commcred::workflow::plan::make_plan`] with the CLI's options, telling the user what
/// is being read; its reads end by `deadline`, and `applies` says that apply will follow.
pub fn make_plan(
    config: Option<PathBuf>,
    global: &GlobalArgs,
    deadline: Option<std::time::Instant>,
    applies: bool,
    out: &Output,
) -> Result<Planned> {
    let session = session_until(global, deadline, applies)?;
    Ok(workflow::plan::make_plan(
        &config_path(config),
        &session,
        &|note| out.info(note),
    )?)
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let until = deadline(args.timeout, std::time::Instant::now());
    let planned = make_plan(args.config, global, until, false, out)?;
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

/// 0, or 2 for a plan with changes under `--detailed-exitcode`.
pub fn exit_for(plan: &Plan, detailed: bool) -> ExitCode {
    if detailed && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
