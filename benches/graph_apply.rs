//! Benchmark: license changes through the local Graph emulator under Graph's write quota,
//! by commcred's graph backend (`$batch`, paced, concurrent) and by the Microsoft Graph
//! Python SDK two ways: one request per user in sequence (how admins' scripts do it), and
//! the SDK's own batch request content with bounded concurrency (what a careful script
//! writer does). Not a test: it prints figures. Run it with `benches/graph_apply.sh`.
//!
//! Fair by construction (issue 20, item 6): every client runs against the same emulator
//! flags, at the same `--latency-ms` (default 100 ms per answer, a real link), on the same
//! users, and the emulator defers persistence (`Persistence::Deferred`): Graph charges no
//! disk flush per request, so neither does the emulator here.
//!
//! usage: cargo bench --bench graph_apply -- [--users N] [--scale S] [--latency-ms MS] [--python PATH]
//!   --scale S  divides the quota's window by S (default 10: 3,000 writes per 15 s instead
//!              of Graph's 3,000 per 150 s), so the run takes about a minute, not ten.
//!
//!        cargo bench --bench graph_apply -- --mixes [--users N] [--only NAME] [--python PATH]
//!   runs the fault mixes of issue 16 (no faults; 10 % item 429s; 10 % 5xx; 5 % dropped
//!   connections; all three; a 30 % throttling burst for 10 s that then clears) and prints,
//!   for each, commcred's writes/s beside both SDK scripts' on the same users under the same
//!   emulator flags, with the targets (issue 20: at least 5x the batching script and 20x the
//!   per-user one). `--users N` runs every mix on N users (all clients alike). The burst
//!   changes the emulator's faults while it runs (`POST /_emulator/faults`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use commcred::apply::ApplyContext;
use commcred::backend::Backend;
use commcred::backend::graph::{Credentials, GraphBackend, GraphOptions, Secret};
use commcred::base::licenses::{Friendly, LicenseName};
use commcred::config::{DesiredState, DesiredUser, Origin};
use commcred_emulator::{
    self as emulator, EmulatorConfig, FaultConfig, Persistence, StatsSnapshot, WriteQuota,
};
use serde_json::json;

const DOMAIN: &str = "contoso.onmicrosoft.com";
const AUDIO: &str = "0c266dff-15dd-4b49-8397-2bb16070ed52";
const GRAPH_LIMIT: u32 = 3000;
const GRAPH_WINDOW_SECS: f64 = 150.0;

struct Args {
    /// `None`: the default (10,000; or each mix's own count).
    users: Option<usize>,
    scale: f64,
    latency: Duration,
    python: Option<String>,
    mixes: bool,
    only: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        users: None,
        scale: 10.0,
        latency: Duration::from_millis(100),
        python: None,
        mixes: false,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--users" => a.users = Some(it.next().and_then(|v| v.parse().ok()).expect("--users N")),
            "--latency-ms" => {
                a.latency = Duration::from_millis(
                    it.next()
                        .and_then(|v| v.parse().ok())
                        .expect("--latency-ms MS"),
                )
            }
            "--scale" => a.scale = it.next().and_then(|v| v.parse().ok()).expect("--scale S"),
            "--python" => a.python = it.next(),
            "--mixes" => a.mixes = true,
            "--only" => a.only = it.next(),
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
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("tenant.json");
    std::fs::write(&path, serde_json::to_string(&tenant).unwrap()).unwrap();
    path
}

/// One emulator setting: quota, faults, and an optional burst of throttling.
#[derive(Clone)]
struct Setting {
    quota: WriteQuota,
    faults: FaultConfig,
    /// Injected 429s at this rate for this long from the start of the run, then none.
    burst: Option<(f64, Duration)>,
}

/// The emulator of one run: the setting's quota and faults, persistence deferred (written
/// at most every 5 s and on shutdown, before the checks read the file).
fn start(tenant: &Path, setting: &Setting) -> emulator::Emulator {
    let mut config = EmulatorConfig::new(tenant);
    config.quota = setting.quota;
    config.faults = setting.faults.clone();
    config.persistence = Persistence::Deferred {
        every: Duration::from_secs(5),
    };
    emulator::serve(config).expect("the emulator starts")
}

