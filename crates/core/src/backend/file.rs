//! The file backend: a tenant snapshot on disk (SPEC §4). Reads parse the file; a change
//! takes the file's lock (bounded wait), re-reads, applies in memory with Graph's rules
//! (`engine.rs`) and replaces the file atomically (`base::fsio`), so a crash or a
//! concurrent commcred never leaves a torn or half-applied snapshot.

pub mod engine;
pub mod groups;
mod waiting;

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
    open: Option<(FileLock, Snapshot, String)>,
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
    read_snapshot_and_text(path).map(|(snapshot, _)| snapshot)
}

/// [`read_snapshot`], with the text it was parsed from (whose key order a write keeps).
fn read_snapshot_and_text(path: &Path) -> Result<(Snapshot, String), BackendError> {
    let text = fs::read_to_string(path).map_err(|source| BackendError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let snapshot: Snapshot =
        serde_json::from_str(&text).map_err(|source| BackendError::Snapshot {
            path: path.to_path_buf(),
            line: source.line(),
            column: source.column(),
            source,
        })?;
    tracing::info!(
        path = %path.display(),
        users = snapshot.users.len(),
        skus = snapshot.subscribed_skus.len(),
        "read the tenant snapshot"
    );
    Ok((snapshot, text))
}

/// [`snapshot_to_string`] with every object's keys in the order of `original` (the file as
/// it was read), so that an apply changes only the lines it must.
pub fn snapshot_to_string_like(snapshot: &Snapshot, original: &str) -> String {
    let Ok(before) = serde_json::from_str::<serde_json::Value>(original) else {
        return snapshot_to_string(snapshot);
    };
    let after = serde_json::to_value(snapshot).expect("snapshots always serialize");
    let mut text = serde_json::to_string_pretty(&super::key_order::keep_key_order(&before, after))
        .expect("JSON values always serialize");
    text.push('\n');
    text
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
        tracing::info!(path = %self.path.display(), "locked the tenant snapshot");
        let (snapshot, text) = read_snapshot_and_text(&self.path)?;
        self.open = Some((lock, snapshot.clone(), text));
        Ok(snapshot)
    }

    fn execute(
        &mut self,
        ops: Vec<Operation>,
        ctx: &ApplyContext,
        progress: Arc<dyn Progress>,
    ) -> Result<ApplyReport, BackendError> {
        let (_, snapshot, _) = self
            .open
            .as_mut()
            .ok_or(BackendError::NotBegun("execute"))?;
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
        let (lock, snapshot, original) =
            self.open.take().ok_or(BackendError::NotBegun("commit"))?;
        fsio::write_atomically(
            &self.path,
            snapshot_to_string_like(&snapshot, &original).as_bytes(),
        )?;
        tracing::info!(path = %self.path.display(), "replaced the tenant snapshot");
        drop(lock);
        Ok(())
    }

    fn abort(&mut self) {
        self.open = None;
    }
}
