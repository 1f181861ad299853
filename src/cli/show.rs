//! `commcred show PLAN`: a saved plan in any format (a pipeline renders the plan it
//! applies, a reviewer reads a downloaded artifact).

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::plan::render::{Style, human, markdown, powershell};
use commcred::plan::saved::SavedPlan;
use miette::Result;

use super::output::Output;
use super::plan::exit_for;

/// The plan formats of `plan --format` and `show --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Terraform-like text (the default).
    #[default]
    Human,
    /// The versioned JSON document, the same as the saved plan (docs/plan-format.md).
    Json,
    /// A pull-request comment: summary, money and removals first, details collapsed.
    Markdown,
    /// Microsoft Graph PowerShell commands, for a person to run; funding as manual steps.
    Powershell,
}

pub fn render(format: Format, saved: &SavedPlan, style: Style) -> String {
    match format {
        Format::Human => human::render(&saved.plan, style),
        Format::Json => saved.to_json(),
        Format::Markdown => markdown::render(&saved.plan),
        Format::Powershell => powershell::render(&saved.plan),
    }
}

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

/// One line on where a saved plan comes from, for stderr.
pub fn describe(path: &str, saved: &SavedPlan) -> String {
    format!(
        "Saved plan {path}: tenant {}, planned at {} by commcred {} from {}, for {}",
        saved.plan.tenant_domain,
        saved.plan.planned_at.format("%Y-%m-%dT%H:%M:%SZ"),
        saved.commcred_version,
        saved.config_path,
        commcred::plan::saved::backend_to_string(&saved.backend)
    )
}
