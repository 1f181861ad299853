//! Microsoft's rules, round 2 (issue 19), through the real binary on tenants built from
//! Microsoft's SKU table: a suite-only tenant (Teams Phone and Audio Conferencing only from
//! E5), Teams Phone without Microsoft Teams, and Entra ID's group processing (a group's
//! licenses all or none; an add-on's prerequisite in the same group), on the file backend
//! and through the emulator.

use std::path::Path;

use commcred::backend::file::read_snapshot;
use commcred::base::catalog::catalog;
use commcred::tenant::rules::holdings;
use commcred::tenant::{GroupRetry, Snapshot, TenantIndex, snapshot_to_string};
use serde_json::{Value, json};

use crate::common::{commcred, read};
use crate::emulator::spawn_binary;
use crate::testkit::{GROUP_TENANT_SKUS, SALES_GROUP_ID, group_tenant};

/// A SKU of Microsoft's table as `subscribedSkus` shows it: its calling and Teams service
/// plans with Microsoft's ids, `seats` bought and `used` consumed.
fn table_sku(part: &str, seats: i64, used: i64) -> Value {
    let cat = catalog();
    let sku = cat
        .sku(part)
        .unwrap_or_else(|| panic!("{part} is in Microsoft's table"));
    let mut plans: Vec<Value> = sku
        .calling_service_plans
        .iter()
        .map(|n| json!({"servicePlanId": cat.service_plan(n).unwrap().service_plan_id, "servicePlanName": n}))
        .collect();
    if sku.sells.is_none() {
        // A suite: one of its other plans (Exchange Online Plan 2, in E5's row of the
        // table), so that, as in a real tenant, it sells no capability of its own.
        plans.push(json!({"servicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0", "servicePlanName": "EXCHANGE_S_ENTERPRISE"}));
    }
    plans.extend(sku.teams_service_plans.iter().map(|n| {
        json!({"servicePlanId": cat.teams_plan(n).unwrap().service_plan_id, "servicePlanName": n})
    }));
    json!({"skuId": sku.sku_id, "skuPartNumber": part, "appliesTo": "User",
           "capabilityStatus": "Enabled",
           "prepaidUnits": {"enabled": seats, "warning": 0, "suspended": 0, "lockedOut": 0},
           "consumedUnits": used, "servicePlans": plans})
}

/// A tenant subscribing `parts` (20 seats each); each user holds its parts directly.
fn table_tenant(parts: &[&str], users: &[(&str, &[&str])]) -> Snapshot {
    let cat = catalog();
    let id = |part: &str| cat.sku(part).unwrap().sku_id.clone();
    let skus: Vec<Value> = parts
        .iter()
        .map(|p| {
            let used = users.iter().filter(|(_, held)| held.contains(p)).count() as i64;
            table_sku(p, 20, used)
        })
        .collect();
    let users: Vec<Value> = users
        .iter()
        .enumerate()
        .map(|(n, (upn, held))| {
            json!({"id": format!("00000000-0000-4000-8000-{n:012}"), "userPrincipalName": upn,
                   "usageLocation": "US",
                   "assignedLicenses": held.iter().map(|p| json!({"skuId": id(p), "disabledPlans": []})).collect::<Vec<_>>(),
                   "licenseAssignmentStates": held.iter().map(|p| json!({"skuId": id(p), "assignedByGroup": null, "state": "Active", "error": "None"})).collect::<Vec<_>>()})
        })
        .collect();
    serde_json::from_value(json!({
        "tenant": {"id": "7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", "domain": "contoso.onmicrosoft.com"},
        "subscribedSkus": skus, "users": users, "groups": []
    }))
    .unwrap()
}

fn setup(snapshot: &Snapshot, yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tenant.json"), snapshot_to_string(snapshot)).unwrap();
    std::fs::write(dir.path().join("commcred.yaml"), yaml).unwrap();
    dir
}

/// Exit code, stdout, and stderr with the diagnostics' line wrapping undone (words joined
/// by one space, the `|` margin dropped), so messages can be matched whole.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = commcred(dir).args(args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    let flat: Vec<&str> = err.split_whitespace().filter(|w| *w != "|").collect();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        flat.join(" "),
    )
}

/// Part numbers a user holds through active assignments.
fn active_parts(s: &Snapshot, upn: &str) -> Vec<String> {
    let index = TenantIndex::build(s);
    let u = index.user_by_upn(upn).unwrap();
    let mut parts: Vec<String> = holdings(&s.users[u], s, &index)
        .into_iter()
        .filter(|h| h.provides())
        .filter_map(|h| h.sku.map(|i| s.subscribed_skus[i].sku_part_number.clone()))
        .collect();
    parts.sort();
    parts
}

