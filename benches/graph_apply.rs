//! Benchmark: 10,000 license changes through the local Graph emulator under Graph's write
//! quota, by commcred's graph backend (`$batch`, paced, concurrent) and by the Microsoft
//! Graph Python SDK the way admins' scripts do it (one request per user, in sequence).
//! Not a test: it prints figures. Run it with `benches/graph_apply.sh`.
//!
//! usage: cargo bench --bench graph_apply -- [--users N] [--scale S] [--python PATH]
//!   --scale S  divides the quota's window by S (default 10: 3,000 writes per 15 s instead
//!              of Graph's 3,000 per 150 s), so the run takes about a minute, not ten.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use commcred::backend::graph::{Credentials, GraphBackend, GraphOptions, Secret};
use commcred::backend::{ApplyContext, Backend};
use commcred::base::licenses::{Friendly, LicenseName};
use commcred::config::{DesiredState, DesiredUser, Origin};
use commcred::emulator::{self, EmulatorConfig, StatsSnapshot, WriteQuota};
use serde_json::json;

const DOMAIN: &str = "contoso.onmicrosoft.com";
const AUDIO: &str = "0c266dff-15dd-4b49-8397-2bb16070ed52";
const GRAPH_LIMIT: u32 = 3000;
const GRAPH_WINDOW_SECS: f64 = 150.0;

struct Args {
    users: usize,
    scale: f64,
    python: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        users: 10_000,
        scale: 10.0,
        python: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--users" => a.users = it.next().and_then(|v| v.parse().ok()).expect("--users N"),
            "--scale" => a.scale = it.next().and_then(|v| v.parse().ok()).expect("--scale S"),
            "--python" => a.python = it.next(),
            _ => {} // cargo bench passes `--bench`
        }
    }
    a
}

/// `users` users with a usage location and no license; one SKU with seats for all.
fn write_tenant(dir: &Path, users: usize) -> PathBuf {
    let users: Vec<_> = (0..users)
        .map(|n| {
            json!({
                "id": format!("00000000-0000-4000-8000-{n:012}"),
                "userPrincipalName": format!("user{n}@contoso.com"),
                "usageLocation": "US",
                "assignedLicenses": [],
                "licenseAssignmentStates": []
            })
        })
        .collect();
    let tenant = json!({
        "tenant": {"id": "7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", "domain": DOMAIN},
        "subscribedSkus": [{
            "skuId": AUDIO, "skuPartNumber": "MCOMEETADV", "appliesTo": "User",
            "capabilityStatus": "Enabled",
            "prepaidUnits": {"enabled": users.len() * 2, "warning": 0, "suspended": 0, "lockedOut": 0},
            "consumedUnits": 0,
            "servicePlans": [{"servicePlanId": "3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40", "servicePlanName": "MCOMEETADV"}]
        }],
        "users": users
    });
    let path = dir.join("tenant.json");
    std::fs::write(&path, serde_json::to_string(&tenant).unwrap()).unwrap();
    path
}

fn start(tenant: &Path, quota: WriteQuota) -> emulator::Emulator {
    let mut config = EmulatorConfig::new(tenant);
    config.quota = quota;
    emulator::serve(config).expect("the emulator starts")
}

fn assigned(tenant: &Path) -> usize {
    let s = commcred::backend::file::read_snapshot(tenant).unwrap();
    s.users
        .iter()
        .filter(|u| u.assigned_licenses.iter().any(|a| a.sku_id == AUDIO))
        .count()
}

struct Run {
    name: &'static str,
    elapsed: Duration,
    writes: u64,
    requests_client: Option<u64>,
    stats: StatsSnapshot,
    assigned: usize,
    note: String,
}

fn commcred_run(dir: &Path, users: usize, quota: WriteQuota) -> Run {
    let tenant = write_tenant(dir, users);
    let emulator = start(&tenant, quota);
    let credentials = Credentials {
        tenant: DOMAIN.into(),
        client_id: "commcred-bench".into(),
        client_secret: Secret::new("bench-secret"),
    };
    let mut options = GraphOptions::new(Some(&emulator.base_url()), credentials);
    options.quota_writes = quota.limit;
    options.quota_window = quota.window;
    let mut graph = GraphBackend::new(options).unwrap();
    let origin = Origin {
        file: std::path::Path::new("commcred.yaml").into(),
        line: 1,
        column: 1,
    };
    let desired = DesiredState {
        config_path: "commcred.yaml".into(),
        digest: "0".repeat(64),
        tenant: DOMAIN.into(),
        backend: None,
        default_usage_location: None,
        credits: None,
        users: (0..users)
            .map(|n| DesiredUser {
                upn: format!("user{n}@contoso.com"),
                usage_location: None,
                licenses: [LicenseName::Friendly(Friendly::AudioConferencing)].into(),
                origin: origin.clone(),
            })
            .collect(),
        prune: false,
    };
    let live = graph.read().unwrap();
    let plan = commcred::plan::plan(&desired, &live, Utc::now()).expect("the plan is valid");
    let before = graph.requests_sent();
    let started = Instant::now();
    let report =
        commcred::apply::apply(&mut graph, &plan, &ApplyContext { now: Utc::now() }).unwrap();
    let elapsed = started.elapsed();
    let stats = emulator.stats();
    let note = format!(
        "{} applied, {} failed, {} not attempted",
        report.applied.len(),
        report.failed.len(),
        report.not_attempted.len()
    );
    emulator.shutdown().unwrap();
    Run {
        name: "commcred graph backend ($batch, paced)",
        elapsed,
        writes: report.applied.len() as u64,
        requests_client: Some(graph.requests_sent() - before),
        stats,
        assigned: assigned(&tenant),
        note,
    }
}

