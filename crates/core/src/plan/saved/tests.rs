//! Saved plans: round trip, checksum, versions, backend recording.

use std::path::PathBuf;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::base::licenses::{Friendly, LicenseName};
use crate::config::{
    BackendSpec, DesiredAutoRecharge, DesiredCredits, DesiredPayment, DesiredState, DesiredUser,
    Origin,
};
use crate::plan::document::json_schema;
use crate::plan::{Plan, plan};
use crate::tenant::{PaymentMethod, Snapshot};

use super::*;

fn origin() -> Origin {
    Origin {
        file: std::path::Path::new("commcred.yaml").into(),
        line: 1,
        column: 1,
    }
}

fn user(upn: &str, location: Option<&str>, licenses: &[Friendly]) -> DesiredUser {
    DesiredUser {
        phone: None,
        upn: upn.into(),
        usage_location: location.map(Into::into),
        licenses: licenses.iter().map(|&f| LicenseName::Friendly(f)).collect(),
        origin: origin(),
    }
}

/// The quickstart's intent, built without the YAML loader: a swap, a usage location, an
/// E5 and a group note, a removal, credits settings and funding.
pub(crate) fn quickstart_plan() -> Plan {
    use Friendly::*;
    let live: Snapshot = serde_json::from_str(include_str!(
        "../../../../../examples/quickstart/tenant.json"
    ))
    .unwrap();
    let desired = DesiredState {
        config_path: PathBuf::from("commcred.yaml"),
        digest: "0f".repeat(32),
        tenant: "contoso.onmicrosoft.com".into(),
        tenant_origin: None,
        backend: None,
        default_usage_location: Some("US".into()),
        billing_account: None,
        credits: Some(DesiredCredits {
            currency: "USD".into(),
            minimum_balance: Some(Decimal::new(50000, 2)),
            auto_recharge: Some(DesiredAutoRecharge {
                enabled: true,
                trigger_below: Some(Decimal::new(10000, 2)),
                recharge_amount: Some(Decimal::new(25000, 2)),
            }),
            payment: Some(DesiredPayment {
                method: PaymentMethod::EnterpriseAgreement,
                agreement_number: Some("62839471".into()),
                purchase_order: Some("PO-2026-114".into()),
            }),
            ledger: None,
            origin: origin(),
        }),
        users: vec![
            user(
                "alice@contoso.com",
                Some("IT"),
                &[PhoneSystem, InternationalCallingPlan, CommunicationsCredits],
            ),
            user("bob@contoso.com", None, &[AudioConferencing]),
            user(
                "carol@contoso.com",
                None,
                &[AudioConferencing, CommunicationsCredits],
            ),
            user(
                "dave@contoso.com",
                None,
                &[AudioConferencing, CommunicationsCredits],
            ),
            user("frank@contoso.com", None, &[PhoneSystem]),
        ],
        prune: false,
        groups: Default::default(),
        prices: None,
    };
    plan(&desired, &live, "2026-11-25T00:00:00Z".parse().unwrap()).unwrap()
}

fn saved() -> SavedPlan {
    SavedPlan {
        plan: quickstart_plan(),
        backend: BackendSpec::File(PathBuf::from("tenant.json")),
        config_path: "commcred.yaml".into(),
        commcred_version: "0.1.0".into(),
    }
}