const E5_USERS: &str = "apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
backend: {file: tenant.json}
profiles:
  phone: [phoneSystem, audioConferencing, domesticCallingPlan]
users:
  - upn: ann@contoso.com
    profile: phone
  - upn: ben@contoso.com
    profile: phone
";

#[test]
fn an_e5_only_tenant_plans_calling_plans_and_names_the_users_without_e5() {
    // No MCOEV or MCOMEETADV subscription: Teams Phone and Audio Conferencing come only
    // from Microsoft 365 E5.
    let live = table_tenant(
        &["SPE_E5", "MCOPSTN1"],
        &[
            ("ann@contoso.com", &["SPE_E5"]),
            ("ben@contoso.com", &["SPE_E5"]),
            ("cy@contoso.com", &[]),
            ("di@contoso.com", &[]),
        ],
    );
    let dir = setup(&live, E5_USERS);
    let (code, plan, err) = run(dir.path(), &["plan"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        plan.contains("phoneSystem is already provided by SPE_E5"),
        "{plan}"
    );
    assert!(
        plan.contains("audioConferencing is already provided by SPE_E5"),
        "{plan}"
    );
    assert!(plan.contains("+ domesticCallingPlan (MCOPSTN1)"), "{plan}");
    let (code, _, err) = run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{err}");
    let after = read_snapshot(&dir.path().join("tenant.json")).unwrap();
    for upn in ["ann@contoso.com", "ben@contoso.com"] {
        assert_eq!(active_parts(&after, upn), ["MCOPSTN1", "SPE_E5"], "{upn}");
    }
    assert_eq!(
        after.subscribed_skus[1].consumed_units, 2,
        "two calling plans"
    );
    assert_eq!(after.subscribed_skus[0].consumed_units, 2, "no E5 bought");
    let (code, _, _) = run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "converged");

    // Two users without E5 want the same: they are named, each where it is written, with
    // what to buy; nothing changes.
    let yaml = format!(
        "{E5_USERS}  - upn: cy@contoso.com\n    profile: phone\n  - upn: di@contoso.com\n    profile: phone\n"
    );
    std::fs::write(dir.path().join("commcred.yaml"), yaml).unwrap();
    let before = read(&dir.path().join("tenant.json"));
    let (code, _, err) = run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("commcred::plan::sku_not_subscribed"), "{err}");
    assert!(
        err.contains("2 users who want it hold it from no other license: cy@contoso.com at commcred.yaml:11:10, di@contoso.com at commcred.yaml:13:10"),
        "{err}"
    );
    assert!(err.contains("buy one of MCOEV"), "{err}");
    assert!(!err.contains("ann@contoso.com"), "E5 users are fine: {err}");
    assert_eq!(read(&dir.path().join("tenant.json")), before);
}

#[test]
fn teams_phone_from_a_no_teams_suite_without_teams_is_warned() {
    let no_teams = "Microsoft_365_E5_EEA_(no_Teams)_without_Audio_Conferencing";
    let live = table_tenant(
        &[no_teams, "SPE_E5", "MCOPSTN1"],
        &[
            ("nora@contoso.com", &[no_teams]),
            ("eve@contoso.com", &["SPE_E5"]),
        ],
    );
    let yaml = "apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
backend: {file: tenant.json}
users:
  - upn: nora@contoso.com
    licenses: [domesticCallingPlan]
  - upn: eve@contoso.com
    licenses: [domesticCallingPlan]
";
    let dir = setup(&live, yaml);
    let (code, out, err) = run(dir.path(), &["plan", "--format", "json"]);
    assert_eq!(code, 0, "a warning, not an error: {err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let teams: Vec<&Value> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "commcred::plan::teams_missing")
        .collect();
    assert_eq!(teams.len(), 1, "{out}");
    assert_eq!(teams[0]["upn"], "nora@contoso.com");
    let message = teams[0]["message"].as_str().unwrap();
    assert!(message.contains(no_teams), "{message}");
    let (_, human, _) = run(dir.path(), &["plan"]);
    assert!(human.contains("[commcred::plan::teams_missing]"), "{human}");
}

const GROUP_ONLY_CALLING_PLAN: &str = "apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
backend: {file: tenant.json}
groups:
  - displayName: Sales Phones
    licenses: [domesticCallingPlan]
";

#[test]
fn a_group_carrying_only_a_calling_plan_is_a_plan_error_at_its_entry() {
    // Every member holds Teams Phone directly: Entra ID still wants it in the group.
    let dir = setup(&group_tenant(3, 10, 3), GROUP_ONLY_CALLING_PLAN);
    let before = read(&dir.path().join("tenant.json"));
    let (code, _, err) = run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("commcred::plan::group_prerequisite_missing"),
        "{err}"
    );
    assert!(err.contains("commcred.yaml:5:"), "located: {err}");
    assert!(err.contains("MCOPSTN1 without Teams Phone"), "{err}");
    assert!(err.contains("add phoneSystem (MCOEV)"), "{err}");
    assert!(
        err.contains("Make sure that the group has necessary services"),
        "{err}"
    );
    assert_eq!(read(&dir.path().join("tenant.json")), before);
}

