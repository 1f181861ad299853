//! Phone numbers through the real binary and Microsoft Graph (the in-process emulator):
//! numbers read into the plan as the file backend reads them, applied through Teams' number
//! orders (placed, polled through `Location`), moved between users in one apply, retried
//! while Teams has not provisioned a user and reported when it never does; export, drift
//! and the permissions a configuration with and without numbers asks for.

use std::path::Path;
use std::time::Duration;

use commcred::tenant::Snapshot;
use commcred_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

use crate::common::{commcred, read};
use crate::emulator::{Api, MCOEV, MCOPSTN1, read_tenant, start};
use crate::graph::with_graph_env;
use crate::numbers::{number_of, number_tenant, numbers_csv, setup, user_id};

/// `commcred ARGS` in `dir` against the emulator.
fn graph(dir: &Path, emulator: &Emulator, args: &[&str]) -> assert_cmd::assert::Assert {
    let mut cmd = commcred(dir);
    with_graph_env(&mut cmd, &emulator.base_url(), "secret");
    cmd.args(args).assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

fn output(a: &assert_cmd::assert::Assert) -> String {
    let o = a.get_output();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        crate::common::flat_stderr(o)
    )
}

/// The emulator serving `dir/tenant.json`, configured by `tweak`.
fn serve(dir: &Path, tweak: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    start(&dir.join("tenant.json"), tweak)
}

/// Gives users `0..n` Teams Phone and a domestic calling plan in `tenant`.
fn license(tenant: &mut Snapshot, n: usize) {
    for user in &mut tenant.users[..n] {
        user.assigned_licenses = serde_json::from_value(json!([
            {"skuId": MCOEV, "disabledPlans": []}, {"skuId": MCOPSTN1, "disabledPlans": []}
        ]))
        .unwrap();
    }
}

fn give(tenant: &mut Snapshot, number: usize, user: usize) {
    let entry = &mut tenant.number_assignments[number];
    entry.assignment_target_id = Some(user_id(user));
    entry.assignment_status = Some("userAssigned".into());
    entry.assignment_category = Some("primary".into());
}

