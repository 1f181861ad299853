//! The layers of docs/architecture.md, checked on the source: every arrow points down.
//! A lower layer that imports a higher one (through `crate::` or the library's own name
//! `commcred::`), terminal code or a raw ANSI escape outside the CLI, or a command file of
//! the CLI importing another command fails here, naming the file and line. Test code
//! (`tests.rs`, and the item that follows each `#[cfg(test)]`) may reach up, as tests drive
//! higher layers to check lower ones; production code after a test module is checked.

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

/// Raw ANSI escapes (colour codes written by hand): only the CLI decides how output looks.
const ANSI: &[&str] = &["\\x1b", "\\x1B", "\\u{1b}", "\\u{1B}", "\\033", "\\e["];

/// The CLI's shared modules; every other file of `src/cli` is a command, and a command
/// never imports another (what two commands share goes to `common.rs`).
const CLI_SHARED: &[&str] = &[
    "common",
    "context",
    "output",
    "progress",
    "prompt",
    "manual_steps",
    // `--workspace` for plan, apply and drift (not a command of its own).
    "workspace",
];

/// The file's production code, line for line (test lines are blanked, so line numbers
/// stay true). A `tests.rs` file is all test code.
fn non_test_code(path: &Path) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    production_code(&std::fs::read_to_string(path).unwrap())
}

/// `text` with the item after each `#[cfg(test)]` blanked: a `mod tests;` line, or a
/// braced item up to its closing brace. Whatever follows that item is production code.
fn production_code(text: &str) -> String {
    let mut out = Vec::new();
    // After `#[cfg(test)]`, before the item's body opens.
    let mut pending = false;
    // Open braces of the test item being skipped.
    let mut depth: i64 = 0;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let rest = trimmed.strip_prefix("#[cfg(test)]");
        if depth == 0 && !pending && rest.is_none() {
            out.push(line);
            continue;
        }
        out.push("");
        let item = match rest {
            Some(rest) if depth == 0 => {
                pending = true;
                rest.trim_start()
            }
            _ => trimmed,
        };
        if pending && (item.is_empty() || item.starts_with("#[") || item.starts_with("//")) {
            continue;
        }
        depth += braces(item);
        if pending {
            if depth > 0 {
                pending = false;
            } else if item.trim_end().ends_with(';') || item.trim_end().ends_with('}') {
                // `mod tests;`, `use x;`, or a one-line item: over.
                pending = false;
                depth = 0;
            }
        }
    }
    out.join("\n")
}

/// Opening minus closing braces, outside string and character literals.
fn braces(line: &str) -> i64 {
    let mut n = 0;
    let mut in_str = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '"' => in_str = !in_str,
            '\'' if !in_str => {
                // A char literal such as '{' or '\''; a lifetime has no closing quote.
                let literal: String = chars.clone().take(3).collect();
                if literal.chars().nth(1) == Some('\'') {
                    chars.nth(1);
                } else if literal.starts_with('\\') && literal.chars().nth(2) == Some('\'') {
                    chars.nth(2);
                }
            }
            '/' if !in_str && chars.peek() == Some(&'/') => break,
            '{' if !in_str => n += 1,
            '}' if !in_str => n -= 1,
            _ => {}
        }
    }
    n
}

/// `line` without its string literals (a diagnostic code `"commcred::plan::x"` in a
/// string names no module).
fn without_strings(line: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '"' => in_str = !in_str,
            c if !in_str => out.push(c),
            _ => {}
        }
    }
    out
}

/// The top-level modules a line names through `crate::` or the library's own name
/// `commcred::` (lib.rs has `extern crate self as commcred`): `crate::plan::…`,
/// `crate::{plan, tenant::Snapshot}`, `commcred::apply::apply`.
fn crate_modules(line: &str) -> Vec<String> {
    let mut found = modules_under(line, "crate::");
    found.extend(modules_under(line, "commcred::"));
    found
}

