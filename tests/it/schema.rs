//! `schemas/commcred.schema.json`: generated from `src/config/schema.rs`, committed, and
//! checked here to be current, valid, and to tell good YAML from bad.

use std::path::Path;

use commcred::config::schema::{SCHEMA_PATH, json_schema_text};
use serde_json::Value;

use crate::common::root;

/// The committed schema, parsed.
pub fn committed_schema() -> Value {
    let text = std::fs::read_to_string(root().join(SCHEMA_PATH)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// YAML text as JSON, the way yaml-language-server sees it.
pub fn yaml_to_json(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

/// Every schema violation of `yaml`, as `path: message` lines (empty when valid).
pub fn schema_errors(yaml: &str) -> Vec<String> {
    let schema = committed_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let instance = yaml_to_json(yaml);
    validator
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn schema_file_is_up_to_date() {
    let path = root().join(SCHEMA_PATH);
    let generated = json_schema_text();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with src/config/schema.rs.\n\
         Regenerate it with:\n\n    UPDATE_SCHEMA=1 cargo test --test it schema\n\n\
         and commit the result.",
        Path::new(SCHEMA_PATH).display()
    );
}

#[test]
fn schema_is_valid_draft_2020_12_with_descriptions() {
    let schema = committed_schema();
    jsonschema::meta::validate(&schema).expect("a valid JSON Schema");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    for (key, prop) in schema["properties"].as_object().unwrap() {
        let described = prop.get("description").is_some()
            || prop
                .get("$ref")
                .and_then(Value::as_str)
                .is_some_and(|r| schema.pointer(&r[1..]).unwrap()["description"].is_string());
        assert!(described, "`{key}` has no description");
    }
}

const GOOD: &str = r#"
apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
backend:
  file: tenant.json
defaultUsageLocation: US
communicationsCredits:
  currency: USD
  minimumBalance: 500.00
  autoRecharge:
    enabled: true
    triggerBelow: "100.00"
    rechargeAmount: 250
  payment:
    method: enterpriseAgreement
    agreementNumber: "62839471"
profiles:
  dial-out: [audioConferencing, communicationsCredits]
  zone: [phoneSystem, "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1)", MCOPSTN_6]
users:
  - upn: alice@contoso.com
    usageLocation: IT
    profile: dial-out
    licenses: [phoneSystem]
  - csv: onboarding/sales.csv
    profile: dial-out
prune: false
"#;

#[test]
fn a_complete_config_validates() {
    assert_eq!(schema_errors(GOOD), Vec::<String>::new());
    let graph = GOOD.replace("  file: tenant.json", "  graph: http://127.0.0.1:8080");
    assert_eq!(schema_errors(&graph), Vec::<String>::new());
    let text_form = GOOD.replace("backend:\n  file: tenant.json", "backend: graph");
    assert_eq!(schema_errors(&text_form), Vec::<String>::new());
    // The loader reads an empty value as an absent key; so does the schema.
    let empty = GOOD
        .replace("defaultUsageLocation: US", "defaultUsageLocation:")
        .replace(
            "  payment:\n    method: enterpriseAgreement\n    agreementNumber: \"62839471\"\n",
            "  payment:\n",
        )
        .replace("  zone: [", "  empty:\n  zone: [");
    assert_ne!(empty, GOOD);
    assert_eq!(schema_errors(&empty), Vec::<String>::new());
}

#[test]
fn mistakes_are_caught() {
    let cases = [
        ("apiVersion: commcred/v1", "apiVersion: commcred/v2"),
        ("defaultUsageLocation: US", "defaultUsageLocation: UK"),
        ("currency: USD", "currency: usd"),
        ("minimumBalance: 500.00", "minimumBalance: -5"),
        ("triggerBelow: \"100.00\"", "triggerBelow: \"$100\""),
        ("    triggerBelow: \"100.00\"\n", ""),
        ("    agreementNumber: \"62839471\"\n", ""),
        ("method: enterpriseAgreement", "method: invoice"),
        (
            "[audioConferencing, communicationsCredits]",
            "[audioConferencing, credits]",
        ),
        ("  - upn: alice@contoso.com", "  - upn: alice"),
        (
            "    profile: dial-out\n    licenses",
            "    profle: dial-out\n    licenses",
        ),
        ("  file: tenant.json", "  file: tenant.json\n  graph: true"),
        ("prune: false", "prune: no-thanks"),
        // Empty means absent, so these are as incomplete as leaving the key out.
        ("triggerBelow: \"100.00\"", "triggerBelow:"),
        ("agreementNumber: \"62839471\"", "agreementNumber:"),
    ];
    for (from, to) in cases {
        assert!(GOOD.contains(from), "{from}");
        let bad = GOOD.replacen(from, to, 1);
        assert!(
            !schema_errors(&bad).is_empty(),
            "the schema accepts `{}`",
            to.trim()
        );
    }
}

/// `schemas/prices.schema.json` (`commcred schema --prices`): current, and it tells a good
/// price list from a bad one.
#[test]
fn price_list_schema_is_up_to_date_and_checks_price_lists() {
    use commcred::config::price_schema;
    let path = root().join(price_schema::SCHEMA_PATH);
    let generated = price_schema::json_schema_text();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date: UPDATE_SCHEMA=1 cargo test --test it schema",
        price_schema::SCHEMA_PATH
    );
    let schema: Value = serde_json::from_str(&committed).unwrap();
    jsonschema::meta::validate(&schema).expect("a valid JSON Schema");
    let validator = jsonschema::validator_for(&schema).unwrap();
    let sample = std::fs::read_to_string(root().join("examples/prices/prices.yaml")).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&yaml_to_json(&sample))
        .map(|e| e.to_string())
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    for bad in [
        "currency: usd\nskus: {MCOEV: 10.00}\n",
        "currency: USD\nskus: {MCOEV: -1}\n",
        "currency: USD\nskus: {MCOEV: {monthly: 1.00, term: yearly}}\n",
        "currency: USD\n",
        "currency: USD\nasOf: yesterday\nskus: {}\n",
    ] {
        assert!(
            !validator.is_valid(&yaml_to_json(bad)),
            "the schema accepts {bad}"
        );
    }
    // The committed commcred.yaml schema knows the `prices` key.
    assert_eq!(
        schema_errors(
            "apiVersion: commcred/v1\ntenant: contoso.onmicrosoft.com\nprices: prices.yaml\n"
        ),
        Vec::<String>::new()
    );
}
