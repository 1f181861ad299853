//! Export benchmark: a generated 100,000-user tenant through the same steps as
//! `commcred export --out commcred.yaml [--users-csv users.csv]`: read the snapshot, export
//! (which includes planning its own result as a check), render, write. Then the round trip a
//! user would run, `config::load` + plan of the export, to show it is a no-op. Prints each
//! step's time and the peak resident memory. Run: `cargo bench --bench export` (`-- USERS`
//! for another size).

#[allow(dead_code)]
#[path = "../crates/core/src/testkit.rs"]
mod testkit;

use std::time::Instant;

use commcred::backend::{Backend, file::FileBackend};
use commcred::config::schema::{Backend as YamlBackend, BackendMap};
use commcred::export::{ExportOptions, export, verify};

fn main() {
    let users: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let snapshot = testkit::tenant(users, 42);
    std::fs::write(
        dir.path().join("tenant.json"),
        commcred::tenant::snapshot_to_string(&snapshot),
    )
    .unwrap();
    drop(snapshot);
    println!("generated {users} users in {:.2?}", started.elapsed());
    let now = "2026-11-25T00:00:00Z".parse().unwrap();

    let t = Instant::now();
    let live = FileBackend::new(dir.path().join("tenant.json"))
        .read()
        .expect("snapshot");
    let read_snapshot = t.elapsed();

    let options = |csv: Option<&str>| ExportOptions {
        backend: Some(YamlBackend::Map(BackendMap::File("tenant.json".into()))),
        users_csv: csv.map(str::to_string),
        source: "file:tenant.json".into(),
        now,
        schema_ref: "schemas/commcred.schema.json".into(),
    };

    let t = Instant::now();
    let inline = export(&live, &options(None));
    let export_inline = t.elapsed();
    assert!(inline.warnings.is_empty(), "{:?}", inline.warnings);

    let t = Instant::now();
    let check = verify::check_no_op(&inline.yaml, None, &live, now);
    let self_check = t.elapsed();
    assert!(check.is_none());

    let t = Instant::now();
    let yaml = &inline.yaml;
    std::fs::write(dir.path().join("commcred.yaml"), yaml).unwrap();
    let write_inline = t.elapsed();

    let t = Instant::now();
    let with_csv = export(&live, &options(Some("users.csv")));
    let csv_yaml = &with_csv.yaml;
    let csv = with_csv.csv.as_deref().unwrap();
    std::fs::write(dir.path().join("csv.yaml"), csv_yaml).unwrap();
    std::fs::write(dir.path().join("users.csv"), csv).unwrap();
    let total_csv = t.elapsed();

    let t = Instant::now();
    let desired = commcred::config::load(&dir.path().join("commcred.yaml")).expect("valid export");
    let plan = commcred::plan::plan(&desired, &live, now).expect("the export plans");
    let round_trip = t.elapsed();
    assert!(!plan.has_changes(), "the export must plan as a no-op");

    println!("read snapshot           {read_snapshot:>10.2?}");
    println!(
        "export (inline YAML)    {export_inline:>10.2?}   ({} users listed, {} profiles; includes rendering and the self-check)",
        inline.listed,
        inline.document.profiles.len()
    );
    println!("  of which self-check   {self_check:>10.2?}   (load the YAML text + plan)");
    println!(
        "write YAML              {write_inline:>10.2?}   ({} bytes)",
        yaml.len()
    );
    println!(
        "export total            {:>10.2?}   (read + export + write, as `commcred export --out`)",
        read_snapshot + export_inline + write_inline
    );
    println!(
        "export with --users-csv {total_csv:>10.2?}   (export + write; YAML {} bytes, CSV {} bytes)",
        csv_yaml.len(),
        csv.len()
    );
    println!("round trip load + plan  {round_trip:>10.2?}   (no changes)");
    println!("peak memory      {:>7} MB (VmHWM)", peak_rss_mb());
}

/// Peak resident set size of this process, from /proc (Linux).
fn peak_rss_mb() -> String {
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
