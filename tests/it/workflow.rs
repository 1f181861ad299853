//! The workflows and the apply driver through the library, as a library user (or a test)
//! runs them: no terminal, no binary.

use std::cell::RefCell;

use commcred::apply::{ApplyContext, ApplyError, apply};
use commcred::base::fsio::DEFAULT_LOCK_WAIT;
use commcred::workflow::Session;
use commcred::workflow::plan::make_plan;

use crate::common::example;

fn session() -> Session {
    Session {
        backend_override: None,
        now: "2026-11-25T12:00:00Z".parse().unwrap(),
        lock_wait: DEFAULT_LOCK_WAIT,
        credentials: Default::default(),
        deadline: None,
        applies: false,
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
        Err(ApplyError::AlreadyApplied(objects)) => assert!(!objects.is_empty()),
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

#[test]
fn export_writes_a_yaml_that_plans_no_changes_and_never_overwrites() {
    use commcred::config::BackendSpec;
    use commcred::workflow::WorkflowError;
    use commcred::workflow::export::{ExportError, ExportRequest, export};
    let dir = example("quickstart");
    let out = dir.path().join("exported.yaml");
    let from_file = Session {
        backend_override: Some(BackendSpec::File(dir.path().join("tenant.json"))),
        ..session()
    };
    let request = ExportRequest {
        out: Some(out.clone()),
        users_csv: Some(dir.path().join("users.csv")),
        schema_ref: "commcred.schema.json".into(),
        ..ExportRequest::default()
    };
    let notes = RefCell::new(Vec::new());
    let note = |n: &str| notes.borrow_mut().push(n.to_string());
    let result = export(&request, &from_file, &note).unwrap();
    assert!(notes.borrow()[0].starts_with("Reading the live tenant from file:"));
    assert!(result.listed > 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), result.yaml);
    let csv = std::fs::read_to_string(dir.path().join("users.csv")).unwrap();
    assert!(csv.starts_with("upn,"), "{csv}");
    // The YAML names the same tenant (relative to itself): planning it changes nothing.
    let planned = make_plan(&out, &session(), &|_| {}).unwrap();
    assert!(!planned.plan.has_changes(), "{:?}", planned.plan.summary());

    // A second export without `force` refuses, leaving the file alone.
    std::fs::write(&out, "kept").unwrap();
    match export(&request, &from_file, &|_| {}) {
        Err(WorkflowError::Export(ExportError::Exists(path))) => assert_eq!(path, out),
        other => panic!("expected the output to be refused, got {:?}", other.err()),
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "kept");
}

#[test]
fn usage_import_through_the_library_adds_each_call_once() {
    use commcred::workflow::usage::{ImportRequest, import};
    let dir = tempfile::tempdir().unwrap();
    let request = ImportRequest {
        file: crate::common::root().join("tests/fixtures/credits/pstn-usage.csv"),
        ledger: dir.path().join("ledger.json"),
        tenant: Some("contoso.onmicrosoft.com".into()),
        by: "a test".into(),
        now: session().now,
        lock_wait: DEFAULT_LOCK_WAIT,
    };
    let first = import(request.clone()).unwrap();
    assert_eq!((first.rows, first.charged, first.added), (17, 15, 15));
    assert_eq!(first.spend["USD"].to_string(), "455.00");
    let again = import(request).unwrap();
    assert_eq!(again.added, 0);
    let ledger: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("ledger.json")).unwrap())
            .unwrap();
    assert_eq!(ledger["tenant"], "contoso.onmicrosoft.com");
    assert_eq!(ledger["pstnCalls"].as_array().unwrap().len(), 15);
    assert_eq!(ledger["usageImports"].as_array().unwrap().len(), 2);
}

#[test]
fn an_apply_report_in_words() {
    use commcred::apply::report::{render, take_credits_steps};
    let dir = example("quickstart");
    let mut planned = make_plan(&dir.path().join("commcred.yaml"), &session(), &|_| {}).unwrap();
    let ctx = ApplyContext::new(session().now);
    let mut report = apply(planned.backend.as_mut(), &planned.plan, &ctx).unwrap();
    // The file backend applies credits steps itself: none is left to a person.
    assert!(!take_credits_steps(&mut report));
    let text = render(&planned.plan, &report);
    let s = planned.plan.summary();
    assert!(
        text.starts_with(&format!(
            "Apply complete! Licenses: {} assigned, {} removed.",
            s.assign, s.remove
        )),
        "{text}"
    );
    assert!(text.contains(&format!("({} write operation", report.applied.len())));
}