fn sdk_run(dir: &Path, users: usize, quota: WriteQuota, python: &str) -> Option<Run> {
    let tenant = write_tenant(dir, users);
    let upns = dir.join("upns.txt");
    let list: String = (0..users)
        .map(|n| format!("user{n}@contoso.com\n"))
        .collect();
    std::fs::write(&upns, list).unwrap();
    let emulator = start(&tenant, quota);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/graph_sdk_baseline.py");
    let started = Instant::now();
    let output = Command::new(python)
        .arg(&script)
        .args([&emulator.base_url(), DOMAIN, upns.to_str().unwrap(), AUDIO])
        .output();
    let elapsed = started.elapsed();
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            eprintln!(
                "the SDK baseline failed:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            return None;
        }
        Err(e) => {
            eprintln!("cannot run {python}: {e}");
            return None;
        }
    };
    let result: serde_json::Value =
        serde_json::from_slice(output.stdout.trim_ascii()).unwrap_or_default();
    let stats = emulator.stats();
    emulator.shutdown().unwrap();
    let sdk_elapsed = result["elapsed"].as_f64().map(Duration::from_secs_f64);
    let assigned = assigned(&tenant);
    Some(Run {
        name: "msgraph-sdk (Python), one request per user",
        elapsed: sdk_elapsed.unwrap_or(elapsed),
        writes: assigned as u64,
        requests_client: None,
        stats,
        assigned,
        note: format!(
            "{} failed, {} retried by the script after the SDK's own retries",
            result["failed"], result["retried"]
        ),
    })
}

fn main() {
    let args = args();
    let quota = WriteQuota {
        limit: GRAPH_LIMIT,
        window: Duration::from_secs_f64(GRAPH_WINDOW_SECS / args.scale),
    };
    let rate = quota.rate();
    let best = if args.users as f64 <= f64::from(quota.limit) {
        f64::INFINITY
    } else {
        args.users as f64 / ((args.users as f64 - f64::from(quota.limit)) / rate)
    };
    println!(
        "graph_apply: {} license changes through the Graph emulator (loopback)",
        args.users
    );
    if (args.scale - 1.0).abs() > f64::EPSILON {
        println!(
            "quota SCALED x{}: {} writes per {:.1} s = {:.0} writes/s sustained (Graph: {} per {} s = {:.0}/s); --scale 1 for the real one",
            args.scale,
            quota.limit,
            quota.window.as_secs_f64(),
            rate,
            GRAPH_LIMIT,
            GRAPH_WINDOW_SECS,
            f64::from(GRAPH_LIMIT) / GRAPH_WINDOW_SECS
        );
    } else {
        println!(
            "quota: Graph's, {} writes per {} s",
            quota.limit, GRAPH_WINDOW_SECS
        );
    }
    println!(
        "best possible under this quota: burst of {}, then {:.0}/s = {:.0} writes/s over the run",
        quota.limit, rate, best
    );

    let work = tempfile::tempdir().unwrap();
    let a = work.path().join("commcred");
    std::fs::create_dir_all(&a).unwrap();
    let mut runs = vec![commcred_run(&a, args.users, quota)];
    match &args.python {
        Some(python) => {
            let b = work.path().join("sdk");
            std::fs::create_dir_all(&b).unwrap();
            runs.extend(sdk_run(&b, args.users, quota, python));
        }
        None => println!("(no --python: the msgraph-sdk baseline is skipped)"),
    }

    println!();
    println!(
        "{:<44} {:>9} {:>10} {:>9} {:>13} {:>9} {:>9}",
        "client", "seconds", "writes/s", "of best", "HTTP requests", "429s", "assigned"
    );
    for r in &runs {
        let secs = r.elapsed.as_secs_f64();
        let wps = r.writes as f64 / secs;
        let requests = r.stats.http_requests;
        println!(
            "{:<44} {:>9.1} {:>10.1} {:>8.0}% {:>13} {:>9} {:>9}",
            r.name,
            secs,
            wps,
            (wps / best * 100.0).min(100.0),
            requests,
            r.stats.quota_throttled,
            r.assigned
        );
    }
    println!();
    for r in &runs {
        let client = r
            .requests_client
            .map(|c| format!(" (the apply itself: {c}, its re-read included)"))
            .unwrap_or_default();
        println!(
            "{}: {}; the server saw {} HTTP requests{client} ({} $batch, {} token), {} writes, {} changes applied, {} applied twice",
            r.name,
            r.note,
            r.stats.http_requests,
            r.stats.batch_requests,
            r.stats.token_requests,
            r.stats.writes,
            r.stats.effective_changes,
            r.stats.users_changed_more_than_once
        );
    }
}
