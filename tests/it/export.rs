//! `commcred export` through the real binary: the exported YAML plans as a no-op against the
//! tenant it came from (`plan --detailed-exitcode` exits 0), on the quickstart tenant, after
//! an apply, and on a generated 10,000-user tenant; it validates against the schema.

use std::path::Path;

use commcred::tenant::Snapshot;
use commcred::tenant::snapshot_to_string;
use predicates::prelude::*;

use crate::common::{commcred, example, read};
use crate::schema::schema_errors;

/// Exports `tenant.json` of `dir` to `out` (relative to `dir`) with `extra` arguments.
fn export(dir: &Path, out: &str, extra: &[&str]) -> String {
    let mut args = vec!["export", "--backend", "file:tenant.json", "--out", out];
    args.extend_from_slice(extra);
    let assert = commcred(dir).args(&args).assert().success();
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}

/// `plan --detailed-exitcode` on `config`: 0 means no changes.
fn assert_no_changes(dir: &Path, config: &str) {
    commcred(dir)
        .args(["plan", config, "--detailed-exitcode"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No changes."));
}

#[test]
fn quickstart_export_plans_as_no_changes() {
    let dir = example("quickstart");
    let stderr = export(dir.path(), "exported.yaml", &[]);
    assert!(
        stderr.contains("Exported 3 users in 3 profiles"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("commcred::export::"),
        "no warnings: {stderr}"
    );
    let yaml = read(&dir.path().join("exported.yaml"));
    assert_eq!(schema_errors(&yaml), Vec::<String>::new());
    insta::assert_snapshot!("quickstart_export", yaml);
    commcred(dir.path())
        .args(["validate", "exported.yaml"])
        .assert()
        .success();
    assert_no_changes(dir.path(), "exported.yaml");
}

#[test]
fn export_after_apply_reproduces_the_applied_state() {
    let dir = example("quickstart");
    commcred(dir.path())
        .args(["apply", "commcred.yaml", "--auto-approve"])
        .assert()
        .success();
    export(dir.path(), "exported.yaml", &[]);
    let yaml = read(&dir.path().join("exported.yaml"));
    // The funds the apply added show up in the balance; the settings it set are exported.
    for expected in [
        "# Usable balance on 2026-11-25: 500.00 USD.",
        "    enabled: true\n    triggerBelow: 100.00\n    rechargeAmount: 250.00\n",
        "    method: enterpriseAgreement\n    agreementNumber: \"62839471\"\n",
        "  - upn: judy@contoso.com\n    profile: audio-conferencing+phone+domestic-calling+credits\n",
        "  - upn: ivan@contoso.com\n    usageLocation: DE\n",
    ] {
        assert!(yaml.contains(expected), "missing `{expected}` in:\n{yaml}");
    }
    assert_no_changes(dir.path(), "exported.yaml");
}

#[test]
fn a_10000_user_tenant_round_trips_inline_and_through_csv() {
    let dir = tempfile::tempdir().unwrap();
    let live = crate::testkit::tenant(10_000, 7);
    std::fs::write(dir.path().join("tenant.json"), snapshot_to_string(&live)).unwrap();

    export(dir.path(), "inline.yaml", &[]);
    assert_no_changes(dir.path(), "inline.yaml");

    std::fs::create_dir(dir.path().join("out")).unwrap();
    export(
        dir.path(),
        "out/commcred.yaml",
        &["--users-csv", "out/users.csv"],
    );
    let yaml = read(&dir.path().join("out/commcred.yaml"));
    assert!(yaml.contains("  file: ../tenant.json\n"), "{yaml}");
    assert!(yaml.contains("  - csv: users.csv\n"), "{yaml}");
    assert_no_changes(dir.path(), "out/commcred.yaml");

    // Exactly the users holding a calling license directly are listed, once each.
    let csv = read(&dir.path().join("out/users.csv"));
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    let upns: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| r.split(',').next().unwrap().to_lowercase())
        .collect();
    assert_eq!(upns.len(), rows.len(), "a user is listed twice");
    assert!(
        upns == expected_listed(&live),
        "the CSV lists other users than those holding a calling add-on directly"
    );
    assert!(rows.len() > 5_000, "{}", rows.len());
    let inline = read(&dir.path().join("inline.yaml"));
    assert_eq!(inline.matches("  - upn: ").count(), rows.len());
}

/// What a Teams calling service plan gives, for the plans of the synthetic tenant
/// (`testkit`), by Microsoft's service plan name (Microsoft's SKU table,
/// data/microsoft-licensing-service-plans.csv): written out here, not read from the catalog
/// code the exporter uses, so that the expected users are computed independently of it.
#[derive(Clone, Copy, PartialEq)]
enum Gives {
    AudioConferencing,
    TeamsPhone,
    CallingPlan,
    Credits,
}

const PLANS: &[(&str, Gives)] = &[
    ("MCOMEETADV", Gives::AudioConferencing),
    ("MCOMEETADV_GOV", Gives::AudioConferencing),
    ("MCOEV", Gives::TeamsPhone),
    ("MCOEV_GOV", Gives::TeamsPhone),
    ("MCOEV_VIRTUALUSER", Gives::TeamsPhone),
    ("MCOPSTN1", Gives::CallingPlan),
    ("MCOPSTN2", Gives::CallingPlan),
    ("MCOPSTN8", Gives::CallingPlan),
    ("PSTN5_US", Gives::CallingPlan),
    ("MCOPSTN_PAYG_1", Gives::CallingPlan),
    ("MCOPSTNC", Gives::Credits),
];

/// The synthetic tenant's calling add-ons (one calling license each), by part number: what
/// commcred.yaml names. Its suites (ENTERPRISEPREMIUM, SPE_E5_CALLINGMINUTES, M365_G5_GCC)
/// only include calling and are never exported.
const ADD_ONS: &[&str] = &[
    "MCOMEETADV",
    "MCOEV",
    "MCOPSTN1",
    "MCOPSTN2",
    "MCOPSTNC",
    "PHONESYSTEM_VIRTUALUSER",
    "MCOPSTN5_US",
    "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1_US)",
];

/// The UPNs an export of `live` must list, from the raw assignments and SPEC §4: users who
/// hold a calling add-on directly (an assignment state without `assignedByGroup`, or an
/// assigned license without any state), except those whose active licenses break a rule
/// the planner checks on every listed user (a calling plan without Teams Phone; credits
/// without audio conferencing, or Teams Phone with a calling plan).
fn expected_listed(live: &Snapshot) -> std::collections::BTreeSet<String> {
    let part = |id: &str| {
        live.subscribed_skus
            .iter()
            .find(|s| s.sku_id.eq_ignore_ascii_case(id))
    };
    let mut listed = std::collections::BTreeSet::new();
    for user in &live.users {
        let mut ids: Vec<&str> = user
            .assigned_licenses
            .iter()
            .map(|a| a.sku_id.as_str())
            .collect();
        for s in user.license_assignment_states.iter().flatten() {
            if !ids.iter().any(|i| i.eq_ignore_ascii_case(&s.sku_id)) {
                ids.push(&s.sku_id);
            }
        }
        let mut direct_add_on = false;
        let mut gives: Vec<Gives> = Vec::new();
        for id in ids {
            let states: Vec<_> = user
                .license_assignment_states
                .iter()
                .flatten()
                .filter(|s| s.sku_id.eq_ignore_ascii_case(id))
                .collect();
            // (direct, active) of each way the user holds the SKU.
            let paths: Vec<(bool, bool)> = if states.is_empty() {
                vec![(true, true)]
            } else {
                states
                    .iter()
                    .map(|s| {
                        let active = s
                            .state
                            .as_deref()
                            .is_none_or(|st| st.eq_ignore_ascii_case("Active"));
                        (s.assigned_by_group.is_none(), active)
                    })
                    .collect()
            };
            let Some(sku) = part(id) else { continue };
            if ADD_ONS.contains(&sku.sku_part_number.as_str()) && paths.iter().any(|p| p.0) {
                direct_add_on = true;
            }
            if !paths.iter().any(|p| p.1) {
                continue;
            }
            let disabled: &[String] = user
                .assigned_licenses
                .iter()
                .find(|a| a.sku_id.eq_ignore_ascii_case(id))
                .map_or(&[], |a| &a.disabled_plans);
            for plan in &sku.service_plans {
                if disabled
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(&plan.service_plan_id))
                {
                    continue;
                }
                if let Some((_, g)) = PLANS
                    .iter()
                    .find(|(name, _)| *name == plan.service_plan_name)
                {
                    gives.push(*g);
                }
            }
        }
        let has = |g: Gives| gives.contains(&g);
        let breaks = (has(Gives::CallingPlan) && !has(Gives::TeamsPhone))
            || (has(Gives::Credits)
                && !(has(Gives::AudioConferencing)
                    || (has(Gives::TeamsPhone) && has(Gives::CallingPlan))));
        if direct_add_on && !breaks {
            listed.insert(user.user_principal_name.to_lowercase());
        }
    }
    listed
}

#[test]
fn writes_to_stdout_without_out_and_reads_the_backend_from_the_config() {
    let dir = example("quickstart");
    let assert = commcred(dir.path())
        .args(["export", "-q"])
        .assert()
        .success()
        .stderr("");
    let yaml = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(yaml.starts_with("# yaml-language-server: $schema=commcred.schema.json\n"));
    assert!(yaml.contains("backend:\n  file: tenant.json\n"), "{yaml}");
    std::fs::write(dir.path().join("stdout.yaml"), yaml).unwrap();
    assert_no_changes(dir.path(), "stdout.yaml");
}

#[test]
fn refuses_to_overwrite_without_force() {
    let dir = example("quickstart");
    let before = read(&dir.path().join("commcred.yaml"));
    commcred(dir.path())
        .args([
            "export",
            "--backend",
            "file:tenant.json",
            "--out",
            "commcred.yaml",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::export::exists"))
        .stderr(predicate::str::contains("--force"));
    assert_eq!(read(&dir.path().join("commcred.yaml")), before);
    export(dir.path(), "commcred.yaml", &["--force"]);
    assert_ne!(read(&dir.path().join("commcred.yaml")), before);
    assert_no_changes(dir.path(), "commcred.yaml");
}

#[test]
fn usage_errors_are_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    commcred(dir.path())
        .args(["export"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::export::no_backend"));
    commcred(dir.path())
        .args([
            "export",
            "--backend",
            "file:t.json",
            "--out",
            "a.yaml",
            "--users-csv",
            "./a.yaml",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::export::same_file"));
    commcred(dir.path())
        .args([
            "export",
            "--backend",
            "file:t.json",
            "--out",
            "no/such/a.yaml",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::export::write"));
}

#[test]
fn skipped_users_are_reported_and_the_rest_still_round_trips() {
    let dir = example("quickstart");
    // Bob gets credits and nothing to spend them on: a rule the plan checks on every listed
    // user, so listing him would make the plan fail.
    let path = dir.path().join("tenant.json");
    let mut tenant: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    let bob = tenant["users"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|u| u["userPrincipalName"] == "bob@contoso.com")
        .unwrap();
    bob["usageLocation"] = "US".into();
    bob["assignedLicenses"] = serde_json::json!([
        {"skuId": "47794cd0-f0e5-45c5-9033-2eb6b5fc84e0", "disabledPlans": []}
    ]);
    bob["licenseAssignmentStates"] = serde_json::json!([
        {"skuId": "47794cd0-f0e5-45c5-9033-2eb6b5fc84e0", "assignedByGroup": null, "state": "Active"}
    ]);
    std::fs::write(&path, serde_json::to_string_pretty(&tenant).unwrap()).unwrap();

    let stderr = export(dir.path(), "exported.yaml", &[]);
    assert!(
        stderr.contains("commcred::export::user_skipped") && stderr.contains("bob@contoso.com"),
        "{stderr}"
    );
    let yaml = read(&dir.path().join("exported.yaml"));
    assert!(!yaml.contains("- upn: bob@contoso.com"), "{yaml}");
    assert!(
        yaml.contains("#   bob@contoso.com holds communicationsCredits"),
        "{yaml}"
    );
    assert_no_changes(dir.path(), "exported.yaml");
}

#[test]
fn completions_and_man_pages_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        commcred(dir.path())
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("export"));
    }
    commcred(dir.path())
        .args(["completions", "tcsh"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid value 'tcsh'"));
    commcred(dir.path())
        .args(["man"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(".ie"))
        .stdout(predicate::str::contains("commcred\\-export"));
    commcred(dir.path())
        .args(["export", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("--users-csv"));
    let schema = commcred(dir.path()).args(["schema"]).assert().success();
    assert_eq!(
        String::from_utf8(schema.get_output().stdout.clone()).unwrap(),
        read(&crate::common::root().join("schemas/commcred.schema.json"))
    );
}

#[test]
fn verbose_logs_to_stderr_and_quiet_silences() {
    let dir = example("quickstart");
    commcred(dir.path())
        .args(["export", "--backend", "file:tenant.json", "-v"])
        .assert()
        .success()
        .stderr(predicate::str::contains("INFO"));
    commcred(dir.path())
        .args(["export", "--backend", "file:tenant.json"])
        .assert()
        .success()
        .stderr(predicate::str::contains("INFO").not());
    commcred(dir.path())
        .args(["export", "-q", "-v"])
        .assert()
        .code(1);
}

/// Generated tenants, scrambled: random direct and group-only assignments (some breaking
/// the rules, which Graph's group licensing can leave behind), random usage locations and
/// credits settings. Whatever the tenant, the export loads with the real config loader and
/// plans as a no-op against it, and lists exactly the users it does not warn about.
mod props {
    use commcred::config::load;
    use commcred::config::schema::{Backend, BackendMap};
    use commcred::export::{ExportOptions, export};
    use commcred::plan::plan;
    use commcred::tenant::{AssignedLicense, LicenseAssignmentState, Snapshot};
    use proptest::prelude::*;

    const LOCATIONS: &[Option<&str>] = &[None, Some("US"), Some("NO"), Some("XK"), Some("IT")];
    const AMOUNTS: &[Option<&str>] = &[None, Some("0"), Some("100"), Some("12.5"), Some("1.005")];

    /// (user, sku, by group) assignments, location changes, credits knobs.
    type Scramble = (
        Vec<(usize, usize, bool)>,
        Vec<(usize, usize)>,
        (bool, usize, usize, usize, bool),
    );

    fn scramble(users: usize) -> impl Strategy<Value = Scramble> {
        (
            proptest::collection::vec((0..users, 0..6usize, any::<bool>()), 0..users),
            proptest::collection::vec((0..users, 0..LOCATIONS.len()), 0..users),
            (
                any::<bool>(),
                0..AMOUNTS.len(),
                0..AMOUNTS.len(),
                0..3usize,
                any::<bool>(),
            ),
        )
    }

    fn build(users: usize, seed: u64, s: &Scramble) -> Snapshot {
        let mut live = crate::testkit::tenant(users, seed);
        for &(u, sku, by_group) in &s.0 {
            let sku_id = live.subscribed_skus[sku].sku_id.clone();
            let user = &mut live.users[u];
            if !user.assigned_licenses.iter().any(|a| a.sku_id == sku_id) {
                user.assigned_licenses.push(AssignedLicense {
                    sku_id: sku_id.clone(),
                    disabled_plans: vec![],
                    extra: Default::default(),
                });
            }
            user.license_assignment_states
                .get_or_insert_with(Vec::new)
                .push(LicenseAssignmentState {
                    sku_id,
                    assigned_by_group: by_group.then(|| "group-7".to_string()),
                    state: Some("Active".into()),
                    ..Default::default()
                });
        }
        for &(u, loc) in &s.1 {
            live.users[u].usage_location = LOCATIONS[loc].map(str::to_string);
        }
        let (enabled, trigger, recharge, billing, ea) = s.2;
        let account = live.communications_credits.as_mut().unwrap();
        account.auto_recharge.enabled = enabled;
        account.auto_recharge.trigger_below =
            AMOUNTS[trigger].map(|a| commcred::base::money::Amount::parse(a).unwrap());
        account.auto_recharge.recharge_amount =
            AMOUNTS[recharge].map(|a| commcred::base::money::Amount::parse(a).unwrap());
        account.billing_account_type = [
            commcred::tenant::BillingAccountType::Mosa,
            commcred::tenant::BillingAccountType::Mca,
            commcred::tenant::BillingAccountType::Csp,
        ][billing];
        if ea {
            account.payment.method = Some(commcred::tenant::PaymentMethod::EnterpriseAgreement);
            account.payment.agreement_number = Some("0042".into());
        }
        live
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

        #[test]
        fn export_then_plan_is_a_no_op(
            (users, seed, s) in (1usize..25, any::<u64>())
                .prop_flat_map(|(n, seed)| (Just(n), Just(seed), scramble(n)))
        ) {
            let live = build(users, seed, &s);
            let now = "2026-11-25T12:00:00Z".parse().unwrap();
            let exported = export(&live, &ExportOptions {
                backend: Some(Backend::Map(BackendMap::File("tenant.json".into()))),
                users_csv: (seed % 2 == 0).then(|| "users.csv".to_string()),
                source: "prop".into(),
                now,
                schema_ref: "x.json".into(),
            });
            prop_assert!(
                exported.warnings.iter().all(|w| w.code != "commcred::export::not_a_no_op"),
                "{:?}", exported.warnings
            );
            let dir = tempfile::tempdir().unwrap();
            let yaml = &exported.yaml;
            std::fs::write(dir.path().join("commcred.yaml"), yaml).unwrap();
            if let Some(csv) = &exported.csv {
                std::fs::write(dir.path().join("users.csv"), csv).unwrap();
            }
            let desired = match load(&dir.path().join("commcred.yaml")) {
                Ok(d) => d,
                Err(e) => return Err(TestCaseError::fail(format!("{:?}\n{yaml}", miette::Report::new(e)))),
            };
            let listed: std::collections::BTreeSet<String> =
                desired.users.iter().map(|u| u.upn.to_lowercase()).collect();
            prop_assert_eq!(listed.len(), desired.users.len(), "a user is listed twice");
            prop_assert_eq!(&listed, &super::expected_listed(&live), "{}", yaml);
            let planned = plan(&desired, &live, now);
            prop_assert!(planned.is_ok(), "{:?}\n{yaml}", planned.err());
            let planned = planned.unwrap();
            prop_assert!(!planned.has_changes(), "{:?}\n{yaml}", planned.users);
        }
    }
}
