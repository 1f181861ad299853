//! Workspace benchmark: `commcred plan --workspace` over 50 tenants of 2,000 users each, one
//! emulator per tenant (in this process, each answering after `--latency` like a real link),
//! timed end to end through the binary with `--parallel 1` and with the default (4), side by
//! side. Run: `cargo bench --bench workspace` (`-- TENANTS USERS LATENCY_MS` to change the
//! shape; default 50 2000 50).

#[allow(dead_code)]
#[path = "../crates/core/src/testkit.rs"]
mod testkit;

use std::path::Path;
use std::time::{Duration, Instant};

use commcred_emulator::{self as emulator, Emulator, EmulatorConfig};

fn main() {
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let tenants = numbers.first().copied().unwrap_or(50) as usize;
    let users = numbers.get(1).copied().unwrap_or(2_000) as usize;
    let latency = Duration::from_millis(numbers.get(2).copied().unwrap_or(50));
    let root = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let emulators = fleet(root.path(), tenants, users, latency);
    println!(
        "--- {tenants} tenants x {users} users, {} ms per request; generated in {:.1?}",
        latency.as_millis(),
        started.elapsed()
    );
    let serial = plan_all(root.path(), Some(1), tenants);
    let default = plan_all(root.path(), None, tenants);
    println!(
        "plan --workspace: --parallel 1 {:.1} s | default (--parallel 4) {:.1} s | {:.1}x faster",
        serial.as_secs_f64(),
        default.as_secs_f64(),
        serial.as_secs_f64() / default.as_secs_f64()
    );
    drop(emulators);
}

/// `tenants` folders, each with a snapshot served by its own emulator and a config listing
/// every user with a profile (no credits block: Graph has no credits API), and the
/// workspace file naming them.
fn fleet(root: &Path, tenants: usize, users: usize, latency: Duration) -> Vec<Emulator> {
    let mut workspace = String::from("apiVersion: commcred/v1\ntenants:\n");
    let mut emulators = Vec::new();
    for i in 0..tenants {
        let dir = root.join(format!("t{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let snapshot = testkit::tenant(users, i as u64);
        std::fs::write(
            dir.join("tenant.json"),
            commcred::tenant::snapshot_to_string(&snapshot),
        )
        .unwrap();
        let mut config = EmulatorConfig::new(dir.join("tenant.json"));
        config.faults.latency = latency;
        let emulator = emulator::serve(config).expect("start an emulator");
        let (yaml, _) = testkit::config_yaml(users, 0, i as u64);
        let credits = yaml.find("communicationsCredits:").unwrap();
        let profiles = yaml.find("profiles:").unwrap();
        let yaml = format!(
            "{}backend:\n  graph: {}\n{}",
            &yaml[..credits],
            emulator.base_url(),
            &yaml[profiles..]
        );
        std::fs::write(dir.join("commcred.yaml"), yaml).unwrap();
        workspace.push_str(&format!(
            "  - name: t{i:02}\n    config: t{i:02}/commcred.yaml\n"
        ));
        emulators.push(emulator);
    }
    std::fs::write(root.join("workspace.yaml"), workspace).unwrap();
    emulators
}

/// The wall time of one `plan --workspace` through the binary (every tenant must plan).
fn plan_all(root: &Path, parallel: Option<usize>, tenants: usize) -> Duration {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_commcred"));
    cmd.current_dir(root)
        .args([
            "plan",
            "-q",
            "--color",
            "never",
            "--workspace",
            "workspace.yaml",
        ])
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "commcred-bench")
        .env("AZURE_CLIENT_SECRET", "bench-secret")
        .env("COMMCRED_NOW", "2026-11-25T00:00:00Z")
        .env_remove("COMMCRED_BACKEND")
        .env_remove("AZURE_AUTHORITY_HOST");
    if let Some(n) = parallel {
        cmd.args(["--parallel", &n.to_string()]);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run commcred");
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!("{tenants} tenant(s): {tenants} planned");
    assert!(
        stdout.contains(&expected),
        "expected `{expected}`:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}
