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
    ("waste", &["base", "tenant", "config", "plan"]),
    ("backend", &["base", "tenant", "config", "plan", "credits"]),
    (
        "apply",
        &["base", "tenant", "config", "plan", "credits", "backend"],
    ),
    (
        "workflow",
        &[
            "base", "tenant", "config", "plan", "credits", "export", "drift", "waste", "backend",
            "apply",
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
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
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

#[test]
fn every_arrow_points_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
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
