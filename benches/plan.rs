//! Plan benchmark: a generated 100,000-user tenant and config (half inline YAML, half CSV),
//! through the same steps as `commcred plan`: load the config, read the snapshot, plan, render.
//! Prints each step's time and the peak resident memory, first without phone numbers, then
//! with a number declared for every calling user (issue 22). Run: `cargo bench --bench plan`
//! (`-- USERS` for another size).

#[allow(dead_code)]
#[path = "../crates/core/src/testkit.rs"]
mod testkit;

#[path = "support/gnu_time.rs"]
mod gnu_time;

use std::time::Instant;

use commcred::backend::{Backend, file::FileBackend};
use commcred::plan::render::{Style, human};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--measure") {
        measure(std::path::Path::new(&args[pos + 1]));
        return;
    }
    let users: usize = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    for with_numbers in [false, true] {
        let dir = tempfile::tempdir().expect("temp dir");
        let started = Instant::now();
        let mut snapshot = testkit::tenant(users, 42);
        let numbers = with_numbers.then_some(&mut snapshot);
        let (yaml, csv) = testkit::config_with_numbers(users, users / 2, 42, numbers);
        std::fs::write(
            dir.path().join("tenant.json"),
            commcred::tenant::snapshot_to_string(&snapshot),
        )
        .unwrap();
        std::fs::write(dir.path().join("commcred.yaml"), yaml).unwrap();
        std::fs::write(dir.path().join("users.csv"), csv).unwrap();
        println!(
            "\n{}generated {users} users in {:.2?}",
            if with_numbers {
                format!(
                    "WITH PHONE NUMBERS: a number for each of the {} calling users (inventory and Teams configurations in the snapshot); ",
                    snapshot.number_assignments.len()
                )
            } else {
                "WITHOUT PHONE NUMBERS: ".to_string()
            },
            started.elapsed()
        );
        drop(snapshot);
        // Measure in a fresh process so that peak memory is the plan's, not the generator's.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--measure")
            .arg(dir.path())
            .status()
            .expect("run the measuring process");
        assert!(status.success());
        measure_binary(dir.path());
    }
}

/// The real `commcred plan` on the same files, its time and peak memory from GNU time.
fn measure_binary(dir: &std::path::Path) {
    gnu_time::print_binary_run("plan", |cmd| {
        cmd.args(["plan", "-q", "--color", "never"])
            .arg(dir.join("commcred.yaml"))
            .env("COMMCRED_NOW", "2026-11-25T00:00:00Z");
    });
}

fn measure(dir: &std::path::Path) {
    let t = Instant::now();
    let desired = commcred::config::load(&dir.join("commcred.yaml")).expect("valid config");
    let load_config = t.elapsed();
    let rss_config = rss_mb("VmRSS:");

    let t = Instant::now();
    let live = FileBackend::new(dir.join("tenant.json"))
        .read()
        .expect("snapshot");
    let read_snapshot = t.elapsed();
    let rss_snapshot = rss_mb("VmRSS:");

    let t = Instant::now();
    let now = "2026-11-25T00:00:00Z".parse().unwrap();
    let plan = commcred::plan::plan(&desired, &live, now).expect("plan");
    let plan_time = t.elapsed();
    let rss_plan = rss_mb("VmRSS:");

    let t = Instant::now();
    // Streamed, as `commcred plan` writes it to stdout; only its length is kept.
    let mut text = CountingSink(0);
    human::write_to(&mut text, &plan, Style::default());
    let render = t.elapsed();

    println!("load config      {load_config:>10.2?}   (resident after: {rss_config} MB)");
    println!("read snapshot    {read_snapshot:>10.2?}   (resident after: {rss_snapshot} MB)");
    println!(
        "plan             {plan_time:>10.2?}   ({} users with changes, {} phone number changes; resident after: {rss_plan} MB)",
        plan.users.len(),
        plan.users.iter().filter(|u| u.number.is_some()).count()
    );
    println!(
        "render (human)   {render:>10.2?}   ({} bytes, streamed)",
        text.0
    );
    println!(
        "total            {:>10.2?}",
        load_config + read_snapshot + plan_time + render
    );
    println!("peak memory      {:>7} MB (VmHWM)", rss_mb("VmHWM:"));
    println!("target: plan under 1 s and under 300 MB on a 2-core machine");
}

/// A memory figure of this process from /proc (Linux): `VmRSS:` now, `VmHWM:` peak.
fn rss_mb(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(|| "n/a".to_string(), |kb| (kb / 1024).to_string())
}

/// Counts what a renderer writes and discards it, like stdout sent to /dev/null.
struct CountingSink(usize);

impl std::fmt::Write for CountingSink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}
