//! `commcred apply`: plan, confirm, apply, report.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use commcred::backend::{ApplyContext, ApplyReport};
use commcred::plan::{Plan, render::human};
use miette::{Result, miette};

use super::context::{GlobalArgs, now};
use super::output::{Output, stdin_is_terminal};
use super::plan::make_plan;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  commcred apply examples/quickstart/commcred.yaml --auto-approve"
)]
pub struct Args {
    /// The desired state (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
    /// Apply without asking. Required when there is no terminal to ask on.
    #[arg(long)]
    pub auto_approve: bool,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let (plan, mut backend) = make_plan(args.config, global, out)?;
    out.result(&human::render(&plan, out.style));
    if !plan.has_changes() {
        return Ok(ExitCode::SUCCESS);
    }
    confirm(args.auto_approve)?;
    let report = backend.apply(&plan, &ApplyContext { now: now()? })?;
    out.result(&render_report(&plan, &report));
    if report.is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(miette!(
            code = "commcred::apply::failed",
            help = "fix the problems above and run plan again",
            "apply did not complete: {} operation(s) failed, {} not attempted",
            report.failed.len(),
            report.not_attempted.len()
        ))
    }
}

/// Asks for `yes` on a terminal; without one, refuses unless `--auto-approve`.
pub fn confirm(auto_approve: bool) -> Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !stdin_is_terminal() {
        return Err(miette!(
            code = "commcred::apply::needs_approval",
            help = "review the plan, then run again with --auto-approve (or apply a saved plan)",
            "refusing to apply: there is no terminal to ask for confirmation"
        ));
    }
    eprint!(
        "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| miette!("cannot read the answer: {e}"))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(miette!(
            code = "commcred::apply::cancelled",
            "apply cancelled; nothing was changed"
        ))
    }
}

/// What was applied, what failed and why, what was not attempted, what needs a person.
pub fn render_report(plan: &Plan, report: &ApplyReport) -> String {
    let mut text = String::new();
    for (op, why) in &report.manual {
        text.push_str(&format!(
            "Manual step (not applied by commcred): {}\n  {why}\n",
            op.describe()
        ));
    }
    for (op, why) in &report.failed {
        text.push_str(&format!("Failed: {}\n  {why}\n", op.describe()));
    }
    if !report.not_attempted.is_empty() {
        text.push_str(&format!(
            "Not applied ({}): {}\n",
            report.not_attempted.len(),
            report
                .not_attempted
                .iter()
                .take(10)
                .map(|o| o.describe())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if report.is_success() {
        let s = plan.summary();
        text.push_str(&format!(
            "Apply complete! {} applied: {} assigned, {} removed, {} settings changed{}.\n",
            report.applied.len(),
            s.assign,
            s.remove,
            s.settings,
            s.add_funds
                .map(|m| format!(", {m} added"))
                .unwrap_or_default()
        ));
    }
    text
}
