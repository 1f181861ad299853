//! The binary's own I/O: stdout errors, a closed pipe, file modes, the lock's bounded wait
//! and its message, concurrent applies, and no `.lock` files left behind.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use commcred::base::fsio::FileLock;
use predicates::prelude::*;

use crate::common::{binary, commcred, example, read};

/// Names in `dir` ending in `.lock` or `.tmp` (left-overs of locks and atomic writes).
fn strays(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lock") || n.ends_with(".tmp"))
        .collect()
}

/// `apply --auto-approve` in `dir`, waiting up to two minutes for the lock, started in
/// the background.
fn spawn_apply(dir: &Path) -> std::process::Child {
    binary(dir)
        .args([
            "apply",
            "commcred.yaml",
            "--auto-approve",
            "-q",
            "--lock-timeout",
            "2m",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_plan_written_to_a_full_device_fails_with_a_message() {
    let dir = example("quickstart");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = binary(dir.path())
        .args(["plan", "commcred.yaml", "--format", "json", "-q"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("commcred::cli::stdout"), "{stderr}");
    assert!(stderr.contains("cannot write to stdout"), "{stderr}");

    // The human format streams; the same holds.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = binary(dir.path())
        .args(["plan", "commcred.yaml", "-q"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[cfg(target_os = "linux")]
#[test]
fn apply_refuses_to_change_anything_when_its_plan_cannot_be_shown() {
    let dir = example("quickstart");
    let before = read(&dir.path().join("tenant.json"));
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = binary(dir.path())
        .args(["apply", "commcred.yaml", "--auto-approve", "-q"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(read(&dir.path().join("tenant.json")), before);
}

/// `commcred plan | head -1`: the reader goes away; commcred stops quietly. The plan is
/// far larger than a pipe's buffer, so writing it must meet the closed pipe.
#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = crate::testkit::tenant(3000, 5);
    let (yaml, csv) = crate::testkit::config_yaml(3000, 0, 5);
    std::fs::write(
        dir.path().join("tenant.json"),
        commcred::tenant::snapshot_to_string(&tenant),
    )
    .unwrap();
    std::fs::write(dir.path().join("commcred.yaml"), yaml).unwrap();
    std::fs::write(dir.path().join("users.csv"), csv).unwrap();
    for format in ["json", "human"] {
        let mut child = binary(dir.path())
            .args(["plan", "commcred.yaml", "-q", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line, then hang up, as `head -1` does.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{format}: {:?} {stderr}", out.status);
        assert!(stderr.trim().is_empty(), "{format}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn apply_keeps_the_snapshot_mode_and_leaves_no_lock_or_temp_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = example("quickstart");
    let tenant = dir.path().join("tenant.json");
    for mode in [0o644, 0o640] {
        std::fs::set_permissions(&tenant, std::fs::Permissions::from_mode(mode)).unwrap();
        commcred(dir.path())
            .args(["apply", "commcred.yaml", "--auto-approve"])
            .assert()
            .success();
        let now = std::fs::metadata(&tenant).unwrap().permissions().mode() & 0o777;
        assert_eq!(now, mode, "{mode:o}");
        assert!(strays(dir.path()).is_empty(), "{:?}", strays(dir.path()));
    }
    commcred(dir.path())
        .args([
            "ledger",
            "record",
            "--billing-account",
            "MOSA",
            "--fund",
            "10@2026-11-01",
        ])
        .assert()
        .success();
    assert!(dir.path().join("commcred.ledger.json").exists());
    assert!(strays(dir.path()).is_empty(), "{:?}", strays(dir.path()));
}

/// `apply` with a 300 ms lock wait on a snapshot someone else holds: exit 1.
fn refused_for_the_lock(dir: &Path) -> assert_cmd::assert::Assert {
    commcred(dir)
        .args([
            "apply",
            "commcred.yaml",
            "--auto-approve",
            "--lock-timeout",
            "300ms",
        ])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1)
}

#[test]
fn a_held_lock_fails_within_the_wait_naming_its_holder() {
    let dir = example("quickstart");
    let tenant = dir.path().join("tenant.json");
    let before = read(&tenant);
    let held = FileLock::acquire(&tenant, "commcred emulator (pid 4242)", Duration::ZERO).unwrap();
    let started = Instant::now();
    refused_for_the_lock(dir.path())
        .stderr(predicate::str::contains("commcred::backend::locked"))
        .stderr(predicate::str::contains(
            "in use by commcred emulator (pid 4242)",
        ))
        .stderr(predicate::str::contains("--lock-timeout"));
    // Bounded: far below the minute the test allows (start-up included).
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(read(&tenant), before, "nothing was changed");
    drop(held);
    assert!(strays(dir.path()).is_empty());
}

#[test]
fn lock_timeout_waits_for_the_holder_to_finish() {
    let dir = example("quickstart");
    let tenant = dir.path().join("tenant.json");
    let before = read(&tenant);
    let held = FileLock::acquire(&tenant, "a test", Duration::ZERO).unwrap();
    let mut child = spawn_apply(dir.path());
    // While the lock is held the child can neither finish nor change the file: it waits
    // (past the default 5 s wait too, which a loaded machine may reach).
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "still waiting");
    assert_eq!(read(&tenant), before);
    drop(held);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_ne!(
        read(&tenant),
        before,
        "the apply went through once the lock was free"
    );
    assert!(strays(dir.path()).is_empty());
}

/// Two applies of the same plan at once: the lock lets one through; the other either
/// waits and finds its plan stale (refused, nothing changed) or plans after the first and
/// has nothing to do. The snapshot ends exactly as after one apply: never torn, nothing
/// applied twice (the funds are added once).
#[test]
fn two_concurrent_applies_apply_once() {
    let reference = example("quickstart");
    commcred(reference.path())
        .args(["apply", "commcred.yaml", "--auto-approve"])
        .assert()
        .success();
    let once = read(&reference.path().join("tenant.json"));

    for _round in 0..3 {
        let dir = example("quickstart");
        let (a, b) = (spawn_apply(dir.path()), spawn_apply(dir.path()));
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let mut successes = 0;
        for out in &outs {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.success() {
                successes += 1;
            } else {
                assert_eq!(out.status.code(), Some(1), "{stderr}");
                // The other apply made exactly this plan's changes first: "already applied"
                // (a change made by anything else would be "stale").
                assert!(
                    stderr.contains("commcred::apply::already_applied")
                        || stderr.contains("commcred::apply::stale"),
                    "{stderr}"
                );
            }
        }
        assert!(successes >= 1);
        assert_eq!(read(&dir.path().join("tenant.json")), once);
        assert!(strays(dir.path()).is_empty(), "{:?}", strays(dir.path()));
    }
}

/// A running emulator holds the snapshot: a file-backend apply says so within its wait
/// instead of hanging, and once the emulator stops, no lock file is left.
#[test]
fn apply_on_a_file_an_emulator_serves_names_the_emulator() {
    let dir = example("quickstart");
    let tenant = dir.path().join("tenant.json");
    let before = read(&tenant);
    let emulator = crate::emulator::start(&tenant, |_| {});
    refused_for_the_lock(dir.path())
        .stderr(predicate::str::contains("in use by commcred emulator (pid"));
    emulator.shutdown().unwrap();
    assert_eq!(read(&tenant), before);
    assert!(strays(dir.path()).is_empty(), "{:?}", strays(dir.path()));
}
