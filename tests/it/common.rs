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

/// A run's standard error with the report renderer's wrapping undone (its `|` gutters and
/// line breaks), so that a test can look for a sentence wherever the lines broke.
pub fn flat_stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| l.trim_start().trim_start_matches('|').trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the external tool `name` can be started (`name --version`). A test that needs
/// one returns early when it is missing on a developer's machine, saying so; under CI (the
/// `CI` variable every CI service sets) a missing tool fails the test instead, so that a
/// runner without it cannot pass a test that never ran.
pub fn tool_available(name: &str) -> bool {
    tool_check(name, std::env::var_os("CI").is_some())
}

fn tool_check(name: &str, ci: bool) -> bool {
    if std::process::Command::new(name)
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        !ci,
        "`{name}` is not installed, and CI is set: this test must run in CI (install `{name}`)"
    );
    eprintln!("skipped: `{name}` is not installed (under CI this fails)");
    false
}

#[test]
fn a_missing_tool_skips_only_outside_ci() {
    assert!(tool_check("bash", true), "bash runs the README test");
    assert!(!tool_check("commcred-test-no-such-tool", false));
    let under_ci = std::panic::catch_unwind(|| tool_check("commcred-test-no-such-tool", true));
    assert!(
        under_ci.is_err(),
        "a missing tool under CI must fail the test"
    );
}
