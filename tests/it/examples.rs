//! Every YAML file under `examples/` is something a user may copy: it must point editors at
//! the schema, satisfy the schema, and plan without errors against its own snapshot.

use std::path::{Path, PathBuf};

use commcred::config::schema::SCHEMA_PATH;

use crate::common::{commcred, copy_dir, root};
use crate::schema::schema_errors;

const MODELINE: &str = "# yaml-language-server: $schema=";

/// The commcred configurations under `examples/`: every `.yaml`/`.yml` file except CI
/// pipeline definitions (`examples/ci/`, e.g. a GitHub workflow that runs commcred), which are
/// not commcred.yaml files, and price lists (their modeline names `prices.schema.json`;
/// `schema.rs` checks them). A file in `ci/` that declares `apiVersion:` is still checked.
fn example_yamls() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("examples"), &mut out);
    let ci = root().join("examples").join("ci");
    out.retain(|path| {
        let text = std::fs::read_to_string(path).unwrap();
        let price_list = text
            .lines()
            .next()
            .is_some_and(|l| l.starts_with(MODELINE) && l.ends_with("prices.schema.json"));
        !price_list
    });
    out.retain(|path| {
        !path.starts_with(&ci)
            || std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .any(|l| l.starts_with("apiVersion:"))
    });
    out.sort();
    out
}

#[test]
fn every_example_has_the_modeline_validates_and_plans() {
    let yamls = example_yamls();
    assert!(
        yamls
            .iter()
            .any(|p| p.ends_with("quickstart/commcred.yaml")),
        "{yamls:?}"
    );
    let schema = std::fs::canonicalize(root().join(SCHEMA_PATH)).unwrap();
    let mut failures = Vec::new();
    for path in &yamls {
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        let text = std::fs::read_to_string(path).unwrap();

        // The modeline is the first line and resolves to the committed schema, or to a
        // copy of it beside the YAML (which still works when the folder is copied away).
        match text.lines().next().and_then(|l| l.strip_prefix(MODELINE)) {
            None => failures.push(format!("{name}: the first line is not `{MODELINE}…`")),
            Some(target) => {
                let target_path = path.parent().unwrap().join(target.trim());
                let resolved = std::fs::canonicalize(&target_path).ok();
                let same_text = std::fs::read(&target_path).ok() == std::fs::read(&schema).ok();
                if resolved.as_ref() != Some(&schema) && !same_text {
                    failures.push(format!(
                        "{name}: the modeline points at `{target}`, which is neither {SCHEMA_PATH} \
                         nor a copy of it (refresh copies with `commcred schema > FILE`)"
                    ));
                }
            }
        }

        for error in schema_errors(&text) {
            failures.push(format!("{name}: schema: {error}"));
        }

        // Plan a copy (apply is not run, but plan must not depend on the checkout).
        let dir = tempfile::tempdir().unwrap();
        copy_dir(path.parent().unwrap(), dir.path());
        let file = path.file_name().unwrap().to_str().unwrap();
        let output = commcred(dir.path())
            .args(["plan", file, "--detailed-exitcode"])
            .output()
            .unwrap();
        if !matches!(output.status.code(), Some(0 | 2)) {
            failures.push(format!(
                "{name}: plan exited {:?}:\n{}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
