//! `commcred drift`: apply a config, change two users and the funding in the snapshot by
//! hand (as someone would in the portal), and the report shows exactly those three changes
//! as a unified YAML diff, exit 2; with no drift, exit 0.

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{commcred, example, read};

/// The portal edits: bob loses audio conferencing, alice's usage location becomes FR, and
/// the auto-recharge trigger drops to 50.00.
fn edit_by_hand(tenant: &std::path::Path) {
    let mut t: Value = serde_json::from_str(&read(tenant)).unwrap();
    for user in t["users"].as_array_mut().unwrap() {
        match user["userPrincipalName"].as_str().unwrap() {
            "bob@contoso.com" => {
                user["assignedLicenses"] = Value::Array(vec![]);
                user["licenseAssignmentStates"] = Value::Array(vec![]);
            }
            "alice@contoso.com" => user["usageLocation"] = "FR".into(),
            _ => {}
        }
    }
    t["communicationsCredits"]["autoRecharge"]["triggerBelow"] = "50.00".into();
    std::fs::write(tenant, serde_json::to_string_pretty(&t).unwrap()).unwrap();
}

#[test]
fn drift_shows_exactly_the_hand_made_changes_and_exits_2() {
    let dir = example("quickstart");
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    commcred(dir.path())
        .arg("drift")
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains("No drift"));

    edit_by_hand(&dir.path().join("tenant.json"));
    let output = commcred(dir.path()).arg("drift").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "\
--- commcred.yaml
+++ live tenant (file:tenant.json)
@@ -1,15 +1,14 @@
 tenant: contoso.onmicrosoft.com
 users:
   - upn: alice@contoso.com
-    usageLocation: IT
+    usageLocation: FR
     licenses:
       - communicationsCredits (MCOPSTNC)
       - internationalCallingPlan (MCOPSTN2)
       - phoneSystem (MCOEV)
   - upn: bob@contoso.com
     usageLocation: US
-    licenses:
-      - audioConferencing (MCOMEETADV)
+    licenses: []
 communicationsCredits:
   autoRecharge:
-    triggerBelow: 100.00 USD
+    triggerBelow: 50.00 USD
"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("commcred apply commcred.yaml"), "{stderr}");

    // The same drift for pipelines.
    let output = commcred(dir.path())
        .args(["drift", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["drift"], true);
    let upns: Vec<&str> = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["upn"].as_str().unwrap())
        .collect();
    assert_eq!(upns, ["alice@contoso.com", "bob@contoso.com"]);
    assert_eq!(report["users"][0]["usageLocation"]["live"], "FR");
    assert_eq!(
        report["users"][1]["missing"][0],
        "audioConferencing (MCOMEETADV)"
    );
    assert_eq!(
        report["communicationsCredits"],
        serde_json::json!([{"setting": "autoRecharge.triggerBelow", "config": "100.00 USD", "live": "50.00 USD"}])
    );

    // Apply puts the tenant back; the drift is gone.
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    commcred(dir.path()).arg("drift").assert().code(0);
}

#[test]
fn drift_of_an_invalid_config_is_an_error_not_drift() {
    let dir = example("quickstart");
    std::fs::write(
        dir.path().join("commcred.yaml"),
        "apiVersion: commcred/v9\n",
    )
    .unwrap();
    commcred(dir.path())
        .arg("drift")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::config::api_version"));
}
