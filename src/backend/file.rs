//! The file backend: a tenant snapshot on disk (SPEC §4). Reads parse the file; applies
//! take an exclusive lock, re-read, check staleness, apply in memory with Graph's rules and
//! replace the file atomically (temp file in the same folder, fsync, rename), so a crash or a
//! concurrent commcred never leaves a torn or half-applied snapshot.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::apply::{apply_to_snapshot, stale_error, stale_objects};
use crate::plan::Plan;
use crate::tenant::Snapshot;

use super::{ApplyContext, ApplyReport, Backend, BackendError};

pub struct FileBackend {
    path: PathBuf,
}

impl FileBackend {
    pub fn new(path: impl Into<PathBuf>) -> FileBackend {
        FileBackend { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads and parses a snapshot, with the JSON error's line and column on failure.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, BackendError> {
    let text = read_text(path)?;
    let snapshot = parse_snapshot(path, &text)?;
    tracing::info!(
        path = %path.display(),
        users = snapshot.users.len(),
        skus = snapshot.subscribed_skus.len(),
        "read the tenant snapshot"
    );
    Ok(snapshot)
}

fn read_text(path: &Path) -> Result<String, BackendError> {
    fs::read_to_string(path).map_err(|e| BackendError::Read {
        what: path.display().to_string(),
        message: e.to_string(),
    })
}

fn parse_snapshot(path: &Path, text: &str) -> Result<Snapshot, BackendError> {
    serde_json::from_str(text).map_err(|e| BackendError::Read {
        what: format!("{}:{}:{}", path.display(), e.line(), e.column()),
        message: format!("not a valid tenant snapshot: {e}"),
    })
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

/// Serializes a snapshot the way commcred always writes it (pretty JSON, final newline).
pub fn snapshot_to_string(snapshot: &Snapshot) -> String {
    let mut text = serde_json::to_string_pretty(snapshot).expect("snapshots always serialize");
    text.push('\n');
    text
}

/// Replaces `path` atomically: write a temp file beside it, fsync, rename over, fsync dir.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), BackendError> {
    let write_err = |e: std::io::Error| BackendError::Write {
        what: path.display().to_string(),
        message: e.to_string(),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(write_err)?;
    tmp.write_all(contents).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// An exclusive advisory lock held for the whole read-check-apply-write cycle. It lives on
/// a sidecar file because the snapshot itself is replaced by rename.
pub struct SnapshotLock {
    _file: File,
}

impl SnapshotLock {
    pub fn acquire(snapshot_path: &Path) -> Result<SnapshotLock, BackendError> {
        let mut lock_path = snapshot_path.as_os_str().to_owned();
        lock_path.push(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| BackendError::Write {
                what: PathBuf::from(&lock_path).display().to_string(),
                message: e.to_string(),
            })?;
        file.lock().map_err(|e| BackendError::Write {
            what: PathBuf::from(&lock_path).display().to_string(),
            message: format!("cannot take the lock: {e}"),
        })?;
        Ok(SnapshotLock { _file: file })
    }
}

impl Backend for FileBackend {
    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }

    fn read(&mut self) -> Result<Snapshot, BackendError> {
        read_snapshot(&self.path)
    }

    fn apply(&mut self, plan: &Plan, ctx: &ApplyContext) -> Result<ApplyReport, BackendError> {
        let _lock = SnapshotLock::acquire(&self.path)?;
        tracing::info!(path = %self.path.display(), "locked the tenant snapshot");
        let original = read_text(&self.path)?;
        let mut snapshot = parse_snapshot(&self.path, &original)?;
        let stale = stale_objects(plan, &snapshot);
        if !stale.is_empty() {
            return Err(stale_error(plan, &snapshot, stale));
        }
        let report = apply_to_snapshot(&mut snapshot, &plan.operations(), ctx.now);
        if !report.is_success() {
            // All or nothing: the in-memory copy is dropped and the file stays as it was.
            let mut nothing = ApplyReport {
                failed: report.failed,
                ..ApplyReport::default()
            };
            nothing.not_attempted = report.applied;
            nothing.not_attempted.extend(report.not_attempted);
            return Ok(nothing);
        }
        write_atomically(
            &self.path,
            snapshot_to_string_like(&snapshot, &original).as_bytes(),
        )?;
        tracing::info!(
            path = %self.path.display(),
            operations = report.applied.len(),
            "applied and replaced the tenant snapshot"
        );
        Ok(report)
    }
}
