//! The ledger as the live credits state: diffing, confirmation, convergence, idempotency,
//! and the replay's estimated auto-recharges, through the library (the Graph path minus
//! HTTP).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use crate::config::{DesiredAutoRecharge, DesiredCredits, DesiredPayment, DesiredState, Origin};
use crate::tenant::{PaymentMethod, Snapshot};

use super::CreditsError;
use crate::backend::ledger::{How, Ledger, Stamp};
use crate::plan::saved::plan_id;
use crate::plan::steps::{StepKind, render, steps_for};
use crate::workflow::credits::{CreditsSource, annotate, prepare};
use crate::workflow::ledger::record_confirmed;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// The quickstart tenant as Graph shows it: no credits account at all.
fn graph_tenant() -> Snapshot {
    let mut s: Snapshot =
        serde_json::from_str(include_str!("../../../../examples/quickstart/tenant.json")).unwrap();
    s.communications_credits = None;
    s
}

fn desired(dir: &std::path::Path) -> DesiredState {
    DesiredState {
        config_path: dir.join("commcred.yaml"),
        digest: "digest".into(),
        tenant: "contoso.onmicrosoft.com".into(),
        tenant_origin: None,
        backend: None,
        default_usage_location: Some("US".into()),
        billing_account: None,
        credits: Some(DesiredCredits {
            currency: "USD".into(),
            minimum_balance: Some(d("500.00")),
            auto_recharge: Some(DesiredAutoRecharge {
                enabled: true,
                trigger_below: Some(d("100.00")),
                recharge_amount: Some(d("250.00")),
            }),
            payment: Some(DesiredPayment {
                method: PaymentMethod::EnterpriseAgreement,
                agreement_number: Some("62839471".into()),
                purchase_order: Some("PO-2026-114".into()),
            }),
            ledger: Some(dir.join("ledger.json")),
            origin: Origin {
                file: std::path::Path::new("commcred.yaml").into(),
                line: 8,
                column: 1,
            },
        }),
        users: Vec::new(),
        prune: false,
        groups: Default::default(),
        prices: None,
    }
}

/// A ledger recorded on 2026-11-01: 120.50 USD left of a purchase of 2026-03-15, nothing
/// else known; one charged call since.
fn write_ledger(path: &std::path::Path) {
    let ledger = json!({
        "formatVersion": 1,
        "tenant": "contoso.onmicrosoft.com",
        "communicationsCredits": {
            "billingAccountType": "MOSA", "currency": "USD",
            "funds": [{"id": "obs-1", "purchasedAt": "2026-03-15T00:00:00Z", "amount": "120.50",
                       "remaining": "120.50", "countsFrom": "2026-11-01T00:00:00Z",
                       "recorded": {"by": "alice", "at": "2026-11-01T00:00:00Z", "how": "ledgerRecord"}}]
        },
        "pstnCalls": [{"id": "c1", "startDateTime": "2026-11-10T09:00:00Z", "charge": "20.25",
                       "connectionCharge": "0.25", "currency": "USD",
                       "userPrincipalName": "erin@contoso.com"}]
    });
    std::fs::write(path, serde_json::to_string_pretty(&ledger).unwrap()).unwrap();
}

fn plan_at(desired: &DesiredState, now: DateTime<Utc>) -> crate::plan::Plan {
    let mut live = graph_tenant();
    let ctx = prepare(
        desired,
        &mut live,
        CreditsSource::Ledger { pstn: None },
        now,
    )
    .unwrap();
    let mut plan = crate::plan::plan(desired, &live, now).unwrap();
    annotate(&mut plan, &ctx);
    plan
}

fn stamp(how: How, now: DateTime<Utc>) -> Stamp {
    Stamp {
        by: "bob".into(),
        at: now,
        how,
        plan: None,
        step: None,
    }
}

