//! Phone numbers through the real binary on the file backend: planned from YAML and CSV,
//! applied after the licenses, re-planned empty; numbers moving between users; the plan's
//! located errors and warnings; export and drift.

#![allow(dead_code)]

use std::path::Path;

use commcred::tenant::Snapshot;
use predicates::prelude::*;
use serde_json::{Value, json};

use crate::common::{commcred, read};
use crate::emulator::{MCOEV, MCOPSTN1, TENANT_DOMAIN, service_plan_id};

pub const VIRTUAL_USER: &str = "440eaaa8-b3e0-484b-a8be-62870b9ba70a";

/// The id of user `n`.
pub fn user_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Calling Plan number `n` (US).
pub fn us_number(n: usize) -> String {
    format!("+1425555{n:04}")
}

/// A tenant of `users` people (user0..), unlicensed and in the US, with `users` free US
/// Calling Plan numbers, a Direct Routing number, a GB Calling Plan number, a conference
/// number, and a resource account `aa@` (no license) with the Teams configuration of each.
pub fn number_tenant(users: usize) -> Snapshot {
    let sku = |id: &str, part: &str, plan: &str, enabled: usize| {
        json!({
            "skuId": id, "skuPartNumber": part, "appliesTo": "User",
            "capabilityStatus": "Enabled",
            "prepaidUnits": {"enabled": enabled, "warning": 0, "suspended": 0, "lockedOut": 0},
            "consumedUnits": 0,
            "servicePlans": [{"servicePlanId": service_plan_id(plan), "servicePlanName": plan}]
        })
    };
    let mut people: Vec<Value> = (0..users)
        .map(|n| {
            json!({"id": user_id(n), "userPrincipalName": format!("user{n}@contoso.com"),
                   "usageLocation": "US", "assignedLicenses": []})
        })
        .collect();
    people.push(
        json!({"id": user_id(900_000), "userPrincipalName": "aa@contoso.com",
                       "usageLocation": "US", "assignedLicenses": []}),
    );
    let number = |id: &str, n: &str, kind: &str, country: Value, caps: Value| {
        json!({"id": id, "telephoneNumber": n, "numberType": kind, "activationState": "activated",
               "assignmentStatus": "unassigned", "assignmentTargetId": null,
               "assignmentCategory": null, "isoCountryCode": country, "capabilities": caps,
               "locationId": null, "numberSource": "online"})
    };
    let user_caps = json!(["userAssignment"]);
    let mut numbers: Vec<Value> = (0..users)
        .map(|n| {
            number(
                &format!("cp{n}"),
                &us_number(n),
                "callingPlan",
                json!("US"),
                user_caps.clone(),
            )
        })
        .collect();
    numbers.push(number(
        "dr1",
        "+12065550100",
        "directRouting",
        Value::Null,
        json!(["userAssignment", "voiceApplicationAssignment"]),
    ));
    numbers.push(number(
        "gb1",
        "+442079460000",
        "callingPlan",
        json!("GB"),
        user_caps.clone(),
    ));
    numbers.push(number(
        "conf1",
        "+14255559999",
        "callingPlan",
        json!("US"),
        json!(["conferenceAssignment"]),
    ));
    numbers.push(number(
        "svc1",
        "+14255558888",
        "callingPlan",
        json!("US"),
        json!(["voiceApplicationAssignment", "userAssignment"]),
    ));
    let mut configs: Vec<Value> = (0..users)
        .map(|n| {
            json!({"id": user_id(n), "userPrincipalName": format!("user{n}@contoso.com"),
                   "accountType": "user", "isEnterpriseVoiceEnabled": false,
                   "featureTypes": ["Teams"], "telephoneNumbers": []})
        })
        .collect();
    configs.push(
        json!({"id": user_id(900_000), "userPrincipalName": "aa@contoso.com",
                        "accountType": "resourceAccount", "isEnterpriseVoiceEnabled": false,
                        "featureTypes": [], "telephoneNumbers": []}),
    );
    serde_json::from_value(json!({
        "tenant": {"id": "7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", "domain": TENANT_DOMAIN},
        "subscribedSkus": [
            sku(MCOEV, "MCOEV", "MCOEV", users + 10),
            sku(MCOPSTN1, "MCOPSTN1", "MCOPSTN1", users + 10),
            sku(VIRTUAL_USER, "PHONESYSTEM_VIRTUALUSER", "MCOEV_VIRTUALUSER", 10),
        ],
        "users": people,
        "numberAssignments": numbers,
        "userConfigurations": configs,
    }))
    .unwrap()
}

