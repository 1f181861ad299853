//! `commcred readiness`: for each user commcred.yaml means to place PSTN calls, whether it
//! can now and, if not, the first thing missing; exit 2 when any user is not ready.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::workflow;
use miette::{Result, miette};

use super::context::{GlobalArgs, config_path, session};
use super::output::Output;
use super::workspace::{WorkspaceArgs, workspace_and_config};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One line per user.
    #[default]
    Human,
    /// One JSON document (`backend`, `users[]` with `upn`, `ready`, `phoneNumber`, `missing`,
    /// `help`; `notCalling`).
    Json,
    /// A Markdown table.
    Markdown,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 every calling user is ready, 2 one is not, 1 error.\n\nExamples:\n  \
    commcred readiness                       # ./commcred.yaml against its tenant\n  \
    commcred readiness --format json > readiness.json\n  \
    commcred readiness --workspace workspace.yaml   # every tenant, one summary"
)]
pub struct Args {
    /// The desired state (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
    /// How to print the report on stdout.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    if let Some(path) = &args.workspace.workspace {
        if args.config.is_some() {
            return Err(workspace_and_config());
        }
        if args.format != Format::Human {
            return Err(miette!(
                code = "commcred::cli::bad_flag",
                help = "run `commcred readiness --format ...` in each tenant's folder",
                "--format is per tenant and not taken with --workspace"
            ));
        }
        return super::workspace::readiness(&args.workspace, path, global, out);
    }
    let session = session(global)?;
    let report =
        workflow::readiness::readiness_report(&config_path(args.config), &session, &|note| {
            out.info(note)
        })?;
    match args.format {
        Format::Human => out.result(&report.human()),
        Format::Markdown => out.result(&report.markdown()),
        Format::Json => out.result(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).expect("JSON values always serialize")
        )),
    }
    Ok(if report.all_ready() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
