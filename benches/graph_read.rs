//! Benchmark: reading every user of a large tenant through the local Graph emulator over a
//! slow link (`--latency`, default 200 ms per answer), page after page (999 users per round
//! trip, one after another) against commcred's parallel segments (`read_users.rs`). Not a
//! test: it prints figures.
//!
//! usage: cargo bench --bench graph_read -- [--users N] [--latency-ms MS] [--runs N]
//!                                            [--only SHAPE]
//!
//! Four tenant shapes, each read `--runs` times (default 3) page after page and in
//! parallel, alternating which goes first, and the medians printed with their ratio:
//!
//! - `spread`: names start with many different characters, as a real tenant's do (first
//!   names drawn with English first-letter frequencies);
//! - `one letter`: every name starts with `m` (`mary.17@`, `michael.18@`, …);
//! - `numeric`: employee numbers, `100000@` … `199999@`, in order (each segment's first
//!   page then shows a single next character);
//! - `ext_ prefix`: every name behind a shared `ext_` (`ext_james.17@`, …).

use std::time::{Duration, Instant};

use commcred::backend::Backend;
use commcred::backend::graph::{Credentials, GraphBackend, GraphOptions, Secret, UsersRead};
use commcred_emulator::{self as emulator, EmulatorConfig};

#[allow(dead_code)]
#[path = "../crates/core/src/testkit.rs"]
mod testkit;

const DOMAIN: &str = "contoso.onmicrosoft.com";
/// Common first names; their first letters follow how often names start with each letter.
const NAMES: &[&str] = &[
    "james",
    "john",
    "jennifer",
    "jessica",
    "joseph",
    "mary",
    "michael",
    "maria",
    "mark",
    "matthew",
    "david",
    "daniel",
    "deborah",
    "sarah",
    "susan",
    "steven",
    "robert",
    "richard",
    "rebecca",
    "linda",
    "lisa",
    "laura",
    "christopher",
    "charles",
    "karen",
    "kevin",
    "thomas",
    "barbara",
    "brian",
    "elizabeth",
    "emily",
    "anthony",
    "amanda",
    "andrew",
    "paul",
    "patricia",
    "nancy",
    "nicole",
    "george",
    "gary",
    "helen",
    "william",
    "olivia",
    "ian",
    "ursula",
    "victor",
    "yusuf",
    "zoe",
    "fatima",
    "quentin",
    "xavier",
    "omar",
    "ethan",
    "tanya",
    "sandra",
];

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn backend(url: &str, parallel: bool) -> GraphBackend {
    let credentials = Credentials::with_secret(DOMAIN, "bench", Secret::new("bench"));
    let mut options = GraphOptions::new(Some(url), credentials);
    options.parallel_reads = parallel;
    GraphBackend::new(options).expect("a backend")
}

/// Reads the tenant once; returns seconds, users, HTTP requests and how.
fn read(url: &str, parallel: bool) -> (f64, usize, u64, Option<UsersRead>) {
    let mut graph = backend(url, parallel);
    let started = Instant::now();
    let live = graph.read().expect("the read succeeds");
    (
        started.elapsed().as_secs_f64(),
        live.users.len(),
        graph.requests_sent(),
        graph.last_users_read(),
    )
}

/// Names that all start with `m`.
const M_NAMES: &[&str] = &[
    "mary", "michael", "maria", "mark", "matthew", "mohammed", "mia", "max", "megan", "miguel",
    "monica", "martin",
];

/// A tenant shape: its name, and the user name of user `n`.
type Shape = (&'static str, fn(usize) -> String);

const SHAPES: &[Shape] = &[
    ("spread", |n| {
        format!("{}.{n}", NAMES[(n * 7919 + n / 13) % NAMES.len()])
    }),
    ("one letter", |n| {
        format!("{}.{n}", M_NAMES[(n * 7919 + n / 13) % M_NAMES.len()])
    }),
    ("numeric", |n| format!("{}", 100_000 + n)),
    ("ext_ prefix", |n| {
        format!("ext_{}.{n}", NAMES[(n * 7919 + n / 13) % NAMES.len()])
    }),
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let users = arg("--users", 100_000) as usize;
    let latency = Duration::from_millis(arg("--latency-ms", 200));
    let runs = arg("--runs", 3).max(1) as usize;
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    println!(
        "{users} users, {} ms per answer (emulator on loopback), medians of {runs} runs each, alternating which read goes first",
        latency.as_millis()
    );
    println!(
        "{:<12} {:>16} {:>12} {:>8} {:>14} {:>14}  how",
        "shape", "page-at-a-time s", "parallel s", "ratio", "requests par.", "requests seq."
    );
    for (name, upn) in SHAPES {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let mut snapshot = testkit::tenant(users, 11);
        for (n, u) in snapshot.users.iter_mut().enumerate() {
            u.user_principal_name = format!("{}@contoso.com", upn(n));
        }
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("tenant.json");
        std::fs::write(&path, commcred::tenant::snapshot_to_string(&snapshot))
            .expect("the tenant is written");
        drop(snapshot);
        let mut config = EmulatorConfig::new(&path);
        config.faults.latency = latency;
        let emulator = emulator::serve(config).expect("the emulator starts");
        let url = emulator.base_url();
        let (mut seq, mut par) = (Vec::new(), Vec::new());
        let (mut par_requests, mut seq_requests, mut how) = (0, 0, None);
        for run in 0..runs {
            for parallel in [run % 2 == 1, run % 2 == 0] {
                let (secs, read_users, requests, h) = read(&url, parallel);
                assert_eq!(read_users, users, "every user is read");
                if parallel {
                    par.push(secs);
                    par_requests = requests;
                    how = h;
                } else {
                    seq.push(secs);
                    seq_requests = requests;
                }
            }
        }
        let (seq, par) = (median(seq), median(par));
        println!(
            "{:<12} {:>16.1} {:>12.1} {:>7.2}x {:>14} {:>14}  {}",
            name,
            seq,
            par,
            par / seq,
            par_requests,
            seq_requests,
            how.map_or_else(|| "?".to_string(), |h| format!("{h:?}"))
        );
        emulator.shutdown().expect("the emulator stops");
    }
    println!("target: parallel at most 0.35x page-at-a-time for every shape");
}
