//! The workflows and the apply driver through the library, as a library user (or a test)
//! runs them: no terminal, no binary.

use std::cell::RefCell;

use commcred::apply::{ApplyContext, apply};
use commcred::backend::BackendError;
use commcred::base::fsio::DEFAULT_LOCK_WAIT;
use commcred::workflow::Session;
use commcred::workflow::plan::make_plan;

use crate::common::example;

fn session() -> Session {
    Session {
        backend_override: None,
        now: "2026-11-25T12:00:00Z".parse().unwrap(),
        lock_wait: DEFAULT_LOCK_WAIT,
    }
}

#[test]
fn plan_apply_and_converge_through_the_library() {
    let dir = example("quickstart");
    let config = dir.path().join("commcred.yaml");
    let notes = RefCell::new(Vec::new());
    let note = |n: &str| notes.borrow_mut().push(n.to_string());
    let mut planned = make_plan(&config, &session(), &note).unwrap();
    assert!(notes.borrow()[0].starts_with("Reading the live tenant from file:"));
    assert!(planned.plan.has_changes());

    let ctx = ApplyContext::new(session().now);
    let report = apply(planned.backend.as_mut(), &planned.plan, &ctx).unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.applied.len(), planned.plan.operations().len());

    // The same plan again: everything it touched is already as planned, so it is refused
    // whole as already applied (not as stale).
    match apply(planned.backend.as_mut(), &planned.plan, &ctx) {
        Err(BackendError::AlreadyApplied(objects)) => assert!(!objects.is_empty()),
        other => panic!("expected an already-applied plan, got {other:?}"),
    }
    let again = make_plan(&config, &session(), &|_| {}).unwrap();
    assert!(!again.plan.has_changes());
}

#[test]
fn ledger_record_and_show_through_the_library() {
    use commcred::tenant::BillingAccountType;
    use commcred::workflow::ledger::{Reading, record, show};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("commcred.ledger.json");
    let now = session().now;
    let reading = Reading {
        billing_account: Some(BillingAccountType::Mosa),
        currency: Some("usd".into()),
        fund: vec!["120.50@2026-03-15".into()],
        by: "a test".into(),
    };
    let said = record(&path, None, reading, now, DEFAULT_LOCK_WAIT).unwrap();
    assert!(said.contains("balance 120.50 USD in 1 fund"), "{said}");
    let text = show(&path, now).unwrap();
    assert!(text.contains("usable balance: 120.50 USD"), "{text}");
}