fn assigned(tenant: &Path) -> usize {
    let s = commcred::backend::file::read_snapshot(tenant).unwrap();
    s.users
        .iter()
        .filter(|u| u.assigned_licenses.iter().any(|a| a.sku_id == AUDIO))
        .count()
}

/// `POST /_emulator/faults` (not Graph: the emulator's own endpoint) over a plain socket.
fn set_faults(base_url: &str, body: &str) -> Result<(), String> {
    let addr = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(
        stream,
        "POST /_emulator/faults HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    match answer.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        other => Err(format!(
            "the emulator answered {} to POST /_emulator/faults",
            other.unwrap_or("nothing")
        )),
    }
}

/// Starts the burst (if any) once `started()` says the writes have begun (at most 60 s
/// later), and clears it after its span, on a thread; returns when it cleared, or why it
/// could not run. The burst models another application using the tenant's ceiling while
/// the apply writes; the reads before it are not what it is about.
fn run_burst(
    base_url: String,
    burst: Option<(f64, Duration)>,
    started: impl Fn() -> bool + Send + 'static,
) -> Option<std::thread::JoinHandle<Result<Instant, String>>> {
    let (rate, span) = burst?;
    Some(std::thread::spawn(move || {
        let give_up = Instant::now() + Duration::from_secs(60);
        while !started() && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(10));
        }
        set_faults(&base_url, &format!("{{\"throttleRate\": {rate}}}"))?;
        std::thread::sleep(span);
        set_faults(&base_url, "{\"throttleRate\": 0.0}")?;
        Ok(Instant::now())
    }))
}

/// Samples the emulator's effective changes every 250 ms while a run lasts.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(Instant, u64)>>,
}

impl Sampler {
    fn start(stats: impl Fn() -> u64 + Send + 'static) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                samples.push((Instant::now(), stats()));
                std::thread::sleep(Duration::from_millis(250));
            }
            samples.push((Instant::now(), stats()));
            samples
        });
        Sampler { stop, thread }
    }

    fn finish(self) -> Vec<(Instant, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// Changes per second between `from` and the last sample.
fn rate_since(samples: &[(Instant, u64)], from: Instant) -> Option<f64> {
    let first = samples.iter().find(|(t, _)| *t >= from)?;
    let last = samples.last()?;
    let secs = last.0.duration_since(first.0).as_secs_f64();
    (secs >= 1.0).then(|| (last.1 - first.1) as f64 / secs)
}

struct Run {
    name: &'static str,
    users: usize,
    elapsed: Duration,
    writes: u64,
    requests_client: Option<u64>,
    stats: StatsSnapshot,
    assigned: usize,
    /// A clean re-plan after the run found nothing to do.
    replan_empty: Option<bool>,
    /// Changes per second from one quota window after a burst cleared.
    after_burst: Option<f64>,
    note: String,
}

impl Run {
    fn writes_per_sec(&self) -> f64 {
        self.writes as f64 / self.elapsed.as_secs_f64()
    }
}

fn desired(users: usize) -> DesiredState {
    let origin = Origin {
        file: std::path::Path::new("commcred.yaml").into(),
        line: 1,
        column: 1,
    };
    DesiredState {
        config_path: "commcred.yaml".into(),
        digest: "0".repeat(64),
        tenant: DOMAIN.into(),
        tenant_origin: None,
        backend: None,
        default_usage_location: None,
        billing_account: None,
        credits: None,
        users: (0..users)
            .map(|n| DesiredUser {
                phone: None,
                upn: format!("user{n}@contoso.com"),
                usage_location: None,
                licenses: [LicenseName::Friendly(Friendly::AudioConferencing)].into(),
                origin: origin.clone(),
            })
            .collect(),
        prune: false,
        groups: Default::default(),
        prices: None,
    }
}

// One run from tenant to report, with its checks: kept together so the figures and the
// checks come from the same run.
fn commcred_run(dir: &Path, users: usize, setting: &Setting) -> Run {
    let tenant = write_tenant(dir, users);
    let emulator = start(&tenant, setting);
    let credentials =
        Credentials::with_secret(DOMAIN, "commcred-bench", Secret::new("bench-secret"));
    let mut options = GraphOptions::new(Some(&emulator.base_url()), credentials);
    options.quota_writes = setting.quota.limit;
    options.quota_window = setting.quota.window;
    let mut graph = GraphBackend::new(options).unwrap();
    let desired = desired(users);
    let live = graph.read().unwrap();
    let plan = commcred::plan::plan(&desired, &live, Utc::now()).expect("the plan is valid");
    let before = graph.requests_sent();
    let emulator = Arc::new(emulator);
    let sampler = {
        let emulator = emulator.clone();
        Sampler::start(move || emulator.stats().effective_changes)
    };
    let started = Instant::now();
    let burst = {
        let emulator = emulator.clone();
        run_burst(emulator.base_url(), setting.burst, move || {
            emulator.stats().writes > 0
        })
    };
    let report = commcred::apply::apply(&mut graph, &plan, &ApplyContext::new(Utc::now())).unwrap();
    let elapsed = started.elapsed();
    let samples = sampler.finish();
    let cleared = burst.map(|b| b.join().unwrap());
    let after_burst = match &cleared {
        Some(Ok(at)) => rate_since(&samples, *at + setting.quota.window),
        _ => None,
    };
    let stats = emulator.stats();
    let replan = commcred::plan::plan(&desired, &graph.read().unwrap(), Utc::now()).unwrap();
    let mut note = format!(
        "{} applied, {} failed, {} not attempted",
        report.applied.len(),
        report.failed.len(),
        report.not_attempted.len()
    );
    if let Some(Err(e)) = cleared {
        note.push_str(&format!(
            "; NO BURST: {e} (needs the emulator's faults endpoint)"
        ));
    }
    let emulator = Arc::try_unwrap(emulator).ok().expect("the sampler is done");
    emulator.shutdown().unwrap();
    Run {
        name: "commcred graph backend ($batch, paced)",
        users,
        elapsed,
        writes: report.applied.len() as u64,
        requests_client: Some(graph.requests_sent() - before),
        stats,
        assigned: assigned(&tenant),
        replan_empty: Some(!replan.has_changes()),
        after_burst,
        note,
    }
}

/// How the SDK script sends its writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sdk {
    /// One `assignLicense` per user, in sequence.
    PerUser,
    /// The SDK's `BatchRequestContent`, 20 per `$batch`, 4 batches in flight.
    Batch,
}