const GROUP_ADDS_CONFERENCING: &str = "apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
backend: {file: tenant.json}
groups:
  - displayName: Sales Phones
    licenses: [phoneSystem, domesticCallingPlan, audioConferencing]
";

/// "Sales Phones" holds Teams Phone and a calling plan, processed for users 0-2, which hold
/// every calling-plan seat; users 3 and 4 joined since and are not processed yet.
fn group_with_new_members() -> Snapshot {
    let mut s = group_tenant(5, 5, 0);
    s.subscribed_skus[1].prepaid_units.enabled = 3;
    let joined: Vec<String> = s.groups[0].members.drain(3..).collect();
    let index = TenantIndex::build(&s);
    let licenses: Vec<_> = GROUP_TENANT_SKUS[..2]
        .iter()
        .map(|id| serde_json::from_value(json!({"skuId": id})).unwrap())
        .collect();
    s.set_group_licenses(&index, 0, &licenses, &[]).unwrap();
    s.process_group_licenses(&index, GroupRetry::Group(SALES_GROUP_ID));
    s.groups[0].members.extend(joined);
    s
}

/// After the group gains audio conferencing: users 0-2 hold all three; users 3 and 4,
/// whose calling plan finds no seat, hold none of the group's licenses (all in error).
fn assert_all_or_none(s: &Snapshot) {
    for n in 0..3 {
        assert_eq!(
            active_parts(s, &format!("user{n}@contoso.com")),
            ["MCOEV", "MCOMEETADV", "MCOPSTN1"]
        );
    }
    for n in 3..5 {
        let upn = format!("user{n}@contoso.com");
        assert!(active_parts(s, &upn).is_empty(), "{upn} holds nothing");
        let states = s.users[n].license_assignment_states.as_ref().unwrap();
        assert_eq!(states.len(), 3, "{upn}: one state per group license");
        assert!(states.iter().all(|st| st.state.as_deref() == Some("Error")));
        let plan = states
            .iter()
            .find(|st| st.sku_id == GROUP_TENANT_SKUS[1])
            .unwrap();
        assert_eq!(plan.error.as_deref(), Some("CountViolation"));
    }
    assert_eq!(
        s.subscribed_skus[0].consumed_units, 3,
        "no Teams Phone alone"
    );
    assert_eq!(s.subscribed_skus[1].consumed_units, 3);
    assert_eq!(s.subscribed_skus[2].consumed_units, 3);
}

#[test]
fn a_member_whose_calling_plan_has_no_seat_holds_none_of_the_groups_licenses_on_file() {
    let dir = setup(&group_with_new_members(), GROUP_ADDS_CONFERENCING);
    let (code, _, err) = run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{err}");
    let s = read_snapshot(&dir.path().join("tenant.json")).unwrap();
    assert_all_or_none(&s);
    let (_, plan, _) = run(dir.path(), &["plan"]);
    assert!(
        plan.contains("user4@contoso.com: MCOPSTN1 CountViolation"),
        "{plan}"
    );
}

#[test]
fn a_member_whose_calling_plan_has_no_seat_holds_none_of_the_groups_licenses_through_the_emulator()
{
    let dir = setup(&group_with_new_members(), GROUP_ADDS_CONFERENCING);
    let tenant = dir.path().join("tenant.json");
    let emulator = spawn_binary(
        &[
            "--tenant",
            tenant.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    let out = commcred(dir.path())
        .args(["apply", "--auto-approve", "--timeout", "60s"])
        .env("COMMCRED_BACKEND", format!("graph:{}", emulator.url))
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "commcred-cli")
        .env("AZURE_CLIENT_SECRET", "secret")
        .env_remove("AZURE_AUTHORITY_HOST")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(emulator); // stops it: the file is up to date
    assert_all_or_none(&read_snapshot(&tenant).unwrap());
}
