//! Benchmark: reading every user of a large tenant through the local Graph emulator over a
//! slow link (`--latency`, default 200 ms per answer), page after page (999 users per round
//! trip, one after another) against commcred's parallel segments (`read_users.rs`). Not a
//! test: it prints figures.
//!
//! usage: cargo bench --bench graph_read -- [--users N] [--latency-ms MS]
//!
//! The users' names start with many different characters, as a real tenant's do (first
//! names drawn with English first-letter frequencies): a tenant whose names all start with
//! the same character gains nothing from segments by first character.

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
    let credentials = Credentials {
        tenant: DOMAIN.into(),
        client_id: "bench".into(),
        client_secret: Secret::new("bench"),
    };
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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let users = arg("--users", 100_000) as usize;
    let latency = Duration::from_millis(arg("--latency-ms", 200));
    let mut snapshot = testkit::tenant(users, 11);
    for (n, u) in snapshot.users.iter_mut().enumerate() {
        let name = NAMES[(n * 7919 + n / 13) % NAMES.len()];
        u.user_principal_name = format!("{name}.{n}@contoso.com");
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("tenant.json");
    std::fs::write(&path, commcred::tenant::snapshot_to_string(&snapshot))
        .expect("the tenant is written");
    let mut config = EmulatorConfig::new(&path);
    config.faults.latency = latency;
    let emulator = emulator::serve(config).expect("the emulator starts");
    let url = emulator.base_url();
    println!(
        "{users} users, {} ms per answer (emulator on loopback)",
        latency.as_millis()
    );
    println!(
        "{:<44} {:>8} {:>8} {:>13}",
        "read", "seconds", "users", "HTTP requests"
    );
    let (seq_secs, seq_users, seq_requests, _) = read(&url, false);
    println!(
        "{:<44} {:>8.1} {:>8} {:>13}",
        "page after page ($top=999, one at a time)", seq_secs, seq_users, seq_requests
    );
    let (par_secs, par_users, par_requests, how) = read(&url, true);
    println!(
        "{:<44} {:>8.1} {:>8} {:>13}",
        format!(
            "parallel segments ({})",
            how.map_or_else(|| "?".to_string(), |h| format!("{h:?}"))
        ),
        par_secs,
        par_users,
        par_requests
    );
    println!(
        "parallel / page after page: {:.2} (target: under 0.33)",
        par_secs / seq_secs
    );
    emulator.shutdown().expect("the emulator stops");
}