impl Sdk {
    fn name(self) -> &'static str {
        match self {
            Sdk::PerUser => "msgraph-sdk (Python), one request per user",
            Sdk::Batch => "msgraph-sdk (Python), $batch of 20, 4 in flight",
        }
    }
}

fn sdk_run(dir: &Path, users: usize, setting: &Setting, python: &str, how: Sdk) -> Option<Run> {
    let tenant = write_tenant(dir, users);
    let upns = dir.join("upns.txt");
    let list: String = (0..users)
        .map(|n| format!("user{n}@contoso.com\n"))
        .collect();
    std::fs::write(&upns, list).unwrap();
    let emulator = start(&tenant, setting);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/graph_sdk_baseline.py");
    let started = Instant::now();
    let burst = run_burst(emulator.base_url(), setting.burst, || true);
    let mut command = Command::new(python);
    command
        .arg(&script)
        .args([&emulator.base_url(), DOMAIN, upns.to_str().unwrap(), AUDIO]);
    if how == Sdk::Batch {
        command.args(["--batch", "--concurrency", "4"]);
    }
    let output = command.output();
    let elapsed = started.elapsed();
    if let Some(b) = burst {
        let _ = b.join();
    }
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
        name: how.name(),
        users,
        elapsed: sdk_elapsed.unwrap_or(elapsed),
        writes: assigned as u64,
        requests_client: None,
        stats,
        assigned,
        replan_empty: None,
        after_burst: None,
        note: format!(
            "{} failed, {} retried by the script after the SDK's own retries",
            result["failed"], result["retried"]
        ),
    })
}

fn quota(scale: f64) -> WriteQuota {
    WriteQuota {
        limit: GRAPH_LIMIT,
        window: Duration::from_secs_f64(GRAPH_WINDOW_SECS / scale),
    }
}

