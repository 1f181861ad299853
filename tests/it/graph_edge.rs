//! Graph's edge, through the binary and the emulator (`commcred emulator`, 127.0.0.1:0):
//! every missing permission named in one diagnostic before anything is read or written,
//! the PSTN call log read with its least privileged permission or the higher one, and reads
//! that Graph keeps throttling ending by `--timeout` with a diagnostic that says so.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::emulator::{EmulatorProcess, TENANT_DOMAIN, spawn_binary};

/// The quickstart example with a credits ledger beside it, so that planning on Graph reads
/// the PSTN call log (the YAML manages Communications Credits).
fn quickstart_with_ledger() -> tempfile::TempDir {
    let dir = crate::common::example("quickstart");
    let out = crate::common::commcred(dir.path())
        .args([
            "ledger",
            "record",
            "--billing-account",
            "MOSA",
            "--currency",
            "USD",
            "--fund",
            "120.50",
            "--by",
            "alex",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    dir
}

fn emulator(dir: &Path, roles: &str, extra: &[&str]) -> EmulatorProcess {
    let tenant = dir.join("tenant.json");
    let mut args = vec!["--tenant", tenant.to_str().unwrap(), "--roles", roles];
    args.extend_from_slice(extra);
    spawn_binary(&args, &[])
}

fn run(dir: &Path, url: &str, args: &[&str]) -> Output {
    let mut cmd = crate::common::commcred(dir);
    cmd.env("COMMCRED_BACKEND", format!("graph:{url}"))
        .env("AZURE_TENANT_ID", TENANT_DOMAIN)
        .env("AZURE_CLIENT_ID", "commcred-cli")
        .env("AZURE_CLIENT_SECRET", "secret")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("COMMCRED_GRAPH_WRITE_QUOTA");
    cmd.args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    crate::common::flat_stderr(o)
}

/// The files a run may change: the tenant and the ledger.
fn state(dir: &Path) -> (String, String) {
    (
        std::fs::read_to_string(dir.join("tenant.json")).unwrap(),
        std::fs::read_to_string(dir.join("commcred.ledger.json")).unwrap(),
    )
}

async fn stats(url: &str) -> serde_json::Value {
    reqwest::get(format!("{url}/_emulator/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const READS: &str = "User.Read.All,Organization.Read.All";

#[tokio::test]
async fn a_token_missing_two_permissions_hears_of_both_in_one_diagnostic_and_nothing_changes() {
    let dir = quickstart_with_ledger();
    let before = state(dir.path());
    // Neither GroupMember.Read.All nor a permission for the PSTN call log.
    let emu = emulator(dir.path(), READS, &[]);
    for command in [&["plan"][..], &["apply", "--auto-approve"]] {
        let out = run(dir.path(), &emu.url, command);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {err}");
        assert_eq!(
            err.matches("commcred::graph::missing_permissions").count(),
            1,
            "{err}"
        );
        assert!(
            err.contains("GroupMember.Read.All (to read the groups"),
            "{err}"
        );
        assert!(
            err.contains("CallRecord-PstnCalls.Read.All (to read the PSTN call log"),
            "{err}"
        );
        assert!(
            err.contains("or a higher one: CallRecords.Read.All"),
            "{err}"
        );
        if command[0] == "apply" {
            // What the apply will need too, so that one round of consent is enough.
            assert!(
                err.contains("also needs LicenseAssignment.ReadWrite.All"),
                "{err}"
            );
        }
    }
    let s = stats(&emu.url).await;
    // Only tokens were asked for: nothing was read, and no request was refused.
    assert_eq!(s["httpRequests"], s["tokenRequests"], "{s}");
    assert_eq!(s["forbidden"], 0, "{s}");
    drop(emu);
    let after = state(dir.path());
    assert!(after == before, "changed:\n{}\n{}", after.0, after.1);
}

#[tokio::test]
async fn the_least_privileged_pstn_permission_alone_reads_the_call_log() {
    let dir = quickstart_with_ledger();
    let roles = "User.Read.All,Organization.Read.All,GroupMember.Read.All,\
                 CallRecord-PstnCalls.Read.All,LicenseAssignment.ReadWrite.All,User.ReadWrite.All";
    let emu = emulator(dir.path(), roles, &[]);
    let plan = run(dir.path(), &emu.url, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    let apply = run(
        dir.path(),
        &emu.url,
        &[
            "apply",
            "--auto-approve",
            "--confirm-manual",
            "--confirmed-by",
            "alex",
        ],
    );
    assert!(apply.status.success(), "{}", stderr(&apply));
    let s = stats(&emu.url).await;
    assert_eq!(s["forbidden"], 0, "{s}");
    let again = run(dir.path(), &emu.url, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    drop(emu);
    let tenant = std::fs::read_to_string(dir.path().join("tenant.json")).unwrap();
    assert_ne!(
        tenant,
        crate::common::read(&crate::common::root().join("examples/quickstart/tenant.json"))
    );
}

#[tokio::test]
async fn only_the_higher_privileged_permissions_still_work() {
    let dir = quickstart_with_ledger();
    let emu = emulator(
        dir.path(),
        "Directory.ReadWrite.All,CallRecords.Read.All",
        &[],
    );
    let apply = run(
        dir.path(),
        &emu.url,
        &[
            "apply",
            "--auto-approve",
            "--confirm-manual",
            "--confirmed-by",
            "alex",
        ],
    );
    assert!(apply.status.success(), "{}", stderr(&apply));
    let again = run(dir.path(), &emu.url, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(stats(&emu.url).await["forbidden"], 0);
}

#[tokio::test]
async fn a_plan_that_needs_writes_the_token_lacks_is_refused_naming_each_before_any_write() {
    let dir = quickstart_with_ledger();
    let before = state(dir.path());
    let roles =
        "User.Read.All,Organization.Read.All,GroupMember.Read.All,CallRecord-PstnCalls.Read.All";
    let emu = emulator(dir.path(), roles, &[]);
    let out = run(dir.path(), &emu.url, &["apply", "--auto-approve"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.matches("commcred::graph::missing_permissions").count(),
        1
    );
    assert!(
        err.contains("LicenseAssignment.ReadWrite.All (to assign and remove licenses"),
        "{err}"
    );
    // The quickstart plan sets a usage location too: both in the same message.
    assert!(
        err.contains("User.ReadWrite.All (to set users' usageLocation"),
        "{err}"
    );
    let s = stats(&emu.url).await;
    assert_eq!(s["writes"], 0, "{s}");
    drop(emu);
    assert_eq!(state(dir.path()), before);
}

/// `--throttle-rate 1`: every Graph call is answered 429 with `Retry-After: 1`.
#[test]
fn reads_graph_keeps_throttling_end_by_the_timeout_saying_so_and_change_nothing() {
    let dir = quickstart_with_ledger();
    let before = state(dir.path());
    let roles = commcred_emulator::KNOWN_ROLES.join(",");
    let emu = emulator(
        dir.path(),
        &roles,
        &["--throttle-rate", "1", "--retry-after", "1"],
    );
    let timeout = Duration::from_secs(10);
    let url = emu.url.clone();
    let runs: Vec<(Vec<&str>, Output, Duration)> = std::thread::scope(|s| {
        let jobs: Vec<_> = [
            vec!["plan", "--timeout", "10s"],
            vec!["apply", "--auto-approve", "--timeout", "10s"],
            vec!["export", "--timeout", "10s"],
        ]
        .into_iter()
        .map(|args| {
            let (dir, url) = (dir.path(), url.as_str());
            s.spawn(move || {
                let started = Instant::now();
                let out = run(dir, url, &args);
                (args, out, started.elapsed())
            })
        })
        .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    for (args, out, took) in runs {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        // Within the timeout plus one Retry-After (and the process's start).
        assert!(
            took < timeout + Duration::from_secs(3),
            "{args:?} took {took:?}"
        );
        assert!(
            took >= timeout - Duration::from_secs(2),
            "{args:?} gave up early: {took:?}"
        );
        assert!(
            err.contains("commcred::graph::read_throttled"),
            "{args:?}: {err}"
        );
        assert!(err.contains("Microsoft Graph throttled the reads"), "{err}");
        assert!(err.contains("429 Too Many Requests"), "{err}");
        assert!(err.contains("the last asking to wait 1 s"), "{err}");
        assert!(err.contains("nothing was changed"), "{err}");
        assert!(!err.contains("check the path"), "{err}");
    }
    drop(emu);
    assert_eq!(state(dir.path()), before);
}

#[test]
fn with_v_each_wait_on_a_throttled_read_is_logged() {
    let dir = quickstart_with_ledger();
    let roles = commcred_emulator::KNOWN_ROLES.join(",");
    let emu = emulator(
        dir.path(),
        &roles,
        &["--throttle-rate", "1", "--retry-after", "1"],
    );
    let out = run(dir.path(), &emu.url, &["plan", "-v", "--timeout", "3s"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.matches("waiting 1 s before reading again").count() >= 2,
        "{err}"
    );
}

/// The emulator's table (written from Graph's pages, sharing no code with the client) and
/// the client's: for every call of every need, the emulator accepts the need's least
/// privileged permission and each higher one, and across the need's calls exactly those.
#[test]
fn the_emulator_accepts_exactly_the_documented_permissions_per_call() {
    use std::collections::BTreeSet;
    for need in commcred::backend::graph::permissions::ALL {
        let wanted: BTreeSet<&str> = std::iter::once(need.permission)
            .chain(need.also.iter().copied())
            .collect();
        let mut common: Option<BTreeSet<&str>> = None;
        for (method, path) in need.calls {
            let path = path.replace("{id}", "00000000-0000-4000-8000-000000000001");
            let accepted: BTreeSet<&str> = commcred_emulator::accepted_for(method, &path)
                .unwrap_or_else(|| panic!("the emulator serves {method} {path}"))
                .iter()
                .copied()
                .collect();
            assert!(
                wanted.is_subset(&accepted),
                "{method} {path}: the emulator accepts {accepted:?}, the client counts on {wanted:?}"
            );
            common = Some(match common {
                None => accepted,
                Some(c) => c.intersection(&accepted).copied().collect(),
            });
        }
        assert_eq!(common.unwrap(), wanted, "{}", need.source);
    }
}
