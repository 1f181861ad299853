//! Export on hand-made tenants with the awkward cases (E5, groups, raw SKUs, two
//! pay-as-you-go zones, rule-breaking users, MCA accounts) and on generated ones. Each checks
//! what is listed and that the in-memory plan of the export is a no-op.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;
use crate::config::schema::{GraphTarget, PaymentMethod};
use crate::tenant::Snapshot;

fn now() -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

fn opts() -> ExportOptions {
    ExportOptions {
        backend: Some(Backend::Map(crate::config::schema::BackendMap::Graph(
            GraphTarget::Microsoft,
        ))),
        users_csv: None,
        source: "test".into(),
        now: now(),
        schema_ref: "../schemas/commcred.schema.json".into(),
    }
}

const SKUS: &[(&str, &str, &[&str])] = &[
    (
        "aaaaaaaa-0000-0000-0000-000000000001",
        "MCOMEETADV",
        &["MCOMEETADV"],
    ),
    ("aaaaaaaa-0000-0000-0000-000000000002", "MCOEV", &["MCOEV"]),
    (
        "aaaaaaaa-0000-0000-0000-000000000003",
        "MCOPSTN1",
        &["MCOPSTN1"],
    ),
    (
        "aaaaaaaa-0000-0000-0000-000000000004",
        "MCOPSTN2",
        &["MCOPSTN2"],
    ),
    (
        "aaaaaaaa-0000-0000-0000-000000000005",
        "MCOPSTNC",
        &["MCOPSTNC"],
    ),
    (
        "aaaaaaaa-0000-0000-0000-000000000006",
        "SPE_E5",
        &["EXCHANGE_S_ENTERPRISE", "MCOMEETADV", "MCOEV"],
    ),
    (
        "aaaaaaaa-0000-0000-0000-000000000007",
        "MCOPSTN_6",
        &["MCOPSTN6"],
    ),
    (
        "aaaaaaaa-0000-0000-0000-000000000008",
        "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1)",
        &["MCOPSTN_PAYG_1"],
    ),
    (
        "aaaaaaaa-0000-0000-0000-000000000009",
        "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_2)",
        &["MCOPSTN_PAYG_2"],
    ),
];

fn sku_id(part: &str) -> &'static str {
    SKUS.iter().find(|s| s.1 == part).unwrap().0
}

/// A user holding `direct` part numbers directly and `group` part numbers through a group.
fn user(upn: &str, location: Option<&str>, direct: &[&str], group: &[&str]) -> Value {
    let mut assigned = Vec::new();
    let mut states = Vec::new();
    for p in direct {
        assigned.push(json!({"skuId": sku_id(p), "disabledPlans": []}));
        states.push(json!({"skuId": sku_id(p), "assignedByGroup": null, "state": "Active"}));
    }
    for p in group {
        if !direct.contains(p) {
            assigned.push(json!({"skuId": sku_id(p), "disabledPlans": []}));
        }
        states.push(json!({"skuId": sku_id(p), "assignedByGroup": "group-1", "state": "Active"}));
    }
    json!({
        "id": format!("id-{upn}"), "userPrincipalName": upn, "usageLocation": location,
        "assignedLicenses": assigned, "licenseAssignmentStates": states
    })
}

