//! Saved plans through the binary: `plan --out`, `apply PLAN`, `show PLAN`, `--max-spend`.
//! Every test works on a temp copy of the quickstart and checks the snapshot file itself.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{commcred, example, read};

/// A quickstart copy with a plan saved as `plan.json` (fixed clock).
pub struct Saved {
    pub dir: tempfile::TempDir,
}

impl Saved {
    pub fn new() -> Saved {
        Saved::with_config(|c| c.to_string())
    }

    /// Edits commcred.yaml first, then saves the plan.
    pub fn with_config(edit: impl Fn(&str) -> String) -> Saved {
        let dir = example("quickstart");
        let config = dir.path().join("commcred.yaml");
        std::fs::write(&config, edit(&read(&config))).unwrap();
        commcred(dir.path())
            .args(["plan", "commcred.yaml", "--out", "plan.json"])
            .assert()
            .success();
        Saved { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn tenant_bytes(&self) -> Vec<u8> {
        std::fs::read(self.path("tenant.json")).unwrap()
    }

    /// Changes the snapshot the way someone else would between plan and apply.
    pub fn edit_tenant(&self, edit: impl FnOnce(&mut Value)) {
        let path = self.path("tenant.json");
        let mut tenant: Value = serde_json::from_str(&read(&path)).unwrap();
        edit(&mut tenant);
        std::fs::write(&path, serde_json::to_string_pretty(&tenant).unwrap()).unwrap();
    }

    pub fn apply(&self, extra: &[&str]) -> assert_cmd::assert::Assert {
        commcred(self.dir.path())
            .args(["apply", "plan.json"])
            .args(extra)
            .assert()
    }
}

fn user<'a>(tenant: &'a mut Value, upn: &str) -> &'a mut Value {
    tenant["users"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|u| u["userPrincipalName"] == upn)
        .unwrap()
}

