//! `commcred apply`: plan, confirm, apply, report; or apply a saved plan exactly.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use commcred::apply::budget::{self, MaxSpend};
use commcred::apply::monthly::{self, MaxMonthlyIncrease};
use commcred::apply::report;
use commcred::apply::{ApplyContext, NoProgress, Progress};
use commcred::backend::Backend;
use commcred::config::BackendSpec;
use commcred::plan::saved::{SavedPlan, looks_like_plan};
use commcred::plan::{Plan, render::human};
use miette::{Result, miette};

use super::context::{
    GlobalArgs, Timeout, backend_override, config_path, deadline, now, open_spec, parse_timeout,
};
use super::manual_steps::{self, ManualArgs};
use super::output::{Output, stdin_is_terminal};
use super::plan::make_plan;
use super::progress::Bar;
use super::prompt;
use super::show::describe;
use commcred::workflow::plan::Planned;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    commcred apply examples/quickstart/commcred.yaml --auto-approve\n  \
    commcred apply plan.json --max-spend \"500.00 USD\"   # a plan saved by `plan --out`")]
pub struct Args {
    /// The desired state (default: ./commcred.yaml), or a plan saved by
    /// `commcred plan --out` (told apart by content).
    #[arg(value_name = "CONFIG | PLAN")]
    pub config: Option<PathBuf>,
    /// Apply without asking. Required when there is no terminal to ask on. A saved plan is
    /// never asked about: it was reviewed when it was saved (as in Terraform).
    #[arg(long)]
    pub auto_approve: bool,
    /// Refuse, changing nothing, when the plan buys more Communications Credits than
    /// AMOUNT: `500` or `500.00 USD` (the plan's currency).
    /// (`-5` is taken as a value, so that it gets a clear error rather than "unexpected
    /// argument".)
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub max_spend: Option<String>,
    /// Refuse, changing nothing, when the seats the plan takes add more than AMOUNT a month
    /// (the plan's monthly change from `prices:`; `100` or `100.00 USD`). A plan adding seats
    /// of an unpriced SKU, or made without prices, is refused: its cost is not known.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub max_monthly_increase: Option<String>,
    /// Stop sending after DURATION (`90s`, `20m`, `2h`), read back what the last
    /// calls did, report applied / failed / not attempted, and exit 1. Default: none on a
    /// terminal (Ctrl-C stops), 2h without one (CI), so a throttled run never hangs a job;
    /// `none` for no deadline. Counted from the start of `apply`.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Timeout>,
    #[command(flatten)]
    pub manual: ManualArgs,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let deadline = deadline(args.timeout, Instant::now());
    let limit = args
        .max_spend
        .as_deref()
        .map(str::parse::<MaxSpend>)
        .transpose()?;
    let monthly_limit = args
        .max_monthly_increase
        .as_deref()
        .map(str::parse::<MaxMonthlyIncrease>)
        .transpose()?;
    let limits = Limits {
        spend: limit.as_ref(),
        monthly: monthly_limit.as_ref(),
    };
    let path = config_path(args.config);
    if is_saved_plan(&path) {
        return apply_saved(&path, limits, &args.manual, deadline, global, out);
    }
    let Planned {
        plan,
        mut backend,
        backend_spec,
        credits,
        ..
    } = make_plan(Some(path), global, deadline, true, out)?;
    out.stream(|w| human::write_to(w, &plan, out.style));
    if !plan.has_changes() {
        return Ok(ExitCode::SUCCESS);
    }
    limits.check(&plan)?;
    out.check_stdout()?;
    confirm(args.auto_approve)?;
    let ledger = Some(credits.ledger_path.as_path());
    let run = Execution {
        progress: progress_for(&backend_spec),
        deadline,
    };
    apply_and_report(
        &plan,
        backend.as_mut(),
        run,
        ledger,
        &args.manual,
        global.lock_wait(),
        out,
    )
}

/// `--max-spend` and `--max-monthly-increase`, checked before anything changes.
#[derive(Clone, Copy)]
struct Limits<'a> {
    spend: Option<&'a MaxSpend>,
    monthly: Option<&'a MaxMonthlyIncrease>,
}

impl Limits<'_> {
    fn check(&self, plan: &Plan) -> Result<()> {
        if let Some(limit) = self.spend {
            budget::check(plan, limit)?;
        }
        if let Some(limit) = self.monthly {
            monthly::check(plan, limit)?;
        }
        Ok(())
    }
}

