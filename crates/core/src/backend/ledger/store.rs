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
        Err(source) => {
            return Err(CreditsError::LedgerUnreadable {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let ledger: Ledger =
        serde_json::from_str(&text).map_err(|source| CreditsError::LedgerInvalid {
            path: path.to_path_buf(),
            line: source.line(),
            column: source.column(),
            source,
        })?;
    if ledger.format_version > FORMAT_VERSION {
        return Err(CreditsError::LedgerTooNew {
            path: path.to_path_buf(),
            found: ledger.format_version,
            supported: FORMAT_VERSION,
        });
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
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        return Err(CreditsError::LedgerNoFolder {
            path: path.to_path_buf(),
            folder: dir.to_path_buf(),
        });
    }
    let _lock = FileLock::acquire(path, &fsio::purpose("ledger update"), lock_wait)
        .map_err(|e| CreditsError::ledger_write(path, e))?;
    let mut ledger = load(path)?;
    let before = ledger.clone();
    let result = change(&mut ledger)?;
    if let Some(l) = &ledger
        && ledger != before
    {
        fsio::write_atomically(path, to_string(l).as_bytes())
            .map_err(|e| CreditsError::ledger_write(path, e))?;
    }
    Ok(result)
}
