//! Group-based licensing through the real binary on the file backend: seat shortfalls,
//! inheritance, members in error, reprocessing, and the move from direct to group.

use std::path::Path;

use crate::testkit::{GROUP_TENANT_SKUS, SALES_GROUP_ID, group_tenant};
use commcred::backend::file::read_snapshot;
use commcred::tenant::rules::holdings;
use commcred::tenant::snapshot_to_string;
use commcred::tenant::{GroupRetry, Snapshot, TenantIndex};
use serde_json::Value;

use crate::common::{commcred, read};

pub const GROUP_YAML: &str = "apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
backend: {file: tenant.json}
groups:
  - displayName: Sales Phones
    licenses: [phoneSystem, domesticCallingPlan]
";

pub fn setup(snapshot: &Snapshot, yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tenant.json"), snapshot_to_string(snapshot)).unwrap();
    std::fs::write(dir.path().join("commcred.yaml"), yaml).unwrap();
    dir
}

fn stdout(dir: &Path, args: &[&str]) -> String {
    let out = commcred(dir).args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// True when the user holds Teams Phone and a calling plan through assignments that
/// provide them: an inherited assignment in error gives nothing, so it does not count.
pub fn can_call(s: &Snapshot, index: &TenantIndex, user: usize) -> bool {
    let held = holdings(&s.users[user], s, index);
    [0usize, 1]
        .iter()
        .all(|&sku| held.iter().any(|h| h.sku == Some(sku) && h.provides()))
}

/// The group tenant with the group's licenses already assigned and processed.
fn processed(users: usize, seats: i64) -> Snapshot {
    let mut s = group_tenant(users, seats, 0);
    let index = TenantIndex::build(&s);
    let licenses: Vec<_> = GROUP_TENANT_SKUS[..2]
        .iter()
        .map(|id| serde_json::from_value(serde_json::json!({"skuId": id})).unwrap())
        .collect();
    s.set_group_licenses(&index, 0, &licenses, &[]).unwrap();
    s.process_group_licenses(&index, GroupRetry::Group(SALES_GROUP_ID));
    s
}

#[test]
fn a_group_larger_than_the_seats_is_refused_with_the_shortfall() {
    let dir = setup(&group_tenant(1_500, 1_000, 0), GROUP_YAML);
    let before = read(&dir.path().join("tenant.json"));
    let out = commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("commcred::plan::seat_shortfall"), "{err}");
    assert!(
        err.contains("the plan needs 1500 more, 1000 available, short by 500"),
        "{err}"
    );
    assert_eq!(
        read(&dir.path().join("tenant.json")),
        before,
        "nothing applied"
    );
}

#[test]
fn with_enough_seats_every_member_inherits_and_the_plan_converges() {
    let dir = setup(&group_tenant(1_500, 1_500, 0), GROUP_YAML);
    let plan = stdout(dir.path(), &["plan"]);
    assert!(plan.contains("group \"Sales Phones\""), "{plan}");
    assert!(
        plan.contains("+ phoneSystem (MCOEV): 1500 member(s) newly take a seat"),
        "{plan}"
    );
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let s = read_snapshot(&dir.path().join("tenant.json")).unwrap();
    let index = TenantIndex::build(&s);
    assert!((0..1_500).all(|u| can_call(&s, &index, u)));
    assert!(s.users.iter().all(|u| {
        u.license_assignment_states
            .as_ref()
            .unwrap()
            .iter()
            .all(|st| {
                st.assigned_by_group.as_deref() == Some(SALES_GROUP_ID)
                    && st.state.as_deref() == Some("Active")
            })
    }));
    assert_eq!(s.subscribed_skus[0].consumed_units, 1_500);
    assert!(stdout(dir.path(), &["plan"]).contains("No changes"));
}

