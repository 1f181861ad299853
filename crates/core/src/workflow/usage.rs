//! `usage import` without the terminal: read the Teams admin center "PSTN and SMS usage"
//! export and keep its charged calls in the credits ledger, where plans replay them against
//! the funds and forecast the spend.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::backend::ledger::{self, Ledger, UsageImport};
use crate::credits::usage::read_usage_csv;

use super::WorkflowError;

/// One import: the export, the ledger it goes to, and who imports when.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The CSV export.
    pub file: PathBuf,
    /// The ledger (created when new).
    pub ledger: PathBuf,
    /// The tenant a new ledger is for (the YAML's), when known.
    pub tenant: Option<String>,
    /// Who imports, as recorded in the ledger.
    pub by: String,
    pub now: DateTime<Utc>,
    /// How long to wait for a ledger another commcred holds.
    pub lock_wait: Duration,
}

/// What an import found and kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Calls in the file.
    pub rows: usize,
    /// Calls in the file charged to credits.
    pub charged: usize,
    /// Charged calls the ledger did not hold yet.
    pub added: usize,
    /// The first and last call's start.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Charged money per currency code.
    pub spend: BTreeMap<String, Decimal>,
}

/// Reads the export (every problem reported, nothing imported when there is one) and adds
/// its charged calls to the ledger under the ledger's lock. Calls are keyed by UsageId, so
/// importing a file twice adds nothing the second time.
pub fn import(request: ImportRequest) -> Result<Imported, WorkflowError> {
    let file = read_usage_csv(&request.file)?;
    let mut spend: BTreeMap<String, Decimal> = BTreeMap::new();
    for row in file.charged() {
        *spend
            .entry(row.currency_code().unwrap_or_default())
            .or_default() += row.debit();
    }
    let charged: Vec<_> = file.charged().cloned().collect();
    let charged_count = charged.len();
    let record = UsageImport {
        file: request.file.display().to_string(),
        at: request.now,
        by: request.by,
        rows: file.rows.len(),
        charged: charged_count,
        added: 0,
        from: file.first,
        to: file.last,
    };
    let tenant = request.tenant;
    let added = ledger::update(&request.ledger, request.lock_wait, |ledger| {
        let ledger = ledger.get_or_insert_with(|| Ledger::new(tenant));
        let added = ledger.add_calls(charged);
        ledger.usage_imports.push(UsageImport { added, ..record });
        Ok(added)
    })?;
    Ok(Imported {
        rows: file.rows.len(),
        charged: charged_count,
        added,
        from: file.first,
        to: file.last,
        spend,
    })
}

/// Where the ledger is: `ledger` when given, else the config's
/// `communicationsCredits.ledger` (or `commcred.ledger.json` beside the config), else
/// `commcred.ledger.json` here. The config is `config`, else `./commcred.yaml` when it
/// exists; it is returned when one was read.
pub fn locate_ledger(
    config: Option<&Path>,
    ledger: Option<&Path>,
) -> Result<(PathBuf, Option<crate::config::DesiredState>), WorkflowError> {
    let config = match config {
        Some(path) => Some(crate::config::load(path)?),
        None if Path::new("commcred.yaml").exists() => {
            Some(crate::config::load(Path::new("commcred.yaml"))?)
        }
        None => None,
    };
    let path = match (ledger, &config) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(desired)) => ledger::ledger_path(desired),
        (None, None) => PathBuf::from(ledger::DEFAULT_FILE_NAME),
    };
    Ok((path, config))
}