fn edit(text: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    f(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn a_saved_plan_reads_back_exactly() {
    let s = saved();
    assert!(s.plan.has_changes() && s.plan.credits.as_ref().unwrap().add_funds.is_some());
    let text = s.to_json();
    let back = SavedPlan::parse(&text, "plan.json").unwrap();
    assert_eq!(back, s);
    // Writing what was read gives the same bytes: `show --format json` is the file.
    assert_eq!(back.to_json(), text);
}

#[test]
fn the_plan_id_is_the_canonical_checksum_and_ignores_where_the_plan_goes() {
    let saved = saved();
    let id = plan_id(&saved.plan);
    assert_eq!(id.len(), 64);
    let back = SavedPlan::parse(&saved.to_json(), "plan.json").unwrap();
    assert_eq!(plan_id(&back.plan), id, "read back, the same plan");
    let elsewhere = SavedPlan {
        backend: BackendSpec::Graph(None),
        config_path: "ci/commcred.yaml".into(),
        ..saved.clone()
    };
    assert_eq!(plan_id(&elsewhere.plan), id);
    // The id is the saved-plan checksum of the plan's own document.
    let doc = serde_json::to_value(document(&saved.plan, "", "", "")).unwrap();
    assert_eq!(format!("sha256:{id}"), checksum(&doc));
    let mut other = saved.plan.clone();
    other.planned_at += chrono::Duration::seconds(1);
    assert_ne!(plan_id(&other), id);
}

#[test]
fn the_document_has_version_actions_and_no_placeholder_checksum() {
    let v: Value = serde_json::from_str(&saved().to_json()).unwrap();
    assert_eq!(v["format_version"], FORMAT_VERSION);
    assert_eq!(v["backend"], "file:tenant.json");
    let alice = &v["user_changes"][0];
    assert_eq!(alice["upn"], "alice@contoso.com");
    assert_eq!(alice["actions"], serde_json::json!(["update"]));
    assert_eq!(
        alice["licenses"][0]["actions"],
        serde_json::json!(["delete"])
    );
    assert_eq!(
        alice["licenses"][1]["actions"],
        serde_json::json!(["create"])
    );
    let credits = &v["communications_credits"];
    assert_eq!(credits["add_funds"]["amount"], "379.50");
    assert_eq!(
        credits["add_funds"]["actions"],
        serde_json::json!(["create"])
    );
    assert_eq!(v["summary"]["funds_to_add"]["amount"], "379.50");
    let losers: Vec<&str> = v["summary"]["users_losing_licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["upn"].as_str().unwrap())
        .collect();
    assert_eq!(losers, ["alice@contoso.com", "frank@contoso.com"]);
    let sum = v["checksum"].as_str().unwrap();
    assert!(sum.starts_with("sha256:") && sum.len() == 7 + 64, "{sum}");
}

type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn any_edited_value_is_refused_as_modified() {
    let text = saved().to_json();
    let edits: Vec<Edit> = vec![
        Box::new(|v| v["communications_credits"]["add_funds"]["amount"] = "3445.00".into()),
        Box::new(|v| {
            v["user_changes"][0]["licenses"]
                .as_array_mut()
                .unwrap()
                .pop()
                .map(drop)
                .unwrap()
        }),
        Box::new(|v| v["backend"] = "file:/etc/other.json".into()),
        Box::new(|v| v["user_changes"][1]["observed"]["usage_location"] = "US".into()),
        Box::new(|v| {
            v.as_object_mut().unwrap().remove("checksum");
        }),
    ];
    for (n, f) in edits.into_iter().enumerate() {
        let err = SavedPlan::parse(&edit(&text, f), "plan.json").unwrap_err();
        assert!(
            matches!(err, PlanFileError::Modified { .. }),
            "edit {n}: {err:?}"
        );
        assert!(
            err.to_string()
                .contains("the plan file was modified after it was written"),
            "{err}"
        );
    }
}

#[test]
fn reformatting_keeps_a_plan_valid() {
    let text = saved().to_json();
    let compact = serde_json::to_string(&serde_json::from_str::<Value>(&text).unwrap()).unwrap();
    assert!(SavedPlan::parse(&compact, "plan.json").is_ok());
    // Members reordered (e.g. by a tool that sorts keys) is the same plan.
    let sorted =
        serde_json::to_string_pretty(&canonicalize(serde_json::from_str(&text).unwrap())).unwrap();
    assert!(SavedPlan::parse(&sorted, "plan.json").is_ok());
    assert!(SavedPlan::parse(&format!("\u{feff}{text}"), "plan.json").is_ok());
}

#[test]
fn checksum_is_rfc8785_over_the_body() {
    let v = serde_json::json!({"b": [1, {"d": null, "c": "x"}], "a": true, "checksum": "ignored"});
    let expected = hex::encode(Sha256::digest(br#"{"a":true,"b":[1,{"c":"x","d":null}]}"#));
    assert_eq!(checksum(&v), format!("sha256:{expected}"));
}

#[test]
fn other_versions_are_refused() {
    let text = saved().to_json();
    for (version, ok) in [
        ("1.0", true),
        ("1.1", true),
        ("1.2", true),
        ("1.3", true),
        ("1.4", false),
        ("2.0", false),
        ("0.9", false),
        ("one", false),
    ] {
        // Re-sign so that the version check, not the checksum, decides.
        let edited = edit(&text, |v| {
            v["format_version"] = version.into();
            let sum = checksum(v);
            v["checksum"] = sum.into();
        });
        let result = SavedPlan::parse(&edited, "plan.json");
        assert_eq!(result.is_ok(), ok, "{version}: {result:?}");
        if !ok {
            assert!(matches!(
                result.unwrap_err(),
                PlanFileError::UnsupportedVersion { .. }
            ));
        }
    }
}

#[test]
fn nonsense_with_a_valid_checksum_is_invalid_not_applied() {
    let text = saved().to_json();
    let edited = edit(&text, |v| {
        v["user_changes"][0]["licenses"][0]["actions"] = serde_json::json!(["create", "delete"]);
        let sum = checksum(v);
        v["checksum"] = sum.into();
    });
    let err = SavedPlan::parse(&edited, "plan.json").unwrap_err();
    assert!(matches!(err, PlanFileError::Invalid { .. }), "{err:?}");
}

#[test]
fn non_plans_are_told_apart() {
    assert!(looks_like_plan(saved().to_json().as_bytes()));
    assert!(looks_like_plan(
        b"\xef\xbb\xbf  {\"format_version\": \"1.0\", \"trunc"
    ));
    assert!(!looks_like_plan(b"apiVersion: commcred/v1\ntenant: x\n"));
    assert!(!looks_like_plan(b"{\"apiVersion\": \"commcred/v1\"}"));
    for (text, code) in [
        ("{\"format_version\": \"1.0\"", "not JSON"),
        ("[1]", "not an object"),
        ("{}", "no `format_version`"),
    ] {
        let err = SavedPlan::parse(text, "p.json").unwrap_err();
        assert!(matches!(err, PlanFileError::NotAPlan { .. }), "{err:?}");
        assert!(err.to_string().contains(code), "{err}");
    }
}

#[test]
fn backends_are_recorded_without_credentials() {
    assert_eq!(backend_to_string(&BackendSpec::Graph(None)), "graph");
    assert_eq!(
        backend_to_string(&BackendSpec::Graph(Some(
            "https://user:s3cret@graph.example:8443/v1.0?sig=abc#x".into()
        ))),
        "graph:https://graph.example:8443/v1.0"
    );
    assert_eq!(
        backend_to_string(&BackendSpec::Graph(Some("http://127.0.0.1:8080".into()))),
        "graph:http://127.0.0.1:8080"
    );
    // What is recorded parses back as the same backend.
    for spec in [
        BackendSpec::File(PathBuf::from("examples/quickstart/tenant.json")),
        BackendSpec::Graph(None),
        BackendSpec::Graph(Some("http://127.0.0.1:8080".into())),
    ] {
        assert_eq!(BackendSpec::parse(&backend_to_string(&spec)).unwrap(), spec);
    }
}

#[test]
fn the_committed_schema_is_current_and_validates_plans() {
    let generated = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/plan.schema.json"
    );
    if std::env::var_os("COMMCRED_UPDATE_SCHEMAS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/plan.schema.json is out of date: run `COMMCRED_UPDATE_SCHEMAS=1 cargo test --lib plan::saved` and commit it"
    );
    let schema: Value = serde_json::from_str(&committed).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let plan: Value = serde_json::from_str(&saved().to_json()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&plan)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema is strict enough to catch a wrong shape.
    for bad in [
        edit(&saved().to_json(), |v| {
            v["user_changes"][0]["licenses"][0]["actions"] = serde_json::json!(["replace"])
        }),
        edit(&saved().to_json(), |v| {
            v["communications_credits"]["add_funds"]["amount"] = serde_json::json!(379.5)
        }),
        edit(&saved().to_json(), |v| v["surprise"] = true.into()),
        edit(&saved().to_json(), |v| v["checksum"] = "md5:abc".into()),
    ] {
        assert!(
            !validator.is_valid(&serde_json::from_str(&bad).unwrap()),
            "{bad}"
        );
    }
}

/// On synthetic tenants (groups, E5s, missing usage locations, credits): a plan read back
/// from its file is the same plan, is not stale against the tenant it was made from, and
/// is stale for exactly the objects it touched once it has been applied.
#[test]
fn saved_plans_round_trip_and_go_stale_exactly_where_they_touched() {
    use crate::backend::file::engine::apply_to_snapshot;
    use crate::plan::observe::stale_objects;
    use crate::testkit;
    let now = "2026-11-25T00:00:00Z".parse().unwrap();
    for seed in 0..6 {
        let mut live = testkit::tenant(40, seed);
        let (yaml, csv) = testkit::config_yaml(40, 10, seed);
        let desired = crate::config::load_bytes(
            std::path::Path::new("commcred.yaml"),
            yaml.into_bytes(),
            &mut |_| Ok(csv.clone().into_bytes()),
        )
        .unwrap()
        .desired;
        let made = plan(&desired, &live, now).unwrap();
        let saved = SavedPlan {
            plan: made.clone(),
            backend: BackendSpec::Graph(None),
            config_path: "commcred.yaml".into(),
            commcred_version: "0.1.0".into(),
        };
        let back = SavedPlan::parse(&saved.to_json(), "plan.json")
            .unwrap()
            .plan;
        assert_eq!(back, made, "seed {seed}");
        assert!(stale_objects(&back, &live).is_empty(), "seed {seed}");

        let report = apply_to_snapshot(&mut live, &back.operations(), now);
        assert!(report.is_success(), "seed {seed}: {report:?}");
        let mut stale = stale_objects(&back, &live);
        stale.sort();
        let mut touched: Vec<String> = back
            .users
            .iter()
            .filter(|u| u.has_changes())
            .map(|u| format!("user {}", u.upn))
            .collect();
        if back.credits.as_ref().is_some_and(|c| c.has_changes()) {
            touched.push("communicationsCredits".into());
        }
        touched.sort();
        assert_eq!(stale, touched, "seed {seed}");
    }
}
