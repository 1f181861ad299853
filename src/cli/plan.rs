//! `commcred plan`: show what apply would change, and optionally save it (`--out`) so that
//! exactly this plan can be applied later.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::base::fsio::write_atomically;
use commcred::plan::render::human;
use commcred::workflow::{self, plan::saved_plan};
use miette::{Result, miette};

use super::common::{Format, exit_for, render};
use super::context::{GlobalArgs, Timeout, config_path, deadline, parse_timeout, session_until};
use super::output::Output;
use super::workspace::{WorkspaceArgs, workspace_and_config};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    commcred plan examples/quickstart/commcred.yaml --detailed-exitcode\n  \
    commcred plan --out plan.json --format markdown > plan.md   # CI: save and comment\n  \
    commcred plan --workspace workspace.yaml --out plans/ --format markdown   # every tenant\n\n\
    With --workspace: exit 1 if any tenant failed, else 2 if any has changes, else 0.")]
pub struct Args {
    /// The desired state (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
    /// Exit 2 when the plan has changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also save the plan to PLAN (JSON), to apply exactly it later with
    /// `commcred apply PLAN`. With --workspace, a folder: each tenant's plan is DIR/NAME.json.
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
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let until = deadline(args.timeout, std::time::Instant::now());
    if let Some(path) = &args.workspace.workspace {
        if args.config.is_some() {
            return Err(workspace_and_config());
        }
        return super::workspace::plan(
            &args.workspace,
            path,
            args.out.as_deref(),
            args.format,
            until,
            global,
            out,
        );
    }
    let session = session_until(global, until, false)?;
    let planned =
        workflow::plan::make_plan(&config_path(args.config), &session, &|note| out.info(note))?;
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
