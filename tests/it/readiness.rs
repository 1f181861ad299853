//! `commcred readiness` through the real binary, on the file backend and through Microsoft
//! Graph (the emulator): each calling user's first missing piece, in Microsoft's order.

use serde_json::{Value, json};

use crate::common::commcred;
use crate::emulator::{MCOEV, MCOPSTN1, service_plan_id, start};
use crate::graph::with_graph_env;
use crate::numbers::{number_tenant, setup, user_id};

const TEAMS: &str = "7e31c0d9-9551-471d-836f-32ee72be4a01";
const PAYG: &str = "3dc9d6f4-2f4a-4e8e-9b5c-6f9e1c0a4b77";

/// Users 0..=10, each missing a different first piece (user 8 is ready, user 9 is not meant
/// to call), and what `readiness` must name for each.
fn tenant_and_expectations() -> (
    commcred::tenant::Snapshot,
    Vec<(usize, Option<&'static str>)>,
) {
    let mut t: Value = serde_json::to_value(number_tenant(11)).unwrap();
    let sku = |id: &str, part: &str, plan: &str| {
        json!({"skuId": id, "skuPartNumber": part, "appliesTo": "User",
               "capabilityStatus": "Enabled",
               "prepaidUnits": {"enabled": 20, "warning": 0, "suspended": 0, "lockedOut": 0},
               "consumedUnits": 0,
               "servicePlans": [{"servicePlanId": service_plan_id(plan), "servicePlanName": plan}]})
    };
    let skus = t["subscribedSkus"].as_array_mut().unwrap();
    skus.push(sku(TEAMS, "Microsoft_Teams_Enterprise_New", "TEAMS1"));
    skus.push(sku(
        PAYG,
        "Microsoft_Teams_Calling_Plan_pay_as_you_go_(Country_Zone_1)",
        "MCOPSTN_PAYG_1",
    ));
    let licenses = |ids: &[&str]| -> Value {
        ids.iter()
            .map(|id| json!({"skuId": id, "disabledPlans": []}))
            .collect()
    };
    let full = [TEAMS, MCOEV, MCOPSTN1];
    let held: [&[&str]; 11] = [
        &[],
        &[TEAMS],
        &[TEAMS, MCOEV],
        &full,
        &full,
        &full,
        &full,
        &full,
        &full,
        &[],
        &[TEAMS, MCOEV, PAYG],
    ];
    for (n, ids) in held.iter().enumerate() {
        t["users"][n]["assignedLicenses"] = licenses(ids);
    }
    t["users"][3]["usageLocation"] = Value::Null;
    // Users 5..=8 and 10 hold their own number.
    for n in [5, 6, 7, 8, 10] {
        let entry = &mut t["numberAssignments"][n];
        entry["assignmentTargetId"] = json!(user_id(n));
        entry["assignmentStatus"] = json!("userAssigned");
        entry["assignmentCategory"] = json!("primary");
        let number = entry["telephoneNumber"].clone();
        let config = &mut t["userConfigurations"][n];
        config["telephoneNumbers"] =
            json!([{"telephoneNumber": number, "assignmentCategory": "primary"}]);
        config["isEnterpriseVoiceEnabled"] = json!(n != 7);
    }
    t["numberAssignments"][6]["activationState"] = json!("assignmentPending");
    // Teams does not list user 5 yet.
    t["userConfigurations"].as_array_mut().unwrap().remove(5);
    let expect = vec![
        (0, Some("teamsLicense")),
        (1, Some("teamsPhone")),
        (2, Some("callingPlanOrDirectRouting")),
        (3, Some("usageLocation")),
        (4, Some("phoneNumber")),
        (5, Some("teamsProvisioning")),
        (6, Some("numberActivation")),
        (7, Some("enterpriseVoice")),
        (8, None),
        (10, Some("credits")),
    ];
    (serde_json::from_value(t).unwrap(), expect)
}

fn yaml_users() -> String {
    let mut users = String::from("users:\n");
    for n in 0..11 {
        if n == 9 {
            users.push_str("  - upn: user9@contoso.com\n    licenses: []\n");
        } else {
            users.push_str(&format!(
                "  - upn: user{n}@contoso.com\n    licenses: [phoneSystem]\n"
            ));
        }
    }
    users
}

fn check(report: &Value, expect: &[(usize, Option<&str>)]) {
    let users = report["users"].as_array().unwrap();
    assert_eq!(users.len(), expect.len(), "{report:#}");
    for (n, missing) in expect {
        let upn = format!("user{n}@contoso.com");
        let u = users.iter().find(|u| u["upn"] == upn.as_str()).unwrap();
        assert_eq!(u["missing"].as_str(), *missing, "{upn}: {u}");
        assert_eq!(u["ready"], missing.is_none(), "{upn}");
    }
    assert_eq!(report["notCalling"], 1, "user9 is not meant to call");
}

#[test]
fn readiness_names_each_unready_users_first_missing_piece_on_file_and_graph() {
    let (tenant, expect) = tenant_and_expectations();
    let dir = setup(&tenant, &yaml_users());
    let file = commcred(dir.path())
        .args(["readiness", "--format", "json"])
        .assert()
        .code(2);
    let on_file: Value = serde_json::from_slice(&file.get_output().stdout).unwrap();
    check(&on_file, &expect);

    let human = commcred(dir.path()).args(["readiness"]).assert().code(2);
    let text = String::from_utf8(human.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("user4@contoso.com")
            && text.contains("NOT READY (phoneNumber): no phone number assigned"),
        "{text}"
    );
    assert!(text.contains("1 of 10 calling users"), "{text}");

    let emulator = start(&dir.path().join("tenant.json"), |_| {});
    let mut cmd = commcred(dir.path());
    with_graph_env(&mut cmd, &emulator.base_url(), "secret");
    let graph = cmd.args(["readiness", "--format", "json"]).assert().code(2);
    let on_graph: Value = serde_json::from_slice(&graph.get_output().stdout).unwrap();
    check(&on_graph, &expect);
    assert_eq!(on_file["users"], on_graph["users"]);
}

#[test]
fn readiness_exits_0_when_every_calling_user_is_ready() {
    let (tenant, _) = tenant_and_expectations();
    let dir = setup(
        &tenant,
        "users:\n  - upn: user8@contoso.com\n    licenses: [phoneSystem]\n",
    );
    let out = commcred(dir.path())
        .args(["readiness", "--format", "markdown"])
        .assert()
        .code(0);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("| user8@contoso.com | +14255550008 | yes |  |"),
        "{text}"
    );
}

