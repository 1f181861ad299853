//! Safe file I/O shared by every layer that keeps data on disk (the file backend, the
//! credits ledger, saved plans, export, the emulator):
//!
//! - [`replace_with`] / [`write_atomically`]: write a temp file beside the target, fsync it,
//!   rename it over the target, fsync the folder. A reader sees the old file or the new one,
//!   never a torn one; a failure at any step leaves the old file as it was and no temp file
//!   behind. The new file keeps the old one's permissions (and owner, where allowed): a
//!   0644 snapshot stays 0644.
//! - [`FileLock`]: an exclusive advisory lock on a sidecar `PATH.lock` (the data file itself
//!   is replaced by rename, so it cannot carry the lock), taken with a bounded wait. The
//!   holder writes its purpose ("commcred apply (pid 4242)") into the sidecar so a waiter
//!   can say what it waits for, and removes the sidecar when it lets go.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a lock is waited for unless the caller says otherwise (`--lock-timeout`).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot flush {} to disk: {source}", .path.display())]
    Sync { path: PathBuf, source: io::Error },
    #[error("cannot replace {}: {source}", .path.display())]
    Rename { path: PathBuf, source: io::Error },
    #[error("cannot take the lock {}: {source}", .path.display())]
    Lock { path: PathBuf, source: io::Error },
    #[error("{} is in use by {holder}; gave up after waiting {}", .path.display(), seconds(*.waited))]
    Busy {
        path: PathBuf,
        holder: String,
        waited: Duration,
    },
}

impl FsError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            FsError::Write { path, .. }
            | FsError::Sync { path, .. }
            | FsError::Rename { path, .. }
            | FsError::Lock { path, .. }
            | FsError::Busy { path, .. } => path,
        }
    }

    /// What went wrong, without the path (for messages that name the file themselves).
    pub fn cause(&self) -> String {
        match self {
            FsError::Write { source, .. } | FsError::Rename { source, .. } => source.to_string(),
            FsError::Sync { source, .. } => format!("cannot flush to disk: {source}"),
            FsError::Lock { source, .. } => format!("cannot take the lock: {source}"),
            FsError::Busy { holder, waited, .. } => {
                format!(
                    "in use by {holder}; gave up after waiting {}",
                    seconds(*waited)
                )
            }
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// The folder a path lives in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Replaces `path` atomically with `contents`.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), FsError> {
    replace_with(path, |w| w.write_all(contents))
}

/// Replaces `path` atomically with what `write` writes (streamed, never held whole).
pub fn replace_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), FsError> {
    let dir = folder_of(path);
    let (tmp_path, file) = create_temp(path, dir)?;
    // From here on the temp file is removed on any failure.
    let result = fill_and_rename(path, &tmp_path, file, write);
    if result.is_err() {
        let _ = fs::remove_file(&tmp_path);
        return result;
    }
    sync_dir(dir)
}

/// A new, empty temp file beside `path`, with the permissions a new file gets (the umask
/// applies), or the existing file's permissions and owner when there is one.
fn create_temp(path: &Path, dir: &Path) -> Result<(PathBuf, File), FsError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_string());
    let write_err = |source| FsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut attempt = 0u32;
    loop {
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            rand::random::<u32>()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => {
                if let Err(e) = keep_mode_and_owner(path, &file) {
                    let _ = fs::remove_file(&tmp);
                    return Err(write_err(e));
                }
                return Ok((tmp, file));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            Err(e) => return Err(write_err(e)),
        }
    }
}

/// Gives the temp file the target's mode and, where the process may, its owner and group
/// (root rewriting a user's file; others cannot give files away and keep their own).
fn keep_mode_and_owner(target: &Path, tmp: &File) -> io::Result<()> {
    let Ok(meta) = fs::metadata(target) else {
        return Ok(());
    };
    tmp.set_permissions(meta.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mine = tmp.metadata()?;
        if mine.uid() != meta.uid() || mine.gid() != meta.gid() {
            let _ = std::os::unix::fs::fchown(tmp, Some(meta.uid()), Some(meta.gid()));
        }
    }
    Ok(())
}

fn fill_and_rename(
    path: &Path,
    tmp_path: &Path,
    file: File,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), FsError> {
    let write_err = |source| FsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut out = io::BufWriter::new(file);
    write(&mut out).map_err(write_err)?;
    let file = out.into_inner().map_err(|e| write_err(e.into_error()))?;
    file.sync_all().map_err(|source| FsError::Sync {
        path: path.to_path_buf(),
        source,
    })?;
    drop(file);
    fs::rename(tmp_path, path).map_err(|source| FsError::Rename {
        path: path.to_path_buf(),
        source,
    })
}

/// Makes a rename or unlink in `dir` durable. Errors are reported: a change the caller
/// believes is on disk must be.
pub fn sync_dir(dir: &Path) -> Result<(), FsError> {
    let sync_err = |source| FsError::Sync {
        path: dir.to_path_buf(),
        source,
    };
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(sync_err)?;
    }
    #[cfg(not(unix))]
    let _ = sync_err;
    Ok(())
}

