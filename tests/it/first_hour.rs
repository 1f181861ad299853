//! What a newcomer meets in the first hour (issue 14): a saved plan applied twice, CSV
//! mistakes, the apply summary, the ledger's "who", funding advice in the account's
//! currency, and tenant.json keeping its key order.

use predicates::prelude::*;

use std::path::PathBuf;

use crate::common::{commcred, example, read, root};

fn fixture_path(name: &str) -> PathBuf {
    root().join("tests/fixtures/credits").join(name)
}

#[test]
fn a_saved_plan_applied_twice_says_already_applied_not_stale() {
    let dir = example("quickstart");
    commcred(dir.path())
        .args(["plan", "--out", "plan.json"])
        .assert()
        .success();
    commcred(dir.path())
        .args(["apply", "plan.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Apply complete! Licenses: 17 assigned, 2 removed. Settings: 10 changed. Credits: 379.50 USD added.",
        ))
        .stdout(predicate::str::contains("commcred plan --detailed-exitcode"));
    let after_first = read(&dir.path().join("tenant.json"));
    commcred(dir.path())
        .args(["apply", "plan.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::apply::already_applied"))
        .stderr(predicate::str::contains("stale").not());
    assert_eq!(read(&dir.path().join("tenant.json")), after_first);

    // Someone else's change to a user the plan touches is still "stale".
    let dir = example("quickstart");
    commcred(dir.path())
        .args(["plan", "--out", "plan.json"])
        .assert()
        .success();
    let tenant = read(&dir.path().join("tenant.json")).replacen(
        "\"usageLocation\": \"IT\"",
        "\"usageLocation\": \"FR\"",
        1,
    );
    std::fs::write(dir.path().join("tenant.json"), tenant).unwrap();
    commcred(dir.path())
        .args(["apply", "plan.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::apply::stale"));
}

#[test]
fn tenant_json_keeps_its_key_order_after_apply() {
    let dir = example("quickstart");
    let path = dir.path().join("tenant.json");
    // Hand-written order: `displayName` (a field commcred does not model) between known ones.
    let before = read(&path);
    assert!(
        before.contains("\"userPrincipalName\": \"alice@contoso.com\",\n      \"displayName\"")
    );
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let before: serde_json::Value = serde_json::from_str(&before).unwrap();
    let after: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    // Every object keeps its keys in the order they were written (new keys may follow).
    let order = |v: &serde_json::Value, known: &serde_json::Value| -> Vec<String> {
        v.as_object()
            .unwrap()
            .keys()
            .filter(|k| known.get(k.as_str()).is_some())
            .cloned()
            .collect()
    };
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&before), order(&after, &before));
    let credits = "communicationsCredits";
    assert_eq!(
        keys(&before[credits]),
        order(&after[credits], &before[credits])
    );
    let users = before["users"].as_array().unwrap();
    for (old, new) in users.iter().zip(after["users"].as_array().unwrap()) {
        assert_eq!(old["id"], new["id"]);
        assert_eq!(keys(old), order(new, old), "{}", old["userPrincipalName"]);
    }
}

#[test]
fn csv_mistakes_get_one_diagnostic_that_names_the_fix() {
    let dir = example("quickstart");
    let csv = dir.path().join("onboarding/sales.csv");
    std::fs::write(
        &csv,
        "upn;usageLocation;profile;licenses\ngina@contoso.com;US;;\n",
    )
    .unwrap();
    commcred(dir.path())
        .arg("validate")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "commcred::config::csv_wrong_delimiter",
        ))
        .stderr(predicate::str::contains("CSV UTF-8 (Comma delimited)"))
        .stderr(predicate::str::contains("csv_unknown_column").not());

    // A 280-character line is quoted as a window around the problem, not whole.
    let long = "x".repeat(230);
    std::fs::write(
        &csv,
        format!("upn,usageLocation,profile,licenses\ngina@contoso.com,USA,,phoneSystem;{long}\n"),
    )
    .unwrap();
    let output = commcred(dir.path()).arg("validate").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("onboarding/sales.csv:2:35"), "{stderr}");
    assert!(
        stderr.contains("commcred::config::unknown_license"),
        "{stderr}"
    );
    assert!(
        stderr.lines().all(|l| l.chars().count() < 140),
        "a line of the report is longer than 140 characters:\n{stderr}"
    );
}

