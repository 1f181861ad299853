//! The credits ledger's file (`commcred.ledger.json`): read, and changed under its lock
//! with an atomic replace. The ledger itself (model, replay) is the parent module.

use std::path::Path;
use std::time::Duration;

use super::{FORMAT_VERSION, Ledger};
use crate::base::fsio::{self, FileLock};
use crate::credits::CreditsError;

/// Reads the ledger; `Ok(None)` when the file does not exist.
pub fn load(path: &Path) -> Result<Option<Ledger>, CreditsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CreditsError::ledger_unreadable(path, e.to_string())),
    };
    let ledger: Ledger =
        serde_json::from_str(&text).map_err(|e| CreditsError::LedgerUnreadable {
            what: format!("{}:{}:{}", path.display(), e.line(), e.column()),
            message: e.to_string(),
        })?;
    if ledger.format_version > FORMAT_VERSION {
        return Err(CreditsError::ledger_unreadable(
            path,
            format!(
                "it has format version {}, this commcred reads up to {FORMAT_VERSION}; upgrade commcred",
                ledger.format_version
            ),
        ));
    }
    Ok(Some(ledger))
}

pub fn to_string(ledger: &Ledger) -> String {
    let mut text = serde_json::to_string_pretty(ledger).expect("ledgers always serialize");
    text.push('\n');
    text
}

/// Reads, changes and rewrites the ledger under its lock (bounded wait), replacing the
/// file atomically. `change` gets `None` for a new ledger;
/// the file is written only when it returns `Ok` and the ledger exists afterwards.
pub fn update<R>(
    path: &Path,
    lock_wait: Duration,
    change: impl FnOnce(&mut Option<Ledger>) -> Result<R, CreditsError>,
) -> Result<R, CreditsError> {
    let unwritable = |message: String| CreditsError::LedgerUnwritable {
        path: path.to_path_buf(),
        message,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        return Err(unwritable(format!(
            "the folder {} does not exist",
            dir.display()
        )));
    }
    let _lock = FileLock::acquire(path, &fsio::purpose("ledger update"), lock_wait)
        .map_err(|e| unwritable(e.cause()))?;
    let mut ledger = load(path)?;
    let before = ledger.clone();
    let result = change(&mut ledger)?;
    if let Some(l) = &ledger
        && ledger != before
    {
        fsio::write_atomically(path, to_string(l).as_bytes()).map_err(|e| unwritable(e.cause()))?;
    }
    Ok(result)
}
