//! Helpers shared by the integration tests: temp copies of the examples and the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies `examples/<name>` into a fresh temp dir and returns it.
pub fn example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples").join(name), dir.path());
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The commcred binary, run in `dir`, with a fixed clock and no colour or inherited backend.
pub fn commcred(dir: &Path) -> Command {
    Command::from_std(binary(dir))
}

/// [`commcred`] as a std command, for redirected stdout and processes run side by side.
pub fn binary(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("commcred"));
    cmd.current_dir(dir)
        .env("COMMCRED_NOW", "2026-11-25T12:00:00Z")
        .env("NO_COLOR", "1")
        // The ledger records who did what; a machine without USER gets an error instead.
        .env("USER", "tester")
        .env_remove("COMMCRED_BACKEND")
        .env_remove("AZURE_CLIENT_SECRET");
    cmd
}

/// The source folders of the workspace's crates: the command line (`src/`), the core library
/// and the emulator.
pub fn source_roots() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["src", "crates/core/src", "crates/emulator/src"]
        .iter()
        .map(|dir| root.join(dir))
        .collect()
}

/// Every `.rs` file under `dir`, sorted.
pub fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}