fn sku_ids(tenant: &Value, upn: &str) -> Vec<String> {
    let user = tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userPrincipalName"] == upn)
        .unwrap();
    user["assignedLicenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["skuId"].as_str().unwrap().to_string())
        .collect()
}

const MCOPSTN1: &str = "0dab259f-bf13-4952-b7f8-7db8f131b28d";
const MCOPSTN2: &str = "d3b4fe1f-9992-4930-8acb-ca6ec609365e";

fn tenant(dir: &Path) -> Value {
    serde_json::from_str(&read(&dir.join("tenant.json"))).unwrap()
}

#[test]
fn save_then_apply_succeeds_without_a_prompt() {
    let s = Saved::new();
    let before = s.tenant_bytes();
    // Saving a plan changes nothing.
    assert_eq!(before, std::fs::read(s.path("tenant.json")).unwrap());
    // No --auto-approve and no terminal (stdin is closed): a saved plan is applied anyway.
    s.apply(&[])
        .success()
        .stdout(predicate::str::contains("Apply complete!"));
    let t = tenant(s.dir.path());
    let alice = sku_ids(&t, "alice@contoso.com");
    assert!(
        alice.contains(&MCOPSTN2.to_string()) && !alice.contains(&MCOPSTN1.to_string()),
        "{alice:?}"
    );
    let funds = t["communicationsCredits"]["funds"].as_array().unwrap();
    assert_eq!(funds.last().unwrap()["amount"], "379.50");
    // The tenant now matches the config.
    commcred(s.dir.path())
        .args(["plan", "commcred.yaml", "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn touched_objects_changed_since_planning_are_refused_by_name() {
    let s = Saved::new();
    // alice (touched: calling-plan swap) gets her usage location changed, and someone
    // buys credits: both objects the plan touches.
    s.edit_tenant(|t| {
        user(t, "alice@contoso.com")["usageLocation"] = "FR".into();
        t["communicationsCredits"]["funds"]
            .as_array_mut()
            .unwrap()
            .push(
                serde_json::json!({"id": "f-9", "purchasedAt": "2026-11-20T00:00:00Z",
                                     "amount": "50.00", "remaining": "50.00"}),
            );
    });
    let before = s.tenant_bytes();
    s.apply(&[])
        .code(1)
        .stderr(predicate::str::contains("commcred::apply::stale"))
        .stderr(predicate::str::contains("user alice@contoso.com"))
        .stderr(predicate::str::contains("communicationsCredits"))
        .stderr(predicate::str::contains("bob@contoso.com").not());
    assert_eq!(before, s.tenant_bytes(), "a refused apply changes nothing");
}

#[test]
fn a_touched_users_licenses_changed_since_planning_are_refused() {
    let s = Saved::new();
    s.edit_tenant(|t| {
        // Someone removed frank's audio conferencing by hand (the plan also removes it).
        let frank = user(t, "frank@contoso.com");
        frank["assignedLicenses"] = serde_json::json!([]);
        frank["licenseAssignmentStates"] = serde_json::json!([]);
    });
    let before = s.tenant_bytes();
    s.apply(&[])
        .code(1)
        .stderr(predicate::str::contains("commcred::apply::stale"))
        .stderr(predicate::str::contains("user frank@contoso.com"));
    assert_eq!(before, s.tenant_bytes());
}

#[test]
fn untouched_objects_changed_since_planning_do_not_block() {
    let s = Saved::new();
    s.edit_tenant(|t| {
        // kim is not listed; erin is listed but already converged: neither is touched.
        user(t, "kim@contoso.com")["usageLocation"] = "JP".into();
        user(t, "erin@contoso.com")["usageLocation"] = "CA".into();
        user(t, "erin@contoso.com")["displayName"] = "Erin B.".into();
    });
    s.apply(&[])
        .success()
        .stdout(predicate::str::contains("Apply complete!"));
    let mut t = tenant(s.dir.path());
    assert_eq!(user(&mut t, "kim@contoso.com")["usageLocation"], "JP");
    assert_eq!(user(&mut t, "erin@contoso.com")["usageLocation"], "CA");
    assert!(sku_ids(&t, "alice@contoso.com").contains(&MCOPSTN2.to_string()));
}

#[test]
fn a_second_apply_of_the_same_plan_is_refused() {
    let s = Saved::new();
    s.apply(&[]).success();
    let after_first = s.tenant_bytes();
    s.apply(&[])
        .code(1)
        .stderr(predicate::str::contains("commcred::apply::already_applied"))
        .stderr(predicate::str::contains("user alice@contoso.com"));
    assert_eq!(after_first, s.tenant_bytes());
    let funds = tenant(s.dir.path())["communicationsCredits"]["funds"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(funds, 3, "funds were bought once");
}

#[test]
fn an_edited_plan_file_is_refused() {
    let s = Saved::new();
    let plan = read(&s.path("plan.json"));
    let before = s.tenant_bytes();
    // A reviewer approved 379.50; someone edits the amount afterwards.
    let edited = plan.replacen("\"379.50\"", "\"3795.00\"", 1);
    assert_ne!(plan, edited);
    std::fs::write(s.path("plan.json"), &edited).unwrap();
    for cmd in [vec!["apply", "plan.json"], vec!["show", "plan.json"]] {
        commcred(s.dir.path())
            .args(&cmd)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("commcred::plan_file::modified"))
            .stderr(predicate::str::contains(
                "the plan file was modified after it was written",
            ));
    }
    assert_eq!(before, s.tenant_bytes());
    // Re-indenting is not an edit.
    let v: Value = serde_json::from_str(&plan).unwrap();
    std::fs::write(s.path("plan.json"), serde_json::to_string(&v).unwrap()).unwrap();
    s.apply(&[]).success();
}

#[test]
fn a_truncated_plan_is_reported_as_a_plan_not_as_yaml() {
    let s = Saved::new();
    let plan = read(&s.path("plan.json"));
    std::fs::write(s.path("plan.json"), &plan[..plan.len() / 2]).unwrap();
    s.apply(&[])
        .code(1)
        .stderr(predicate::str::contains("commcred::plan_file::not_a_plan"));
}

#[test]
fn max_spend_below_the_plan_refuses_and_changes_nothing() {
    let s = Saved::new();
    let before = s.tenant_bytes();
    for limit in ["379.49", "379.49 USD", "0"] {
        s.apply(&["--max-spend", limit])
            .code(1)
            .stderr(predicate::str::contains(
                "commcred::apply::max_spend_exceeded",
            ))
            .stderr(predicate::str::contains("379.50 USD"));
    }
    s.apply(&["--max-spend", "1000 EUR"])
        .code(1)
        .stderr(predicate::str::contains(
            "commcred::apply::max_spend_currency",
        ));
    s.apply(&["--max-spend", "lots"])
        .code(1)
        .stderr(predicate::str::contains("commcred::apply::bad_max_spend"));
    // The same ceiling guards `apply CONFIG`, before any question is asked.
    commcred(s.dir.path())
        .args([
            "apply",
            "commcred.yaml",
            "--auto-approve",
            "--max-spend",
            "100",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "commcred::apply::max_spend_exceeded",
        ));
    assert_eq!(before, s.tenant_bytes());
}

#[test]
fn max_spend_at_or_above_the_plan_applies() {
    for limit in ["379.50", "379.5 USD", "500"] {
        let s = Saved::new();
        s.apply(&["--max-spend", limit]).success();
        assert_ne!(
            read(&s.path("tenant.json")),
            read(&crate::common::root().join("examples/quickstart/tenant.json"))
        );
    }
    let dir = example("quickstart");
    commcred(dir.path())
        .args([
            "apply",
            "commcred.yaml",
            "--auto-approve",
            "--max-spend",
            "379.50 USD",
        ])
        .assert()
        .success();
}

#[test]
fn detailed_exitcode_is_the_same_for_saved_plans() {
    let dir = example("quickstart");
    commcred(dir.path())
        .args(["plan", "--out", "plan.json", "--detailed-exitcode"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("commcred apply plan.json"));
    commcred(dir.path())
        .args(["show", "plan.json", "--detailed-exitcode"])
        .assert()
        .code(2);
    commcred(dir.path())
        .args(["apply", "plan.json"])
        .assert()
        .success();
    // Converged: an empty plan is saved, exits 0, and applies as a no-op.
    commcred(dir.path())
        .args(["plan", "--out", "empty.json", "--detailed-exitcode"])
        .assert()
        .code(0);
    commcred(dir.path())
        .args(["show", "empty.json", "--detailed-exitcode"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No changes."));
    let before = read(&dir.path().join("tenant.json"));
    commcred(dir.path())
        .args(["apply", "empty.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("No changes."));
    assert_eq!(before, read(&dir.path().join("tenant.json")));
}

#[test]
fn the_plan_records_its_backend_and_backend_overrides_it() {
    // Plan from the parent folder: the backend is recorded relative to the working dir.
    let root = tempfile::tempdir().unwrap();
    crate::common::copy_dir(
        &crate::common::root().join("examples/quickstart"),
        &root.path().join("qs"),
    );
    commcred(root.path())
        .args(["plan", "qs/commcred.yaml", "--out", "plan.json"])
        .env("AZURE_CLIENT_SECRET", "do-not-leak-3f9a")
        .assert()
        .success();
    let plan = read(&root.path().join("plan.json"));
    let doc: Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(doc["backend"], "file:qs/tenant.json");
    assert_eq!(doc["config"]["path"], "qs/commcred.yaml");
    assert!(!plan.contains("do-not-leak-3f9a"));

    // --backend points the same plan at a copy; the recorded snapshot is left alone.
    let original = read(&root.path().join("qs/tenant.json"));
    std::fs::write(root.path().join("copy.json"), &original).unwrap();
    commcred(root.path())
        .args(["apply", "plan.json", "--backend", "file:copy.json"])
        .assert()
        .success();
    assert_eq!(original, read(&root.path().join("qs/tenant.json")));
    assert_ne!(original, read(&root.path().join("copy.json")));

    // A snapshot of another tenant is refused, whatever it contains.
    let other = original.replace(
        "7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
        "00000000-0000-4000-8000-0000000000ff",
    );
    std::fs::write(root.path().join("other.json"), &other).unwrap();
    commcred(root.path())
        .args(["apply", "plan.json", "--backend", "file:other.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::apply::stale"))
        .stderr(predicate::str::contains("tenant (planned for"));
    assert_eq!(other, read(&root.path().join("other.json")));

    // Without an override, the recorded backend is used.
    commcred(root.path())
        .args(["apply", "plan.json"])
        .assert()
        .success();
    assert_ne!(original, read(&root.path().join("qs/tenant.json")));
}
