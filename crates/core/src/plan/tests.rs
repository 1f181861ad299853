//! Planner rules on the quickstart tenant, through the library API.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::base::licenses::{Friendly, LicenseName};
use crate::config::{DesiredAutoRecharge, DesiredCredits, DesiredState, DesiredUser, Origin};
use crate::tenant::{Snapshot, SubscribedSku, User};

use super::render::{Style, human};
use super::{PlanErrors, plan};

fn quickstart() -> Snapshot {
    serde_json::from_str(include_str!("../../../../examples/quickstart/tenant.json")).unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-11-25T00:00:00Z".parse().unwrap()
}

fn origin() -> Origin {
    Origin {
        file: std::path::Path::new("commcred.yaml").into(),
        line: 1,
        column: 1,
    }
}

fn user(upn: &str, licenses: &[Friendly]) -> DesiredUser {
    DesiredUser {
        phone: None,
        upn: upn.into(),
        usage_location: None,
        licenses: licenses.iter().map(|&f| LicenseName::Friendly(f)).collect(),
        origin: origin(),
    }
}

fn desired(users: Vec<DesiredUser>) -> DesiredState {
    DesiredState {
        config_path: PathBuf::from("commcred.yaml"),
        digest: "d".into(),
        tenant: "contoso.onmicrosoft.com".into(),
        tenant_origin: None,
        backend: None,
        default_usage_location: Some("US".into()),
        billing_account: None,
        credits: None,
        users,
        prune: false,
        groups: Default::default(),
        prices: None,
    }
}

fn sku_mut<'a>(live: &'a mut Snapshot, part_number: &str) -> &'a mut SubscribedSku {
    live.subscribed_skus
        .iter_mut()
        .find(|s| s.sku_part_number == part_number)
        .expect("the quickstart has this SKU")
}

fn user_mut<'a>(live: &'a mut Snapshot, upn: &str) -> &'a mut User {
    live.users
        .iter_mut()
        .find(|u| u.user_principal_name == upn)
        .expect("the quickstart has this user")
}

fn codes(e: &PlanErrors) -> Vec<&'static str> {
    e.0.iter().map(|p| p.code).collect()
}

use Friendly::*;