#[test]
fn members_in_error_are_reported_and_reprocessed_once_seats_are_bought() {
    let dir = setup(&processed(1_500, 1_000), GROUP_YAML);
    let plan = stdout(dir.path(), &["plan"]);
    assert!(plan.contains("No changes"), "{plan}");
    assert!(
        plan.contains("1000 member assignment(s) in error"),
        "500 members x both licenses of the group, none assigned: {plan}"
    );
    assert!(
        plan.contains("! user1000@contoso.com: MCOEV CountViolation — free or buy seats"),
        "{plan}"
    );
    let json: Value =
        serde_json::from_str(&stdout(dir.path(), &["plan", "--format", "json"])).unwrap();
    let errors = json["group_changes"][0]["members_in_error"]
        .as_array()
        .unwrap();
    assert_eq!(errors.len(), 1_000);
    assert!(errors.iter().any(|e| e["upn"] == "user1499@contoso.com"
        && e["error"] == "CountViolation"
        && e["license"]["sku_part_number"] == "MCOPSTN1"));
    let md = stdout(dir.path(), &["plan", "--format", "markdown"]);
    assert!(
        md.contains("!   user1000@contoso.com: MCOEV CountViolation"),
        "{md}"
    );

    // Seats bought: the plan reprocesses the members in error, apply activates them.
    let path = dir.path().join("tenant.json");
    let mut s = read_snapshot(&path).unwrap();
    for sku in &mut s.subscribed_skus[..2] {
        sku.prepaid_units.enabled = 1_500;
    }
    std::fs::write(&path, snapshot_to_string(&s)).unwrap();
    let plan = stdout(dir.path(), &["plan"]);
    assert!(
        plan.contains("~ reprocess 500 member(s) in error now that seats are free"),
        "{plan}"
    );
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let s = read_snapshot(&path).unwrap();
    assert!(s.group_errors().is_empty());
    let index = TenantIndex::build(&s);
    assert!(can_call(&s, &index, 1_499));
    assert!(stdout(dir.path(), &["plan"]).contains("No changes"));
}

#[test]
fn prefer_groups_moves_direct_holders_to_the_group_without_a_gap() {
    // 200 members hold Teams Phone and a calling plan directly; the seats fit exactly.
    let mut yaml = GROUP_YAML.to_string();
    yaml.push_str("prefer: groups\n");
    let dir = setup(&group_tenant(300, 300, 200), &yaml);
    let plan = stdout(dir.path(), &["plan"]);
    assert!(
        plan.contains("- 400 direct copies from 200 member(s)"),
        "{plan}"
    );
    assert!(
        plan.contains("+ phoneSystem (MCOEV): 100 member(s) newly take a seat"),
        "direct holders take no second seat: {plan}"
    );
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let s = read_snapshot(&dir.path().join("tenant.json")).unwrap();
    let index = TenantIndex::build(&s);
    for u in 0..300 {
        assert!(can_call(&s, &index, u), "user {u}");
        let held = holdings(&s.users[u], &s, &index);
        assert!(
            held.iter().all(|h| !h.direct),
            "user {u} still has a direct copy"
        );
    }
    assert_eq!(s.subscribed_skus[0].consumed_units, 300);
    assert!(stdout(dir.path(), &["plan"]).contains("No changes"));
}

#[test]
fn an_ambiguous_group_name_lists_the_ids() {
    let mut s = group_tenant(3, 10, 0);
    let mut twin = s.groups[0].clone();
    twin.id = "5a1e5000-0000-4000-8000-000000000002".into();
    s.groups.push(twin);
    let dir = setup(&s, GROUP_YAML);
    let out = commcred(dir.path()).args(["plan"]).assert().code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("commcred::plan::ambiguous_group"), "{err}");
    // miette wraps long lines: compare without the wrapping.
    let flat: String = err
        .chars()
        .filter(|c| !matches!(c, ' ' | '\n' | '|'))
        .collect();
    assert!(
        flat.contains(SALES_GROUP_ID) && flat.contains("5a1e5000-0000-4000-8000-000000000002"),
        "{err}"
    );
}

#[test]
fn group_entries_are_validated_with_their_place() {
    let dir = setup(
        &group_tenant(1, 1, 0),
        "apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
groups:
  - displayName: Sales Phones
    id: 5a1e5000-0000-4000-8000-000000000001
  - displayName: Desk
    licenses: [phoneSytem, {license: MCOEV, disabledPlans: [MCOEV]}]
  - displayName: desk
prefer: group
",
    );
    let out = commcred(dir.path()).args(["validate"]).assert().code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    for (code, place) in [
        ("commcred::config::invalid_group_entry", "commcred.yaml:4:5"),
        ("commcred::config::unknown_license", "commcred.yaml:7:16"),
        ("commcred::config::duplicate_group", "commcred.yaml:8:18"),
        ("commcred::config::invalid_prefer", "commcred.yaml:9:9"),
    ] {
        assert!(err.contains(code), "{code} missing: {err}");
        assert!(err.contains(place), "{place} missing: {err}");
    }
}

