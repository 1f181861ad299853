//! The plan formats through the binary: insta snapshots of each (fixed clock), the JSON
//! against its schema, and `show PLAN` printing exactly what `plan` printed.

use std::path::Path;

use serde_json::Value;

use crate::common::{commcred, example, read, root};
use crate::saved_plans::Saved;

const FORMATS: [&str; 4] = ["human", "json", "markdown", "powershell"];

fn stdout(dir: &Path, args: &[&str]) -> String {
    let out = commcred(dir).args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// The version changes with every release; the snapshots should not.
fn unversioned(text: &str) -> String {
    text.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

/// The JSON with the version and the checksum that depends on it masked (the checksum
/// itself is tested in `saved_plans` and in the library).
fn stable_json(text: &str) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["commcred_version"] = "[version]".into();
    v["checksum"] = "[checksum]".into();
    serde_json::to_string_pretty(&v).unwrap()
}

fn plan_in(format: &str) -> String {
    let dir = example("quickstart");
    stdout(dir.path(), &["plan", "commcred.yaml", "--format", format])
}

#[test]
fn human_format() {
    insta::assert_snapshot!(plan_in("human"));
}

#[test]
fn json_format() {
    insta::assert_snapshot!(stable_json(&plan_in("json")));
}

#[test]
fn markdown_format() {
    insta::assert_snapshot!(unversioned(&plan_in("markdown")));
}

#[test]
fn powershell_format() {
    insta::assert_snapshot!(unversioned(&plan_in("powershell")));
}

#[test]
fn show_prints_what_plan_printed_in_every_format() {
    let s = Saved::new();
    for format in FORMATS {
        let planned = stdout(s.dir.path(), &["plan", "commcred.yaml", "--format", format]);
        let shown = stdout(s.dir.path(), &["show", "plan.json", "--format", format]);
        assert_eq!(planned, shown, "--format {format}");
    }
    // The JSON format is the saved plan itself, byte for byte.
    assert_eq!(
        read(&s.path("plan.json")),
        stdout(s.dir.path(), &["show", "plan.json", "--format", "json"])
    );
    // Default format is human.
    assert!(stdout(s.dir.path(), &["show", "plan.json"]).starts_with("commcred will perform"));
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&read(&root().join("schemas/plan.schema.json"))).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, text: &str) {
    let doc: Value = serde_json::from_str(text).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{text}");
}

#[test]
fn json_plans_validate_against_the_schema() {
    let validator = validator();
    // Changes of every kind, a pruned user, no changes at all, no credits section.
    let dir = example("quickstart");
    assert_valid(
        &validator,
        &stdout(dir.path(), &["plan", "--format", "json"]),
    );
    let pruned = Saved::with_config(|c| {
        c.replace("prune: false", "prune: true")
            .replace("  - upn: frank@contoso.com          # loses audio conferencing, gains Teams Phone only\n    licenses: [phoneSystem]\n", "")
    });
    let text = read(&pruned.path("plan.json"));
    assert!(text.contains("\"pruned\": true"), "{text}");
    assert_valid(&validator, &text);
    let no_credits = Saved::with_config(|c| {
        let start = c.find("communicationsCredits:").unwrap();
        let end = c.find("profiles:").unwrap();
        format!("{}{}", &c[..start], &c[end..])
    });
    let text = read(&no_credits.path("plan.json"));
    assert!(text.contains("\"communications_credits\": null"));
    assert_valid(&validator, &text);
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let empty = stdout(dir.path(), &["plan", "--format", "json"]);
    assert!(empty.contains("\"has_changes\": false"));
    assert_valid(&validator, &empty);
    // The schema can fail: a hand-made document with a made-up action is rejected.
    let bad = empty.replace("\"no-op\"", "\"destroy\"");
    assert_ne!(bad, empty);
    let doc: Value = serde_json::from_str(&bad).unwrap();
    assert!(!validator.is_valid(&doc));
}

#[test]
fn removals_and_money_lead_the_summary() {
    let s = Saved::with_config(|c| {
        c.replace("prune: false", "prune: true").replace(
            "  - upn: frank@contoso.com          # loses audio conferencing, gains Teams Phone only\n    licenses: [phoneSystem]\n",
            "",
        )
    });
    let human = stdout(s.dir.path(), &["show", "plan.json"]);
    let tail: Vec<&str> = human.lines().rev().take(5).collect();
    assert_eq!(
        tail,
        [
            "Plan: 16 to assign, 2 to remove, 10 settings to change, 379.50 USD to add.",
            "",
            "  - frank@contoso.com (prune): audioConferencing (MCOMEETADV)",
            "  - alice@contoso.com: domesticCallingPlan (MCOPSTN1)",
            "Users losing licenses (2):",
        ]
    );
    let md = stdout(s.dir.path(), &["show", "plan.json", "--format", "markdown"]);
    let details = md.find("<details>").unwrap();
    for must in [
        "**Plan: 16 to assign, 2 to remove",
        "**Money to spend: 379.50 USD**",
        "| `alice@contoso.com` | domesticCallingPlan (MCOPSTN1) |",
        "| `frank@contoso.com` (not listed; `prune: true`) | audioConferencing (MCOMEETADV) |",
    ] {
        let at = md
            .find(must)
            .unwrap_or_else(|| panic!("missing {must}:\n{md}"));
        assert!(at < details, "`{must}` must come before the details");
    }
}

#[test]
fn powershell_connects_first_and_leaves_funding_to_a_person() {
    let text = plan_in("powershell");
    let connect = text.find("Connect-MgGraph -TenantId").unwrap();
    let first_change = text.find("Update-MgUser").unwrap();
    assert!(connect < first_change);
    assert!(
        text[connect..]
            .lines()
            .next()
            .unwrap()
            .contains("'User.ReadWrite.All'")
    );
    assert!(
        text.contains(
            "Set-MgUserLicense -UserId 'b1e2a3c4-0001-4000-8000-000000000001' -AddLicenses @(@{SkuId='d3b4fe1f-9992-4930-8acb-ca6ec609365e'}, @{SkuId='47794cd0-f0e5-45c5-9033-2eb6b5fc84e0'}) -RemoveLicenses @('0dab259f-bf13-4952-b7f8-7db8f131b28d')"
        ),
        "{text}"
    );
    // Every line about money is a comment: nothing in the script can spend.
    for line in text.lines().filter(|l| l.contains("USD")) {
        assert!(line.starts_with('#'), "{line}");
    }
    assert!(text.contains("#   - add funds: 379.50 USD"));
}
