//! How long loading a large `commcred.yaml` takes. A benchmark, not a test: run it with
//! `cargo run --release --example bench_load [USERS]` (default 100000) and read the figures.

use std::fmt::Write;
use std::time::Instant;

fn main() {
    let users: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("USERS must be a number"))
        .unwrap_or(100_000);
    let mut yaml = String::from(
        "apiVersion: commcred/v1\ntenant: contoso.onmicrosoft.com\n\
         profiles:\n  dial-out: [audioConferencing, communicationsCredits]\nusers:\n",
    );
    for i in 0..users {
        let _ = write!(
            yaml,
            "  - upn: user{i}@contoso.com\n    usageLocation: US\n    profile: dial-out\n"
        );
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("commcred.yaml");
    std::fs::write(&path, &yaml).expect("write the YAML");

    let start = Instant::now();
    let desired = commcred::config::load(&path).expect("the generated config is valid");
    let elapsed = start.elapsed();
    println!(
        "loaded {} users ({} bytes of YAML) in {:.3} s",
        desired.users.len(),
        yaml.len(),
        elapsed.as_secs_f64()
    );
}
