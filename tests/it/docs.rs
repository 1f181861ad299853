//! The docs cannot fall behind the code: every diagnostic code in `src/` is documented in
//! `docs/*.md`, and every key of the schema in `docs/reference.md`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::root;

/// Every diagnostic code written in the sources: string literals `"commcred::a::b"` and
/// `code(commcred::a::b)` attributes. Rust paths such as `commcred::config::load` appear in
/// neither form, so they are not mistaken for codes.
fn codes_in_sources() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.extend(codes_in(&text));
            }
        }
    }
    let mut out = BTreeSet::new();
    for dir in crate::common::source_roots() {
        walk(&dir, &mut out);
    }
    out
}

fn codes_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (opener, closer) in [("\"commcred::", '"'), ("code(commcred::", ')')] {
        let mut rest = text;
        while let Some(i) = rest.find(opener) {
            let start = i + opener.len() - "commcred::".len();
            let tail = &rest[start..];
            let end = tail.find(closer).unwrap_or(tail.len());
            let code = &tail[..end];
            if code.split("::").count() >= 3
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':')
            {
                out.push(code.to_string());
            }
            rest = &rest[i + opener.len()..];
        }
    }
    out
}

fn docs_text() -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            text.push_str(&std::fs::read_to_string(&path).unwrap());
            text.push('\n');
        }
    }
    text
}

/// True when `code` is written in `docs` as a code span: `` `commcred::plan::failed` ``.
fn documented(docs: &str, code: &str) -> bool {
    docs.contains(&format!("`{code}`"))
}

#[test]
fn code_finder_finds_codes_and_only_codes() {
    let sample = r#"
        miette!(code = "commcred::export::exists", "x");
        #[diagnostic(code(commcred::backend::read), help("..."))]
        PlanProblem::new("commcred::plan::seat_shortfall", m, h);
        use commcred::config::load;
        let s = "commcred::{}";
    "#;
    assert_eq!(
        codes_in(sample),
        vec![
            "commcred::export::exists",
            "commcred::plan::seat_shortfall",
            "commcred::backend::read"
        ]
    );
}

#[test]
fn every_diagnostic_code_is_documented() {
    let codes = codes_in_sources();
    assert!(codes.len() > 20, "found only {codes:?}");
    assert!(codes.contains("commcred::export::user_skipped"));
    let docs = docs_text();
    let missing: Vec<&String> = codes.iter().filter(|c| !documented(&docs, c)).collect();
    assert!(
        missing.is_empty(),
        "diagnostic codes used in the sources but not documented in docs/*.md (add each, in \
         backticks, with an example and the fix, to docs/diagnostics.md):\n  {}",
        missing
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

/// Every property name anywhere in the schema (YAML keys at any depth).
fn schema_keys(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                out.extend(props.keys().cloned());
            }
            for v in map.values() {
                schema_keys(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| schema_keys(v, out)),
        _ => {}
    }
}

#[test]
fn every_yaml_key_is_in_the_reference() {
    let mut keys = BTreeSet::new();
    schema_keys(&crate::schema::committed_schema(), &mut keys);
    assert!(
        keys.contains("agreementNumber") && keys.contains("csv"),
        "{keys:?}"
    );
    let reference = std::fs::read_to_string(root().join("docs/reference.md")).unwrap();
    // Written as `key`, as a dotted path (`payment.method`), or with a value (`file: PATH`).
    let written = |k: &str| {
        [format!("`{k}`"), format!(".{k}`"), format!("`{k}:")]
            .iter()
            .any(|form| reference.contains(form.as_str()))
    };
    let missing: Vec<&String> = keys.iter().filter(|k| !written(k)).collect();
    assert!(
        missing.is_empty(),
        "YAML keys missing from docs/reference.md: {missing:?}"
    );
}

#[test]
fn exit_codes_are_documented() {
    let text = std::fs::read_to_string(root().join("docs/exit-codes.md")).unwrap();
    for needle in ["| 0 |", "| 1 |", "| 2 |", "--detailed-exitcode"] {
        assert!(text.contains(needle), "docs/exit-codes.md lacks `{needle}`");
    }
}

/// Graph permission names (`Xxx.Read.All`, `Xxx.ReadWrite.All`, `Xxx-Yyy.Read.All`) written
/// in `text`.
fn permission_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')) {
        let word = word.trim_matches(|c| c == '.' || c == '-');
        let parts: Vec<&str> = word.split('.').collect();
        if parts.len() == 3
            && parts[2] == "All"
            && matches!(parts[1], "Read" | "ReadWrite")
            && parts[0]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
        {
            out.insert(word.to_string());
        }
    }
    out
}

