//! What several commands share, so that command files never import each other: the plan
//! formats and their rendering (`plan`, `show`, `apply`), the exit code of a plan, and the
//! line that says where a saved plan comes from; where the credits ledger is (`ledger`,
//! `usage`).

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::config::DesiredState;
use commcred::plan::Plan;
use commcred::plan::render::{Style, human, markdown, powershell};
use commcred::plan::saved::{SavedPlan, backend_to_string};
use commcred::workflow::usage::locate_ledger;
use miette::Result;

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

/// Where the ledger is: `--ledger`, else the config's `communicationsCredits.ledger`, else
/// `commcred.ledger.json` beside the config.
#[derive(Debug, Clone, clap::Args)]
pub struct LedgerLocation {
    /// The commcred.yaml whose ledger to use (default: ./commcred.yaml when it exists).
    #[arg(long, value_name = "CONFIG")]
    pub config: Option<PathBuf>,
    /// The ledger file itself, overriding the config.
    #[arg(long, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
}

impl LedgerLocation {
    /// The ledger path, and the config when one was read.
    pub fn resolve(&self) -> Result<(PathBuf, Option<DesiredState>)> {
        Ok(locate_ledger(
            self.config.as_deref(),
            self.ledger.as_deref(),
        )?)
    }
}
