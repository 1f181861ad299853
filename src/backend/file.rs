//! The file backend: a tenant snapshot on disk (SPEC §4). Reads parse the file; a change
//! takes the file's lock (bounded wait), re-reads, applies in memory with Graph's rules
//! (`engine.rs`) and replaces the file atomically (`base::fsio`), so a crash or a
//! concurrent commcred never leaves a torn or half-applied snapshot.

pub mod engine;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::base::fsio::{self, DEFAULT_LOCK_WAIT, FileLock};
use crate::plan::Operation;
use crate::tenant::{Snapshot, snapshot_to_string};

use super::{ApplyContext, ApplyReport, Backend, BackendError, Progress};
use engine::apply_to_snapshot;

pub struct FileBackend {
    path: PathBuf,
    lock_wait: Duration,
    /// Between `begin` and `commit`/`abort`: the lock and the snapshot being changed.
    open: Option<(FileLock, Snapshot)>,
}

impl FileBackend {
    pub fn new(path: impl Into<PathBuf>) -> FileBackend {
        FileBackend {
            path: path.into(),
            lock_wait: DEFAULT_LOCK_WAIT,
            open: None,
        }
    }

    /// How long `begin` waits for another holder of the file's lock.
    pub fn with_lock_wait(mut self, wait: Duration) -> FileBackend {
        self.lock_wait = wait;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads and parses a snapshot, with the JSON error's line and column on failure.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, BackendError> {
    let what = path.display().to_string();
    let text = fs::read_to_string(path).map_err(|e| BackendError::Read {
        what: what.clone(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| BackendError::Read {
        what: format!("{what}:{}:{}", e.line(), e.column()),
        message: format!("not a valid tenant snapshot: {e}"),
    })
}

impl Backend for FileBackend {
    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }

    fn read(&mut self) -> Result<Snapshot, BackendError> {
        read_snapshot(&self.path)
    }

    fn begin(&mut self) -> Result<Snapshot, BackendError> {
        self.open = None;
        let lock = FileLock::acquire(&self.path, &fsio::purpose("apply"), self.lock_wait)?;
        let snapshot = read_snapshot(&self.path)?;
        self.open = Some((lock, snapshot.clone()));
        Ok(snapshot)
    }

    fn execute(
        &mut self,
        ops: Vec<Operation>,
        ctx: &ApplyContext,
        progress: Arc<dyn Progress>,
    ) -> Result<ApplyReport, BackendError> {
        let (_, snapshot) = self
            .open
            .as_mut()
            .ok_or_else(|| BackendError::Other("execute before begin".into()))?;
        let report = apply_to_snapshot(snapshot, &ops, ctx.now);
        progress.advance(ops.len() as u64);
        if report.is_success() {
            return Ok(report);
        }
        // All or nothing: the in-memory copy is dropped on abort and the file stays as it
        // was, so what went through is reported as not applied.
        let mut nothing = ApplyReport {
            failed: report.failed,
            ..ApplyReport::default()
        };
        nothing.not_attempted = report.applied;
        nothing.not_attempted.extend(report.not_attempted);
        Ok(nothing)
    }

    fn commit(&mut self) -> Result<(), BackendError> {
        let (lock, snapshot) = self
            .open
            .take()
            .ok_or_else(|| BackendError::Other("commit before begin".into()))?;
        fsio::write_atomically(&self.path, snapshot_to_string(&snapshot).as_bytes())?;
        drop(lock);
        Ok(())
    }

    fn abort(&mut self) {
        self.open = None;
    }
}