/// The rows of docs/graph.md's table under "### Permissions": (least privileged, the
/// higher privileged ones), in order.
fn documented_permission_rows() -> Vec<(String, BTreeSet<String>)> {
    let text = std::fs::read_to_string(root().join("docs/graph.md")).unwrap();
    let section = text.split("### Permissions").nth(1).unwrap();
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.split('|').collect();
            let least: Vec<String> = permission_names(cells[1]).into_iter().collect();
            assert_eq!(
                least.len(),
                1,
                "one least privileged permission per row: {l}"
            );
            (least[0].clone(), permission_names(cells[2]))
        })
        .collect()
}

fn documented_permissions() -> BTreeSet<String> {
    documented_permission_rows()
        .into_iter()
        .map(|(least, _)| least)
        .collect()
}

#[test]
fn one_permission_list_in_docs_code_hints_and_ci_examples() {
    use commcred::backend::graph::permissions::{ALL, hint};
    let rows = documented_permission_rows();
    let in_code: Vec<(String, BTreeSet<String>)> = ALL
        .iter()
        .map(|n| {
            (
                n.permission.to_string(),
                n.also.iter().map(|a| a.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        rows, in_code,
        "docs/graph.md's table vs permissions::ALL, row by row"
    );
    let documented = documented_permissions();
    assert!(documented.contains("CallRecord-PstnCalls.Read.All"));
    assert!(documented.contains("LicenseAssignment.ReadWrite.All"));
    let hint = hint();
    assert_eq!(
        permission_names(&hint),
        documented,
        "the error hint: {hint}"
    );
    for ci in [
        "examples/ci/github/commcred.yml",
        "examples/ci/gitlab/.gitlab-ci.yml",
    ] {
        let text = std::fs::read_to_string(root().join(ci)).unwrap();
        assert_eq!(permission_names(&text), documented, "{ci}");
    }
}

/// The rule ids written between `<!-- plan rules -->` and `<!-- end of plan rules -->` in a
/// document: backticked words of lower-case parts joined by dashes.
fn rule_ids_in(doc: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(doc)).unwrap();
    let mut out = BTreeSet::new();
    let mut rest = text.as_str();
    let mut sections = 0;
    while let Some(begin) = rest.find("<!-- plan rules -->") {
        let end = rest[begin..]
            .find("<!-- end of plan rules -->")
            .unwrap_or_else(|| panic!("{doc}: a plan rules section has no end marker"));
        let section = &rest[begin..begin + end];
        for token in section.split('`').skip(1).step_by(2) {
            let parts: Vec<&str> = token.split('-').collect();
            if parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
            {
                out.insert(token.to_string());
            }
        }
        sections += 1;
        rest = &rest[begin + end..];
    }
    assert!(sections > 0, "{doc} has no `<!-- plan rules -->` section");
    out
}

/// The planner's sources (before and after the workspace split).
fn planner_sources() -> String {
    let dir = ["crates/core/src/plan", "src/plan"]
        .iter()
        .map(|d| root().join(d))
        .find(|d| d.is_dir())
        .expect("the planner's folder");
    crate::common::rust_sources(&dir)
        .iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != "rules.rs" && n != "codes.rs" && n != "tests.rs")
        })
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn the_rules_in_readme_and_licensing_are_the_ones_the_planner_enforces() {
    use commcred::plan::codes::Code;
    use commcred::plan::rules::PlanRule;
    let sources = planner_sources();
    let enforced: BTreeSet<String> = PlanRule::ALL.iter().map(|r| r.id().to_string()).collect();
    // Every code of a plan error or warning belongs to a rule, and the planner produces it
    // (`Code::X` is used outside codes.rs); a rule with no code is applied as a note
    // (`PlanRule::X.note(..)`). So a rule the planner never applies, or a check that
    // belongs to no rule, fails here.
    for code in Code::ALL {
        assert!(
            sources.contains(&format!("Code::{code:?}")),
            "{code} is listed but the planner never produces it"
        );
        assert!(
            !code.rules().is_empty() || code == Code::Failed,
            "{code} belongs to no rule: give it one in Code::rules and list it in the docs"
        );
    }
    for rule in PlanRule::ALL {
        let coded = Code::ALL.iter().any(|c| c.rules().contains(&rule));
        assert!(
            coded || sources.contains(&format!("PlanRule::{rule:?}.note(")),
            "rule `{}` is listed in PlanRule but no code or note of the planner applies it",
            rule.id()
        );
    }
    // docs/licensing.md's row of each rule names the codes it produces.
    let licensing = std::fs::read_to_string(root().join("docs/licensing.md")).unwrap();
    for code in Code::ALL {
        for rule in code.rules() {
            let mut rows = licensing
                .lines()
                .filter(|l| l.starts_with(&format!("| `{}` |", rule.id())));
            assert!(
                rows.any(|r| r.contains(&format!("`{code}`"))),
                "docs/licensing.md: the row of `{}` does not name {code}",
                rule.id()
            );
        }
    }
    for doc in ["README.md", "docs/licensing.md"] {
        let listed = rule_ids_in(doc);
        let missing: Vec<&String> = enforced.difference(&listed).collect();
        let extra: Vec<&String> = listed.difference(&enforced).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{doc}: rules the planner enforces but the doc does not list: {missing:?}; listed but not enforced: {extra:?}"
        );
    }
}