/// An exclusive advisory lock on `DATA.lock`, held until dropped; the sidecar is removed
/// then, so no `.lock` file stays next to the data after a run.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Locks `data` for `purpose` (written into the sidecar, e.g. "commcred apply (pid 7)"),
    /// waiting at most `wait` for another holder to finish.
    pub fn acquire(data: &Path, purpose: &str, wait: Duration) -> Result<FileLock, FsError> {
        let path = sidecar(data);
        let started = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            match FileLock::try_once(&path, purpose)? {
                Attempt::Locked(lock) => return Ok(lock),
                // The holder let go while we opened the sidecar: try again at once.
                Attempt::Vanished => continue,
                Attempt::Busy => {}
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(FsError::Busy {
                    path: data.to_path_buf(),
                    holder: holder_of(&path),
                    waited,
                });
            }
            std::thread::sleep(pause.min(wait - waited));
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// One attempt to take the lock on the sidecar `path`.
    fn try_once(path: &Path, purpose: &str) -> Result<Attempt, FsError> {
        let lock_err = |source| FsError::Lock {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Ok(Attempt::Busy),
            Err(fs::TryLockError::Error(e)) => return Err(lock_err(e)),
        }
        // The previous holder may have removed the sidecar between our open and our lock:
        // then we hold a lock on a file nobody else will ever open. Try again on the path.
        if !same_file(&file, path) {
            return Ok(Attempt::Vanished);
        }
        let mut lock = FileLock {
            file,
            path: path.to_path_buf(),
        };
        lock.write_purpose(purpose).map_err(lock_err)?;
        Ok(Attempt::Locked(lock))
    }

    fn write_purpose(&mut self, purpose: &str) -> io::Result<()> {
        self.file.set_len(0)?;
        (&self.file).write_all(purpose.as_bytes())?;
        self.file.flush()
    }
}

enum Attempt {
    Locked(FileLock),
    Busy,
    /// The sidecar we locked was removed by its previous holder.
    Vanished,
}

impl Drop for FileLock {
    /// Removes the sidecar while still holding the lock, then lets go (on close).
    fn drop(&mut self) {
        if same_file(&self.file, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// `DATA.lock`.
pub fn sidecar(data: &Path) -> PathBuf {
    let mut path = data.as_os_str().to_owned();
    path.push(".lock");
    PathBuf::from(path)
}

/// What the holder wrote into the sidecar, or a neutral name when it has not yet.
fn holder_of(path: &Path) -> String {
    let mut text = String::new();
    let _ = File::open(path).and_then(|mut f| f.read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        "another process".to_string()
    } else {
        text.chars().take(200).collect()
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// The purpose string commcred writes into a lock: `"commcred WHAT (pid N)"`.
pub fn purpose(what: &str) -> String {
    format!("commcred {what} (pid {})", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_write_that_fails_midway_leaves_the_original_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant.json");
        fs::write(&path, "original").unwrap();
        let err = replace_with(&path, |w| {
            w.write_all(b"half of the new ")?;
            Err(io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "original");
        assert_eq!(leftovers(dir.path()), ["tenant.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn replacing_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        fs::write(&path, "a").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"b").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "b");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn a_busy_lock_names_its_holder_within_the_wait_and_leaves_no_sidecar() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("tenant.json");
        let held = FileLock::acquire(&data, "commcred emulator (pid 1)", Duration::ZERO).unwrap();
        let started = Instant::now();
        let err = FileLock::acquire(&data, "other", Duration::from_millis(150)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            err.to_string()
                .contains("in use by commcred emulator (pid 1)"),
            "{err}"
        );
        drop(held);
        assert!(!sidecar(&data).exists());
        let again = FileLock::acquire(&data, "third", Duration::ZERO).unwrap();
        drop(again);
        assert!(leftovers(dir.path()).is_empty());
    }

    /// Read-modify-write under the lock from many threads: no update is lost although
    /// each holder removes the sidecar on release (and a waiter may have opened it).
    #[test]
    fn the_lock_excludes_while_sidecars_come_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("counter");
        fs::write(&data, "0").unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let data = data.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        let _lock =
                            FileLock::acquire(&data, "counter", Duration::from_secs(60)).unwrap();
                        let n: u32 = fs::read_to_string(&data).unwrap().parse().unwrap();
                        write_atomically(&data, (n + 1).to_string().as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(fs::read_to_string(&data).unwrap(), "200");
        assert_eq!(leftovers(dir.path()), ["counter"]);
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("ledger.json");
        let held = FileLock::acquire(&data, "first", Duration::ZERO).unwrap();
        let waiter = {
            let data = data.clone();
            std::thread::spawn(move || {
                FileLock::acquire(&data, "second", Duration::from_secs(30)).map(drop)
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        drop(held);
        waiter.join().unwrap().unwrap();
        assert!(!sidecar(&data).exists());
    }
}