/// The code a diagnostic carries.
fn code_of(e: &dyn miette::Diagnostic) -> String {
    e.code().map(|c| c.to_string()).unwrap_or_default()
}

#[test]
fn each_ledger_problem_has_its_own_code() {
    use commcred::backend::ledger::{load, update};
    use commcred::base::fsio::FileLock;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.json");

    std::fs::write(&path, "{ not json").unwrap();
    let invalid = load(&path).unwrap_err();
    assert_eq!(code_of(&invalid), "commcred::credits::ledger_invalid");
    assert!(invalid.to_string().contains("ledger.json:1:3"), "{invalid}");

    std::fs::write(&path, r#"{"formatVersion": 99}"#).unwrap();
    let newer = load(&path).unwrap_err();
    assert_eq!(code_of(&newer), "commcred::credits::ledger_too_new");
    assert!(newer.to_string().contains("format version 99"), "{newer}");

    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let unreadable = load(&path).unwrap_err();
    assert_eq!(code_of(&unreadable), "commcred::credits::ledger_unreadable");
    std::fs::remove_dir(&path).unwrap();

    let nowhere = dir.path().join("no/such/ledger.json");
    let no_folder = update(&nowhere, DEFAULT_LOCK_WAIT, |_| Ok(())).unwrap_err();
    assert_eq!(code_of(&no_folder), "commcred::credits::ledger_unwritable");

    let _held = FileLock::acquire(&path, "commcred a test (pid 1)", DEFAULT_LOCK_WAIT).unwrap();
    let locked = update(&path, Duration::from_millis(50), |_| Ok(())).unwrap_err();
    assert_eq!(code_of(&locked), "commcred::credits::ledger_locked");
    assert!(
        locked.to_string().contains("commcred a test (pid 1)"),
        "{locked}"
    );
}

#[test]
fn each_refused_ledger_reading_has_its_own_code() {
    use commcred::tenant::BillingAccountType;
    use commcred::workflow::ledger::{Reading, record};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.json");
    let now = session().now;
    let refused = |billing: Option<BillingAccountType>, fund: &str| {
        let reading = Reading {
            billing_account: billing,
            currency: Some("USD".into()),
            fund: vec![fund.to_string()],
            by: "a test".into(),
        };
        let e = record(&path, None, reading, now, DEFAULT_LOCK_WAIT).unwrap_err();
        (code_of(&e), e.to_string())
    };
    let mosa = Some(BillingAccountType::Mosa);
    assert_eq!(
        refused(None, "10.00@2026-11-01").0,
        "commcred::credits::no_account"
    );
    let (code, text) = refused(mosa, "1.005");
    assert_eq!(code, "commcred::credits::bad_fund");
    assert_eq!(
        text,
        "--fund 1.005: not an amount of USD (at most 2 decimals, not negative)"
    );
    assert_eq!(refused(mosa, "5@soon").0, "commcred::credits::bad_fund");
    assert_eq!(
        refused(mosa, "5@2027-01-01").0,
        "commcred::credits::fund_in_future"
    );
    let (code, text) = refused(mosa, "5@2025-11-01");
    assert_eq!(code, "commcred::credits::fund_expired");
    assert!(text.ends_with("funds bought on 2025-11-01 expired 12 months later"));
    assert!(
        !path.exists(),
        "nothing is recorded when a reading is refused"
    );
}

#[test]
fn recommend_usage_from_exports_through_the_library() {
    use commcred::credits::recommend::recommend;
    use commcred::workflow::recommend::from_files;
    let fixture = crate::common::root().join("tests/fixtures/credits/pstn-usage.csv");
    // The same export twice: its calls count once.
    let usage = from_files(&[fixture.clone(), fixture.clone()]).unwrap();
    assert_eq!(usage.rows.len(), 17);
    assert_eq!(
        usage.first.map(|t| t.format("%Y-%m-%d").to_string()),
        Some("2026-04-01".to_string())
    );
    assert_eq!(
        usage.source,
        format!("{}, {}", fixture.display(), fixture.display())
    );
    let currencies: Vec<String> = recommend(&usage.rows, usage.first, session().now)
        .into_iter()
        .map(|r| r.currency)
        .collect();
    assert_eq!(currencies, ["EUR", "GBP", "USD"]);
}

/// Answers the apply workflow's questions as a test: records what it was asked, approves
/// or refuses.
struct Hooks {
    approve: bool,
    asked: RefCell<Vec<String>>,
}

impl commcred::workflow::apply::ApplyHooks<commcred::workflow::WorkflowError> for Hooks {
    fn note(&self, text: &str) {
        self.asked.borrow_mut().push(format!("note: {text}"));
    }
    fn saved_plan(&self, path: &std::path::Path, _: &commcred::plan::saved::SavedPlan) {
        self.asked
            .borrow_mut()
            .push(format!("saved: {}", path.display()));
    }
    fn show_plan(&self, _: &commcred::plan::Plan) -> Result<(), commcred::workflow::WorkflowError> {
        self.asked.borrow_mut().push("show".into());
        Ok(())
    }
    fn confirm(&self, _: &commcred::plan::Plan) -> Result<(), commcred::workflow::WorkflowError> {
        self.asked.borrow_mut().push("confirm".into());
        if self.approve {
            Ok(())
        } else {
            // A refusal the caller chose: any error of its type stops the apply.
            Err(ApplyError::Stale(vec!["refused by the test".into()]).into())
        }
    }
    fn progress(
        &self,
        _: &commcred::config::BackendSpec,
    ) -> std::sync::Arc<dyn commcred::apply::Progress> {
        std::sync::Arc::new(commcred::apply::NoProgress)
    }
    fn now(&self) -> Result<chrono::DateTime<chrono::Utc>, commcred::workflow::WorkflowError> {
        Ok(session().now)
    }
}

#[test]
fn the_apply_workflow_confirms_applies_and_refuses_a_saved_plan_applied_twice() {
    use commcred::workflow::WorkflowError;
    use commcred::workflow::apply::{ApplyOutcome, ApplyRequest, apply as apply_workflow};
    let dir = example("quickstart");
    let config = dir.path().join("commcred.yaml");
    let tenant = dir.path().join("tenant.json");
    let before = std::fs::read_to_string(&tenant).unwrap();
    let request = |path: &std::path::Path| ApplyRequest {
        path: path.to_path_buf(),
        max_spend: None,
        max_monthly_increase: None,
    };

    // Refused at the confirmation: nothing written.
    let no = Hooks {
        approve: false,
        asked: RefCell::default(),
    };
    assert!(apply_workflow(request(&config), &session(), &no).is_err());
    assert!(no.asked.borrow().contains(&"confirm".to_string()));
    assert_eq!(std::fs::read_to_string(&tenant).unwrap(), before);

    // Saved first, then applied from the saved plan: never asked to confirm.
    let planned = make_plan(&config, &session(), &|_| {}).unwrap();
    let saved = commcred::workflow::plan::saved_plan(planned);
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, saved.to_json()).unwrap();
    let yes = Hooks {
        approve: true,
        asked: RefCell::default(),
    };
    let ApplyOutcome::Applied(applied) =
        apply_workflow(request(&plan_path), &session(), &yes).unwrap()
    else {
        panic!("the plan has changes");
    };
    assert!(applied.report.is_success(), "{:?}", applied.report);
    assert!(!yes.asked.borrow().contains(&"confirm".to_string()));
    assert_ne!(std::fs::read_to_string(&tenant).unwrap(), before);

    // The same saved plan again: apply's own error, typed, with apply's code.
    match apply_workflow(request(&plan_path), &session(), &yes) {
        Err(WorkflowError::Apply(e @ ApplyError::AlreadyApplied(_))) => {
            let code = miette::Diagnostic::code(&e).unwrap().to_string();
            assert_eq!(code, "commcred::apply::already_applied");
        }
        Err(other) => panic!("expected already applied, got {other}"),
        Ok(_) => panic!("expected already applied"),
    }
}