/// Every typed diagnostic code (config, plan, credits, credits warnings, export) is spelled
/// once across areas, and has its row in docs/diagnostics.md with the fix filled in (the
/// row's last cell).
#[test]
fn typed_codes_are_unique_and_listed_with_their_fix() {
    let mut all: Vec<&'static str> = Vec::new();
    all.extend(commcred::config::Code::ALL.iter().map(|c| c.as_str()));
    all.extend(commcred::plan::codes::Code::ALL.iter().map(|c| c.as_str()));
    all.extend(
        commcred::credits::codes::Code::ALL
            .iter()
            .map(|c| c.as_str()),
    );
    all.extend(
        commcred::export::codes::Code::ALL
            .iter()
            .map(|c| c.as_str()),
    );
    // The credits outlook's warnings are listed in prose (docs/credits.md says each one's
    // fix): unique, and documented through `every_diagnostic_code_is_documented`.
    let warnings = commcred::credits::forecast::WarningKind::ALL.map(|k| k.code());
    let mut seen = BTreeSet::new();
    let twice: Vec<&str> = all
        .iter()
        .chain(&warnings)
        .copied()
        .filter(|c| !seen.insert(*c))
        .collect();
    assert!(twice.is_empty(), "codes spelled by two variants: {twice:?}");
    let table = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    let missing: Vec<&str> = all
        .iter()
        .copied()
        .filter(|code| {
            let row = table
                .lines()
                .find(|l| l.starts_with(&format!("| `{code}`")));
            let fix = row.and_then(|r| r.trim_end().trim_end_matches('|').rsplit('|').next());
            fix.is_none_or(|f| f.trim().len() <= 3)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a row and a fix in docs/diagnostics.md: {missing:?}"
    );
}
