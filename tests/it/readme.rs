//! The README cannot rot: every ```sh block in it runs, as written, in a fresh copy of the
//! repository's examples (what a clone gives a new user), and must succeed.
//!
//! What is replaced, and why (the only deviations from running the README verbatim):
//! - `cargo` is a shim on PATH. `cargo install --path .` does nothing: a release build and
//!   install in CI would take minutes, and the commcred this test binary was built with is
//!   already first on PATH, which is what the install line achieves. `cargo run --release --
//!   ARGS` runs that same commcred with ARGS. `cargo test` does nothing: it is the command
//!   running this test (the test checks that `.ci/run` runs the same command). Any other
//!   cargo line fails the test, so a new one has to be thought about here.
//! - Each block runs under `bash -e -o pipefail` from the copy's root, with a 60-second
//!   limit, after a line that stops the block's background jobs when bash exits (normally,
//!   on an error, or on the SIGTERM sent at the limit): a walkthrough that starts the
//!   emulator (loopback, OS-assigned port) cannot leave it running. Signals go to exact
//!   process ids only.
//!
//! Blocks fenced as ```text (the benchmarks, minutes each) are not run.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{copy_dir, read, root};

const LIMIT: Duration = Duration::from_secs(60);

/// The ```sh blocks of `text`, in order.
fn sh_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

const CARGO_SHIM: &str = r#"#!/bin/sh
# The README test's cargo (see tests/it/readme.rs).
case "$*" in
  "install --path .") echo "(readme test: commcred is already on PATH)"; exit 0 ;;
  "test") echo "(readme test: cargo test is what runs this test)"; exit 0 ;;
  "run --release -- "*) shift 3; exec commcred "$@" ;;
  *) echo "readme test: no shim for: cargo $*" >&2; exit 97 ;;
esac
"#;

struct Ran {
    code: Option<i32>,
    output: String,
}

/// Stops the block's background jobs (the emulator) however bash exits.
const STOP_JOBS: &str = "trap 'jobs -p | xargs -r kill 2>/dev/null || true' EXIT\n";

/// Runs `script` with bash in `dir`, bounded by [`LIMIT`]: at the limit bash gets SIGTERM
/// (its EXIT trap stops its jobs), then SIGKILL.
fn run_block(dir: &Path, path_dirs: &str, script: &str) -> Ran {
    let mut child = Command::new("bash")
        .args([
            "-e",
            "-o",
            "pipefail",
            "-c",
            &format!("{STOP_JOBS}{script}"),
        ])
        .current_dir(dir)
        .env("PATH", path_dirs)
        .env("USER", "readme-test")
        .env("NO_COLOR", "1")
        .env_remove("COMMCRED_BACKEND")
        .env_remove("COMMCRED_NOW")
        .env_remove("COMMCRED_CONFIRMED_BY")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let mut terminated = false;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break if terminated { None } else { status.code() };
        }
        if started.elapsed() > LIMIT && !terminated {
            // This exact process only: its trap stops the jobs it started.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            terminated = true;
        }
        if started.elapsed() > LIMIT + Duration::from_secs(5) {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = format!(
        "{}{}",
        reader.join().unwrap_or_default(),
        err_reader.join().unwrap_or_default()
    );
    Ran { code, output }
}

