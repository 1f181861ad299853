//! `commcred usage import FILE.csv`: read the Teams admin center "PSTN and SMS usage" export
//! and keep its charged calls in the credits ledger, where plans replay them against the
//! funds and forecast the spend.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::time::Duration;

use commcred::backend::ledger::{self, Ledger, UsageImport};
use commcred::base::money::Money;
use commcred::config::DesiredState;
use commcred::credits::usage::read_usage_csv;
use miette::Result;
use rust_decimal::Decimal;

use super::context::{GlobalArgs, load_config, now, require_actor};
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
        let config = match &self.config {
            Some(path) => Some(load_config(path)?),
            None if Path::new("commcred.yaml").exists() => {
                Some(load_config(Path::new("commcred.yaml"))?)
            }
            None => None,
        };
        let path = match (&self.ledger, &config) {
            (Some(path), _) => path.clone(),
            (None, Some(desired)) => ledger::ledger_path(desired),
            (None, None) => PathBuf::from(ledger::DEFAULT_FILE_NAME),
        };
        Ok((path, config))
    }
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    match args.command {
        UsageCommand::Import(args) => import(args, global.lock_wait(), out),
    }
}

fn import(args: ImportArgs, lock_wait: Duration, out: &Output) -> Result<ExitCode> {
    let (path, config) = args.ledger.resolve()?;
    let file = read_usage_csv(&args.file)?;
    let mut spend: BTreeMap<String, Decimal> = BTreeMap::new();
    for row in file.charged() {
        *spend
            .entry(row.currency_code().unwrap_or_default())
            .or_default() += row.debit();
    }
    let charged: Vec<_> = file.charged().cloned().collect();
    let record = UsageImport {
        file: args.file.display().to_string(),
        at: now()?,
        by: require_actor(args.confirmed_by.as_deref())?,
        rows: file.rows.len(),
        charged: charged.len(),
        added: 0,
        from: file.first,
        to: file.last,
    };
    let tenant = config.as_ref().map(|d| d.tenant.clone());
    let added = commcred::backend::ledger::update(&path, lock_wait, |ledger| {
        let ledger = ledger.get_or_insert_with(|| Ledger::new(tenant));
        let added = ledger.add_calls(charged);
        ledger.usage_imports.push(UsageImport { added, ..record });
        Ok(added)
    })?;

    let period = match (file.first, file.last) {
        (Some(a), Some(b)) => format!(" from {} to {}", a.format("%Y-%m-%d"), b.format("%Y-%m-%d")),
        _ => String::new(),
    };
    let totals = if spend.is_empty() {
        "nothing charged".to_string()
    } else {
        spend
            .iter()
            .map(|(c, d)| Money::new(*d, c.clone()).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let charged_count = file.charged().count();
    out.result(&format!(
        "Imported {} into {}:\n  {} call{}{period}; {charged_count} charged: {totals}\n  {added} charged call{} added, {} already in the ledger\n",
        args.file.display(),
        path.display(),
        file.rows.len(),
        if file.rows.len() == 1 { "" } else { "s" },
        if added == 1 { "" } else { "s" },
        charged_count - added
    ));
    Ok(ExitCode::SUCCESS)
}
