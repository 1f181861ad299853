//! What several commands share, so that command files never import each other: the plan
//! formats and their rendering (`plan`, `show`, `apply`), the exit code of a plan, and the
//! line that says where a saved plan comes from.

use std::process::ExitCode;

use commcred::plan::Plan;
use commcred::plan::render::{Style, human, markdown, powershell};
use commcred::plan::saved::{SavedPlan, backend_to_string};

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

/// 0, or 2 for a plan with changes under `--detailed-exitcode`.
pub fn exit_for(plan: &Plan, detailed: bool) -> ExitCode {
    if detailed && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// One line on where a saved plan comes from, for stderr.
pub fn describe(path: &str, saved: &SavedPlan) -> String {
    format!(
        "Saved plan {path}: tenant {}, planned at {} by commcred {} from {}, for {}",
        saved.plan.tenant_domain,
        saved.plan.planned_at.format("%Y-%m-%dT%H:%M:%SZ"),
        saved.commcred_version,
        saved.config_path,
        backend_to_string(&saved.backend)
    )
}
