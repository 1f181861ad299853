//! `plan` and `apply` through the real binary on the file backend.

use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{commcred, example, read, tool_available};

fn quickstart_plan(dir: &Path) -> String {
    let out = commcred(dir)
        .args(["plan", "commcred.yaml"])
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn quickstart_plans_applies_and_converges() {
    let dir = example("quickstart");
    let text = quickstart_plan(dir.path());
    for expected in [
        "~ user alice@contoso.com",
        "- domesticCallingPlan (MCOPSTN1)",
        "+ internationalCallingPlan (MCOPSTN2)",
        "~ usageLocation: (none) -> US",
        "# audioConferencing (MCOMEETADV) is already provided by ENTERPRISEPREMIUM",
        "inherited from group",
        "+ add funds 379.50 USD (usable balance 120.50 USD -> 500.00 USD)",
        "~ payment.method: creditCard -> enterpriseAgreement",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(
        !text.contains("erin@contoso.com"),
        "a converged user is not shown"
    );
    assert!(
        !text.contains("kim@contoso.com"),
        "unlisted users are untouched"
    );
    let summary = text.lines().last().unwrap();
    assert!(
        summary.starts_with("Plan: ") && summary.contains("379.50 USD to add"),
        "{summary}"
    );

    commcred(dir.path())
        .args(["plan", "commcred.yaml", "--detailed-exitcode"])
        .assert()
        .code(2);
    commcred(dir.path())
        .args(["apply", "commcred.yaml", "--auto-approve"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Apply complete!"));
    commcred(dir.path())
        .args(["plan", "commcred.yaml", "--detailed-exitcode"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No changes."));

    let tenant: Value = serde_json::from_str(&read(&dir.path().join("tenant.json"))).unwrap();
    let alice = &tenant["users"][0];
    assert_eq!(
        alice["displayName"], "Alice Rossi",
        "unknown fields are kept"
    );
    let funds = tenant["communicationsCredits"]["funds"].as_array().unwrap();
    assert_eq!(funds.last().unwrap()["amount"], "379.50");
    assert_eq!(funds.last().unwrap()["purchasedAt"], "2026-11-25T12:00:00Z");
    assert_eq!(
        tenant["communicationsCredits"]["payment"]["agreementNumber"],
        "62839471"
    );
}

#[test]
fn apply_without_terminal_or_approval_refuses_and_changes_nothing() {
    let dir = example("quickstart");
    let before = read(&dir.path().join("tenant.json"));
    commcred(dir.path())
        .args(["apply", "commcred.yaml"])
        .write_stdin("yes\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::apply::needs_approval"))
        .stderr(predicate::str::contains("--auto-approve"));
    assert_eq!(before, read(&dir.path().join("tenant.json")));
}

/// Rewrites the quickstart config with `edit`, plans, and expects a plan error `code`
/// with the snapshot left byte-identical by a following apply.
fn expect_plan_error(edit: impl Fn(&str) -> String, tenant_edit: impl Fn(&mut Value), code: &str) {
    let dir = example("quickstart");
    let config = dir.path().join("commcred.yaml");
    std::fs::write(&config, edit(&read(&config))).unwrap();
    let tenant_path = dir.path().join("tenant.json");
    let mut tenant: Value = serde_json::from_str(&read(&tenant_path)).unwrap();
    tenant_edit(&mut tenant);
    std::fs::write(&tenant_path, serde_json::to_string_pretty(&tenant).unwrap()).unwrap();
    let before = std::fs::read(&tenant_path).unwrap();
    commcred(dir.path())
        .args(["plan", "commcred.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(code));
    commcred(dir.path())
        .args(["apply", "commcred.yaml", "--auto-approve"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(code));
    assert_eq!(
        before,
        std::fs::read(&tenant_path).unwrap(),
        "snapshot changed"
    );
}

fn no_tenant_edit(_: &mut Value) {}

#[test]
fn seat_shortfall_fails_and_leaves_the_snapshot_identical() {
    expect_plan_error(
        |c| c.to_string(),
        |t| {
            // MCOPSTN2: 5 seats, all consumed; alice and ivan want one each.
            let sku = t["subscribedSkus"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|s| s["skuPartNumber"] == "MCOPSTN2")
                .unwrap();
            sku["consumedUnits"] = 5.into();
        },
        "commcred::plan::seat_shortfall",
    );
}

#[test]
fn prerequisite_failure_fails_and_leaves_the_snapshot_identical() {
    expect_plan_error(
        |c| c.replace("licenses: [phoneSystem]", "licenses: [domesticCallingPlan]"),
        no_tenant_edit,
        "commcred::plan::prerequisite_missing",
    );
}

#[test]
fn credits_without_a_way_to_call_is_a_prerequisite_failure() {
    expect_plan_error(
        |c| {
            c.replace(
                "licenses: [audioConferencing]",
                "licenses: [communicationsCredits]",
            )
        },
        no_tenant_edit,
        "commcred::plan::prerequisite_missing",
    );
}

#[test]
fn two_calling_plans_are_planned_and_applied_without_an_invented_rule() {
    // Microsoft documents no rule against two calling plans on one user: commcred no
    // longer refuses it, and the file backend (Graph's rules) accepts it.
    let dir = example("quickstart");
    let config = dir.path().join("commcred.yaml");
    let text = read(&config).replace(
        "licenses: [phoneSystem]",
        "licenses: [phoneSystem, domesticCallingPlan, internationalCallingPlan]",
    );
    std::fs::write(&config, text).unwrap();
    let plan = quickstart_plan(dir.path());
    assert!(plan.contains("MCOPSTN2"), "{plan}");
    commcred(dir.path())
        .args(["apply", "commcred.yaml", "--auto-approve"])
        .assert()
        .success();
    let again = quickstart_plan(dir.path());
    assert!(again.contains("No changes"), "{again}");
}

#[test]
fn missing_usage_location_is_a_plan_error() {
    expect_plan_error(
        |c| c.replace("defaultUsageLocation: US\n", ""),
        no_tenant_edit,
        "commcred::plan::usage_location_missing",
    );
}

#[test]
fn tenant_mismatch_is_a_plan_error() {
    expect_plan_error(
        |c| {
            c.replace(
                "tenant: contoso.onmicrosoft.com",
                "tenant: fabrikam.onmicrosoft.com",
            )
        },
        no_tenant_edit,
        "commcred::plan::tenant_mismatch",
    );
}

#[test]
fn unknown_user_is_a_plan_error() {
    expect_plan_error(
        |c| c.replace("upn: bob@contoso.com", "upn: robert@contoso.com"),
        no_tenant_edit,
        "commcred::plan::user_not_found",
    );
}

#[test]
fn funding_on_mca_and_csp_is_a_plan_error() {
    for kind in ["MCA", "CSP"] {
        expect_plan_error(
            |c| c.to_string(),
            |t| t["communicationsCredits"]["billingAccountType"] = kind.into(),
            "commcred::plan::funding_not_possible",
        );
    }
}

#[test]
fn currency_mismatch_is_a_plan_error() {
    expect_plan_error(
        |c| c.replace("currency: USD", "currency: EUR"),
        no_tenant_edit,
        "commcred::plan::currency_mismatch",
    );
}

#[test]
fn group_inherited_license_is_never_removed() {
    let dir = example("quickstart");
    let config = dir.path().join("commcred.yaml");
    // dave inherits audio conferencing from a group; ask for Teams Phone only.
    let text = read(&config).replace(
        "  - upn: dave@contoso.com           # audio conferencing comes from a group\n    profile: dial-out",
        "  - upn: dave@contoso.com\n    licenses: [phoneSystem]",
    );
    std::fs::write(&config, text).unwrap();
    let out = quickstart_plan(dir.path());
    let start = out
        .find("~ user dave@contoso.com")
        .expect("dave has a change");
    let dave_block = &out[start..start + out[start..].find("\n    }").unwrap()];
    assert!(
        dave_block.contains("keeps audioConferencing (MCOMEETADV) through group"),
        "{dave_block}"
    );
    assert!(dave_block.contains("+ phoneSystem (MCOEV)"), "{dave_block}");
    assert!(!dave_block.contains("- audioConferencing"), "{dave_block}");
    commcred(dir.path())
        .args(["apply", "commcred.yaml", "--auto-approve"])
        .assert()
        .success();
    let tenant: Value = serde_json::from_str(&read(&dir.path().join("tenant.json"))).unwrap();
    let dave = &tenant["users"][3];
    assert_eq!(dave["assignedLicenses"].as_array().unwrap().len(), 2);
}

#[test]
fn prune_removes_managed_licenses_from_unlisted_users_only() {
    let dir = example("quickstart");
    let config = dir.path().join("commcred.yaml");
    let mut tenant: Value = serde_json::from_str(&read(&dir.path().join("tenant.json"))).unwrap();
    // kim (unlisted) gets a direct Communications Credits license next to her E5.
    let pc = "47794cd0-f0e5-45c5-9033-2eb6b5fc84e0";
    tenant["users"][10]["assignedLicenses"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"skuId": pc, "disabledPlans": []}));
    tenant["users"][10]["licenseAssignmentStates"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"skuId": pc, "assignedByGroup": null, "state": "Active"}));
    std::fs::write(dir.path().join("tenant.json"), tenant.to_string()).unwrap();
    let without = quickstart_plan(dir.path());
    assert!(!without.contains("kim@contoso.com"));
    std::fs::write(
        &config,
        read(&config).replace("prune: false", "prune: true"),
    )
    .unwrap();
    let with = quickstart_plan(dir.path());
    assert!(
        with.contains("~ user kim@contoso.com  # not listed; prune: true"),
        "{with}"
    );
    assert!(with.contains("- communicationsCredits (MCOPSTNC)"));
    assert!(
        !with.contains("- ENTERPRISEPREMIUM"),
        "unmanaged SKUs are never removed"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = example("quickstart");
    let plain = quickstart_plan(dir.path());
    assert!(!plain.contains('\x1b'));
    commcred(dir.path())
        .args(["plan", "commcred.yaml", "--color", "always"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\x1b[32m+ "));
}

#[test]
fn usage_errors_exit_1_not_2() {
    let dir = example("quickstart");
    commcred(dir.path())
        .args(["plan", "--no-such-flag"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "unexpected argument '--no-such-flag'",
        ));
    commcred(dir.path()).args(["--help"]).assert().code(0);
}

#[test]
fn commcred_now_must_be_a_date() {
    let dir = example("quickstart");
    commcred(dir.path())
        .env("COMMCRED_NOW", "yesterday")
        .args(["plan", "commcred.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::cli::bad_now"))
        .stderr(predicate::str::contains("COMMCRED_NOW"));
}

/// `apply` on a terminal asks for `yes`: anything else changes nothing. Runs the binary
/// under util-linux `script`, which gives it a pseudo-terminal. Without `script` the test
/// can only be skipped on a developer's machine; under CI (`CI` set, as every CI service
/// does) it fails, so a runner image without the tool cannot turn it green unseen.
#[test]
fn apply_on_a_terminal_asks_for_yes() {
    if !tool_available("script") {
        return;
    }
    let dir = example("quickstart");
    let tenant = dir.path().join("tenant.json");
    let before = read(&tenant);
    let run = |answer: &str| {
        let command = format!(
            "{} apply commcred.yaml --color never",
            env!("CARGO_BIN_EXE_commcred")
        );
        std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(dir.path())
            .env("COMMCRED_NOW", "2026-11-25T12:00:00Z")
            .env_remove("COMMCRED_BACKEND")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(answer.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap()
    };
    let declined = run("no\n");
    assert_eq!(declined.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&declined.stdout).contains("Only 'yes' will be accepted"));
    assert_eq!(before, read(&tenant), "declining changed the snapshot");
    let accepted = run("yes\n");
    assert_eq!(accepted.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&accepted.stdout).contains("Apply complete!"));
    assert_ne!(before, read(&tenant));
}
