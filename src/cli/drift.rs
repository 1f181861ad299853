//! `commcred drift`: how the live tenant differs from commcred.yaml, as a unified YAML diff
//! (or JSON), exit 2 when it differs. Run on a schedule, it is the daily report of what was
//! changed in the portal since the last apply.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::plan::render::{Style, Tone};
use commcred::workflow;
use miette::Result;

use super::context::{GlobalArgs, config_path, session};
use super::output::Output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// A unified diff: `-` lines are what commcred.yaml says, `+` lines what the tenant has.
    #[default]
    Diff,
    /// One JSON document (`format_version`, `drift`, `users`, `communicationsCredits`, `diff`).
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 no drift, 2 drift, 1 error.\n\nExamples:\n  \
    commcred drift                       # ./commcred.yaml against its tenant\n  \
    commcred drift --format json > drift.json"
)]
pub struct Args {
    /// The desired state (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
    /// How to print the report on stdout.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub workspace: super::workspace::WorkspaceArgs,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    if let Some(path) = &args.workspace.workspace {
        if args.config.is_some() {
            return Err(super::workspace::workspace_and_config());
        }
        return super::workspace::drift(&args.workspace, path, global, out);
    }
    let session = session(global)?;
    let workflow::drift::DriftReport {
        drift: report,
        config_name,
        live_name,
    } = workflow::drift::drift(&config_path(args.config), &session, &|note| out.info(note))?;
    match args.format {
        Format::Diff => out.result(&colored(
            &report.unified_diff(&config_name, &live_name),
            out.style,
        )),
        Format::Json => out.result(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report.to_json(&config_name, &live_name))
                .expect("JSON values always serialize")
        )),
    }
    if report.is_empty() {
        out.info(&format!("No drift: the tenant matches {config_name}."));
        return Ok(ExitCode::SUCCESS);
    }
    let count = |n: usize, what: &str| match n {
        0 => None,
        1 => Some(format!("1 {what}")),
        n => Some(format!("{n} {what}s")),
    };
    let parts: Vec<String> = [
        count(report.users.len(), "user"),
        count(report.communications_credits.len(), "credits setting"),
    ]
    .into_iter()
    .flatten()
    .collect();
    out.info(&format!(
        "Drift: {} differ{} from {config_name}.\n\
         To put the tenant back as the config says: commcred apply {config_name}\n\
         To keep the tenant's values instead: change {config_name} (commcred export --out FILE shows the tenant as YAML).",
        parts.join(" and "),
        if parts.len() == 1 && parts[0].starts_with("1 ") { "s" } else { "" },
    ));
    Ok(ExitCode::from(2))
}

/// The diff in red and green on a terminal (never with `NO_COLOR` or into a pipe), in
/// the output's own colours.
fn colored(diff: &str, style: Style) -> String {
    if !style.is_painted() {
        return diff.to_string();
    }
    diff.lines()
        .map(|line| {
            let tone = match line.as_bytes().first() {
                Some(b'-') if !line.starts_with("---") => Some(Tone::Removed),
                Some(b'+') if !line.starts_with("+++") => Some(Tone::Added),
                Some(b'@') => Some(Tone::Hunk),
                _ => None,
            };
            match tone {
                Some(tone) => format!("{}\n", style.paint(tone, line)),
                None => format!("{line}\n"),
            }
        })
        .collect()
}
