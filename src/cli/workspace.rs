//! `--workspace FILE` on `plan`, `apply`, `drift`, `waste` and `readiness`: the same command for every tenant
//! of a workspace file, in parallel, with one summary and one exit code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use commcred::apply::ApplyContext;
use commcred::config::workspace::{Workspace, WorkspaceTenant, load_workspace};
use commcred::workflow::Session;
use commcred::workflow::workspace::{
    self, DEFAULT_PARALLEL, Outcome, RunOptions, TenantResult, summary,
};
use miette::{Result, miette};

use super::common::Format;
use super::context::{GlobalArgs, now, session, session_until};
use super::output::Output;

/// The workspace options `plan`, `apply` and `drift` share.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkspaceArgs {
    /// Run for every tenant of a workspace file (docs/workspace.md) instead of one config.
    #[arg(long, value_name = "FILE")]
    pub workspace: Option<PathBuf>,
    /// Only these tenants of the workspace (names, comma-separated).
    #[arg(
        long,
        value_name = "NAME,...",
        value_delimiter = ',',
        requires = "workspace"
    )]
    pub tenants: Vec<String>,
    /// Only the workspace's tenants with this tag.
    #[arg(long, value_name = "TAG", requires = "workspace")]
    pub tag: Option<String>,
    /// Tenants worked on at once (each has its own Graph quota).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PARALLEL, requires = "workspace",
          value_parser = parse_parallel)]
    pub parallel: usize,
    /// Start no further tenant once one has failed (tenants already running finish).
    #[arg(long, requires = "workspace")]
    pub fail_fast: bool,
}

fn parse_parallel(text: &str) -> std::result::Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err(format!("`{text}`: give a number of tenants from 1 to 64")),
    }
}

impl WorkspaceArgs {
    fn options(&self) -> RunOptions {
        RunOptions {
            parallel: self.parallel,
            fail_fast: self.fail_fast,
        }
    }

    fn load(&self, path: &Path) -> Result<(Workspace, Vec<WorkspaceTenant>)> {
        let ws = load_workspace(path)?;
        let chosen = ws
            .select(&self.tenants, self.tag.as_deref())?
            .into_iter()
            .cloned()
            .collect();
        Ok((ws, chosen))
    }
}

fn exit(any_failed: bool, any_changes: bool) -> ExitCode {
    if any_failed {
        ExitCode::FAILURE
    } else if any_changes {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `plan --workspace FILE [--out DIR]`: exit 1 if any tenant failed, else 2 if any has
/// changes, else 0.
pub fn plan(
    args: &WorkspaceArgs,
    path: &Path,
    out_dir: Option<&Path>,
    format: Format,
    deadline: Option<std::time::Instant>,
    global: &GlobalArgs,
    out: &Output,
) -> Result<ExitCode> {
    let (ws, tenants) = args.load(path)?;
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            miette!(
                code = "commcred::plan_file::write",
                help = "--out with --workspace names a folder: each tenant's plan is DIR/NAME.json",
                "cannot create {}: {e}",
                dir.display()
            )
        })?;
    }
    // Every tenant's reads end by --timeout: a throttled tenant fails, the others plan.
    let session = session_until(global, deadline, false)?;
    out.info(&format!(
        "Planning {} tenant(s) of {}, {} at a time...",
        tenants.len(),
        path.display(),
        args.parallel
    ));
    let chosen: Vec<&WorkspaceTenant> = tenants.iter().collect();
    let results = workspace::plan(&ws, &chosen, &session, out_dir, &args.options());
    let name = path.display().to_string();
    match format {
        Format::Json => out.result(&format!(
            "{}\n",
            serde_json::to_string_pretty(&summary::plan_json(&name, &results))
                .expect("json serializes")
        )),
        Format::Markdown => out.result(&summary::plan_text(&name, &results, true)),
        Format::Human => out.result(&summary::plan_text(&name, &results, false)),
        Format::Powershell => {
            return Err(miette!(
                code = "commcred::cli::bad_format",
                help = "use human, markdown or json with --workspace; `commcred show DIR/NAME.json --format powershell` prints one tenant's",
                "--format powershell is per tenant"
            ));
        }
    }
    if let Some(dir) = out_dir {
        out.info(&format!(
            "\nSaved each planned tenant's plan in {0}. To apply exactly these plans:\n  commcred apply --workspace {1} {0}",
            dir.display(),
            path.display()
        ));
    }
    let failed = results.iter().any(|r| r.outcome.is_failure());
    let changes = results
        .iter()
        .any(|r| matches!(&r.outcome, Outcome::Ok(p) if p.has_changes));
    Ok(exit(failed, changes))
}

