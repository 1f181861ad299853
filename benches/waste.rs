//! Waste benchmark: a generated tenant (10,000 and 100,000 users, the plan benchmark's
//! generator) with disabled accounts and a PSTN call log, and a config listing every user
//! with a price list, through the same steps as `commcred waste`: load the config, read
//! the snapshot, find and price the waste, render JSON. Prints each step's time and the
//! peak resident memory of a process that does only that, then the real binary under GNU
//! time. Run: `cargo bench --bench waste` (`-- USERS` for one size).

#[allow(dead_code)]
#[path = "../crates/core/src/testkit.rs"]
mod testkit;

#[path = "support/gnu_time.rs"]
mod gnu_time;

use std::time::Instant;

use commcred::backend::{Backend, file::FileBackend};
use commcred::workflow::waste::{Calls, DEFAULT_WINDOW_DAYS, find};
use serde_json::json;

const NOW: &str = "2026-11-25T00:00:00Z";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--measure") {
        measure(std::path::Path::new(&args[pos + 1]));
        return;
    }
    let sizes: Vec<usize> = match args.iter().skip(1).find_map(|a| a.parse().ok()) {
        Some(n) => vec![n],
        None => vec![10_000, 100_000],
    };
    for users in sizes {
        println!("--- {users} users");
        let dir = tempfile::tempdir().expect("temp dir");
        let started = Instant::now();
        let mut snapshot = testkit::tenant(users, 42);
        // Every 50th account disabled; a call in the last month for two users in three.
        let mut calls = Vec::new();
        for (n, user) in snapshot.users.iter_mut().enumerate() {
            if n % 50 == 7 {
                user.account_enabled = Some(false);
            }
            if n % 3 != 0 {
                calls.push(json!({
                    "id": format!("call-{n}"),
                    "userPrincipalName": user.user_principal_name,
                    "startDateTime": "2026-11-01T10:00:00Z",
                    "duration": 60, "charge": "0.00", "currency": "USD"
                }));
            }
        }
        snapshot.extra.insert("pstnCalls".into(), json!(calls));
        let (yaml, csv) = testkit::config_yaml(users, users / 2, 42);
        std::fs::write(
            dir.path().join("tenant.json"),
            commcred::tenant::snapshot_to_string(&snapshot),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("commcred.yaml"),
            format!("{yaml}prices: prices.yaml\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("users.csv"), csv).unwrap();
        std::fs::write(
            dir.path().join("prices.yaml"),
            "currency: USD\nskus:\n  MCOEV: 10.00\n  MCOPSTN1: 12.00\n  MCOPSTN2: 24.00\n  MCOMEETADV: 4.00\n",
        )
        .unwrap();
        drop(snapshot);
        println!("generated in {:.2?}", started.elapsed());
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--measure")
            .arg(dir.path())
            .status()
            .expect("run the measuring process");
        assert!(status.success());
        measure_binary(dir.path());
    }
}

/// The real `commcred waste` on the same files: time and peak memory from GNU time.
fn measure_binary(dir: &std::path::Path) {
    gnu_time::print_binary_run("waste", |cmd| {
        cmd.args(["waste", "-q", "--format", "json"])
            .arg(dir.join("commcred.yaml"))
            .env("COMMCRED_NOW", NOW);
    });
}

fn measure(dir: &std::path::Path) {
    let t = Instant::now();
    let desired = commcred::config::load(&dir.join("commcred.yaml")).expect("valid config");
    let load_config = t.elapsed();

    let t = Instant::now();
    let live = FileBackend::new(dir.join("tenant.json"))
        .read()
        .expect("snapshot");
    let read_snapshot = t.elapsed();

    let t = Instant::now();
    let now = NOW.parse().unwrap();
    let mut calls = Calls::new(now - chrono::Duration::days(DEFAULT_WINDOW_DAYS), now);
    let (rows, _) = commcred::credits::usage::rows_from_json(live.extra.get("pstnCalls"));
    calls.add("pstnCalls".into(), &rows);
    let report = find(&desired, &live, calls, DEFAULT_WINDOW_DAYS, now);
    let waste = t.elapsed();

    let t = Instant::now();
    let text = serde_json::to_string(&commcred::waste::render::json(&report)).unwrap();
    let render = t.elapsed();
    let totals = report.totals();

    println!("load config      {load_config:>10.2?}");
    println!("read snapshot    {read_snapshot:>10.2?}");
    println!(
        "waste            {waste:>10.2?}   ({} lines, {} seats on {} users, {} a month)",
        report.lines.len(),
        totals.seats,
        totals.users,
        totals
            .monthly_cost
            .map_or("no price".to_string(), |m| m.to_string())
    );
    println!("render (json)    {render:>10.2?}   ({} bytes)", text.len());
    println!(
        "total            {:>10.2?}",
        load_config + read_snapshot + waste + render
    );
    println!("peak memory      {:>7} MB (VmHWM)", peak_mb());
}

/// Peak resident memory of this process (Linux `VmHWM`).
fn peak_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(|| "n/a".to_string(), |kb| (kb / 1024).to_string())
}
