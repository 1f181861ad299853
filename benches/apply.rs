//! Apply benchmark: a fresh plan of the generated tenant (the plan bench's, half inline
//! YAML, half CSV) applied to the file backend, the way `commcred apply --auto-approve`
//! does it: lock, re-read, staleness check, every operation in memory with Graph's rules,
//! the file written back in its own key order. Each size runs in a fresh process so that
//! its peak memory is its own. Prints, per size, the in-process plan time, the apply time
//! and the peak resident memory, then how the times grow, against the targets (apply of
//! 100,000 users within 3x their plan time, and within 12x the 10,000 figure: linear).
//! Run: `cargo bench --bench apply` (`-- USERS...` for other sizes).

#[allow(dead_code)]
#[path = "../crates/core/src/testkit.rs"]
mod testkit;

use std::path::Path;
use std::time::{Duration, Instant};

use commcred::apply::{ApplyContext, apply};
use commcred::backend::{Backend, file::FileBackend};

const NOW: &str = "2026-11-25T00:00:00Z";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--measure") {
        measure(Path::new(&args[pos + 1]));
        return;
    }
    let mut sizes: Vec<usize> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![10_000, 50_000, 100_000];
    }
    let mut rows = Vec::new();
    for users in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        generate(dir.path(), users);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--measure")
            .arg(dir.path())
            .output()
            .expect("run the measuring process");
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{text}");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let figure = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.trim_start().strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("the measuring process printed `{name}`"))
        };
        rows.push((users, figure("plan secs"), figure("apply secs")));
    }
    summary(&rows);
}

/// Writes the tenant and the config (`commcred.yaml` + `users.csv`) for `users` users.
fn generate(dir: &Path, users: usize) {
    let started = Instant::now();
    let snapshot = testkit::tenant(users, 42);
    let (yaml, csv) = testkit::config_yaml(users, users / 2, 42);
    std::fs::write(
        dir.join("tenant.json"),
        commcred::tenant::snapshot_to_string(&snapshot),
    )
    .unwrap();
    std::fs::write(dir.join("commcred.yaml"), yaml).unwrap();
    std::fs::write(dir.join("users.csv"), csv).unwrap();
    println!("generated {users} users in {:.2?}", started.elapsed());
}

/// The growth of the apply time, and the targets.
fn summary(rows: &[(usize, f64, f64)]) {
    println!();
    println!("users      plan (s)   apply (s)   apply/plan   apply per 10,000 users (s)");
    for &(users, plan, apply) in rows {
        println!(
            "{users:>7} {plan:>11.3} {apply:>11.3} {:>12.2} {:>16.3}",
            apply / plan,
            apply / users as f64 * 10_000.0
        );
    }
    let at = |n: usize| rows.iter().find(|r| r.0 == n);
    if let (Some(small), Some(big)) = (at(10_000), at(100_000)) {
        println!(
            "100,000 users: apply {:.2}x its plan time (target <= 3x), {:.2}x the 10,000 figure (target <= 12x)",
            big.2 / big.1,
            big.2 / small.2
        );
    }
}

/// In a fresh process: plan the files in `dir`, then apply the plan to the file backend.
fn measure(dir: &Path) {
    let now = NOW.parse().unwrap();
    let desired = commcred::config::load(&dir.join("commcred.yaml")).expect("valid config");
    let snapshot = dir.join("tenant.json");
    let live = FileBackend::new(&snapshot).read().expect("snapshot");
    let t = Instant::now();
    let plan = commcred::plan::plan(&desired, &live, now).expect("plan");
    let plan_time = t.elapsed();
    drop(live);
    drop(desired);
    let resident_before = memory_mb("VmRSS:");
    reset_peak();

    let t = Instant::now();
    let report = apply(
        &mut FileBackend::new(&snapshot),
        &plan,
        &ApplyContext::new(now),
    )
    .expect("apply");
    let apply_time = t.elapsed();
    assert!(report.is_success(), "every operation applies");
    let peak = memory_mb("VmHWM:");

    let users = plan.users.iter().filter(|u| u.has_changes()).count();
    println!(
        "  {} operations ({users} users with changes), {:.1} MB of snapshot",
        report.applied.len(),
        std::fs::metadata(&snapshot).map_or(0, |m| m.len()) as f64 / 1e6
    );
    println!("  plan secs  {:>8.3}   (in-process)", secs(plan_time));
    println!(
        "  apply secs {:>8.3}   (lock, re-read, stale check, execute, write back)",
        secs(apply_time)
    );
    let mb = |v: Option<u64>| v.map_or("n/a".to_string(), |v| v.to_string());
    println!(
        "  peak memory during apply {} MB (VmHWM; {} MB resident before: the plan)",
        mb(peak),
        mb(resident_before)
    );
    let again = commcred::plan::plan(
        &commcred::config::load(&dir.join("commcred.yaml")).unwrap(),
        &FileBackend::new(&snapshot).read().unwrap(),
        now,
    )
    .unwrap();
    assert!(!again.has_changes(), "a second plan after apply is empty");
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// A memory figure of this process from /proc (Linux): `VmRSS:` now, `VmHWM:` peak.
fn memory_mb(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb / 1024)
}

/// Resets the peak (VmHWM) to the current resident size, so that the peak read after the
/// apply is the apply's (Linux: writing 5 to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
