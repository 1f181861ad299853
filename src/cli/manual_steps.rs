//! The credits steps a person does in the Microsoft 365 admin center during `apply`: print
//! them, ask for each on a terminal (or take `--confirm-manual` in a pipeline), and record
//! the confirmed ones in the credits ledger.

use std::path::Path;

use std::time::Duration;

use commcred::backend::ledger as store;
use commcred::backend::ledger::{How, Recorded, Stamp};
use commcred::plan::Plan;
use commcred::plan::steps::{self, ManualStep};
use commcred::workflow::ledger::record_confirmed;
use miette::Result;

use super::context::{actor, now};
use super::output::{Output, stdin_is_terminal};
use super::prompt;

#[derive(Debug, Clone, clap::Args)]
pub struct ManualArgs {
    /// Record the Communications Credits steps as done without asking: for a pipeline that
    /// runs after a person did them in the Microsoft 365 admin center.
    #[arg(long)]
    pub confirm_manual: bool,
    /// Who confirms the steps, as recorded in the credits ledger (default: the login name).
    #[arg(long, env = "COMMCRED_CONFIRMED_BY", value_name = "NAME")]
    pub confirmed_by: Option<String>,
}

/// Prints the steps, collects confirmations and records them in the ledger.
pub fn guide(
    plan: &Plan,
    ledger_path: Option<&Path>,
    args: &ManualArgs,
    lock_wait: Duration,
    out: &Output,
) -> Result<()> {
    let Some(change) = plan.credits.as_ref() else {
        return Ok(());
    };
    let all = steps::steps_for(change);
    if all.is_empty() {
        return Ok(());
    }
    let plan_id = commcred::plan::saved::plan_id(plan);
    out.result(&format!("\n{}", steps::render(change, &all)));

    let Some(path) = ledger_path else {
        out.result("Not recorded: the plan names no credits ledger.\n");
        return Ok(());
    };
    let path = &path.to_path_buf();
    let pending = pending_steps(path, &all, &plan_id, out)?;
    if pending.is_empty() {
        return Ok(());
    }
    let how = if args.confirm_manual {
        How::ConfirmManual
    } else if stdin_is_terminal() {
        How::Terminal
    } else {
        out.result(&format!(
            "Not recorded: there is no terminal to confirm the steps on. Once they are done, run apply again with --confirm-manual to record them in {}.\n",
            path.display()
        ));
        return Ok(());
    };
    let confirmed: Vec<&ManualStep> = match how {
        How::Terminal => ask_each(&pending, all.len())?,
        _ => pending.iter().map(|(_, s)| *s).collect(),
    };
    if confirmed.is_empty() {
        out.result("Nothing recorded; the next plan shows the same steps.\n");
        return Ok(());
    }
    let Some(by) = actor(args.confirmed_by.as_deref()) else {
        out.result(&format!(
            "Not recorded: commcred does not know who confirmed the steps (USER is not set). Run apply again with --confirm-manual --confirmed-by NAME to record them in {}.\n",
            path.display()
        ));
        return Ok(());
    };
    let stamp = Stamp {
        by,
        at: now()?,
        how,
        plan: None,
        step: None,
    };
    let recorded = record_confirmed(path, &plan_id, change, &confirmed, &stamp, lock_wait)?;
    report_recorded(&recorded, path, &stamp, out);
    let skipped = pending.len() - confirmed.len();
    if skipped > 0 {
        out.result(&format!(
            "{skipped} step{} not confirmed: the next plan shows {} again.\n",
            if skipped == 1 { "" } else { "s" },
            if skipped == 1 { "it" } else { "them" }
        ));
    }
    Ok(())
}

/// The steps not yet recorded for this plan; says which ones already were.
fn pending_steps<'a>(
    path: &Path,
    all: &'a [ManualStep],
    plan_id: &str,
    out: &Output,
) -> Result<Vec<(usize, &'a ManualStep)>> {
    let known = store::load(path)?;
    let mut pending = Vec::new();
    for (n, step) in all.iter().enumerate() {
        match known
            .as_ref()
            .and_then(|l| l.is_confirmed(&step.key(plan_id)))
        {
            Some(c) => out.result(&format!(
                "Step {} was already recorded on {} by {}: not recorded again.\n",
                n + 1,
                c.stamp.at.format("%Y-%m-%d %H:%M UTC"),
                c.stamp.by
            )),
            None => pending.push((n, step)),
        }
    }
    Ok(pending)
}

/// What the ledger took, and what it already had.
fn report_recorded(recorded: &Recorded, path: &Path, stamp: &Stamp, out: &Output) {
    for title in &recorded.recorded {
        out.result(&format!(
            "Recorded in {}: {title} (confirmed by {}).\n",
            path.display(),
            stamp.by
        ));
    }
    for (title, when) in &recorded.already {
        out.result(&format!(
            "Already recorded: {title} ({} by {}).\n",
            when.at.format("%Y-%m-%d %H:%M UTC"),
            when.by
        ));
    }
}

/// Asks `done` or `skip` for each step, in order, on the terminal.
fn ask_each<'a>(pending: &[(usize, &'a ManualStep)], total: usize) -> Result<Vec<&'a ManualStep>> {
    let mut confirmed = Vec::new();
    for (n, step) in pending {
        loop {
            let answer = prompt::ask(&format!(
                "Step {} of {total} ({}): type 'done' once it is done in the admin center, or 'skip': ",
                n + 1,
                step.title
            ))?;
            match answer.as_deref() {
                Some("done") => {
                    confirmed.push(*step);
                    break;
                }
                Some("skip") => break,
                None => return Ok(confirmed),
                Some(_) => eprintln!("  Please type done or skip."),
            }
        }
    }
    Ok(confirmed)
}