#[test]
// Long: one end-to-end scenario, step by step.
fn the_plan_diffs_the_yaml_against_the_ledger_and_converges_once_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.json");
    write_ledger(&path);
    let desired = desired(dir.path());
    let now = at("2026-11-25T12:00:00Z");

    let plan = plan_at(&desired, now);
    let c = plan.credits.as_ref().unwrap();
    // 120.50 - (20.25 + 0.25) = 100.00 usable; minimumBalance 500.00 -> add exactly 400.00.
    assert_eq!(c.observed.usable_balance.0, d("100.00"));
    assert_eq!(c.add_funds.unwrap().0, d("400.00"));
    assert_eq!(c.settings.len(), 6, "{:?}", c.settings);
    assert_eq!(c.ledger.as_deref(), Some(path.to_str().unwrap()));

    let steps = steps_for(c);
    let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            StepKind::Payment,
            StepKind::AddFunds,
            StepKind::AutoRecharge
        ]
    );
    let text = render(c, &steps);
    assert!(
        text.contains("Step 1 of 3: Payment method: Enterprise Agreement"),
        "{text}"
    );
    assert!(
        text.contains("Go to: Billing > Your products > Communication Credits > Add funds"),
        "{text}"
    );
    assert!(
        text.contains("Agreement number  62839471   (now: (empty))"),
        "{text}"
    );
    assert!(
        text.contains("When balance is below  100.00 USD   (now: (empty))"),
        "{text}"
    );
    assert!(
        text.contains("Add this amount        250.00 USD   (now: (empty))"),
        "{text}"
    );
    assert!(text.contains("Amount  400.00 USD"), "{text}");

    // Confirm everything; the ledger takes the purchase and the settings.
    let id = plan_id(&plan);
    let all: Vec<_> = steps.iter().collect();
    let wait = crate::base::fsio::DEFAULT_LOCK_WAIT;
    let recorded =
        record_confirmed(&path, &id, c, &all, &stamp(How::ConfirmManual, now), wait).unwrap();
    assert_eq!(recorded.recorded.len(), 3);
    let ledger = crate::backend::ledger::load(&path).unwrap().unwrap();
    let account = ledger.communications_credits.as_ref().unwrap();
    assert_eq!(account.funds.len(), 2);
    assert_eq!(account.funds[1].fund.amount.0, d("400.00"));
    assert_eq!(account.funds[1].recorded.plan.as_deref(), Some(id.as_str()));
    assert_eq!(account.auto_recharge.confirmed.as_ref().unwrap().by, "bob");
    assert_eq!(ledger.confirmations.len(), 3);

    // Planning again: nothing left to do.
    let again = plan_at(&desired, at("2026-11-25T13:00:00Z"));
    let c2 = again.credits.as_ref().unwrap();
    assert!(!c2.has_changes(), "{:?}", c2.settings);
    assert_eq!(c2.observed.usable_balance.0, d("500.00"));

    // Recording the same plan again records nothing: the purchase is keyed by plan + step.
    let before = std::fs::read_to_string(&path).unwrap();
    let twice = record_confirmed(&path, &id, c, &all, &stamp(How::Terminal, now), wait).unwrap();
    assert!(twice.recorded.is_empty());
    assert_eq!(twice.already.len(), 3);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

#[test]
fn a_partial_confirmation_leaves_the_rest_in_the_next_plan_and_stale_plans_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.json");
    write_ledger(&path);
    let desired = desired(dir.path());
    let now = at("2026-11-25T12:00:00Z");
    let plan = plan_at(&desired, now);
    let c = plan.credits.as_ref().unwrap();
    let steps = steps_for(c);
    let id = plan_id(&plan);

    // Only the payment step was done.
    let wait = crate::base::fsio::DEFAULT_LOCK_WAIT;
    let terminal = stamp(How::Terminal, now);
    record_confirmed(&path, &id, c, &[&steps[0]], &terminal, wait).unwrap();
    let next = plan_at(&desired, now);
    let kinds: Vec<StepKind> = steps_for(next.credits.as_ref().unwrap())
        .iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(kinds, [StepKind::AddFunds, StepKind::AutoRecharge]);

    // The first plan saw no payment settings; the ledger has them now: the remaining
    // steps of that old plan are refused rather than recorded against a changed account.
    let err = record_confirmed(&path, &id, c, &[&steps[1]], &terminal, wait).unwrap_err();
    assert!(matches!(err, CreditsError::LedgerStale { .. }), "{err}");
    assert!(err.to_string().contains("the payment settings"), "{err}");
}

