//! `commcred waste`: the calling licenses the tenant pays for and gets nothing from, with
//! their monthly cost and the change that recovers each. Changes nothing; exit 2 when there
//! is waste, for a scheduled job.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::waste::render;
use commcred::workflow::waste::{DEFAULT_WINDOW_DAYS, WasteRequest, waste};
use miette::{Result, miette};

use super::context::{GlobalArgs, config_path, session};
use super::output::Output;
use super::workspace::{WorkspaceArgs, workspace_and_config};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Lines grouped by kind of waste, each with its users, cost and recovery.
    #[default]
    Human,
    /// One JSON document (`format_version`, `summary`, `lines`).
    Json,
    /// A pull-request or issue comment: the summary first, a table, users collapsed.
    Markdown,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 no waste, 2 waste found, 1 error.\n\nExamples:\n  \
    commcred waste                                  # ./commcred.yaml's tenant, priced with its `prices:`\n  \
    commcred waste --usage pstn-usage.csv           # judge calling plans on the admin center's export\n  \
    commcred waste --format markdown > waste.md\n  \
    commcred waste --workspace workspace.yaml       # every tenant, one summary"
)]
pub struct Args {
    /// The config naming the tenant, its `prices:` and who is listed (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
    /// How to print the report on stdout.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// The Teams admin center "PSTN and SMS usage" export (CSV): every call in it, free ones
    /// included, counts as use.
    #[arg(long, value_name = "FILE.csv")]
    pub usage: Option<PathBuf>,
    /// Days before now in which a calling plan or credits license must have seen a PSTN call.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_WINDOW_DAYS,
          value_parser = clap::value_parser!(i64).range(1..=3650))]
    pub usage_window: i64,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    if let Some(path) = &args.workspace.workspace {
        if args.config.is_some() {
            return Err(workspace_and_config());
        }
        if args.usage.is_some() || args.format != Format::Human {
            return Err(miette!(
                code = "commcred::cli::bad_flag",
                help = "run `commcred waste` in each tenant's folder for a usage CSV or another format",
                "--usage and --format are per tenant and not taken with --workspace (each tenant is judged on its own call log)"
            ));
        }
        return super::workspace::waste(&args.workspace, path, args.usage_window, global, out);
    }
    let session = session(global)?;
    let request = WasteRequest {
        config: config_path(args.config),
        usage_csv: args.usage,
        window_days: args.usage_window,
    };
    let report = waste(&request, &session, &|note| out.info(note))?;
    match args.format {
        Format::Human => out.result(&render::human(&report)),
        Format::Markdown => out.result(&render::markdown(&report)),
        Format::Json => out.result(&format!(
            "{}\n",
            serde_json::to_string_pretty(&render::json(&report))
                .expect("JSON values always serialize")
        )),
    }
    Ok(if report.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