#[test]
fn swap_is_one_change_with_add_and_remove() {
    let d = desired(vec![user(
        "alice@contoso.com",
        &[PhoneSystem, InternationalCallingPlan, CommunicationsCredits],
    )]);
    let p = plan(&d, &quickstart(), now()).unwrap();
    assert_eq!(p.users.len(), 1);
    let u = &p.users[0];
    let parts = |v: &Vec<super::SkuRef>| {
        v.iter()
            .map(|s| s.part_number.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(parts(&u.add), ["MCOPSTN2", "MCOPSTNC"]);
    assert_eq!(parts(&u.remove), ["MCOPSTN1"]);
}

#[test]
fn e5_and_group_satisfy_desired_licenses_without_seats() {
    let d = desired(vec![
        user(
            "carol@contoso.com",
            &[AudioConferencing, CommunicationsCredits],
        ),
        user(
            "dave@contoso.com",
            &[AudioConferencing, CommunicationsCredits],
        ),
    ]);
    let p = plan(&d, &quickstart(), now()).unwrap();
    for u in &p.users {
        assert_eq!(u.add.len(), 1, "{u:?}");
        assert_eq!(&*u.add[0].part_number, "MCOPSTNC");
        assert_eq!(u.notes.len(), 1);
    }
    assert!(p.users[0].notes[0].contains("ENTERPRISEPREMIUM"));
    assert!(p.users[1].notes[0].contains("group"));
}

#[test]
fn calling_plan_without_phone_is_a_prerequisite_error() {
    let d = desired(vec![user("bob@contoso.com", &[DomesticCallingPlan])]);
    let e = plan(&d, &quickstart(), now()).unwrap_err();
    assert_eq!(codes(&e), ["commcred::plan::prerequisite_missing"]);
}

#[test]
fn credits_alone_is_a_prerequisite_error() {
    let d = desired(vec![user("bob@contoso.com", &[CommunicationsCredits])]);
    let e = plan(&d, &quickstart(), now()).unwrap_err();
    assert_eq!(codes(&e), ["commcred::plan::prerequisite_missing"]);
}

#[test]
fn two_calling_plans_are_not_refused_without_a_microsoft_rule() {
    let d = desired(vec![user(
        "bob@contoso.com",
        &[PhoneSystem, DomesticCallingPlan, InternationalCallingPlan],
    )]);
    let p = plan(&d, &quickstart(), now()).unwrap();
    let bob = p.users.iter().find(|u| u.upn == "bob@contoso.com").unwrap();
    let added: Vec<&str> = bob.add.iter().map(|a| &*a.part_number).collect();
    assert!(
        added.contains(&"MCOPSTN1") && added.contains(&"MCOPSTN2"),
        "{added:?}"
    );
}

#[test]
fn missing_usage_location_without_default_fails() {
    let mut d = desired(vec![user("bob@contoso.com", &[AudioConferencing])]);
    d.default_usage_location = None;
    let e = plan(&d, &quickstart(), now()).unwrap_err();
    assert_eq!(codes(&e), ["commcred::plan::usage_location_missing"]);
}

#[test]
fn seat_shortfall_names_sku_and_users() {
    let mut live = quickstart();
    sku_mut(&mut live, "MCOPSTN2").prepaid_units.enabled = 1;
    let d = desired(vec![
        user(
            "alice@contoso.com",
            &[PhoneSystem, InternationalCallingPlan],
        ),
        user(
            "erin@contoso.com",
            &[PhoneSystem, InternationalCallingPlan, CommunicationsCredits],
        ),
    ]);
    let e = plan(&d, &live, now()).unwrap_err();
    assert_eq!(codes(&e), ["commcred::plan::seat_shortfall"]);
    assert!(e.0[0].message.contains("short by 1"), "{}", e.0[0].message);
    assert!(e.0[0].message.contains("alice@contoso.com"));
}

#[test]
fn tenant_mismatch_and_unknown_users_are_errors() {
    let mut d = desired(vec![user("nobody@contoso.com", &[AudioConferencing])]);
    assert!(
        plan(&d, &quickstart(), now()).unwrap_err().0[0]
            .code
            .ends_with("user_not_found")
    );
    d.tenant = "fabrikam.onmicrosoft.com".into();
    assert!(
        plan(&d, &quickstart(), now()).unwrap_err().0[0]
            .code
            .ends_with("tenant_mismatch")
    );
}

#[test]
fn credits_top_up_is_exact_and_ignores_expired_funds() {
    let mut d = desired(vec![]);
    d.credits = Some(DesiredCredits {
        currency: "USD".into(),
        minimum_balance: Some(Decimal::new(50000, 2)),
        auto_recharge: Some(DesiredAutoRecharge {
            enabled: true,
            trigger_below: Some(Decimal::new(10000, 2)),
            recharge_amount: Some(Decimal::new(25000, 2)),
        }),
        payment: None,
        ledger: None,
        origin: origin(),
    });
    let p = plan(&d, &quickstart(), now()).unwrap();
    let c = p.credits.as_ref().unwrap();
    assert_eq!(c.add_funds.unwrap().0, Decimal::new(37950, 2));
    assert_eq!(c.settings.len(), 3);
    let text = human::render(&p, Style::default());
    assert!(
        text.contains("+ add funds 379.50 USD (usable balance 120.50 USD -> 500.00 USD)"),
        "{text}"
    );
}

#[test]
fn a_disabled_service_plan_does_not_satisfy() {
    let mut live = quickstart();
    let e5_ac_plan = live
        .subscribed_skus
        .iter()
        .find(|s| s.sku_part_number == "ENTERPRISEPREMIUM")
        .unwrap()
        .service_plans
        .iter()
        .find(|p| p.service_plan_name == "MCOMEETADV")
        .unwrap()
        .service_plan_id
        .clone();
    user_mut(&mut live, "carol@contoso.com").assigned_licenses[0]
        .disabled_plans
        .push(e5_ac_plan);
    let d = desired(vec![user(
        "carol@contoso.com",
        &[AudioConferencing, CommunicationsCredits],
    )]);
    let p = plan(&d, &live, now()).unwrap();
    let added: Vec<String> = p.users[0]
        .add
        .iter()
        .map(|s| s.part_number.to_string())
        .collect();
    assert_eq!(added, ["MCOMEETADV", "MCOPSTNC"]);
}

/// erin (MCOPSTN1) and alice (MCOPSTN1 -> MCOPSTN2) against ivan (given MCOPSTN2 first):
/// two users trading calling plans need one spare seat to start the chain.
#[test]
fn calling_plan_trades_need_a_spare_seat_to_be_ordered() {
    use crate::backend::file::engine::apply_to_snapshot;
    let mut live = quickstart();
    let p2 = "d3b4fe1f-9992-4930-8acb-ca6ec609365e";
    // erin holds MCOPSTN2 instead of MCOPSTN1; both calling-plan SKUs are full.
    let erin = user_mut(&mut live, "erin@contoso.com");
    erin.assigned_licenses[1].sku_id = p2.into();
    erin.license_assignment_states.as_mut().unwrap()[1].sku_id = p2.into();
    for sku in &mut live.subscribed_skus {
        match sku.sku_part_number.as_str() {
            "MCOPSTN1" => (sku.prepaid_units.enabled, sku.consumed_units) = (1, 1),
            "MCOPSTN2" => (sku.prepaid_units.enabled, sku.consumed_units) = (1, 1),
            _ => {}
        }
    }
    let d = desired(vec![
        user(
            "alice@contoso.com",
            &[PhoneSystem, InternationalCallingPlan],
        ),
        user(
            "erin@contoso.com",
            &[PhoneSystem, DomesticCallingPlan, CommunicationsCredits],
        ),
    ]);
    let e = plan(&d, &live, now()).unwrap_err();
    assert_eq!(codes(&e), ["commcred::plan::swaps_unorderable"]);
    assert!(
        e.0[0].message.contains("cannot be ordered"),
        "{}",
        e.0[0].message
    );

    // One spare MCOPSTN1 seat: alice (first by name) must wait until erin has moved.
    sku_mut(&mut live, "MCOPSTN1").prepaid_units.enabled = 2;
    let p = plan(&d, &live, now()).unwrap();
    let mut after = live.clone();
    let report = apply_to_snapshot(&mut after, &p.operations(), now());
    assert!(report.is_success(), "{:?}", report.failed);
    assert!(!plan(&d, &after, now()).unwrap().has_changes());
}

#[test]
fn a_friendly_name_and_its_part_number_assign_once() {
    let mut bob = user("bob@contoso.com", &[PhoneSystem]);
    bob.licenses.push(LicenseName::PartNumber("MCOEV".into()));
    let p = plan(&desired(vec![bob]), &quickstart(), now()).unwrap();
    assert_eq!(p.users[0].add.len(), 1);
    assert_eq!(p.summary().assign, 1);
}