/// `readiness --workspace`: one line per tenant, the report of each tenant with users not
/// ready, a broken tenant's failure; exit 1 with a failure, 2 with someone not ready, 0
/// when every calling user of the selected tenants is ready.
#[test]
fn readiness_across_a_workspace_names_each_tenant() {
    let root = tempfile::tempdir().unwrap();
    // Users asking for Teams Phone and a number, not licensed yet: not ready.
    let unready = setup(
        &number_tenant(2),
        "users:\n  - upn: user0@contoso.com\n    profile: phone\n    phoneNumber: \"+14255550000\"\n",
    );
    // No calling user at all: nothing to judge, so ready.
    let quiet = setup(&number_tenant(1), "users: []\n");
    let broken = setup(&number_tenant(1), "users: 3\n");
    for (name, dir) in [
        ("unready", &unready),
        ("quiet", &quiet),
        ("broken", &broken),
    ] {
        std::fs::rename(dir.path(), root.path().join(name)).unwrap();
    }
    std::fs::write(
        root.path().join("ws.yaml"),
        "apiVersion: commcred/v1\ntenants:\n  - name: unready\n    config: unready/commcred.yaml\n  - name: quiet\n    config: quiet/commcred.yaml\n  - name: broken\n    config: broken/commcred.yaml\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = commcred(root.path())
            .args(["readiness", "--workspace", "ws.yaml"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = run(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("3 tenant(s): 2 read (1 with users not ready), 1 failed"),
        "{text}"
    );
    assert!(text.contains("0 of 1 calling users ready"), "{text}");
    assert!(text.contains("--- unready ---"), "{text}");
    assert!(text.contains("user0@contoso.com"), "{text}");
    assert!(text.contains("FAILED commcred::config"), "{text}");
    assert_eq!(run(&["--tenants", "unready,quiet"]).0, Some(2));
    assert_eq!(run(&["--tenants", "quiet"]).0, Some(0));
}