#[test]
fn every_readme_shell_block_runs_as_written() {
    let readme = read(&root().join("README.md"));
    let blocks = sh_blocks(&readme);

    // The README starts with the two commands that matter on a fresh machine; the test
    // command is the one CI runs.
    let first: Vec<&str> = blocks[0]
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(
        first,
        [
            "cargo run --release -- plan examples/quickstart/commcred.yaml",
            "cargo test"
        ],
        "the README's first block"
    );
    let ci = read(&root().join(".ci/run"));
    assert!(ci.lines().any(|l| l.trim() == "cargo test"), "{ci}");
    assert!(
        blocks.iter().any(|b| b.contains("cargo install --path .")),
        "the README has no install step"
    );

    // A fresh clone's files, and PATH with the shim and this build's commcred.
    let clone = tempfile::tempdir().unwrap();
    for dir in ["examples", "schemas"] {
        copy_dir(&root().join(dir), &clone.path().join(dir));
    }
    let shim = clone.path().join(".shim");
    std::fs::create_dir(&shim).unwrap();
    let cargo = shim.join("cargo");
    std::fs::write(&cargo, CARGO_SHIM).unwrap();
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_commcred"));
    let path = format!(
        "{}:{}:{}",
        shim.display(),
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut folders = Vec::new();
    let mut outputs = Vec::new();
    for (n, block) in blocks.iter().enumerate() {
        // Each walkthrough works in a folder of its own.
        if let Some(rest) = block.strip_prefix("cp -r examples/quickstart ") {
            let folder = rest.split_whitespace().next().unwrap().to_string();
            assert!(!folders.contains(&folder), "two walkthroughs use {folder}");
            folders.push(folder);
        }
        let ran = run_block(clone.path(), &path, block);
        assert_eq!(
            ran.code,
            Some(0),
            "README block {n} failed (None: killed after {LIMIT:?}):\n{block}\n--- output:\n{}",
            ran.output
        );
        outputs.push(ran.output);
    }
    assert!(folders.len() >= 4, "{folders:?}");

    // Each walkthrough ends in a visible change.
    let find = |needle: &str| outputs.iter().filter(|o| o.contains(needle)).count();
    assert!(
        find("profile: audio-conferencing+credits") >= 2,
        "{outputs:#?}"
    );
    assert!(
        find("exit 1: refused, this plan was already applied") == 1,
        "{outputs:#?}"
    );
    assert!(find("+    usageLocation: FR") == 1, "{outputs:#?}");
    assert!(find("Emulator stopped") == 1, "{outputs:#?}");
}

#[test]
fn readme_and_docs_cite_only_files_in_the_repository() {
    let mut texts = vec![("README.md".to_string(), read(&root().join("README.md")))];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            texts.push((path.display().to_string(), read(&path)));
        }
    }
    let mut found = Vec::new();
    for (name, text) in &texts {
        for needle in ["SPEC.md", "SPEC §", "../shared", "/work/"] {
            if text.contains(needle) {
                found.push(format!("{name}: {needle}"));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn sh_blocks_are_found_and_text_blocks_skipped() {
    let text = "a\n```sh\necho 1\n```\n```text\nno\n```\n```sh\necho 2\necho 3\n```\n";
    assert_eq!(sh_blocks(text), ["echo 1\n", "echo 2\necho 3\n"]);
}

#[test]
fn the_snapshot_format_example_is_a_snapshot_commcred_reads() {
    let doc = read(&root().join("docs/snapshot-format.md"));
    let start = doc.find("```json\n").expect("an example") + "```json\n".len();
    let json = &doc[start..start + doc[start..].find("```").unwrap()];
    let snapshot: commcred::tenant::Snapshot = serde_json::from_str(json).unwrap();
    assert_eq!(snapshot.tenant.domain, "contoso.onmicrosoft.com");
    assert_eq!(snapshot.users[0].user_principal_name, "bob@contoso.com");
    // Every field the model knows is documented in a table row.
    for field in [
        "`id`",
        "`domain`",
        "`skuId`",
        "`skuPartNumber`",
        "`appliesTo`",
        "`capabilityStatus`",
        "`prepaidUnits`",
        "`consumedUnits`",
        "`servicePlans`",
        "`userPrincipalName`",
        "`usageLocation`",
        "`assignedLicenses`",
        "`licenseAssignmentStates`",
        "`billingAccountType`",
        "`currency`",
        "`funds`",
        "`autoRecharge`",
        "`payment`",
    ] {
        assert!(
            doc.contains(&format!("| {field} |")),
            "{field} is not documented"
        );
    }
}
