//! Licensing as Microsoft defines it (issue 11), on tenants built from rows of Microsoft's
//! "Product names and service plan identifiers for licensing" table (the capability
//! catalog): each test asserts the exact plan, then applies it on the file engine and
//! checks that planning again finds nothing to do.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use commcred::backend::file::engine::apply_to_snapshot;
use commcred::base::catalog::catalog;
use commcred::base::licenses::{Friendly, LicenseName};
use commcred::config::{DesiredGroup, DesiredState, DesiredUser, GroupKey, GroupLicense, Origin};
use commcred::plan::{Plan, PlanErrors, plan};
use commcred::tenant::Snapshot;
use serde_json::{Value, json};

fn now() -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

/// How a user holds a SKU: directly, or through group "Sales Phones" in a state.
struct Hold {
    part: &'static str,
    group_state: Option<(&'static str, Option<&'static str>)>,
    disabled: &'static [&'static str],
}

fn direct(part: &'static str) -> Hold {
    Hold {
        part,
        group_state: None,
        disabled: &[],
    }
}

fn by_group(part: &'static str, state: &'static str, error: Option<&'static str>) -> Hold {
    Hold {
        part,
        group_state: Some((state, error)),
        disabled: &[],
    }
}

fn with_disabled(part: &'static str, disabled: &'static [&'static str]) -> Hold {
    Hold {
        part,
        group_state: None,
        disabled,
    }
}

const GROUP: &str = "5a1e5000-0000-4000-8000-000000000001";

/// A SKU as `subscribedSkus` shows it, from the catalog (Microsoft's ids and service
/// plans); a part number Microsoft's table does not list yet (a second pay-as-you-go zone)
/// gets made-up ids and the service plan named after it.
fn sku(part: &str) -> (String, Vec<(String, String)>) {
    let cat = catalog();
    match cat.sku(part) {
        Some(s) => (
            s.sku_id.clone(),
            s.calling_service_plans
                .iter()
                .map(|n| {
                    (
                        cat.service_plan(n).unwrap().service_plan_id.clone(),
                        n.clone(),
                    )
                })
                .collect(),
        ),
        None => {
            assert_eq!(part, PAYG_ZONE_2, "only the zone-2 SKU is made up");
            (
                "c0ffee00-0000-4000-8000-000000000002".into(),
                vec![(
                    "c0ffee00-0000-4000-8000-0000000000a2".into(),
                    "MCOPSTN_PAYG_2".into(),
                )],
            )
        }
    }
}

const PAYG_ZONE_1: &str = "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1_US)";
const PAYG_ZONE_2: &str = "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_2)";

type UserSpec = (&'static str, Option<&'static str>, Vec<Hold>);

/// A tenant subscribing `parts` (20 seats each), with `users` holding what they hold;
/// `credits`: a funded Communications Credits account.
fn tenant(parts: &[&str], users: Vec<UserSpec>, credits: bool) -> Snapshot {
    let skus: Vec<_> = parts.iter().map(|p| sku(p)).collect();
    let mut consumed = vec![0i64; parts.len()];
    let user_values: Vec<Value> = users
        .iter()
        .map(|(upn, location, holds)| {
            let mut assigned = Vec::new();
            let mut states = Vec::new();
            for h in holds {
                let i = parts.iter().position(|p| *p == h.part).expect("subscribed");
                let (id, plans) = &skus[i];
                let disabled: Vec<&str> = plans
                    .iter()
                    .filter(|(_, n)| h.disabled.contains(&n.as_str()))
                    .map(|(pid, _)| pid.as_str())
                    .collect();
                assigned.push(json!({"skuId": id, "disabledPlans": disabled}));
                let (group, state, error) = match h.group_state {
                    Some((state, error)) => (json!(GROUP), state, error),
                    None => (Value::Null, "Active", None),
                };
                if state == "Active" {
                    consumed[i] += 1;
                }
                states.push(json!({"skuId": id, "assignedByGroup": group, "state": state, "error": error.unwrap_or("None")}));
            }
            json!({"id": format!("id-{upn}"), "userPrincipalName": upn, "usageLocation": location,
                   "assignedLicenses": assigned, "licenseAssignmentStates": states})
        })
        .collect();
    let sku_values: Vec<Value> = parts
        .iter()
        .zip(&skus)
        .zip(&consumed)
        .map(|((part, (id, plans)), used)| {
            json!({"skuId": id, "skuPartNumber": part, "appliesTo": "User",
                   "prepaidUnits": {"enabled": 20, "warning": 0}, "consumedUnits": used,
                   "servicePlans": plans.iter().map(|(pid, n)| json!({"servicePlanId": pid, "servicePlanName": n})).collect::<Vec<_>>()})
        })
        .collect();
    let mut value = json!({
        "tenant": {"id": "t-11", "domain": "contoso.onmicrosoft.com"},
        "groups": [{"id": GROUP, "displayName": "Sales Phones"}],
        "subscribedSkus": sku_values,
        "users": user_values,
    });
    if credits {
        value["communicationsCredits"] = json!({
            "billingAccountType": "MOSA", "currency": "USD",
            "funds": [{"id": "f-1", "purchasedAt": "2026-06-01T00:00:00Z", "amount": "300.00", "remaining": "120.50"}],
            "autoRecharge": {"enabled": false, "triggerBelow": null, "rechargeAmount": null},
            "payment": {"method": "creditCard", "agreementNumber": null, "purchaseOrder": null}
        });
    }
    serde_json::from_value(value).unwrap()
}

/// commcred.yaml's users, each at line 10 + its position, without a credits section.
fn desired(users: &[(&str, &[&str])]) -> DesiredState {
    DesiredState {
        config_path: PathBuf::from("commcred.yaml"),
        digest: "0".repeat(64),
        tenant: "contoso.onmicrosoft.com".into(),
        tenant_origin: None,
        backend: None,
        default_usage_location: Some("US".into()),
        billing_account: None,
        credits: None,
        users: users
            .iter()
            .enumerate()
            .map(|(n, (upn, names))| DesiredUser {
                phone: None,
                upn: upn.to_string(),
                usage_location: None,
                licenses: names
                    .iter()
                    .map(|t| LicenseName::classify(t).unwrap())
                    .collect(),
                origin: Origin {
                    file: std::path::Path::new("commcred.yaml").into(),
                    line: 10 + n,
                    column: 5,
                },
            })
            .collect(),
        groups: Default::default(),
        prices: None,
        prune: false,
    }
}

/// The `teams_missing` warning line of `lines` for a user whose Teams Phone comes from `by`
/// and who holds no license with Microsoft Teams (these tenants hold calling SKUs only).
fn no_teams(upn: &str, by: &str) -> String {
    format!(
        "commcred::plan::teams_missing {upn} will hold Teams Phone ({by}) but no license with Microsoft Teams (TEAMS1): Teams Phone works only inside Teams, so {upn} cannot make or take calls until a license with Teams (such as Microsoft Teams Enterprise or Teams EEA beside a \"(no Teams)\" suite) is assigned"
    )
}

/// The plan, one line per fact: changes, notes and warnings.
fn lines(p: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for u in &p.users {
        let mut parts: Vec<String> = u
            .add
            .iter()
            .map(|s| format!("+{}", s.part_number))
            .collect();
        parts.extend(u.remove.iter().map(|s| format!("-{}", s.part_number)));
        if let Some(l) = &u.usage_location {
            parts.push(format!("usageLocation={}", l.to));
        }
        out.push(format!("{}: {}", u.upn, parts.join(" ")));
    }
    for w in &p.warnings {
        out.push(format!("{} {}", w.code, w.message));
    }
    out
}

fn notes(p: &Plan, upn: &str) -> Vec<String> {
    p.users
        .iter()
        .filter(|u| u.upn == upn)
        .flat_map(|u| u.notes.clone())
        .collect()
}

/// Plans, applies on the file engine, and checks that planning again shows no changes.
fn plan_and_converge(desired: &DesiredState, live: &Snapshot) -> Plan {
    let first = plan(desired, live, now()).unwrap_or_else(|e| panic!("{:?}", e.0));
    let mut after = live.clone();
    let report = apply_to_snapshot(&mut after, &first.operations(), now());
    assert!(report.is_success(), "{:?}", report.failed);
    let second = plan(desired, &after, now()).unwrap();
    assert!(!second.has_changes(), "not converged: {:?}", lines(&second));
    first
}

fn error_messages(e: &PlanErrors) -> Vec<String> {
    e.0.iter()
        .map(|p| format!("{} {} | {}", p.code, p.message, p.help))
        .collect()
}

#[test]
fn g5_gcc_user_gets_only_credits() {
    let live = tenant(
        &["M365_G5_GCC", "MCOMEETADV_GOV", "MCOEV_GOV", "MCOPSTNC"],
        vec![("gina@contoso.com", Some("US"), vec![direct("M365_G5_GCC")])],
        true,
    );
    let want = desired(&[(
        "gina@contoso.com",
        &["audioConferencing", "phoneSystem", "communicationsCredits"],
    )]);
    let p = plan_and_converge(&want, &live);
    assert_eq!(lines(&p), ["gina@contoso.com: +MCOPSTNC"]);
    assert_eq!(
        notes(&p, "gina@contoso.com"),
        [
            "audioConferencing (MCOMEETADV_GOV) is already provided by M365_G5_GCC",
            "phoneSystem (MCOEV_GOV) is already provided by M365_G5_GCC"
        ]
    );
}

#[test]
fn e5_with_calling_minutes_keeps_mcopstn8_and_may_add_an_international_plan() {
    let live = tenant(
        &[
            "SPE_E5_CALLINGMINUTES",
            "MCOEV",
            "MCOPSTN5",
            "MCOPSTN2",
            "MCOPSTNC",
        ],
        vec![(
            "emma@contoso.com",
            Some("US"),
            vec![direct("SPE_E5_CALLINGMINUTES")],
        )],
        true,
    );
    let want = desired(&[(
        "emma@contoso.com",
        &[
            "phoneSystem",
            "domesticCallingPlan120",
            "internationalCallingPlan",
            "communicationsCredits",
        ],
    )]);
    let p = plan_and_converge(&want, &live);
    // MCOPSTN8 (E5 Calling Minutes) plus MCOPSTN2: no Microsoft rule refuses it.
    assert_eq!(lines(&p), ["emma@contoso.com: +MCOPSTN2 +MCOPSTNC"]);
    assert_eq!(
        notes(&p, "emma@contoso.com"),
        [
            "phoneSystem (MCOEV) is already provided by SPE_E5_CALLINGMINUTES",
            "domesticCallingPlan120 (MCOPSTN5) is already provided by SPE_E5_CALLINGMINUTES"
        ]
    );
}

#[test]
fn teams_essentials_and_business_voice_provide_phone_and_calling_plan() {
    let live = tenant(
        &[
            "MCOTEAMS_ESSENTIALS",
            "BUSINESS_VOICE_MED2",
            "MCOMEETADV",
            "MCOEV",
            "MCOPSTN1",
            "MCOPSTNC",
        ],
        vec![
            (
                "tess@contoso.com",
                Some("US"),
                vec![direct("MCOTEAMS_ESSENTIALS")],
            ),
            (
                "bea@contoso.com",
                Some("GB"),
                vec![direct("BUSINESS_VOICE_MED2")],
            ),
        ],
        true,
    );
    let want = desired(&[
        (
            "tess@contoso.com",
            &[
                "phoneSystem",
                "domesticCallingPlan",
                "communicationsCredits",
            ],
        ),
        (
            "bea@contoso.com",
            &[
                "audioConferencing",
                "phoneSystem",
                "domesticCallingPlan",
                "communicationsCredits",
            ],
        ),
    ]);
    let p = plan_and_converge(&want, &live);
    // Neither Teams Phone with Calling Plan nor Business Voice includes Microsoft Teams.
    assert_eq!(
        lines(&p),
        [
            "bea@contoso.com: +MCOPSTNC".to_string(),
            "tess@contoso.com: +MCOPSTNC".to_string(),
            no_teams("tess@contoso.com", "MCOTEAMS_ESSENTIALS"),
            no_teams("bea@contoso.com", "BUSINESS_VOICE_MED2"),
        ]
    );
    assert_eq!(notes(&p, "bea@contoso.com").len(), 3);
}

#[test]
fn resource_account_license_counts_as_teams_phone() {
    let live = tenant(
        &["PHONESYSTEM_VIRTUALUSER", "MCOEV", "MCOPSTN1"],
        vec![(
            "aa-main@contoso.com",
            Some("US"),
            vec![direct("PHONESYSTEM_VIRTUALUSER")],
        )],
        true,
    );
    let want = desired(&[(
        "aa-main@contoso.com",
        &["phoneSystem", "domesticCallingPlan"],
    )]);
    let p = plan_and_converge(&want, &live);
    assert_eq!(lines(&p), ["aa-main@contoso.com: +MCOPSTN1"]);
    assert_eq!(
        notes(&p, "aa-main@contoso.com"),
        ["phoneSystem (MCOEV) is already provided by PHONESYSTEM_VIRTUALUSER"]
    );
    // The resource account SKU sells its own capability: written by part number, it is
    // assigned, and never resolved from `phoneSystem`.
    let live = tenant(
        &["PHONESYSTEM_VIRTUALUSER", "MCOPSTN1"],
        vec![("cq@contoso.com", Some("US"), vec![])],
        true,
    );
    let p = plan_and_converge(
        &desired(&[(
            "cq@contoso.com",
            &["PHONESYSTEM_VIRTUALUSER", "domesticCallingPlan"],
        )]),
        &live,
    );
    assert_eq!(
        lines(&p),
        ["cq@contoso.com: +PHONESYSTEM_VIRTUALUSER +MCOPSTN1"]
    );
}

#[test]
fn pay_per_minute_audio_conferencing_needs_credits_and_allows_them() {
    let live = tenant(
        &["MCOMEETACPEA", "MCOPSTNC"],
        vec![
            ("pam@contoso.com", Some("US"), vec![]),
            ("pete@contoso.com", Some("US"), vec![]),
        ],
        true,
    );
    let want = desired(&[
        ("pam@contoso.com", &["audioConferencing"]),
        (
            "pete@contoso.com",
            &["audioConferencing", "communicationsCredits"],
        ),
    ]);
    let p = plan_and_converge(&want, &live);
    assert_eq!(
        lines(&p),
        [
            "pam@contoso.com: +MCOMEETACPEA",
            "pete@contoso.com: +MCOMEETACPEA +MCOPSTNC",
            "commcred::plan::needs_credits pam@contoso.com will hold audio conferencing, pay-per-minute (needs credits) but not communicationsCredits: every such call is paid from Communications Credits, so pam@contoso.com cannot make it",
        ]
    );
}

#[test]
fn us_120_minute_plan_resolves_to_mcopstn5_us() {
    let live = tenant(
        &["MCOEV", "MCOPSTN5_US"],
        vec![("uma@contoso.com", None, vec![])],
        true,
    );
    let p = plan_and_converge(
        &desired(&[(
            "uma@contoso.com",
            &["phoneSystem", "domesticCallingPlan120"],
        )]),
        &live,
    );
    assert_eq!(
        lines(&p),
        [
            "uma@contoso.com: +MCOEV +MCOPSTN5_US usageLocation=US".to_string(),
            no_teams("uma@contoso.com", "MCOEV"),
        ]
    );
}

#[test]
fn pay_as_you_go_zones_are_ambiguous_by_name_and_warn_without_credits() {
    let live = tenant(
        &["MCOEV", PAYG_ZONE_1, PAYG_ZONE_2, "MCOPSTNC"],
        vec![("zed@contoso.com", Some("GB"), vec![direct("MCOEV")])],
        true,
    );
    let e = plan(
        &desired(&[("zed@contoso.com", &["phoneSystem", "payAsYouGoCallingPlan"])]),
        &live,
        now(),
    )
    .unwrap_err();
    assert_eq!(
        error_messages(&e),
        [format!(
            "commcred::plan::ambiguous_license commcred.yaml:10:5: `payAsYouGoCallingPlan` matches several SKUs of the tenant that sell pay-as-you-go calling plan (needs credits): {PAYG_ZONE_1}, {PAYG_ZONE_2} (wanted by 1 user) | write the exact skuPartNumber in commcred.yaml instead of the friendly name"
        )]
    );
    let p = plan_and_converge(
        &desired(&[("zed@contoso.com", &["phoneSystem", PAYG_ZONE_2])]),
        &live,
    );
    assert_eq!(
        lines(&p),
        [
            format!("zed@contoso.com: +{PAYG_ZONE_2}"),
            "commcred::plan::needs_credits zed@contoso.com will hold pay-as-you-go calling plan (needs credits) but not communicationsCredits: every such call is paid from Communications Credits, so zed@contoso.com cannot make it".to_string(),
            no_teams("zed@contoso.com", "MCOEV"),
        ]
    );
}

#[test]
fn a_group_assignment_in_each_error_state_provides_nothing_and_is_reported() {
    let cases: [(&str, Option<&str>); 7] = [
        ("Error", Some("CountViolation")),
        ("Error", Some("MutuallyExclusiveViolation")),
        ("Error", Some("DependencyViolation")),
        ("Error", Some("ProhibitedInUsageLocationViolation")),
        ("Error", Some("UniquenessViolation")),
        ("Error", Some("Other")),
        ("ActiveWithError", Some("CountViolation")),
    ];
    for (state, error) in cases {
        let live = tenant(
            &["MCOMEETADV", "MCOPSTNC"],
            vec![(
                "gus@contoso.com",
                Some("US"),
                vec![by_group("MCOMEETADV", state, error)],
            )],
            true,
        );
        let p = plan_and_converge(
            &desired(&[(
                "gus@contoso.com",
                &["audioConferencing", "communicationsCredits"],
            )]),
            &live,
        );
        let error = error.unwrap();
        assert_eq!(
            lines(&p),
            [
                "gus@contoso.com: +MCOMEETADV +MCOPSTNC".to_string(),
                format!(
                    "commcred::plan::assignment_failed gus@contoso.com: MCOMEETADV from group Sales Phones is in state {state} ({error}): it gives the user nothing until that is fixed"
                ),
            ]
        );
        let failed = p.warnings[0].assignment.as_ref().unwrap();
        assert_eq!(failed.group_id.as_deref(), Some(GROUP));
        assert_eq!(failed.error.as_deref(), Some(error));
    }
    // The same group assignment, Active, provides: nothing to do, nothing to report.
    let live = tenant(
        &["MCOMEETADV"],
        vec![(
            "gus@contoso.com",
            Some("US"),
            vec![by_group("MCOMEETADV", "Active", None)],
        )],
        true,
    );
    let p = plan_and_converge(
        &desired(&[("gus@contoso.com", &["audioConferencing"])]),
        &live,
    );
    assert_eq!(lines(&p), Vec::<String>::new());
}

#[test]
fn a_failed_assignment_from_a_managed_group_is_fixed_through_the_group() {
    // The same assignment in error, but from a group commcred.yaml manages (`groups:`): the
    // group's plan reprocesses the member (reported with the group), and the user gets no
    // direct copy and no `assignment_failed` warning.
    let mut live = tenant(
        &["MCOMEETADV", "MCOPSTNC"],
        vec![(
            "gus@contoso.com",
            Some("US"),
            vec![by_group("MCOMEETADV", "Error", Some("CountViolation"))],
        )],
        true,
    );
    live.groups[0].members = vec!["id-gus@contoso.com".into()];
    live.groups[0].assigned_licenses = vec![
        serde_json::from_value(
            json!({"skuId": live.subscribed_skus[0].sku_id, "disabledPlans": []}),
        )
        .unwrap(),
    ];
    let mut want = desired(&[(
        "gus@contoso.com",
        &["audioConferencing", "communicationsCredits"],
    )]);
    want.groups.list.push(DesiredGroup {
        key: GroupKey::DisplayName("Sales Phones".into()),
        licenses: vec![GroupLicense {
            name: LicenseName::Friendly(Friendly::AudioConferencing),
            disabled_plans: vec![],
        }],
        origin: Origin {
            file: std::path::Path::new("commcred.yaml").into(),
            line: 5,
            column: 5,
        },
    });
    let p = plan_and_converge(&want, &live);
    assert_eq!(lines(&p), ["gus@contoso.com: +MCOPSTNC"]);
    assert_eq!(
        notes(&p, "gus@contoso.com"),
        [
            "audioConferencing (MCOMEETADV) from group \"Sales Phones\" is in error: fixed through the group, not a direct copy"
        ]
    );
    let group = &p.groups[0];
    assert_eq!(
        (
            group.errors.len(),
            group.errors[0].upn.as_str(),
            group.errors[0].error.as_str()
        ),
        (1, "gus@contoso.com", "CountViolation")
    );
    assert_eq!(group.reprocess[0].upn, "gus@contoso.com");
}

#[test]
fn disabled_plans_switch_a_capability_off() {
    let live = tenant(
        &["SPE_E5", "MCOMEETADV", "MCOEV", "MCOPSTN1"],
        vec![
            (
                "dana@contoso.com",
                Some("US"),
                vec![with_disabled("SPE_E5", &["MCOMEETADV"])],
            ),
            (
                "dirk@contoso.com",
                Some("US"),
                vec![with_disabled("SPE_E5", &["MCOEV"])],
            ),
            ("ella@contoso.com", Some("US"), vec![direct("SPE_E5")]),
        ],
        true,
    );
    let want = desired(&[
        ("dana@contoso.com", &["audioConferencing"]),
        ("dirk@contoso.com", &["phoneSystem", "domesticCallingPlan"]),
        (
            "ella@contoso.com",
            &["audioConferencing", "phoneSystem", "domesticCallingPlan"],
        ),
    ]);
    let p = plan_and_converge(&want, &live);
    assert_eq!(
        lines(&p),
        [
            "dana@contoso.com: +MCOMEETADV",
            "dirk@contoso.com: +MCOEV +MCOPSTN1",
            "ella@contoso.com: +MCOPSTN1",
        ]
    );
}

#[test]
fn losing_e5_and_keeping_audio_conferencing_converges_in_one_apply() {
    let live = tenant(
        &["SPE_E5", "MCOMEETADV"],
        vec![
            ("ann@contoso.com", Some("US"), vec![]),
            ("lou@contoso.com", Some("US"), vec![direct("SPE_E5")]),
        ],
        true,
    );
    // SPE_E5 is named in the YAML, so commcred manages it: lou loses it.
    let want = desired(&[
        ("ann@contoso.com", &["SPE_E5"]),
        ("lou@contoso.com", &["audioConferencing"]),
    ]);
    let p = plan_and_converge(&want, &live);
    assert_eq!(
        lines(&p),
        [
            "ann@contoso.com: +SPE_E5",
            "lou@contoso.com: +MCOMEETADV -SPE_E5"
        ]
    );
}

#[test]
fn credits_on_a_tenant_without_funding_warn() {
    let live = tenant(
        &["MCOMEETADV", "MCOPSTNC"],
        vec![("cy@contoso.com", Some("US"), vec![])],
        false,
    );
    let p = plan_and_converge(
        &desired(&[(
            "cy@contoso.com",
            &["audioConferencing", "communicationsCredits"],
        )]),
        &live,
    );
    assert_eq!(
        lines(&p),
        [
            "cy@contoso.com: +MCOMEETADV +MCOPSTNC",
            "commcred::plan::credits_unfunded users hold the Communications Credits license, but the tenant has no usable credits and commcred.yaml does not manage funding (no `communicationsCredits` section): calls paid from credits will fail",
        ]
    );
}

#[test]
fn friendly_names_resolve_by_capability_and_say_what_to_buy() {
    let live = tenant(
        &["MCOMEETADV_GOV", "SPE_E5"],
        vec![("al@contoso.com", Some("US"), vec![])],
        true,
    );
    let p = plan_and_converge(
        &desired(&[("al@contoso.com", &["audioConferencing"])]),
        &live,
    );
    assert_eq!(lines(&p), ["al@contoso.com: +MCOMEETADV_GOV"]);
    let e = plan(
        &desired(&[("al@contoso.com", &["phoneSystem"])]),
        &live,
        now(),
    )
    .unwrap_err();
    let msg = &error_messages(&e)[0];
    assert!(msg.starts_with("commcred::plan::sku_not_subscribed commcred.yaml:10:5: the tenant has no subscription that sells Teams Phone for `phoneSystem`"), "{msg}");
    assert!(msg.contains("buy one of MCOEV, MCOEVSMB_1"), "{msg}");
    assert_eq!(Friendly::PhoneSystem.capabilities().len(), 1);
}

#[test]
fn every_problem_of_every_user_is_reported_at_its_entry_with_suggestions() {
    let live = tenant(
        &["MCOMEETADV", "MCOPSTN1", "MCOPSTNC"],
        vec![
            ("alice@contoso.com", Some("US"), vec![]),
            ("bob@contoso.com", Some("US"), vec![]),
        ],
        true,
    );
    let want = desired(&[
        ("alcie@contoso.com", &["audioConferencing"]),
        (
            "bob@contoso.com",
            &["domesticCallingPlan", "communicationsCredits", "MCOPSTN2"],
        ),
    ]);
    let e = plan(&want, &live, now()).unwrap_err();
    assert_eq!(
        error_messages(&e),
        [
            "commcred::plan::sku_not_subscribed commcred.yaml:11:5: the tenant has no subscription for license `MCOPSTN2` (wanted by 1 user) | did you mean `MCOPSTN1`? `subscribedSkus` lists what the tenant has",
            "commcred::plan::prerequisite_missing commcred.yaml:11:5: License assignment failed for user bob@contoso.com because service plan MCOPSTN1 depends on the service plan(s) MCOEV (Teams Phone). | add phoneSystem (Teams Phone) to the user's licenses or profile",
            "commcred::plan::prerequisite_missing commcred.yaml:11:5: bob@contoso.com would hold communicationsCredits without audio conferencing or Teams Phone with a calling plan, so the credits could never be used | add audioConferencing, or phoneSystem plus a calling plan, to the user's licenses or profile",
            "commcred::plan::user_not_found commcred.yaml:10:5: user alcie@contoso.com does not exist in the tenant | did you mean `alice@contoso.com`? commcred assigns licenses but does not create accounts",
        ]
    );
}

/// Wider wants than the graph tests': 120-minute and pay-as-you-go plans, credits.
const EMULATOR_WANTS: &[&[&str]] = &[
    &["audioConferencing", "communicationsCredits"],
    &[
        "phoneSystem",
        "domesticCallingPlan120",
        "communicationsCredits",
    ],
    &[
        "phoneSystem",
        "payAsYouGoCallingPlan",
        "communicationsCredits",
    ],
    &[
        "phoneSystem",
        "domesticCallingPlan",
        "internationalCallingPlan",
    ],
    &["phoneSystem"],
    &[],
];

#[test]
fn emulator_sample_apply_then_plan_shows_no_changes() {
    // A smaller sample than the file engine's property test (planner_props): a few seeds of
    // the catalog-built synthetic tenant (E5 Calling Minutes, G5, resource accounts, group
    // assignments in error, disabledPlans), applied through Graph and the file backend.
    for seed in 0..4u64 {
        let users = 18;
        let live = crate::testkit::tenant(users, seed);
        let names: Vec<(String, &[&str])> = (0..users)
            .map(|n| {
                let i = (n + seed as usize) % EMULATOR_WANTS.len();
                (format!("user{n}@contoso.com"), EMULATOR_WANTS[i])
            })
            .collect();
        let refs: Vec<(&str, &[&str])> = names.iter().map(|(u, w)| (u.as_str(), *w)).collect();
        let want = desired(&refs);
        // apply_both plans through Graph, applies, and asserts planning again is empty.
        let (file, graph, _, _, _) = crate::graph::apply_both(&live, &want, |_| {}, |_| {});
        assert_eq!(
            crate::graph::license_state(&graph),
            crate::graph::license_state(&file),
            "seed {seed}"
        );
    }
}

#[test]
fn licenses_command_prints_the_catalog_and_a_tenants_skus() {
    let dir = crate::common::example("quickstart");
    let out = crate::common::commcred(dir.path())
        .args(["licenses"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("service plans: MCOPSTN5, MCOPSTN8, PSTN5_US"),
        "{text}"
    );
    assert!(text.contains("sold by: MCOPSTN5, MCOPSTN5_US"), "{text}");
    assert!(text.contains("sold by: MCOPSTNC, MCOPSTNPP"), "{text}");
    let out = crate::common::commcred(dir.path())
        .args(["licenses", "--tenant"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("Subscribed SKUs of contoso.onmicrosoft.com"),
        "{text}"
    );
    let e5 = text
        .lines()
        .find(|l| l.contains("ENTERPRISEPREMIUM"))
        .unwrap();
    assert!(
        e5.ends_with("provides: audio conferencing, Teams Phone"),
        "{e5}"
    );
    let phone = text
        .lines()
        .find(|l| l.trim_start().starts_with("MCOEV "))
        .unwrap();
    assert!(
        phone.ends_with("sells Teams Phone (`phoneSystem`)"),
        "{phone}"
    );
}

#[test]
fn plan_errors_point_at_the_yaml_and_the_csv_row_through_the_binary() {
    let dir = crate::common::example("quickstart");
    let csv = dir.path().join("onboarding/sales.csv");
    let text = crate::common::read(&csv).replace("hank@contoso.com", "hnak@contoso.com");
    std::fs::write(&csv, text).unwrap();
    let yaml = dir.path().join("commcred.yaml");
    let text = crate::common::read(&yaml)
        .replace("licenses: [phoneSystem]", "licenses: [domesticCallingPlan]");
    std::fs::write(&yaml, text).unwrap();
    let out = crate::common::commcred(dir.path())
        .args(["plan", "commcred.yaml"])
        .assert()
        .code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    for expected in [
        "commcred::plan::user_not_found",
        "onboarding/sales.csv:3:1: user hnak@contoso.com does not exist in the tenant",
        "did you mean `hank@contoso.com`?",
        "commcred::plan::prerequisite_missing",
        "commcred.yaml:37:10: License assignment failed for user frank@contoso.com",
    ] {
        assert!(
            stderr.contains(expected),
            "missing `{expected}` in:\n{stderr}"
        );
    }
}

#[test]
fn seat_shortfall_and_tenant_mismatch_name_where_they_are_written() {
    let mut live = tenant(
        &["MCOMEETADV"],
        vec![("sam@contoso.com", Some("US"), vec![])],
        true,
    );
    live.subscribed_skus[0].prepaid_units.enabled = 0;
    let e = plan(
        &desired(&[("sam@contoso.com", &["audioConferencing"])]),
        &live,
        now(),
    )
    .unwrap_err();
    assert_eq!(
        error_messages(&e),
        [
            "commcred::plan::seat_shortfall not enough audioConferencing (MCOMEETADV) seats: the plan needs 1 more, 0 available, short by 1 (users: sam@contoso.com at commcred.yaml:10:5) | buy at least 1 more MCOMEETADV license, or assign it to fewer users"
        ]
    );

    let dir = crate::common::example("quickstart");
    let yaml = dir.path().join("commcred.yaml");
    let text = crate::common::read(&yaml).replace(
        "tenant: contoso.onmicrosoft.com",
        "tenant: fabrikam.onmicrosoft.com",
    );
    std::fs::write(&yaml, text).unwrap();
    let out = crate::common::commcred(dir.path())
        .args(["plan"])
        .assert()
        .code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr
            .contains("commcred.yaml:3:9: commcred.yaml is for tenant `fabrikam.onmicrosoft.com`"),
        "{stderr}"
    );
}

#[test]
fn a_failed_group_assignment_is_reported_in_human_json_and_markdown() {
    let dir = crate::common::example("quickstart");
    let path = dir.path().join("tenant.json");
    let mut t: Value = serde_json::from_str(&crate::common::read(&path)).unwrap();
    let users = t["users"].as_array_mut().unwrap();
    let dave = users
        .iter_mut()
        .find(|u| u["userPrincipalName"] == "dave@contoso.com")
        .unwrap();
    dave["licenseAssignmentStates"][0]["state"] = json!("Error");
    dave["licenseAssignmentStates"][0]["error"] = json!("CountViolation");
    t["groups"] =
        json!([{"id": "6a1e3c52-9d4b-4e8f-a0c1-2f7b9e3d5a10", "displayName": "Conferencing"}]);
    std::fs::write(&path, serde_json::to_string_pretty(&t).unwrap()).unwrap();
    let run = |format: &str| {
        let out = crate::common::commcred(dir.path())
            .args(["plan", "--format", format])
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let expected = "dave@contoso.com: MCOMEETADV from group Conferencing is in state Error (CountViolation): it gives the user nothing until that is fixed";
    let human = run("human");
    // The other warning: ivan, a new hire, gets Teams Phone and holds no license with Teams.
    assert!(human.contains("Warnings (2):"), "{human}");
    assert!(human.contains(expected), "{human}");
    assert!(
        human.contains("[commcred::plan::assignment_failed]"),
        "{human}"
    );
    let markdown = run("markdown");
    assert!(markdown.contains("#### Warnings (2)"), "{markdown}");
    assert!(markdown.contains("CountViolation"), "{markdown}");
    let doc: Value = serde_json::from_str(&run("json")).unwrap();
    let w = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "commcred::plan::assignment_failed")
        .unwrap();
    assert_eq!(w["upn"], "dave@contoso.com");
    assert_eq!(w["assignment"]["group_name"], "Conferencing");
    assert_eq!(w["assignment"]["state"], "Error");
    assert_eq!(w["assignment"]["error"], "CountViolation");
    assert_eq!(w["assignment"]["license"]["sku_part_number"], "MCOMEETADV");
    // dave wants audio conferencing: the failed group assignment gives none, so the plan
    // assigns it directly.
    let dave_change = doc["user_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["upn"] == "dave@contoso.com")
        .unwrap();
    assert!(
        dave_change.to_string().contains("MCOMEETADV"),
        "{dave_change}"
    );
}