#[test]
fn an_unquoted_comma_in_the_usage_export_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&fixture_path("pstn-usage.csv")).replacen("\"Frank, Jr.\"", "Frank, Jr.", 1);
    std::fs::write(dir.path().join("usage.csv"), text).unwrap();
    commcred(dir.path())
        .args(["usage", "import", "usage.csv", "--confirmed-by", "alex"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "commcred::credits::usage_field_count",
        ))
        .stderr(predicate::str::contains(
            "the row has 21 fields but the header has 20",
        ))
        .stderr(predicate::str::contains("usage_bad_value").not());
    let semi = read(&fixture_path("pstn-usage.csv")).replace(',', ";");
    std::fs::write(dir.path().join("semi.csv"), semi).unwrap();
    commcred(dir.path())
        .args(["usage", "import", "semi.csv", "--confirmed-by", "alex"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "commcred::credits::usage_wrong_delimiter",
        ));
}

#[test]
fn the_ledger_asks_who_instead_of_writing_unknown() {
    let dir = example("quickstart");
    commcred(dir.path())
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .env_remove("COMMCRED_CONFIRMED_BY")
        .args([
            "ledger",
            "record",
            "--billing-account",
            "MOSA",
            "--fund",
            "5.00@2026-01-02",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::cli::who_unknown"))
        .stderr(predicate::str::contains("--confirmed-by NAME"));
    assert!(!dir.path().join("commcred.ledger.json").exists());
    commcred(dir.path())
        .args([
            "ledger",
            "record",
            "--billing-account",
            "MOSA",
            "--confirmed-by",
            "alex",
        ])
        .args(["--fund", "5.00@2026-01-02", "--fund", "1200.50@2026-03-15"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(by alex)"));
    let output = commcred(dir.path())
        .args(["ledger", "show"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(" left of ")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    // Columns line up: "left of" and "(recorded" start at the same place in every row.
    for marker in [" left of ", "(recorded"] {
        let at: Vec<usize> = rows.iter().map(|r| r.find(marker).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] == w[1]), "{marker}: {text}");
    }
}

#[test]
fn recommend_keeps_to_the_accounts_currency_and_asks_for_usage() {
    let dir = example("quickstart");
    let output = commcred(dir.path())
        .args(["recommend", "--usage"])
        .arg(fixture_path("pstn-usage.csv"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("currency: USD"), "{text}");
    assert!(
        !text.contains("currency: EUR") && !text.contains("currency: GBP"),
        "{text}"
    );
    assert!(
        text.contains("Left out: calls charged in EUR (2 calls), GBP (1 call)"),
        "{text}"
    );
    commcred(dir.path())
        .arg("recommend")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "commcred recommend --usage FILE.csv",
        ));
}

#[test]
fn max_spend_minus_five_is_a_clear_error_not_a_flag() {
    let dir = example("quickstart");
    commcred(dir.path())
        .args(["apply", "--max-spend", "-5", "--auto-approve"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::apply::bad_max_spend"))
        .stderr(predicate::str::contains("it is negative"))
        .stderr(predicate::str::contains("unexpected argument").not());
}

#[test]
fn schema_man_and_completions_help_leave_out_the_global_options() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["schema", "man", "completions"] {
        let output = commcred(dir.path())
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{command}");
        let help = String::from_utf8_lossy(&output.stdout);
        for global in [
            "--backend",
            "--lock-timeout",
            "--color",
            "--quiet",
            "--verbose",
        ] {
            assert!(
                !help.contains(global),
                "{command} --help shows {global}:\n{help}"
            );
        }
        assert!(help.contains("Example"), "{command}:\n{help}");
    }
    // Still accepted, and still shown where they matter.
    commcred(dir.path())
        .args(["schema", "-q"])
        .assert()
        .success();
    commcred(dir.path())
        .args(["plan", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--backend"));
}

#[test]
fn validate_lists_problems_in_file_order_every_time() {
    let fixture = root().join("tests/fixtures/config/many-problems");
    let run = || {
        let output = commcred(&fixture).arg("validate").output().unwrap();
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let first = run();
    assert_eq!(first, run(), "two runs, two orders");
    // The YAML's own problems come in line order.
    let lines: Vec<usize> = first
        .lines()
        .filter_map(|l| l.trim().strip_prefix(",-[commcred.yaml:"))
        .map(|rest| rest.split(':').next().unwrap().parse().unwrap())
        .collect();
    let yaml_before_csv: Vec<usize> = lines.iter().copied().take_while(|l| *l < 18).collect();
    assert!(
        yaml_before_csv.windows(2).all(|w| w[0] <= w[1]),
        "{lines:?}"
    );
    assert!(lines.len() >= 8, "{first}");
}