/// The 10,000-change comparison at a scaled quota.
fn comparison(args: &Args) {
    let quota = quota(args.scale);
    let users = args.users.unwrap_or(10_000);
    let setting = Setting {
        quota,
        faults: FaultConfig {
            latency: args.latency,
            ..FaultConfig::default()
        },
        burst: None,
    };
    let rate = quota.rate();
    let best = if users as f64 <= f64::from(quota.limit) {
        f64::INFINITY
    } else {
        users as f64 / ((users as f64 - f64::from(quota.limit)) / rate)
    };
    println!(
        "graph_apply: {users} license changes through the Graph emulator (loopback, {} ms per answer, persistence deferred)",
        args.latency.as_millis()
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
    let mut runs = vec![commcred_run(&work.path().join("commcred"), users, &setting)];
    match &args.python {
        Some(python) => {
            for how in [Sdk::Batch, Sdk::PerUser] {
                let dir = work.path().join(format!("sdk-{}", how as u8));
                runs.extend(sdk_run(&dir, users, &setting, python, how));
            }
        }
        None => println!("(no --python: the msgraph-sdk baselines are skipped)"),
    }

    println!();
    println!(
        "{:<44} {:>9} {:>10} {:>9} {:>13} {:>9} {:>9}",
        "client", "seconds", "writes/s", "of best", "HTTP requests", "429s", "assigned"
    );
    for r in &runs {
        let wps = r.writes_per_sec();
        println!(
            "{:<44} {:>9.1} {:>10.1} {:>8.0}% {:>13} {:>9} {:>9}",
            r.name,
            r.elapsed.as_secs_f64(),
            wps,
            (wps / best * 100.0).min(100.0),
            r.stats.http_requests,
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

/// One fault mix of issue 16 and its target.
struct Mix {
    name: &'static str,
    users: usize,
    setting: Setting,
    target: &'static str,
    /// Whether the mix's own target was met by commcred's run (the ratios to the SDK
    /// scripts are checked for every mix besides).
    met: fn(&Run) -> bool,
}

fn faults(throttle: f64, errors: f64, drops: f64, latency: Duration) -> FaultConfig {
    FaultConfig {
        latency,
        throttle_rate: throttle,
        error_rate: errors,
        drop_rate: drops,
        retry_after_secs: 1,
        ..FaultConfig::default()
    }
}

/// The mixes at `latency` per answer; `users` (if given) replaces every mix's own count.
fn mixes(latency: Duration, users: Option<usize>) -> Vec<Mix> {
    let graph = |f: FaultConfig| Setting {
        quota: quota(1.0),
        faults: f,
        burst: None,
    };
    vec![
        Mix {
            name: "no faults",
            users: 1000,
            setting: graph(faults(0.0, 0.0, 0.0, latency)),
            target: "-",
            met: |_| true,
        },
        Mix {
            name: "10% item 429s (retry-after 1)",
            users: 1000,
            setting: graph(faults(0.1, 0.0, 0.0, latency)),
            target: "<= 20 s",
            met: |r| r.elapsed <= Duration::from_secs(20),
        },
        Mix {
            name: "10% 5xx",
            users: 1000,
            setting: graph(faults(0.0, 0.1, 0.0, latency)),
            target: "-",
            met: |_| true,
        },
        Mix {
            name: "5% dropped connections",
            users: 1000,
            setting: graph(faults(0.0, 0.0, 0.05, latency)),
            target: "-",
            met: |_| true,
        },
        Mix {
            name: "all three (429 .1, 5xx .1, drops .05)",
            users: 3000,
            setting: graph(faults(0.1, 0.1, 0.05, latency)),
            target: "3,000 changes in <= 120 s",
            met: |r| r.elapsed <= Duration::from_secs(120),
        },
        Mix {
            name: "30% 429 burst for 10 s, then clear (quota x10)",
            users: 14_000,
            setting: Setting {
                quota: quota(10.0),
                faults: faults(0.0, 0.0, 0.0, latency),
                burst: Some((0.3, Duration::from_secs(10))),
            },
            target: ">= 90% of the quota rate from one window after clearing",
            met: |r| r.after_burst.is_some_and(|a| a >= 0.9 * quota(10.0).rate()),
        },
    ]
    .into_iter()
    .map(|mut mix| {
        mix.users = users.unwrap_or(mix.users);
        mix
    })
    .collect()
}

/// Nothing applied twice, nothing lost, and a clean re-plan shows no changes.
fn correct(r: &Run) -> bool {
    r.stats.users_changed_more_than_once == 0
        && r.assigned == r.users
        && r.replan_empty == Some(true)
}

/// Target of issue 20: commcred at least this many times the batching SDK script's rate...
const VS_BATCH: f64 = 5.0;
/// ...and this many times the per-user one's.
const VS_PER_USER: f64 = 20.0;

fn ratio(ours: &Run, sdk: Option<&Run>) -> Option<f64> {
    sdk.map(|s| ours.writes_per_sec() / s.writes_per_sec())
}

fn show_ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.1}x"))
}

fn run_mixes(args: &Args) {
    let mixes = mixes(args.latency, args.users);
    println!(
        "graph_apply --mixes: commcred and both msgraph-sdk scripts on the same users, same emulator flags, {} ms per answer, persistence deferred (loopback)",
        args.latency.as_millis()
    );
    println!(
        "quota: Graph's ({} writes per {} s) unless the mix says x10; targets: the mix's own, and >= {VS_BATCH}x the batching script, >= {VS_PER_USER}x the per-user one",
        GRAPH_LIMIT, GRAPH_WINDOW_SECS
    );
    println!();
    println!(
        "{:<48} {:>6} {:>8} {:>9} {:>9} {:>7} {:>9} {:>7} {:>11} {:>12}  target",
        "mix",
        "users",
        "seconds",
        "writes/s",
        "batch w/s",
        "ratio",
        "user w/s",
        "ratio",
        "after clear",
        "twice/lost/replan"
    );
    let work = tempfile::tempdir().unwrap();
    for (k, mix) in mixes.into_iter().enumerate() {
        if args
            .only
            .as_ref()
            .is_some_and(|o| !mix.name.contains(o.as_str()))
        {
            continue;
        }
        let dir = work.path().join(format!("mix{k}"));
        let ours = commcred_run(&dir.join("commcred"), mix.users, &mix.setting);
        let sdk = |how: Sdk, name: &str| {
            args.python
                .as_ref()
                .and_then(|python| sdk_run(&dir.join(name), mix.users, &mix.setting, python, how))
        };
        let batch = sdk(Sdk::Batch, "sdk-batch");
        let per_user = sdk(Sdk::PerUser, "sdk-user");
        let (vs_batch, vs_user) = (
            ratio(&ours, batch.as_ref()),
            ratio(&ours, per_user.as_ref()),
        );
        let ratios_met =
            vs_batch.is_none_or(|r| r >= VS_BATCH) && vs_user.is_none_or(|r| r >= VS_PER_USER);
        let verdict = match ((mix.met)(&ours) && ratios_met, correct(&ours)) {
            (true, true) => "met",
            (false, true) => "MISSED",
            (_, false) => "INCORRECT",
        };
        let rate = |r: &Option<Run>| {
            r.as_ref()
                .map_or("-".into(), |s| format!("{:.1}", s.writes_per_sec()))
        };
        println!(
            "{:<48} {:>6} {:>8.1} {:>9.1} {:>9} {:>7} {:>9} {:>7} {:>11} {:>4}/{:>3}/{:<4}  {} ({verdict})",
            mix.name,
            mix.users,
            ours.elapsed.as_secs_f64(),
            ours.writes_per_sec(),
            rate(&batch),
            show_ratio(vs_batch),
            rate(&per_user),
            show_ratio(vs_user),
            ours.after_burst.map_or("-".into(), |a| format!("{a:.0}/s")),
            ours.stats.users_changed_more_than_once,
            mix.users - ours.assigned.min(mix.users),
            if ours.replan_empty == Some(true) {
                "empty"
            } else {
                "NOT"
            },
            mix.target,
        );
        println!(
            "    commcred: {}; server: {} HTTP requests, {} writes, {} 429s injected + {} quota 429s, {} 5xx, {} drops",
            ours.note,
            ours.stats.http_requests,
            ours.stats.writes,
            ours.stats.injected_throttled,
            ours.stats.quota_throttled,
            ours.stats.injected_errors,
            ours.stats.dropped_connections
        );
        for s in batch.iter().chain(per_user.iter()) {
            println!(
                "    {}: {} of {} assigned in {:.1} s, {} HTTP requests; {}",
                s.name,
                s.assigned,
                s.users,
                s.elapsed.as_secs_f64(),
                s.stats.http_requests,
                s.note
            );
        }
    }
}

fn main() {
    let args = args();
    if args.mixes {
        run_mixes(&args);
    } else {
        comparison(&args);
    }
}
