//! `commcred usage import FILE.csv`: read the Teams admin center "PSTN and SMS usage" export
//! and keep its charged calls in the credits ledger, where plans replay them against the
//! funds and forecast the spend.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use commcred::base::money::Money;
use commcred::workflow::usage::{self, ImportRequest, Imported};
use miette::Result;

use super::common::LedgerLocation;
use super::context::{GlobalArgs, now, require_actor};
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  commcred usage import PSTN.calls.2026-11-24.csv")]
pub struct Args {
    #[command(subcommand)]
    pub command: UsageCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum UsageCommand {
    /// Import a "PSTN and SMS usage" export (Teams admin center > Analytics & reports >
    /// Usage reports > Export to Excel) into the credits ledger. Importing the same calls
    /// twice adds nothing (calls are keyed by UsageId).
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  commcred usage import PSTN.calls.2026-11-25.csv")]
pub struct ImportArgs {
    /// The CSV export.
    pub file: PathBuf,
    #[command(flatten)]
    pub ledger: LedgerLocation,
    /// Who imports, as recorded in the ledger (default: the login name).
    /// Same flag as `apply --confirmed-by`; `--by` is its old spelling.
    #[arg(long, alias = "by", env = "COMMCRED_CONFIRMED_BY", value_name = "NAME")]
    pub confirmed_by: Option<String>,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    match args.command {
        UsageCommand::Import(args) => import(args, global.lock_wait(), out),
    }
}

fn import(args: ImportArgs, lock_wait: Duration, out: &Output) -> Result<ExitCode> {
    let (path, config) = args.ledger.resolve()?;
    let imported = usage::import(ImportRequest {
        file: args.file.clone(),
        ledger: path.clone(),
        tenant: config.as_ref().map(|d| d.tenant.clone()),
        by: require_actor(args.confirmed_by.as_deref())?,
        now: now()?,
        lock_wait,
    })?;
    out.result(&describe(&args.file, &path, &imported));
    Ok(ExitCode::SUCCESS)
}

/// "Imported FILE into LEDGER: N calls from … to …; M charged: …; K added, J already in".
fn describe(file: &Path, ledger: &Path, imported: &Imported) -> String {
    let period = match (imported.from, imported.to) {
        (Some(a), Some(b)) => format!(" from {} to {}", a.format("%Y-%m-%d"), b.format("%Y-%m-%d")),
        _ => String::new(),
    };
    let totals = if imported.spend.is_empty() {
        "nothing charged".to_string()
    } else {
        imported
            .spend
            .iter()
            .map(|(c, d)| Money::new(*d, c.clone()).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (rows, charged, added) = (imported.rows, imported.charged, imported.added);
    format!(
        "Imported {} into {}:\n  {rows} call{}{period}; {charged} charged: {totals}\n  {added} charged call{} added, {} already in the ledger\n",
        file.display(),
        ledger.display(),
        if rows == 1 { "" } else { "s" },
        if added == 1 { "" } else { "s" },
        charged - added
    )
}
