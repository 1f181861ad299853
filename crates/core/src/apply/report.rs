//! The report of an apply in words: what needs a person, what failed and why, what was not
//! attempted, and the totals of a complete apply. Plain text; the CLI prints it.

use std::fmt::Write as _;

use crate::backend::ApplyReport;
use crate::plan::{Operation, Plan};

/// The operations on the Communications Credits account, which Microsoft offers no API for
/// (a person does them in the admin center, guided by the CLI) except in a snapshot.
fn is_credits_step(op: &Operation) -> bool {
    matches!(
        op,
        Operation::SetAutoRecharge(_) | Operation::SetPayment(_) | Operation::AddFunds(_)
    )
}

/// Removes the credits operations from the report's manual list, for the caller to guide
/// a person through them; true when there were any.
pub fn take_credits_steps(report: &mut ApplyReport) -> bool {
    let before = report.manual.len();
    report.manual.retain(|(op, _)| !is_credits_step(op));
    report.manual.len() != before
}

/// True when the backend applied the credits operations itself (the file backend).
pub fn credits_applied(report: &ApplyReport) -> bool {
    report.applied.iter().any(is_credits_step)
}

/// What was applied, what failed and why, what was not attempted, what needs a person.
pub fn render(plan: &Plan, report: &ApplyReport) -> String {
    let mut text = String::new();
    if let Some(why) = &report.stopped {
        let _ = writeln!(
            text,
            "Stopped early: {why}. Applied {}, failed {}, not attempted {}.",
            report.applied.len(),
            report.failed.len(),
            report.not_attempted.len()
        );
    }
    for (op, why) in &report.manual {
        let _ = writeln!(
            text,
            "Manual step (not applied by commcred): {}\n  {why}",
            op.describe()
        );
    }
    for (op, why) in &report.failed {
        let _ = writeln!(text, "Failed: {}\n  {why}", op.describe());
    }
    if !report.not_attempted.is_empty() {
        let _ = writeln!(
            text,
            "Not applied ({}): {}",
            report.not_attempted.len(),
            report
                .not_attempted
                .iter()
                .take(10)
                .map(|o| o.describe())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if report.is_success() && !report.applied.is_empty() {
        let mut s = plan.summary();
        if let Some(c) = plan.credits.as_ref().filter(|_| !credits_applied(report)) {
            // Guided credits steps are reported when confirmed, not as applied.
            s.settings -= c.settings.len();
            s.add_funds = None;
        }
        let _ = writeln!(
            text,
            "Apply complete! Licenses: {} assigned, {} removed. Settings: {} changed.{} \
             ({} write operation{}.)\n\
             To check that the tenant now matches: commcred plan --detailed-exitcode (exit 0: no changes)",
            s.assign,
            s.remove,
            s.settings,
            s.add_funds
                .map(|m| format!(" Credits: {m} added."))
                .unwrap_or_default(),
            report.applied.len(),
            if report.applied.len() == 1 { "" } else { "s" },
        );
    }
    text
}