/// How an apply runs: what it tells as it goes, and when it must end.
struct Execution {
    progress: Arc<dyn Progress>,
    deadline: Option<Instant>,
}

/// Applies, reports, and guides the credits steps a backend leaves to a person (Microsoft
/// has no credits API), recording the confirmed ones in `ledger`.
fn apply_and_report(
    plan: &Plan,
    backend: &mut dyn Backend,
    run: Execution,
    ledger: Option<&Path>,
    manual_args: &ManualArgs,
    lock_wait: Duration,
    out: &Output,
) -> Result<ExitCode> {
    let ctx = ApplyContext {
        now: now()?,
        deadline: run.deadline,
    };
    let mut report = commcred::apply::apply_with(backend, plan, &ctx, run.progress)?;
    let guided = report::take_credits_steps(&mut report);
    out.result(&report::render(plan, &report));
    if guided && report.is_success() {
        manual_steps::guide(plan, ledger, manual_args, lock_wait, out)?;
    }
    if report.is_success() {
        Ok(ExitCode::SUCCESS)
    } else if let Some(why) = &report.stopped {
        Err(miette!(
            code = "commcred::apply::stopped",
            help = "run `commcred plan` to see what is left, then apply again (with a longer --timeout if the deadline was too short)",
            "apply stopped early ({why}): {} applied, {} failed, {} not attempted",
            report.applied.len(),
            report.failed.len(),
            report.not_attempted.len()
        ))
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
    let answer = prompt::ask(
        "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
    )?;
    if answer.as_deref() == Some("yes") {
        Ok(())
    } else {
        Err(miette!(
            code = "commcred::apply::cancelled",
            help = "to apply, run the command again and answer yes (or add --auto-approve)",
            "apply cancelled; nothing was changed"
        ))
    }
}

/// A saved plan rather than a commcred.yaml? Decided by content, so any file name works;
/// an unreadable path is left to the config loader to report.
fn is_saved_plan(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| looks_like_plan(&bytes))
}

/// `apply PLAN`: verify the file, check the spending limit, apply. No question is asked,
/// on a terminal or not: the plan was reviewed when it was saved, and apply refuses it if
/// anything it touches has changed since (the backend re-reads the live state, under its
/// lock, and names every object that differs).
fn apply_saved(
    path: &Path,
    limits: Limits,
    manual_args: &ManualArgs,
    deadline: Option<Instant>,
    global: &GlobalArgs,
    out: &Output,
) -> Result<ExitCode> {
    let saved = SavedPlan::read(path)?;
    out.info(&describe(&path.display().to_string(), &saved));
    out.stream(|w| human::write_to(w, &saved.plan, out.style));
    if !saved.plan.has_changes() {
        return Ok(ExitCode::SUCCESS);
    }
    limits.check(&saved.plan)?;
    out.check_stdout()?;
    let spec = backend_override(global)?.unwrap_or_else(|| saved.backend.clone());
    let mut backend = open_spec(global, &spec)?;
    backend.set_deadline(deadline);
    if saved.plan.users.iter().any(|u| u.number.is_some()) {
        // The staleness check compares the numbers the plan saw: read them again.
        backend.declare(commcred::backend::Intent {
            numbers: commcred::backend::NumbersRead::Required,
            ..Default::default()
        });
    }
    out.info(&format!("Applying to {}...", backend.describe()));
    // The ledger the plan was made against (recorded in the plan, relative to where it was
    // made, like the backend's path).
    let ledger = saved
        .plan
        .credits
        .as_ref()
        .and_then(|c| c.ledger.as_deref())
        .map(Path::new);
    let run = Execution {
        progress: progress_for(&spec),
        deadline,
    };
    apply_and_report(
        &saved.plan,
        backend.as_mut(),
        run,
        ledger,
        manual_args,
        global.lock_wait(),
        out,
    )
}

/// A progress bar where applying takes time (Microsoft Graph); none for a file.
fn progress_for(spec: &BackendSpec) -> Arc<dyn Progress> {
    match spec {
        BackendSpec::Graph(_) => Arc::new(Bar::new("applying to Microsoft Graph")),
        BackendSpec::File(_) => Arc::new(NoProgress),
    }
}