/// `apply --workspace FILE DIR` (saved plans) or `apply --workspace FILE --auto-approve`.
pub fn apply(
    args: &WorkspaceArgs,
    path: &Path,
    plans: Option<&Path>,
    auto_approve: bool,
    deadline: Option<std::time::Instant>,
    global: &GlobalArgs,
    out: &Output,
) -> Result<ExitCode> {
    let (ws, tenants) = args.load(path)?;
    // Each tenant's reads end by the same deadline, and its backend checks the write
    // permissions before reading.
    let session = session_until(global, deadline, true)?;
    let ctx = ApplyContext {
        now: now()?,
        deadline,
    };
    let chosen: Vec<&WorkspaceTenant> = tenants.iter().collect();
    let results = match plans {
        Some(dir) => {
            out.info(&format!(
                "Applying the saved plans in {} to {} tenant(s), {} at a time...",
                dir.display(),
                chosen.len(),
                args.parallel
            ));
            workspace::apply_saved(&ws, &chosen, &session, dir, &ctx, &args.options())
        }
        None if auto_approve => {
            out.info(&format!(
                "Planning and applying {} tenant(s), {} at a time...",
                chosen.len(),
                args.parallel
            ));
            workspace::plan_and_apply(&ws, &chosen, &session, &ctx, &args.options())
        }
        None => {
            return Err(miette!(
                code = "commcred::apply::needs_approval",
                help = "review `commcred plan --workspace FILE --out DIR`, then `commcred apply --workspace FILE DIR`; or add --auto-approve",
                "refusing to apply a workspace without saved plans or --auto-approve"
            ));
        }
    };
    out.result(&summary::apply_text(&path.display().to_string(), &results));
    Ok(exit(results.iter().any(|r| r.outcome.is_failure()), false))
}

/// A report command over the workspace's chosen tenants: run `each`, print `text`, exit 1
/// if any tenant failed, else 2 if any tenant is `flagged` (differs, wastes, not ready),
/// else 0.
fn report<T: Send>(
    args: &WorkspaceArgs,
    path: &Path,
    global: &GlobalArgs,
    out: &Output,
    each: impl Fn(&[&WorkspaceTenant], &Session, &RunOptions) -> Vec<TenantResult<T>>,
    text: fn(&str, &[TenantResult<T>]) -> String,
    flagged: fn(&T) -> bool,
) -> Result<ExitCode> {
    let (_, tenants) = args.load(path)?;
    let session = session(global)?;
    let chosen: Vec<&WorkspaceTenant> = tenants.iter().collect();
    let results = each(&chosen, &session, &args.options());
    out.result(&text(&path.display().to_string(), &results));
    let any_flagged = results
        .iter()
        .any(|r| matches!(&r.outcome, Outcome::Ok(t) if flagged(t)));
    Ok(exit(
        results.iter().any(|r| r.outcome.is_failure()),
        any_flagged,
    ))
}

/// `drift --workspace FILE`: 2 if any tenant differs from its config.
pub fn drift(
    args: &WorkspaceArgs,
    path: &Path,
    global: &GlobalArgs,
    out: &Output,
) -> Result<ExitCode> {
    report(
        args,
        path,
        global,
        out,
        workspace::drift,
        summary::drift_text,
        |d| d.differs,
    )
}

/// `waste --workspace FILE`: 2 if any tenant has waste.
pub fn waste(
    args: &WorkspaceArgs,
    path: &Path,
    window_days: i64,
    global: &GlobalArgs,
    out: &Output,
) -> Result<ExitCode> {
    let each = |tenants: &[&WorkspaceTenant], session: &Session, options: &RunOptions| {
        workspace::waste(tenants, session, options, window_days)
    };
    report(args, path, global, out, each, summary::waste_text, |w| {
        w.totals.seats > 0
    })
}

/// `readiness --workspace FILE`: 2 if a calling user anywhere is not ready.
pub fn readiness(
    args: &WorkspaceArgs,
    path: &Path,
    global: &GlobalArgs,
    out: &Output,
) -> Result<ExitCode> {
    report(
        args,
        path,
        global,
        out,
        workspace::readiness,
        summary::readiness_text,
        |t| t.ready < t.calling,
    )
}

/// A CONFIG beside --workspace: which one was meant is unclear.
pub fn workspace_and_config() -> miette::Report {
    miette!(
        code = "commcred::cli::workspace_and_config",
        help = "each tenant's config is named in the workspace file; drop the CONFIG argument (or --workspace)",
        "--workspace runs every tenant of the workspace file; a CONFIG argument is not used with it"
    )
}