/// The top-level modules a line names under `prefix` (`crate::` or `commcred::`). String
/// literals and diagnostic codes (`code(commcred::plan::x)`) name no module.
fn modules_under(line: &str, prefix: &str) -> Vec<String> {
    let line = without_strings(line);
    let mut found = Vec::new();
    let mut rest = line.as_str();
    while let Some(at) = rest.find(prefix) {
        let before = &rest[..at];
        if before.ends_with(|c: char| c.is_alphanumeric() || c == '_') || before.ends_with("code(")
        {
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
                if let Some(escape) = ANSI.iter().find(|e| line.contains(**e)) {
                    found.push(format!(
                        "{at}: a raw ANSI escape ({escape}) outside src/cli: {trimmed}"
                    ));
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

/// CLI command files never import each other: what two commands share is in
/// `cli/common.rs` (or another of [`CLI_SHARED`]).
fn cli_violations(cli: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for path in &crate::common::rust_sources(cli) {
        let name = path
            .strip_prefix(cli)
            .unwrap()
            .with_extension("")
            .display()
            .to_string();
        if name == "mod" || CLI_SHARED.contains(&name.as_str()) {
            continue;
        }
        for (n, line) in non_test_code(path).lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            for module in modules_under(line, "super::") {
                // `super::Cli` is a type of mod.rs; a lower-case name is a module.
                let is_module = module.starts_with(|c: char| c.is_ascii_lowercase());
                if is_module && !CLI_SHARED.contains(&module.as_str()) {
                    let at = format!("{}:{}", path.display(), n + 1);
                    found.push(format!(
                        "{at}: a command imports the command {module} (share it through cli/common.rs): {trimmed}"
                    ));
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
    found.extend(cli_violations(&root.join("src/cli")));
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

/// Writes `files` (path under src, content) into a fresh source tree and checks it.
fn check_planted(files: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    violations(dir.path())
}

/// `commcred::` is the library's own name (lib.rs has `extern crate self as commcred`): an
/// upward import through it is as wrong as through `crate::`. A diagnostic code or a
/// string naming `commcred::…` is not an import.
#[test]
fn the_layer_check_catches_an_upward_import_through_the_crate_name() {
    let found = check_planted(&[(
        "tenant/mod.rs",
        "use commcred::plan::Plan;\n\
         #[diagnostic(code(commcred::plan::stale))]\n\
         const CODE: &str = \"commcred::apply::stale\";\n\
         fn f() { let x = commcred::base::money::Amount::ZERO; }\n",
    )]);
    let text = found.join("\n");
    assert_eq!(found.len(), 1, "{text}");
    assert!(
        text.contains("tenant/mod.rs:1: tenant imports plan"),
        "{text}"
    );
}

/// Only the item after `#[cfg(test)]` is test code: production code after a test module
/// is checked, on its own line number.
#[test]
fn the_layer_check_sees_production_code_after_a_test_module() {
    let found = check_planted(&[(
        "plan/mod.rs",
        "pub fn ok() {}\n\
         #[cfg(test)]\n\
         mod tests {\n    use crate::workflow::X;\n    fn f() { let s = \"}\"; let c = '{'; }\n}\n\
         #[cfg(test)]\n\
         mod more;\n\
         use crate::apply::apply;\n",
    )]);
    let text = found.join("\n");
    assert_eq!(found.len(), 1, "{text}");
    assert!(text.contains("plan/mod.rs:9: plan imports apply"), "{text}");
}

/// Colour is the CLI's business: a hand-written ANSI escape anywhere else fails.
#[test]
fn the_layer_check_catches_a_raw_ansi_escape_outside_the_cli() {
    let found = check_planted(&[
        (
            "plan/render/mod.rs",
            "fn red(t: &str) -> String { format!(\"\\x1b[31m{t}\\x1b[0m\") }\n",
        ),
        ("drift/render.rs", "const RESET: &str = \"\\u{1b}[0m\";\n"),
    ]);
    let text = found.join("\n");
    assert_eq!(found.len(), 2, "{text}");
    assert!(
        text.contains("plan/render/mod.rs:1: a raw ANSI escape"),
        "{text}"
    );
    assert!(
        text.contains("drift/render.rs:1: a raw ANSI escape"),
        "{text}"
    );
}

/// Command files share through `cli/common.rs`, never by importing each other.
#[test]
fn the_layer_check_catches_a_command_importing_another() {
    let dir = tempfile::tempdir().unwrap();
    let cli = dir.path().join("cli");
    std::fs::create_dir_all(&cli).unwrap();
    std::fs::write(
        cli.join("apply.rs"),
        "use super::plan::make_plan;\nuse super::common::Format;\nuse super::output::Output;\n",
    )
    .unwrap();
    std::fs::write(cli.join("common.rs"), "use super::output::Output;\n").unwrap();
    let found = cli_violations(&cli);
    let text = found.join("\n");
    assert_eq!(found.len(), 1, "{text}");
    assert!(
        text.contains("cli/apply.rs:1: a command imports the command plan"),
        "{text}"
    );
}