#[test]
fn a_thousand_users_from_a_csv_are_planned_applied_and_replanned_empty_through_graph() {
    let dir = setup(&number_tenant(1_000), "users:\n  - csv: users.csv\n");
    std::fs::write(dir.path().join("users.csv"), numbers_csv(1_000)).unwrap();
    // The file backend's plan of the same tenant, for comparison.
    let file_plan = commcred(dir.path())
        .args(["plan", "--format", "json"])
        .assert()
        .success();
    let emulator = serve(dir.path(), |_| {});
    let plan = graph(dir.path(), &emulator, &["plan", "--format", "json"]).success();
    let (a, b): (Value, Value) = (
        serde_json::from_str(&stdout(&file_plan)).unwrap(),
        serde_json::from_str(&stdout(&plan)).unwrap(),
    );
    assert_eq!(
        a["user_changes"], b["user_changes"],
        "Graph and the file backend plan the same number changes"
    );
    let last = b["user_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["upn"] == "user999@contoso.com")
        .unwrap();
    assert_eq!(
        last["phone_number"]["after"]["telephone_number"],
        "+14255550999"
    );

    let applied = graph(
        dir.path(),
        &emulator,
        &["apply", "--auto-approve", "--timeout", "10m"],
    );
    let text = output(&applied);
    applied.success();
    assert!(text.contains("Apply complete!"), "{text}");
    // Every order was placed and followed: 1,000 numbers assigned, Teams' state updated.
    let tenant = read_tenant(&dir.path().join("tenant.json"));
    let assigned = tenant
        .number_assignments
        .iter()
        .filter(|n| n.assignment_status.as_deref() == Some("userAssigned"))
        .count();
    assert_eq!(assigned, 1_000);
    assert_eq!(
        number_of(dir.path(), &user_id(999)).as_deref(),
        Some("+14255550999")
    );
    assert!(tenant.user_configurations[999].is_enterprise_voice_enabled);
    graph(dir.path(), &emulator, &["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_number_moves_from_one_user_to_another_in_one_graph_apply() {
    let mut tenant = number_tenant(3);
    license(&mut tenant, 2);
    give(&mut tenant, 0, 0);
    let dir = setup(
        &tenant,
        "users:\n  - upn: user0@contoso.com\n    profile: phone\n    phoneNumber: \"+14255550001\"\n  \
         - upn: user1@contoso.com\n    profile: phone\n    phoneNumber: \"+14255550000\"\n",
    );
    let emulator = serve(dir.path(), |_| {});
    let plan = graph(dir.path(), &emulator, &["plan"]).code(0);
    assert!(
        stdout(&plan).contains("~ phoneNumber: +14255550000 -> +14255550001 (callingPlan)"),
        "{}",
        stdout(&plan)
    );
    graph(
        dir.path(),
        &emulator,
        &["apply", "--auto-approve", "--timeout", "2m"],
    )
    .success();
    assert_eq!(
        number_of(dir.path(), &user_id(0)).as_deref(),
        Some("+14255550001")
    );
    assert_eq!(
        number_of(dir.path(), &user_id(1)).as_deref(),
        Some("+14255550000")
    );
    graph(dir.path(), &emulator, &["plan", "--detailed-exitcode"]).code(0);
}

/// user0 is unlicensed: the apply licenses it, and Teams provisions it only later.
fn newly_licensed() -> tempfile::TempDir {
    setup(
        &number_tenant(2),
        "users:\n  - upn: user0@contoso.com\n    profile: phone\n    phoneNumber: \"+14255550000\"\n",
    )
}

#[test]
fn an_assignment_waiting_for_teams_provisioning_succeeds_within_the_timeout() {
    let dir = newly_licensed();
    let emulator = serve(dir.path(), |c| {
        c.provisioning_delay = Duration::from_secs(3)
    });
    let applied = graph(
        dir.path(),
        &emulator,
        &["apply", "--auto-approve", "--timeout", "60s"],
    );
    let text = output(&applied);
    applied.success();
    assert!(text.contains("Apply complete!"), "{text}");
    assert_eq!(
        number_of(dir.path(), &user_id(0)).as_deref(),
        Some("+14255550000")
    );
    graph(dir.path(), &emulator, &["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn an_assignment_teams_never_provisions_is_reported_and_a_rerun_finishes_it() {
    let dir = newly_licensed();
    let emulator = serve(dir.path(), |c| {
        c.provisioning_delay = Duration::from_secs(3600)
    });
    let applied = graph(
        dir.path(),
        &emulator,
        &["apply", "--auto-approve", "--timeout", "6s"],
    );
    let text = output(&applied);
    applied.code(1);
    assert!(text.contains("user0@contoso.com"), "{text}");
    assert!(text.contains("not provisioned"), "{text}");
    assert!(text.contains("--timeout"), "{text}");
    // The licenses went through; only the number is left, and the plan says so.
    let tenant = read_tenant(&dir.path().join("tenant.json"));
    assert_eq!(tenant.users[0].assigned_licenses.len(), 2);
    assert_eq!(number_of(dir.path(), &user_id(0)), None);
    let plan = graph(dir.path(), &emulator, &["plan"]).success();
    assert!(
        stdout(&plan).contains("+ phoneNumber: +14255550000 (callingPlan)"),
        "{}",
        stdout(&plan)
    );
    drop(emulator);
    // Teams has provisioned the user by now: applying again finishes the job.
    let emulator = serve(dir.path(), |_| {});
    graph(
        dir.path(),
        &emulator,
        &["apply", "--auto-approve", "--timeout", "60s"],
    )
    .success();
    assert_eq!(
        number_of(dir.path(), &user_id(0)).as_deref(),
        Some("+14255550000")
    );
}

#[test]
fn export_then_plan_is_empty_and_drift_shows_a_number_changed_by_hand_through_graph() {
    let mut tenant = number_tenant(3);
    license(&mut tenant, 3);
    for n in 0..3 {
        give(&mut tenant, n, n);
    }
    let dir = setup(&tenant, "users:\n  - csv: users.csv\n");
    std::fs::write(dir.path().join("users.csv"), numbers_csv(3)).unwrap();
    let emulator = serve(dir.path(), |_| {});
    let out = tempfile::tempdir().unwrap();
    let exported = out.path().join("exported.yaml");
    let exported_arg = exported.to_str().unwrap();
    graph(dir.path(), &emulator, &["export", "--out", exported_arg]).success();
    let yaml = read(&exported);
    assert!(yaml.contains("phoneNumber: \"+14255550002\""), "{yaml}");
    graph(
        dir.path(),
        &emulator,
        &["plan", exported_arg, "--detailed-exitcode"],
    )
    .code(0);
    graph(dir.path(), &emulator, &["drift"]).code(0);

    // Someone gives user1 the Direct Routing number in the Teams admin center instead.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let api = Api::new(&emulator).await;
        let root = "/admin/teams/telephoneNumberManagement";
        for (action, body) in [
            (
                "unassignNumber",
                json!({"telephoneNumber": "+14255550001", "numberType": "callingPlan"}),
            ),
            (
                "assignNumber",
                json!({"telephoneNumber": "+12065550100", "numberType": "directRouting",
                       "assignmentTargetId": user_id(1)}),
            ),
        ] {
            let r = api
                .http
                .post(format!(
                    "{}/v1.0{root}/numberAssignments/{action}",
                    api.base
                ))
                .bearer_auth(&api.token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
            let location = r.headers()["location"].to_str().unwrap().to_string();
            let path = location.split("/v1.0").nth(1).unwrap().to_string();
            for _ in 0..2 {
                api.get(&path).await;
            }
        }
    });
    let drift = graph(dir.path(), &emulator, &["drift"]).code(2);
    let text = stdout(&drift);
    assert!(
        text.contains("-    phoneNumber: +14255550001 (callingPlan)"),
        "{text}"
    );
    assert!(
        text.contains("+    phoneNumber: +12065550100 (directRouting)"),
        "{text}"
    );
}

/// The roles every read needs, without Teams'.
const BASE_ROLES: [&str; 4] = [
    "User.Read.All",
    "Organization.Read.All",
    "GroupMember.Read.All",
    "LicenseAssignment.ReadWrite.All",
];

#[test]
fn only_a_configuration_with_numbers_asks_for_teams_permissions() {
    let dir = setup(
        &number_tenant(2),
        "users:\n  - upn: user0@contoso.com\n    profile: phone\n",
    );
    let emulator = serve(dir.path(), |c| {
        c.roles = Some(BASE_ROLES.iter().map(|r| r.to_string()).collect())
    });
    // No phoneNumber anywhere: plan and apply work without any Teams permission.
    graph(dir.path(), &emulator, &["plan"]).success();
    graph(
        dir.path(),
        &emulator,
        &["apply", "--auto-approve", "--timeout", "60s"],
    )
    .success();
    // The same with a number: every Teams permission named at once, nothing changed.
    let yaml = dir.path().join("commcred.yaml");
    let text = read(&yaml).replace(
        "profile: phone\n",
        "profile: phone\n    phoneNumber: \"+14255550000\"\n",
    );
    std::fs::write(&yaml, text).unwrap();
    let before = read(&dir.path().join("tenant.json"));
    let refused = graph(dir.path(), &emulator, &["apply", "--auto-approve"]);
    let text = output(&refused);
    refused.code(1);
    for p in [
        "TeamsTelephoneNumber.Read.All",
        "TeamsUserConfiguration.Read.All",
        "TeamsTelephoneNumber.ReadWrite.All",
        "commcred::graph::missing_permissions",
    ] {
        assert!(text.contains(p), "{p}: {text}");
    }
    assert_eq!(read(&dir.path().join("tenant.json")), before);
}

#[test]
fn prune_takes_numbers_away_only_when_the_configuration_manages_numbers() {
    let mut tenant = number_tenant(3);
    license(&mut tenant, 3);
    give(&mut tenant, 1, 1);
    let dir = setup(
        &tenant,
        "prune: true\nusers:\n  - upn: user0@contoso.com\n    profile: phone\n",
    );
    let emulator = serve(dir.path(), |_| {});
    // No phoneNumber anywhere: user1's number is left alone on both backends.
    for plan in [
        commcred(dir.path()).args(["plan"]).assert().success(),
        graph(dir.path(), &emulator, &["plan"]).success(),
    ] {
        assert!(!stdout(&plan).contains("phoneNumber"), "{}", stdout(&plan));
    }
    // With one declared, the unlisted user1 loses its number, through Graph too.
    let yaml = dir.path().join("commcred.yaml");
    let text = read(&yaml).replace(
        "profile: phone\n",
        "profile: phone\n    phoneNumber: \"+14255550000\"\n",
    );
    std::fs::write(&yaml, text).unwrap();
    let plan = graph(dir.path(), &emulator, &["plan"]).success();
    assert!(
        stdout(&plan).contains("- phoneNumber: +14255550001 (callingPlan)"),
        "{}",
        stdout(&plan)
    );
    graph(
        dir.path(),
        &emulator,
        &["apply", "--auto-approve", "--timeout", "60s"],
    )
    .success();
    assert_eq!(number_of(dir.path(), &user_id(1)), None);
    assert_eq!(
        number_of(dir.path(), &user_id(0)).as_deref(),
        Some("+14255550000")
    );
}

#[test]
fn export_without_teams_permissions_leaves_numbers_out_and_says_so() {
    let mut tenant = number_tenant(2);
    license(&mut tenant, 2);
    give(&mut tenant, 0, 0);
    let dir = setup(
        &tenant,
        "users:\n  - upn: user0@contoso.com\n    profile: phone\n",
    );
    let emulator = serve(dir.path(), |c| {
        c.roles = Some(BASE_ROLES.iter().map(|r| r.to_string()).collect())
    });
    let out = tempfile::tempdir().unwrap();
    let exported = out.path().join("exported.yaml");
    let export = graph(
        dir.path(),
        &emulator,
        &["export", "--out", exported.to_str().unwrap()],
    )
    .success();
    let text = output(&export);
    assert!(
        text.contains("Phone numbers left out") && text.contains("TeamsTelephoneNumber.Read.All"),
        "{text}"
    );
    let yaml = read(&exported);
    assert!(yaml.contains("user0@contoso.com"), "{yaml}");
    assert!(!yaml.contains("phoneNumber"), "{yaml}");
}

#[test]
fn a_saved_plan_with_numbers_applies_through_graph_and_refuses_when_a_number_moved() {
    let dir = setup(&number_tenant(2), "users:\n  - csv: users.csv\n");
    std::fs::write(dir.path().join("users.csv"), numbers_csv(2)).unwrap();
    let emulator = serve(dir.path(), |_| {});
    graph(dir.path(), &emulator, &["plan", "--out", "plan.json"]).success();
    graph(
        dir.path(),
        &emulator,
        &["apply", "plan.json", "--timeout", "60s"],
    )
    .success();
    assert_eq!(
        number_of(dir.path(), &user_id(1)).as_deref(),
        Some("+14255550001")
    );
    // A saved plan that sees user0's number (apply re-reads the numbers to compare).
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, read(&csv).replace("+14255550000", "+14255558888")).unwrap();
    graph(dir.path(), &emulator, &["plan", "--out", "plan1.json"]).success();
    graph(
        dir.path(),
        &emulator,
        &["apply", "plan1.json", "--timeout", "60s"],
    )
    .success();
    assert_eq!(
        number_of(dir.path(), &user_id(0)).as_deref(),
        Some("+14255558888")
    );
    // Another saved plan, then someone takes user0's number away by hand: stale.
    std::fs::write(&csv, read(&csv).replace("+14255558888", "+14255550000")).unwrap();
    graph(dir.path(), &emulator, &["plan", "--out", "plan2.json"]).success();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let api = Api::new(&emulator).await;
        let r = api
            .http
            .post(format!(
                "{}/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/unassignNumber",
                api.base
            ))
            .bearer_auth(&api.token)
            .json(&json!({"telephoneNumber": "+14255558888", "numberType": "callingPlan"}))
            .send()
            .await
            .unwrap();
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let path = location.split("/v1.0").nth(1).unwrap().to_string();
        for _ in 0..2 {
            api.get(&path).await;
        }
    });
    let stale = graph(
        dir.path(),
        &emulator,
        &["apply", "plan2.json", "--timeout", "60s"],
    );
    let text = output(&stale);
    stale.code(1);
    assert!(text.contains("commcred::apply::stale"), "{text}");
    assert!(text.contains("user0@contoso.com"), "{text}");
}

#[test]
fn numbers_are_read_and_applied_through_throttling_errors_and_dropped_connections() {
    let dir = setup(&number_tenant(20), "users:\n  - csv: users.csv\n");
    std::fs::write(dir.path().join("users.csv"), numbers_csv(20)).unwrap();
    let emulator = serve(dir.path(), |c| {
        c.faults.throttle_rate = 0.2;
        c.faults.error_rate = 0.1;
        c.faults.drop_rate = 0.05;
        c.faults.retry_after_secs = 1;
        c.faults.seed = Some(22);
    });
    let applied = graph(
        dir.path(),
        &emulator,
        &["apply", "--auto-approve", "--timeout", "3m"],
    );
    let text = output(&applied);
    applied.success();
    assert!(text.contains("Apply complete!"), "{text}");
    for n in 0..20 {
        assert_eq!(
            number_of(dir.path(), &user_id(n)),
            Some(crate::numbers::us_number(n)),
            "user{n}"
        );
    }
    graph(
        dir.path(),
        &emulator,
        &["plan", "--detailed-exitcode", "--timeout", "2m"],
    )
    .code(0);
}