#[test]
fn group_plans_in_json_satisfy_the_plan_schema_and_powershell_has_group_steps() {
    let mut yaml = GROUP_YAML.to_string();
    yaml.push_str("prefer: groups\n");
    let dir = setup(&group_tenant(30, 40, 10), &yaml);
    let text = stdout(dir.path(), &["plan", "--format", "json"]);
    let schema: Value = serde_json::from_str(&read(
        &crate::common::root().join("schemas/plan.schema.json"),
    ))
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let group = &doc["group_changes"][0];
    assert_eq!(group["seat_impact"][0]["new_seats"], 20);
    assert_eq!(
        group["remove_direct_after_processing"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    // A saved plan reads back into the same plan (show = plan).
    commcred(dir.path())
        .args(["plan", "--out", "plan.json"])
        .assert()
        .success();
    assert_eq!(
        stdout(dir.path(), &["show", "plan.json"]),
        stdout(dir.path(), &["plan"])
    );
    let ps = stdout(dir.path(), &["plan", "--format", "powershell"]);
    assert!(
        ps.contains("Set-MgGroupLicense -GroupId '5a1e5000-0000-4000-8000-000000000001'"),
        "{ps}"
    );
    assert!(ps.contains("# Set-MgUserLicense -UserId"), "{ps}");
}

#[test]
fn export_writes_groups_and_plans_no_changes() {
    let dir = setup(&processed(40, 60), GROUP_YAML);
    commcred(dir.path())
        .args([
            "export",
            "--backend",
            "file:tenant.json",
            "--out",
            "exported.yaml",
        ])
        .assert()
        .success();
    let exported = read(&dir.path().join("exported.yaml"));
    assert!(
        exported.contains(
            "groups:\n  - displayName: \"Sales Phones\"\n    licenses: [phoneSystem, domesticCallingPlan]"
        ),
        "{exported}"
    );
    let out = stdout(
        dir.path(),
        &["plan", "exported.yaml", "--backend", "file:tenant.json"],
    );
    assert!(out.contains("No changes"), "{out}");
}

#[test]
fn already_provided_counts_only_active_inherited_assignments() {
    // user3 and user4 are in CountViolation for the group's licenses; user0 inherits them.
    let mut s = processed(5, 3);
    for sku in &mut s.subscribed_skus[..2] {
        sku.prepaid_units.enabled = 5;
    }
    let yaml = format!(
        "{GROUP_YAML}users:\n  - upn: user0@contoso.com\n    licenses: [phoneSystem, domesticCallingPlan]\n  - upn: user4@contoso.com\n    licenses: [phoneSystem, domesticCallingPlan]\n"
    );
    let dir = setup(&s, &yaml);
    let plan = stdout(dir.path(), &["plan"]);
    // user4's assignments in error come from a group commcred.yaml manages: they provide
    // nothing, and the group fixes them (reprocessing), so user4 gets no direct copy.
    assert!(!plan.contains("~ user user4@contoso.com"), "{plan}");
    assert!(!plan.contains("+ phoneSystem (MCOEV)"), "{plan}");
    assert!(!plan.contains("~ user user0@contoso.com"), "{plan}");
    // Both members in error are reprocessed into the two free seats.
    assert!(
        plan.contains("~ reprocess 2 member(s) in error now that seats are free: user3@contoso.com, user4@contoso.com"),
        "{plan}"
    );
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let after = read_snapshot(&dir.path().join("tenant.json")).unwrap();
    assert_eq!(after.subscribed_skus[0].consumed_units, 5);
    let states = after.users[4].license_assignment_states.as_deref().unwrap();
    assert!(
        states
            .iter()
            .all(|s| s.assigned_by_group.is_some() && s.state.as_deref() == Some("Active")),
        "{states:?}"
    );
    assert!(stdout(dir.path(), &["plan"]).contains("No changes"));
}