/// A folder with `tenant.json` and `commcred.yaml` (`users` is the YAML's users section).
pub fn setup(snapshot: &Snapshot, users: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::emulator::write_tenant(dir.path(), snapshot);
    std::fs::write(
        dir.path().join("commcred.yaml"),
        format!(
            "apiVersion: commcred/v1\ntenant: {TENANT_DOMAIN}\nbackend:\n  file: tenant.json\n\
             profiles:\n  phone: [phoneSystem, domesticCallingPlan]\n  dr: [phoneSystem]\n{users}"
        ),
    )
    .unwrap();
    dir
}

/// The CSV of users 0..n, each with its own US Calling Plan number.
pub fn numbers_csv(n: usize) -> String {
    let mut csv = String::from("upn,profile,phoneNumber\n");
    for i in 0..n {
        csv.push_str(&format!("user{i}@contoso.com,phone,{}\n", us_number(i)));
    }
    csv
}

/// The number assigned to `user_id` in the tenant file, if any.
pub fn number_of(dir: &Path, user_id: &str) -> Option<String> {
    let tenant: Value = serde_json::from_str(&read(&dir.join("tenant.json"))).unwrap();
    tenant["numberAssignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["assignmentTargetId"] == user_id && n["assignmentStatus"] != "unassigned")
        .map(|n| n["telephoneNumber"].as_str().unwrap().to_string())
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// Standard error with miette's line wrapping undone, so a message reads as one line.
fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    let text = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    text.lines()
        .map(|l| {
            let l = l.trim();
            l.strip_prefix("| ").unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_thousand_users_from_a_csv_get_their_numbers_and_replan_empty() {
    let dir = setup(&number_tenant(1_000), "users:\n  - csv: users.csv\n");
    std::fs::write(dir.path().join("users.csv"), numbers_csv(1_000)).unwrap();
    let plan = commcred(dir.path()).args(["plan"]).assert().success();
    let text = stdout(&plan);
    assert!(
        text.contains("+ phoneNumber: +14255550007 (callingPlan)"),
        "{}",
        &text[..2000.min(text.len())]
    );
    assert!(
        text.contains("1000 phone number changes"),
        "{}",
        text.lines().last().unwrap()
    );
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Apply complete!"));
    assert_eq!(
        number_of(dir.path(), &user_id(999)).as_deref(),
        Some("+14255550999")
    );
    let tenant: Value = serde_json::from_str(&read(&dir.path().join("tenant.json"))).unwrap();
    let config = &tenant["userConfigurations"][999];
    assert_eq!(
        config["telephoneNumbers"][0]["telephoneNumber"],
        "+14255550999"
    );
    assert_eq!(config["isEnterpriseVoiceEnabled"], true);
    commcred(dir.path())
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn a_number_moves_from_one_user_to_another_in_one_apply() {
    let mut tenant = number_tenant(3);
    // user0 holds +14255550000 already, with its licenses.
    for user in &mut tenant.users[..2] {
        user.assigned_licenses = serde_json::from_value(json!([
            {"skuId": MCOEV, "disabledPlans": []}, {"skuId": MCOPSTN1, "disabledPlans": []}
        ]))
        .unwrap();
    }
    tenant.number_assignments[0].assignment_target_id = Some(user_id(0));
    tenant.number_assignments[0].assignment_status = Some("userAssigned".into());
    let dir = setup(
        &tenant,
        "users:\n  - upn: user0@contoso.com\n    profile: phone\n    phoneNumber: \"+14255550001\"\n  \
         - upn: user1@contoso.com\n    profile: phone\n    phoneNumber: \"+14255550000\"\n",
    );
    let plan = commcred(dir.path()).args(["plan"]).assert().success();
    let text = stdout(&plan);
    assert!(
        text.contains("~ phoneNumber: +14255550000 -> +14255550001 (callingPlan)"),
        "{text}"
    );
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert_eq!(
        number_of(dir.path(), &user_id(0)).as_deref(),
        Some("+14255550001")
    );
    assert_eq!(
        number_of(dir.path(), &user_id(1)).as_deref(),
        Some("+14255550000")
    );
    commcred(dir.path())
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn a_number_held_by_someone_the_plan_leaves_alone_is_an_error() {
    let mut tenant = number_tenant(2);
    tenant.number_assignments[0].assignment_target_id = Some(user_id(0));
    tenant.number_assignments[0].assignment_status = Some("userAssigned".into());
    let dir = setup(
        &tenant,
        "users:\n  - upn: user1@contoso.com\n    profile: phone\n    phoneNumber: \"+14255550000\"\n",
    );
    let out = commcred(dir.path()).args(["plan"]).assert().code(1);
    let err = stderr(&out);
    assert!(err.contains("commcred::plan::number_taken"), "{err}");
    assert!(err.contains("commcred.yaml:11:18"), "{err}");
    assert!(err.contains("is assigned to user0@contoso.com"), "{err}");
}

#[test]
fn number_rules_are_located_plan_errors() {
    let dir = setup(&number_tenant(4), "users:\n  - csv: users.csv\n");
    std::fs::write(
        dir.path().join("users.csv"),
        "upn,profile,usageLocation,phoneNumber,numberType\n\
         user0@contoso.com,dr,,+14255550000,callingPlan\n\
         user1@contoso.com,phone,,+442079460000,\n\
         user2@contoso.com,phone,,+14255550003,directRouting\n\
         user3@contoso.com,phone,,+14255551234,\n",
    )
    .unwrap();
    let out = commcred(dir.path()).args(["plan"]).assert().code(1);
    let err = stderr(&out);
    for expected in [
        // a callingPlan number on a user without a calling plan, at its CSV cell
        "users.csv:2:23: user0@contoso.com: +14255550000 is a Calling Plan number but user0@contoso.com would hold no calling plan",
        // the country of the number is not the usage location
        "users.csv:3:26: user1@contoso.com: +442079460000 is a number of GB but the user's usage location is US",
        // the type declared is not the inventory's
        "users.csv:4:26: user2@contoso.com: +14255550003 is a callingPlan number in the inventory, not directRouting",
        // not in the inventory: the nearest ones are named
        "users.csv:5:26: user3@contoso.com: +14255551234 is not in the tenant's phone number inventory",
        "the nearest numbers in the inventory are +14255550003, +14255550002, +14255550001",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
    assert!(err.contains("commcred::plan::number_needs_calling_plan"));
    assert!(err.contains("commcred::plan::number_country_mismatch"));
    assert!(err.contains("commcred::plan::number_type_mismatch"));
    assert!(err.contains("commcred::plan::number_not_found"));
    let tenant = read(&dir.path().join("tenant.json"));
    assert!(!tenant.contains("userAssigned"), "nothing changed");
}

#[test]
fn a_direct_routing_user_with_a_calling_plan_is_warned() {
    let dir = setup(
        &number_tenant(1),
        "users:\n  - upn: user0@contoso.com\n    profile: phone\n    phoneNumber: \"+12065550100\"\n    numberType: directRouting\n",
    );
    let out = commcred(dir.path()).args(["plan"]).assert().success();
    let text = stdout(&out);
    assert!(
        text.contains("commcred::plan::calling_plan_unused"),
        "{text}"
    );
    assert!(
        text.contains("the calling plan is paid for nothing"),
        "{text}"
    );
}

#[test]
fn a_resource_account_is_licensed_with_the_resource_account_sku() {
    let wrong = setup(
        &number_tenant(1),
        "users:\n  - upn: aa@contoso.com\n    licenses: [phoneSystem]\n    phoneNumber: \"+12065550100\"\n    numberType: directRouting\n",
    );
    let out = commcred(wrong.path()).args(["plan"]).assert().code(1);
    let err = stderr(&out);
    assert!(
        err.contains("commcred::plan::resource_account_license"),
        "{err}"
    );
    assert!(err.contains("PHONESYSTEM_VIRTUALUSER"), "{err}");

    let right = setup(
        &number_tenant(1),
        "users:\n  - upn: aa@contoso.com\n    licenses: [PHONESYSTEM_VIRTUALUSER]\n    phoneNumber: \"+12065550100\"\n    numberType: directRouting\n",
    );
    commcred(right.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert_eq!(
        number_of(right.path(), &user_id(900_000)).as_deref(),
        Some("+12065550100")
    );
    let tenant: Value = serde_json::from_str(&read(&right.path().join("tenant.json"))).unwrap();
    let aa = &tenant["numberAssignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "dr1")
        .unwrap()["assignmentStatus"];
    assert_eq!(aa, "voiceApplicationAssigned");

    // A person with the resource account license does not have Teams Phone.
    let person = setup(
        &number_tenant(1),
        "users:\n  - upn: user0@contoso.com\n    licenses: [PHONESYSTEM_VIRTUALUSER]\n    phoneNumber: \"+12065550100\"\n    numberType: directRouting\n",
    );
    let out = commcred(person.path()).args(["plan"]).assert().code(1);
    let err = stderr(&out);
    assert!(
        err.contains("commcred::plan::number_needs_teams_phone"),
        "{err}"
    );
    assert!(
        err.contains("is for resource accounts, not people"),
        "{err}"
    );
}

#[test]
fn phone_numbers_in_other_spellings_are_located_config_errors() {
    let dir = setup(
        &number_tenant(2),
        "users:\n  - upn: user0@contoso.com\n    profile: phone\n    phoneNumber: \"+1 (425) 555-0000\"\n  \
         - upn: user1@contoso.com\n    profile: phone\n    phoneNumber: \"+14255550001\"\n    numberType: DirectRouting\n",
    );
    let out = commcred(dir.path()).args(["validate"]).assert().code(1);
    let err = stderr(&out);
    assert!(
        err.contains("commcred::config::invalid_phone_number"),
        "{err}"
    );
    assert!(err.contains("write it as `+14255550000`"), "{err}");
    assert!(err.contains("commcred.yaml:11:18"), "{err}");
    assert!(
        err.contains("commcred::config::invalid_number_type"),
        "{err}"
    );
    assert!(err.contains("write `directRouting`"), "{err}");
}

#[test]
fn export_then_plan_is_empty_and_drift_shows_a_number_changed_by_hand() {
    let dir = setup(&number_tenant(3), "users:\n  - csv: users.csv\n");
    std::fs::write(dir.path().join("users.csv"), numbers_csv(3)).unwrap();
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let out = tempfile::tempdir().unwrap();
    let exported = out.path().join("exported.yaml");
    commcred(dir.path())
        .args(["export", "--backend", "file:tenant.json", "--out"])
        .arg(&exported)
        .assert()
        .success();
    let yaml = read(&exported);
    assert!(yaml.contains("phoneNumber: \"+14255550002\""), "{yaml}");
    assert!(yaml.contains("numberType: callingPlan"), "{yaml}");
    commcred(dir.path())
        .args([
            "plan",
            "--backend",
            "file:tenant.json",
            "--detailed-exitcode",
        ])
        .arg(&exported)
        .assert()
        .code(0);

    // Someone gives user1 another number in the Teams admin center.
    let mut tenant = crate::emulator::read_tenant(&dir.path().join("tenant.json"));
    let n1 = tenant
        .number_assignments
        .iter()
        .position(|n| n.telephone_number == "+14255550001")
        .unwrap();
    tenant.number_assignments[n1].assignment_target_id = None;
    tenant.number_assignments[n1].assignment_status = Some("unassigned".into());
    tenant.number_assignments[3].assignment_target_id = Some(user_id(1));
    tenant.number_assignments[3].assignment_status = Some("userAssigned".into());
    crate::emulator::write_tenant(dir.path(), &tenant);
    let out = commcred(dir.path()).args(["drift"]).assert().code(2);
    let text = stdout(&out);
    assert!(
        text.contains("-    phoneNumber: +14255550001 (callingPlan)"),
        "{text}"
    );
    assert!(
        text.contains("+    phoneNumber: +12065550100 (directRouting)"),
        "{text}"
    );
}

/// A licensed user without a usage location who is given a number takes
/// `defaultUsageLocation` (the number must match the user's country), as a user gaining a
/// license does; before, only a license change brought the default in and the number was
/// refused for a user whose licenses did not change.
#[test]
fn a_licensed_user_without_a_usage_location_takes_the_default_for_a_number() {
    let dir = setup(
        &number_tenant(1),
        "users:\n  - upn: user0@contoso.com\n    profile: phone\n",
    );
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let path = dir.path().join("tenant.json");
    let mut tenant: Value = serde_json::from_str(&read(&path)).unwrap();
    tenant["users"][0]["usageLocation"] = Value::Null;
    std::fs::write(&path, serde_json::to_string_pretty(&tenant).unwrap()).unwrap();
    let yaml = dir.path().join("commcred.yaml");
    let text = read(&yaml).replace("users:\n", "defaultUsageLocation: US\nusers:\n")
        + &format!("    phoneNumber: \"{}\"\n", us_number(0));
    std::fs::write(&yaml, text).unwrap();
    let plan = commcred(dir.path()).args(["plan"]).assert().success();
    let out = stdout(&plan);
    assert!(out.contains("usageLocation"), "{out}");
    assert!(out.contains(&us_number(0)), "{out}");
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert_eq!(
        number_of(dir.path(), &user_id(0)).as_deref(),
        Some(us_number(0).as_str())
    );
    commcred(dir.path())
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0);
}

/// The Teams Phone Resource Account license is Teams Phone for a resource account only: a
/// person holding it who asks for `phoneSystem` is given Teams Phone, not told it is
/// "already provided" (and then refused a number for lacking Teams Phone).
#[test]
fn a_person_with_the_resource_account_license_still_gets_teams_phone() {
    let dir = setup(
        &number_tenant(1),
        "users:\n  - upn: user0@contoso.com\n    licenses: [PHONESYSTEM_VIRTUALUSER]\n",
    );
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    let yaml = dir.path().join("commcred.yaml");
    let text = read(&yaml).replace(
        "licenses: [PHONESYSTEM_VIRTUALUSER]",
        &format!(
            "licenses: [PHONESYSTEM_VIRTUALUSER, phoneSystem, domesticCallingPlan]\n    phoneNumber: \"{}\"",
            us_number(0)
        ),
    );
    std::fs::write(&yaml, text).unwrap();
    let plan = commcred(dir.path()).args(["plan"]).assert().success();
    let out = stdout(&plan);
    assert!(out.contains("+ phoneSystem (MCOEV)"), "{out}");
    assert!(!out.contains("already provided"), "{out}");
    commcred(dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert_eq!(
        number_of(dir.path(), &user_id(0)).as_deref(),
        Some(us_number(0).as_str())
    );
}
