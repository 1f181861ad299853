//! `commcred apply`: the flags, the confirmation prompt, the progress bar and the report;
//! the sequence itself (plan or saved plan, budget, apply) is `workflow::apply`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use commcred::apply::budget::MaxSpend;
use commcred::apply::monthly::MaxMonthlyIncrease;
use commcred::apply::{ApplyError, NoProgress, Progress, report};
use commcred::config::BackendSpec;
use commcred::plan::saved::SavedPlan;
use commcred::plan::{Plan, render::human};
use commcred::workflow;
use commcred::workflow::apply::{Applied, ApplyHooks, ApplyOutcome, ApplyRequest};
use miette::{Report, Result, miette};

use super::common::describe;
use super::context::{
    GlobalArgs, Timeout, config_path, deadline, now, parse_timeout, session_until,
};
use super::manual_steps::{self, ManualArgs};
use super::output::{Output, stdin_is_terminal};
use super::progress::Bar;
use super::prompt;
use super::workspace::WorkspaceArgs;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    commcred apply examples/quickstart/commcred.yaml --auto-approve\n  \
    commcred apply plan.json --max-spend \"500.00 USD\"   # a plan saved by `plan --out`\n  \
    commcred apply --workspace workspace.yaml plans/     # each tenant's saved plan")]
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
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let deadline = deadline(args.timeout, Instant::now());
    if let Some(path) = &args.workspace.workspace {
        if args.max_spend.is_some() || args.max_monthly_increase.is_some() {
            return Err(miette!(
                code = "commcred::cli::bad_flag",
                help = "apply the tenants one by one with --max-spend / --max-monthly-increase, or review the workspace plan's credits and cost columns",
                "--max-spend and --max-monthly-increase are per tenant and not taken with --workspace"
            ));
        }
        // With --workspace, the positional argument is the folder of saved plans.
        return super::workspace::apply(
            &args.workspace,
            path,
            args.config.as_deref(),
            args.auto_approve,
            deadline,
            global,
            out,
        );
    }
    let max_spend = args
        .max_spend
        .as_deref()
        .map(str::parse::<MaxSpend>)
        .transpose()?;
    let max_monthly_increase = args
        .max_monthly_increase
        .as_deref()
        .map(str::parse::<MaxMonthlyIncrease>)
        .transpose()?;
    let request = ApplyRequest {
        path: config_path(args.config),
        max_spend,
        max_monthly_increase,
    };
    let hooks = Terminal {
        out,
        auto_approve: args.auto_approve,
    };
    let applied =
        match workflow::apply::apply(request, &session_until(global, deadline, true)?, &hooks)? {
            ApplyOutcome::NoChanges => return Ok(ExitCode::SUCCESS),
            ApplyOutcome::Applied(applied) => applied,
        };
    let Applied {
        plan,
        report,
        ledger,
        credits_steps,
    } = *applied;
    out.result(&report::render(&plan, &report));
    if credits_steps && report.is_success() {
        manual_steps::guide(
            &plan,
            ledger.as_deref(),
            &args.manual,
            global.lock_wait(),
            out,
        )?;
    }
    match ApplyError::from_report(&report) {
        None => Ok(ExitCode::SUCCESS),
        Some(e) => Err(e.into()),
    }
}

/// The apply workflow's questions, answered on the terminal.
struct Terminal<'a> {
    out: &'a Output,
    auto_approve: bool,
}

impl ApplyHooks<Report> for Terminal<'_> {
    fn note(&self, text: &str) {
        self.out.info(text);
    }
    fn saved_plan(&self, path: &Path, saved: &SavedPlan) {
        self.out.info(&describe(&path.display().to_string(), saved));
    }
    fn show_plan(&self, plan: &Plan) -> Result<()> {
        self.out
            .stream(|w| human::write_to(w, plan, self.out.style));
        if plan.has_changes() {
            // Nothing changes on the strength of output nobody saw.
            self.out.check_stdout()?;
        }
        Ok(())
    }
    fn confirm(&self, _plan: &Plan) -> Result<()> {
        confirm(self.auto_approve)
    }
    fn progress(&self, backend: &BackendSpec) -> Arc<dyn Progress> {
        progress_for(backend)
    }
    fn now(&self) -> Result<DateTime<Utc>> {
        now()
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

/// A progress bar where applying takes time (Microsoft Graph); none for a file.
fn progress_for(spec: &BackendSpec) -> Arc<dyn Progress> {
    match spec {
        BackendSpec::Graph(_) => Arc::new(Bar::new("applying to Microsoft Graph")),
        BackendSpec::File(_) => Arc::new(NoProgress),
    }
}