#[test]
fn replay_estimates_the_auto_recharges_microsoft_makes() {
    let mut ledger: Ledger = serde_json::from_value(json!({
        "formatVersion": 1,
        "communicationsCredits": {
            "billingAccountType": "MOSA", "currency": "USD",
            "funds": [{"id": "p1", "purchasedAt": "2026-06-01T00:00:00Z", "amount": "150.00",
                       "remaining": "150.00", "countsFrom": "2026-06-01T00:00:00Z",
                       "recorded": {"by": "a", "at": "2026-06-01T00:00:00Z", "how": "terminal"}}],
            "autoRecharge": {"enabled": true, "triggerBelow": "100.00", "rechargeAmount": "250.00",
                             "confirmed": {"by": "a", "at": "2026-06-01T00:00:00Z", "how": "terminal"}}
        }
    }))
    .unwrap();
    ledger.add_calls([
        serde_json::from_value(json!({"id": "a", "startDateTime": "2026-06-10T00:00:00Z", "charge": "49.99", "currency": "USD"})).unwrap(),
        serde_json::from_value(json!({"id": "b", "startDateTime": "2026-06-11T00:00:00Z", "charge": "0.02", "currency": "USD"})).unwrap(),
        serde_json::from_value(json!({"id": "c", "startDateTime": "2026-06-12T00:00:00Z", "charge": "5.00", "currency": "EUR"})).unwrap(),
    ]);
    let replay = ledger
        .communications_credits
        .as_ref()
        .unwrap()
        .replay(&ledger.pstn_calls, at("2026-07-01T00:00:00Z"));
    // 150.00 - 49.99 = 100.01: not below 100.00, no recharge. - 0.02 = 99.99: below, so
    // Microsoft adds 250.00: 349.99. The EUR call cannot be paid from a USD account.
    let usable =
        crate::tenant::credits::usable_balance(&replay.account, at("2026-07-01T00:00:00Z"));
    assert_eq!(usable, d("349.99"));
    let recharges: Vec<_> = replay.estimated_recharges().collect();
    assert_eq!(recharges.len(), 1);
    assert_eq!(recharges[0].purchased_at, at("2026-06-11T00:00:00Z"));
    assert_eq!(replay.other_currencies.get("EUR"), Some(&d("5.00")));
    assert_eq!(replay.uncovered, Decimal::ZERO);
}

#[test]
fn a_missing_ledger_on_graph_is_a_diagnostic_that_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let desired = desired(dir.path());
    let mut live = graph_tenant();
    let err = prepare(
        &desired,
        &mut live,
        CreditsSource::Ledger { pstn: None },
        at("2026-11-25T00:00:00Z"),
    )
    .err()
    .unwrap();
    let code = miette::Diagnostic::code(&err).unwrap().to_string();
    assert_eq!(code, "commcred::credits::ledger_missing");
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert!(
        help.contains("commcred ledger record --billing-account MOSA"),
        "{help}"
    );
}

#[test]
fn an_mca_account_gets_the_one_step_that_works_and_an_explanation_for_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.json");
    write_ledger(&path);
    let mut ledger = crate::backend::ledger::load(&path).unwrap().unwrap();
    let account = ledger.communications_credits.as_mut().unwrap();
    account.billing_account_type = crate::tenant::BillingAccountType::Mca;
    account.auto_recharge.state.enabled = true;
    std::fs::write(&path, crate::backend::ledger::to_string(&ledger)).unwrap();
    let now = at("2026-11-25T12:00:00Z");

    // Funding an MCA account: a plan error saying why and what to do instead.
    let mut funding = desired(dir.path());
    let mut live = graph_tenant();
    prepare(
        &funding,
        &mut live,
        CreditsSource::Ledger { pstn: None },
        now,
    )
    .unwrap();
    let err = crate::plan::plan(&funding, &live, now).unwrap_err();
    let problem = err
        .0
        .iter()
        .find(|p| p.code == "commcred::plan::funding_not_possible")
        .unwrap();
    assert!(
        problem.message.contains("Microsoft Customer Agreement"),
        "{}",
        problem.message
    );
    assert!(
        problem.help.contains("post-paid overage"),
        "{}",
        problem.help
    );

    // Turning auto-recharge off is what Microsoft asks of MCA tenants: one guided step.
    let credits = funding.credits.as_mut().unwrap();
    credits.minimum_balance = None;
    credits.payment = None;
    credits.auto_recharge = Some(DesiredAutoRecharge {
        enabled: false,
        trigger_below: None,
        recharge_amount: None,
    });
    let plan = plan_at(&funding, now);
    let c = plan.credits.as_ref().unwrap();
    let steps = steps_for(c);
    assert_eq!(steps.len(), 1);
    let text = render(c, &steps);
    assert!(text.contains("Step 1 of 1: Auto-recharge: off"), "{text}");
    assert!(
        text.contains("Auto recharge  off (unchecked)   (now: on (checked))"),
        "{text}"
    );
    assert!(
        text.contains("pay usage after the fact on the invoice, once any remaining balance is used; auto-recharge must be off"),
        "{text}"
    );
    // And no advice to turn auto-recharge on: that is for MOSA accounts.
    let forecast = c.forecast.as_ref().unwrap();
    assert!(
        !forecast
            .warnings
            .iter()
            .any(|w| w.kind == crate::credits::forecast::WarningKind::AutoRechargeOff)
    );
}