fn tenant(users: Vec<Value>, credits: Value) -> Snapshot {
    let skus: Vec<Value> = SKUS
        .iter()
        .enumerate()
        .map(|(i, (id, part, plans))| {
            json!({
                "skuId": id, "skuPartNumber": part, "appliesTo": "User",
                "prepaidUnits": {"enabled": 100, "warning": 0},
                "consumedUnits": 10,
                "servicePlans": plans.iter().enumerate().map(|(k, p)| json!({
                    "servicePlanId": format!("bbbbbbbb-0000-0000-{i:04}-{k:012}"),
                    "servicePlanName": p
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut value = json!({
        "tenant": {"id": "t-1", "domain": "fabrikam.onmicrosoft.com"},
        "subscribedSkus": skus,
        "users": users,
    });
    if !credits.is_null() {
        value["communicationsCredits"] = credits;
    }
    serde_json::from_value(value).unwrap()
}

fn mosa() -> Value {
    json!({
        "billingAccountType": "MOSA", "currency": "EUR",
        "funds": [{"id": "f-1", "purchasedAt": "2026-06-01T00:00:00Z", "amount": "300.00", "remaining": "120.5"}],
        "autoRecharge": {"enabled": true, "triggerBelow": "100", "rechargeAmount": "250.5"},
        "payment": {"method": "enterpriseAgreement", "agreementNumber": "00012345", "purchaseOrder": "PO-1"}
    })
}

fn listed_users(e: &Export) -> Vec<(String, Option<String>, String)> {
    e.document
        .users
        .iter()
        .map(|u| match u {
            UserEntry::User(u) => (
                u.upn.clone(),
                u.usage_location.as_ref().map(|c| c.0.clone()),
                u.profile.clone().unwrap(),
            ),
            UserEntry::Csv(_) => panic!("inline users expected"),
        })
        .collect()
}

fn codes(e: &Export) -> Vec<&'static str> {
    e.warnings.iter().map(|w| w.code).collect()
}

#[test]
// Long: one end-to-end scenario, step by step.
fn lists_direct_managed_licenses_only_and_plans_as_a_no_op() {
    let live = tenant(
        vec![
            user(
                "carol@fabrikam.com",
                Some("US"),
                &["SPE_E5", "MCOPSTNC"],
                &[],
            ),
            user("dave@fabrikam.com", Some("US"), &[], &["MCOMEETADV"]),
            user(
                "dora@fabrikam.com",
                Some("US"),
                &["MCOPSTNC"],
                &["MCOMEETADV"],
            ),
            user("kim@fabrikam.com", Some("KR"), &["SPE_E5"], &[]),
            user("bob@fabrikam.com", None, &[], &[]),
            user(
                "erin@fabrikam.com",
                Some("US"),
                &["MCOEV", "MCOPSTN_6", "MCOPSTNC"],
                &[],
            ),
            user(
                "zed@fabrikam.com",
                Some("XK"),
                &["MCOMEETADV", "MCOPSTNC"],
                &["MCOMEETADV"],
            ),
            user(
                "pat@fabrikam.com",
                Some("GB"),
                &[
                    "MCOEV",
                    "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_2)",
                ],
                &[],
            ),
        ],
        mosa(),
    );
    let e = export(&live, &opts());
    assert_eq!(codes(&e), Vec::<&str>::new(), "{:?}", e.warnings);
    assert_eq!(
        listed_users(&e),
        vec![
            ("carol@fabrikam.com".into(), None, "credits".into()),
            ("dora@fabrikam.com".into(), None, "credits".into()),
            (
                "erin@fabrikam.com".into(),
                None,
                "phone+mcopstn-6+credits".into()
            ),
            (
                "pat@fabrikam.com".into(),
                Some("GB".into()),
                "phone+payg-calling-country-zone-2".into()
            ),
            // XK is Microsoft's Kosovo, not ISO 3166: left out, the user keeps it.
            (
                "zed@fabrikam.com".into(),
                None,
                "audio-conferencing+credits".into()
            ),
        ]
    );
    assert_eq!(
        e.document.default_usage_location,
        Some(Country("US".into()))
    );
    assert_eq!(
        e.document.profiles["phone+payg-calling-country-zone-2"],
        vec![
            License("phoneSystem".into()),
            License("Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_2)".into())
        ]
    );
    let credits = e.document.communications_credits.as_ref().unwrap();
    assert_eq!(credits.currency.0, "EUR");
    assert_eq!(credits.minimum_balance, None);
    let ar = credits.auto_recharge.as_ref().unwrap();
    assert!(ar.enabled);
    assert_eq!(ar.trigger_below.as_ref().unwrap().0, "100.00");
    assert_eq!(ar.recharge_amount.as_ref().unwrap().0, "250.50");
    let pay = credits.payment.as_ref().unwrap();
    assert_eq!(pay.method, PaymentMethod::EnterpriseAgreement);
    assert_eq!(pay.agreement_number.as_deref(), Some("00012345"));
    assert!(
        e.yaml
            .contains("# Usable balance on 2026-11-25: 120.50 EUR."),
        "{}",
        e.yaml
    );
}

#[test]
fn rule_breaking_users_are_left_out_with_a_warning() {
    let live = tenant(
        vec![
            user("ok@fabrikam.com", Some("US"), &["MCOMEETADV"], &[]),
            user("lonely@fabrikam.com", Some("US"), &["MCOPSTNC"], &[]),
            user("nophone@fabrikam.com", Some("US"), &["MCOPSTN1"], &[]),
            user("not+valid@fabrikam.com", Some("US"), &["MCOMEETADV"], &[]),
            user(
                "two@fabrikam.com",
                Some("US"),
                &["MCOEV", "MCOPSTN1"],
                &["MCOPSTN2"],
            ),
        ],
        Value::Null,
    );
    let e = export(&live, &opts());
    assert_eq!(
        codes(&e),
        vec![
            "commcred::export::user_skipped",
            "commcred::export::user_skipped"
        ]
    );
    // Two calling plans on one user break no documented rule: `two` is exported.
    assert!(e.warnings[0].message.starts_with("2 users left out"));
    assert!(e.warnings[1].message.starts_with("1 user left out"));
    assert!(e.warnings[1].message.contains("not+valid@fabrikam.com"));
    assert_eq!(e.skipped, 3);
    assert_eq!(listed_users(&e).len(), 2);
    assert!(e.document.communications_credits.is_none());
    assert!(
        e.yaml
            .contains("#   lonely@fabrikam.com holds communicationsCredits")
    );
}

#[test]
fn an_ambiguous_friendly_sku_without_a_writable_name_leaves_its_users_out() {
    let mut live = tenant(
        vec![user(
            "amb@fabrikam.com",
            Some("US"),
            &[
                "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1)",
                "MCOEV",
            ],
            &[],
        )],
        Value::Null,
    );
    // Two SKUs now answer to the same exact part number: no YAML name can pick one.
    live.subscribed_skus[8].sku_part_number = live.subscribed_skus[7].sku_part_number.clone();
    let e = export(&live, &opts());
    assert_eq!(codes(&e), vec!["commcred::export::user_skipped"]);
    assert!(e.document.users.is_empty());
}

#[test]
fn mca_accounts_export_without_funding() {
    let mut credits = mosa();
    credits["billingAccountType"] = json!("MCA");
    let live = tenant(vec![], credits);
    let e = export(&live, &opts());
    assert_eq!(codes(&e), vec!["commcred::export::setting_skipped"]);
    let c = e.document.communications_credits.as_ref().unwrap();
    assert!(c.auto_recharge.is_none() && c.payment.is_none());

    let mut credits = mosa();
    credits["billingAccountType"] = json!("CSP");
    credits["autoRecharge"]["enabled"] = json!(false);
    let e = export(&tenant(vec![], credits), &opts());
    assert_eq!(codes(&e), Vec::<&str>::new(), "{:?}", e.warnings);
    let c = e.document.communications_credits.as_ref().unwrap();
    assert!(!c.auto_recharge.as_ref().unwrap().enabled);
}

#[test]
fn settings_the_yaml_cannot_hold_are_left_out() {
    let mut credits = mosa();
    credits["autoRecharge"]["triggerBelow"] = json!("10.555");
    credits["payment"]["agreementNumber"] = Value::Null;
    let e = export(&tenant(vec![], credits), &opts());
    assert_eq!(
        codes(&e),
        vec![
            "commcred::export::setting_skipped",
            "commcred::export::setting_skipped"
        ]
    );
    let c = e.document.communications_credits.as_ref().unwrap();
    assert!(c.auto_recharge.is_none() && c.payment.is_none());
}

#[test]
fn the_self_check_catches_an_export_that_would_change_the_tenant() {
    let live = tenant(
        vec![user("ok@fabrikam.com", Some("US"), &["MCOMEETADV"], &[])],
        mosa(),
    );
    let e = export(&live, &opts());
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    assert!(verify::check_no_op(&e.yaml, None, &live, now()).is_none());

    let changed = e.yaml.replace(
        "profile: audio-conferencing\n",
        "profile: audio-conferencing\n    licenses: [phoneSystem]\n",
    );
    assert_ne!(changed, e.yaml);
    let w = verify::check_no_op(&changed, None, &live, now()).unwrap();
    assert_eq!(w.code, "commcred::export::not_a_no_op");
    assert!(
        w.message.contains("would change ok@fabrikam.com"),
        "{}",
        w.message
    );

    let unloadable = e.yaml.replace("upn: ok@fabrikam.com", "upn: ok");
    let w = verify::check_no_op(&unloadable, None, &live, now()).unwrap();
    assert!(
        w.message.starts_with("the exported YAML does not load"),
        "{}",
        w.message
    );
}

#[test]
fn users_can_go_to_a_csv() {
    let live = tenant(
        vec![
            user("a@fabrikam.com", Some("US"), &["MCOMEETADV"], &[]),
            user(
                "b@fabrikam.com",
                Some("IT"),
                &["MCOMEETADV", "MCOPSTNC"],
                &[],
            ),
            user("c@fabrikam.com", Some("US"), &["MCOMEETADV"], &[]),
        ],
        Value::Null,
    );
    let e = export(
        &live,
        &ExportOptions {
            users_csv: Some("users.csv".into()),
            ..opts()
        },
    );
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    assert_eq!(e.document.users.len(), 1);
    assert_eq!(
        e.csv.as_deref().unwrap(),
        "upn,usageLocation,profile,licenses,phoneNumber,numberType\n\
         a@fabrikam.com,,audio-conferencing,,,\n\
         b@fabrikam.com,IT,audio-conferencing+credits,,,\n\
         c@fabrikam.com,,audio-conferencing,,,\n"
    );
    assert!(e.yaml.contains("  - csv: users.csv\n"));
}

#[test]
fn the_yaml_reads_back_as_the_same_document() {
    let live = tenant(
        vec![
            user(
                "carol@fabrikam.com",
                Some("NO"),
                &["SPE_E5", "MCOPSTNC"],
                &[],
            ),
            user(
                "erin@fabrikam.com",
                Some("US"),
                &["MCOEV", "MCOPSTN_6"],
                &[],
            ),
        ],
        mosa(),
    );
    let e = export(&live, &opts());
    let text = e.yaml.clone();
    assert!(text.starts_with("# yaml-language-server: $schema=../schemas/commcred.schema.json\n"));
    let back: Document =
        serde_saphyr::from_str(&text).unwrap_or_else(|err| panic!("{err}\n{text}"));
    assert_eq!(back, e.document, "{text}");
    assert!(text.contains("agreementNumber: \"00012345\""), "{text}");
    // A tie between NO and US goes to the first alphabetically; Norway must stay a string.
    assert!(text.contains("defaultUsageLocation: \"NO\""), "{text}");
}

#[test]
fn generated_tenants_export_as_no_ops() {
    for seed in 0..20 {
        let live = crate::testkit::tenant(200, seed);
        let e = export(&live, &opts());
        assert!(e.warnings.is_empty(), "seed {seed}: {:?}", e.warnings);
        assert!(e.listed > 0);
    }
}
