//! The emulator's tenant: the shared snapshot model in memory, persisted to the snapshot
//! file with `base::fsio`'s atomic writes, under the file's lock for the whole
//! life of the emulator (so a file-backend commcred cannot write the same file meanwhile).
//!
//! A write is acknowledged only once it is on disk, like Graph acknowledges only committed
//! changes; a test that reads the file right after an apply sees every change. To keep that
//! cheap with thousands of writes, persistence is a group commit: writers bump a version
//! and wait; one flusher task writes the newest state, covering every write made meanwhile.
//!
//! [`Persistence::Deferred`] trades that for speed, for benchmarks: writes are acknowledged
//! at once and the file is rewritten at most once per interval and on shutdown. Graph charges
//! its clients no per-request disk flush, so a benchmark of one request per user against
//! one `$batch` of twenty must not either (issue 20, item 6).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use commcred::base::fsio::{self, FileLock, FsError, write_atomically};
use commcred::tenant::{Snapshot, TenantIndex, snapshot_to_string};

/// When changes reach the tenant file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Persistence {
    /// Before each write is acknowledged (group commit): the file is always up to date.
    #[default]
    Durable,
    /// Acknowledged at once; the file is rewritten at most once per `every` while changes
    /// come in, and on shutdown (a killed emulator loses at most that much).
    Deferred { every: Duration },
}

pub struct Store {
    path: PathBuf,
    persistence: Persistence,
    inner: Mutex<Inner>,
    dirty: Notify,
    durable: watch::Sender<Durable>,
    /// Serializes flushes, so an older state never overwrites a newer one on disk.
    flushing: Mutex<()>,
    _lock: FileLock,
    /// See `EmulatorConfig::observer`.
    pub observer: Option<super::Observer>,
}

struct Inner {
    snapshot: Snapshot,
    /// Built once: the emulator never creates or deletes users or SKUs, so positions hold.
    index: TenantIndex,
    version: u64,
}

#[derive(Debug, Clone, Default)]
struct Durable {
    version: u64,
    error: Option<String>,
}

/// Why the tenant file cannot be served or saved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: not a valid tenant snapshot: {source}", .path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        source: serde_json::Error,
    },
    #[error(transparent)]
    File(#[from] FsError),
}

/// The lock every commcred writer of the file takes (so the emulator and a file-backend
/// apply exclude each other), but taken without waiting: an emulator that silently hung on
/// a busy file would look dead.
fn try_lock(snapshot: &Path) -> Result<FileLock, StoreError> {
    Ok(FileLock::acquire(
        snapshot,
        &fsio::purpose("emulator"),
        Duration::ZERO,
    )?)
}

fn read_tenant(path: &Path) -> Result<Snapshot, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| StoreError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| StoreError::Parse {
        path: path.to_path_buf(),
        line: source.line(),
        column: source.column(),
        source,
    })
}

impl Store {
    pub fn open(path: &Path, persistence: Persistence) -> Result<Store, StoreError> {
        let lock = try_lock(path)?;
        let snapshot = read_tenant(path)?;
        let index = TenantIndex::build(&snapshot);
        Ok(Store {
            path: path.to_path_buf(),
            persistence,
            inner: Mutex::new(Inner {
                snapshot,
                index,
                version: 0,
            }),
            dirty: Notify::new(),
            durable: watch::Sender::new(Durable::default()),
            flushing: Mutex::new(()),
            _lock: lock,
            observer: None,
        })
    }

    pub fn read<R>(&self, f: impl FnOnce(&Snapshot, &TenantIndex) -> R) -> R {
        let inner = self.inner.lock().expect("store lock");
        f(&inner.snapshot, &inner.index)
    }

    /// Runs a change. `f` returns its result and whether it changed the tenant; a change
    /// gets a version to wait on with [`Store::wait_durable`] before answering.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut Snapshot, &TenantIndex) -> (R, bool),
    ) -> (R, Option<u64>) {
        let mut inner = self.inner.lock().expect("store lock");
        let Inner {
            snapshot, index, ..
        } = &mut *inner;
        let (result, changed) = f(snapshot, index);
        if !changed {
            return (result, None);
        }
        if let Some(observer) = &self.observer {
            (observer.0)(snapshot);
        }
        inner.version += 1;
        let version = inner.version;
        drop(inner);
        self.dirty.notify_one();
        (result, Some(version))
    }

    /// Waits until the tenant at `version` (or later) is on disk; at once when persistence
    /// is deferred.
    pub async fn wait_durable(&self, version: u64) -> Result<(), String> {
        if matches!(self.persistence, Persistence::Deferred { .. }) {
            return Ok(());
        }
        let mut rx = self.durable.subscribe();
        let state = rx
            .wait_for(|d| d.version >= version || d.error.is_some())
            .await
            .map_err(|_| "the emulator is shutting down".to_string())?;
        match &state.error {
            Some(e) if state.version < version => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// The flusher: writes the newest state whenever something changed (deferred: then
    /// waits out the interval, so changes meanwhile are written together), until `stop`.
    pub async fn run_flusher(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = self.dirty.notified() => {}
                _ = stop.changed() => break,
            }
            let store = self.clone();
            let _ = tokio::task::spawn_blocking(move || store.flush()).await;
            if let Persistence::Deferred { every } = self.persistence {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => break,
                }
            }
        }
    }

    /// Writes the current state if it is newer than the file. Safe to call at any time.
    pub fn flush(&self) -> Result<(), FsError> {
        let _one_at_a_time = self.flushing.lock().expect("flush lock");
        let (snapshot, version) = {
            let inner = self.inner.lock().expect("store lock");
            if inner.version <= self.durable.borrow().version {
                return Ok(());
            }
            (inner.snapshot.clone(), inner.version)
        };
        let result = write_atomically(&self.path, snapshot_to_string(&snapshot).as_bytes());
        self.durable.send_modify(|d| match &result {
            Ok(()) => {
                d.version = d.version.max(version);
                d.error = None;
            }
            Err(e) => d.error = Some(e.to_string()),
        });
        result
    }
}
