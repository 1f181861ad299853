//! The layers of docs/architecture.md, checked on the source: every arrow points down.
//! A lower layer that imports a higher one (or terminal code outside the CLI) fails here,
//! naming the file and line. Test code (`tests.rs`, and everything after a file's
//! `#[cfg(test)]`) may reach up, as tests drive higher layers to check lower ones.

use std::path::Path;

/// Which top-level modules each layer may import (besides itself). Layers not listed
/// (apply, workflow, cli) are checked by the "not above" rules below.
const MAY_IMPORT: &[(&str, &[&str])] = &[
    ("base", &[]),
    ("tenant", &["base"]),
    ("config", &["base", "tenant"]),
    ("emulator", &["base", "tenant"]),
    ("credits", &["base", "tenant", "config"]),
    ("plan", &["base", "tenant", "config", "credits"]),
    ("export", &["base", "tenant", "config", "plan"]),
    ("drift", &["base", "tenant", "plan"]),
    ("backend", &["base", "tenant", "config", "plan", "credits"]),
    (
        "apply",
        &["base", "tenant", "config", "plan", "credits", "backend"],
    ),
    (
        "workflow",
        &[
            "base", "tenant", "config", "plan", "credits", "export", "drift", "backend", "apply",
        ],
    ),
];

/// Crates that draw on or ask the terminal: only `src/cli` (and `main.rs`) may use them.
const TERMINAL: &[&str] = &[
    "indicatif",
    "dialoguer",
    "console",
    "crossterm",
    "termion",
    "is_terminal",
    "IsTerminal",
    "termcolor",
    "owo_colors",
    "colored",
    "anstream",
];

/// The file's code without its tests.
fn non_test_code(path: &Path) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The top-level modules a line names through `crate::` (`crate::plan::…`,
/// `crate::{plan, tenant::Snapshot}`).
fn crate_modules(line: &str) -> Vec<String> {
    modules_under(line, "crate::")
}

/// The top-level modules a line names under `prefix` (`crate::` or `commcred::`).
fn modules_under(line: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        if rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            rest = &rest[at + prefix.len()..];
            continue;
        }
        rest = &rest[at + prefix.len()..];
        if let Some(inner) = rest.strip_prefix('{') {
            let end = inner.find('}').unwrap_or(inner.len());
            for item in inner[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push(name);
            }
        } else {
            found.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    found.retain(|n| !n.is_empty());
    found
}

/// The layer a file belongs to: its folder under src/, or its name for a top-level file.
fn layer_of(src: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for path in &crate::common::rust_sources(src) {
        let layer = layer_of(src, path);
        let code = non_test_code(path);
        let allowed = MAY_IMPORT
            .iter()
            .find(|(l, _)| *l == layer)
            .map(|(_, a)| *a);
        let in_cli = layer == "cli" || layer == "main";
        for (n, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            let at = format!("{}:{}", path.display(), n + 1);
            if let Some(allowed) = allowed {
                for module in crate_modules(line) {
                    if module != layer && !allowed.contains(&module.as_str()) {
                        found.push(format!("{at}: {layer} imports {module}: {trimmed}"));
                    }
                }
            }
            if !in_cli {
                for name in TERMINAL {
                    let used = line
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|word| word == *name);
                    if used {
                        found.push(format!("{at}: terminal code ({name}) outside src/cli"));
                    }
                }
            }
        }
    }
    found
}

/// The emulator crate may use the core's `base` and `tenant` (the one model of the tenant and
/// Microsoft's rules), never the Graph client or anything above it.
fn emulator_violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for path in &crate::common::rust_sources(src) {
        for (n, line) in non_test_code(path).lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            for module in modules_under(line, "commcred::") {
                if !["base", "tenant"].contains(&module.as_str()) {
                    let at = format!("{}:{}", path.display(), n + 1);
                    found.push(format!("{at}: emulator imports {module}: {trimmed}"));
                }
            }
        }
    }
    found
}

#[test]
fn every_arrow_points_down() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = violations(&root.join("crates/core/src"));
    found.extend(emulator_violations(&root.join("crates/emulator/src")));
    assert!(
        found.is_empty(),
        "imports against the layers of docs/architecture.md:\n  {}",
        found.join("\n  ")
    );
}

/// The check itself catches what it is there to catch.
#[test]
fn the_layer_check_catches_an_upward_import_and_a_terminal_crate() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("plan")).unwrap();
    std::fs::create_dir_all(src.join("backend")).unwrap();
    std::fs::write(
        src.join("plan/mod.rs"),
        "use crate::{tenant::Snapshot, apply::apply};\n#[cfg(test)]\nuse crate::backend::X;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("backend/mod.rs"),
        "use crate::plan::Plan;\nuse indicatif::ProgressBar;\n",
    )
    .unwrap();
    std::fs::write(src.join("base.rs"), "use crate::tenant::Snapshot;\n").unwrap();
    let found = violations(src);
    let text = found.join("\n");
    assert_eq!(found.len(), 3, "{text}");
    assert!(text.contains("plan imports apply"), "{text}");
    assert!(text.contains("terminal code (indicatif)"), "{text}");
    assert!(text.contains("base imports tenant"), "{text}");
}

#[test]
fn the_layer_check_catches_an_emulator_that_uses_the_graph_client() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lib.rs"),
        "use commcred::tenant::Snapshot;\nuse commcred::backend::graph::GraphBackend;\n",
    )
    .unwrap();
    let found = emulator_violations(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("emulator imports backend"), "{found:?}");
}

/// The packages `Cargo.lock` says `root` depends on, directly or not (normal, build and dev
/// dependencies alike, so the check is on the safe side).
fn locked_dependencies(lock: &str, root: &str) -> std::collections::BTreeSet<String> {
    let mut deps: std::collections::HashMap<String, Vec<String>> = Default::default();
    for package in lock.split("[[package]]").skip(1) {
        let name = package
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .map(|n| n.trim_matches('"').to_string())
            .unwrap();
        let list = package
            .split_once("dependencies = [")
            .map(|(_, rest)| rest.split(']').next().unwrap_or(""))
            .unwrap_or("");
        let names = list
            .split(',')
            .map(|d| d.trim().trim_matches('"'))
            .filter(|d| !d.is_empty())
            .map(|d| d.split(' ').next().unwrap().to_string());
        deps.entry(name).or_default().extend(names);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![root.to_string()];
    while let Some(name) = todo.pop() {
        for dep in deps.get(&name).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                todo.push(dep.clone());
            }
        }
    }
    seen
}

/// Cargo keeps the layers between crates: the core has no CLI parser, terminal or HTTP server,
/// and the emulator cannot reach the command line.
#[test]
fn the_crate_graph_keeps_the_cli_and_the_server_out_of_the_core() {
    let lock =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")).unwrap();
    let core = locked_dependencies(&lock, "commcred-core");
    assert!(
        core.contains("serde"),
        "the lock file was not read: {core:?}"
    );
    for banned in ["clap", "indicatif", "axum", "commcred-emulator", "commcred"] {
        assert!(!core.contains(banned), "commcred-core depends on {banned}");
    }
    let emulator = locked_dependencies(&lock, "commcred-emulator");
    assert!(emulator.contains("commcred-core"));
    for banned in ["clap", "indicatif", "commcred"] {
        assert!(
            !emulator.contains(banned),
            "commcred-emulator depends on {banned}"
        );
    }
}
