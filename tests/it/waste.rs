//! `commcred waste` through the binary (issue 23): a tenant built with each kind of waste
//! (unassigned seats, a license another SKU provides, calling licenses on a disabled
//! account, calling plans and credits without a PSTN call) reports exactly those users and
//! seats with their monthly cost; a clean tenant reports nothing and exits 0; through the
//! emulator the report is the same as on the file.

use std::path::Path;

use commcred::base::catalog::catalog;
use serde_json::{Value, json};

use crate::common::commcred;

/// A SKU as `subscribedSkus` shows it, ids and service plans from Microsoft's table.
pub fn sku(part: &str, enabled: i64, consumed: i64) -> Value {
    let cat = catalog();
    let s = cat
        .sku(part)
        .unwrap_or_else(|| panic!("{part} is in the table"));
    let plans: Vec<Value> = s
        .calling_service_plans
        .iter()
        .map(|name| {
            let plan = cat.service_plan(name).unwrap();
            json!({"servicePlanId": plan.service_plan_id, "servicePlanName": name})
        })
        .collect();
    json!({
        "skuId": s.sku_id, "skuPartNumber": part, "appliesTo": "User",
        "capabilityStatus": "Enabled",
        "prepaidUnits": {"enabled": enabled, "warning": 0, "suspended": 0, "lockedOut": 0},
        "consumedUnits": consumed, "servicePlans": plans
    })
}

pub fn sku_id(part: &str) -> String {
    catalog().sku(part).unwrap().sku_id.clone()
}

/// A user holding `parts` directly.
pub fn user(n: u32, name: &str, parts: &[&str], enabled: Option<bool>) -> Value {
    let mut u = json!({
        "id": format!("b1e2a3c4-0000-4000-8000-{n:012}"),
        "userPrincipalName": format!("{name}@contoso.com"),
        "usageLocation": "US",
        "assignedLicenses": parts.iter().map(|p| json!({"skuId": sku_id(p), "disabledPlans": []})).collect::<Vec<_>>(),
    });
    if let Some(e) = enabled {
        u["accountEnabled"] = json!(e);
    }
    u
}

fn call(id: &str, upn: &str, at: &str) -> Value {
    json!({"id": id, "userPrincipalName": upn, "startDateTime": at, "duration": 60,
           "charge": "0.00", "currency": "USD", "callType": "user_out_domestic"})
}

/// The tenant with every kind of waste (now is 2026-11-25, the window 90 days).
fn wasteful_tenant() -> Value {
    json!({
        "tenant": {"id": "7f1c0000-0000-4000-8000-000000000001", "domain": "contoso.onmicrosoft.com"},
        "subscribedSkus": [
            sku("MCOEV", 8, 5),              // 3 unassigned
            sku("MCOPSTN1", 4, 4),
            sku("MCOMEETADV", 1, 1),
            sku("MCOPSTNC", 2, 1),           // 1 unassigned, not priced
            sku("ENTERPRISEPREMIUM", 2, 2),
        ],
        "users": [
            // Teams Phone that E5 already gives; listed with phoneSystem.
            user(1, "ana", &["ENTERPRISEPREMIUM", "MCOEV"], None),
            // Audio Conferencing that E5 already gives; not listed.
            user(2, "ben", &["ENTERPRISEPREMIUM", "MCOMEETADV"], Some(true)),
            // A disabled account with Teams Phone and a calling plan; not listed.
            user(3, "cai", &["MCOEV", "MCOPSTN1"], Some(false)),
            // No call at all: the calling plan and credits are idle.
            user(4, "dee", &["MCOEV", "MCOPSTN1", "MCOPSTNC"], None),
            // Called ten days ago: nothing wasted.
            user(5, "eve", &["MCOEV", "MCOPSTN1"], None),
            // Last call 200 days ago, before the window.
            user(6, "fay", &["MCOEV", "MCOPSTN1"], None),
        ],
        "pstnCalls": [
            call("c1", "eve@contoso.com", "2026-11-15T10:00:00Z"),
            call("c2", "fay@contoso.com", "2026-05-09T10:00:00Z"),
        ]
    })
}

const CONFIG: &str = "apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
prices: prices.yaml
profiles:
  phone: [phoneSystem, domesticCallingPlan, communicationsCredits]
users:
  - upn: ana@contoso.com
    licenses: [phoneSystem]
  - upn: dee@contoso.com
    profile: phone
  - upn: fay@contoso.com
    profile: phone
  - upn: eve@contoso.com
    licenses: [phoneSystem, domesticCallingPlan]
";

const PRICES: &str = "currency: USD
asOf: 2026-11-01
skus:
  MCOEV: 8.00
  MCOPSTN1: {monthly: 12.00, term: annual}
  MCOMEETADV: 4.00
  MCOPSTN9: 1.00
";

fn write(dir: &Path, tenant: &Value) {
    std::fs::write(
        dir.join("tenant.json"),
        serde_json::to_string_pretty(tenant).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("commcred.yaml"), CONFIG).unwrap();
    std::fs::write(dir.join("prices.yaml"), PRICES).unwrap();
}

fn waste_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let out = commcred(dir)
        .args(["waste", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (code, value)
}

/// Each line as (kind, part number, seats, users, monthly cost, recovery action).
fn lines(report: &Value) -> Vec<(String, String, u64, Vec<String>, Value, String)> {
    report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_string(),
                l["license"]["sku_part_number"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                l["seats"].as_u64().unwrap(),
                l["users"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u["upn"].as_str().unwrap().to_string())
                    .collect(),
                l["monthly_cost"]["amount"].clone(),
                l["recover"]["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn waste_finds_exactly_the_planted_seats_with_their_cost() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &wasteful_tenant());
    let before = std::fs::read(dir.path().join("tenant.json")).unwrap();
    let (code, report) = waste_json(dir.path(), &[]);
    assert_eq!(code, 2, "{report:#}");
    let usd = |a: &str| json!(a);
    assert_eq!(
        lines(&report),
        vec![
            (
                "unassigned".into(),
                "MCOEV".into(),
                3,
                vec![],
                usd("24.00"),
                "reduceQuantity".into()
            ),
            (
                "unassigned".into(),
                "MCOPSTNC".into(),
                1,
                vec![],
                Value::Null,
                "reduceQuantity".into()
            ),
            (
                "disabledAccount".into(),
                "MCOEV".into(),
                1,
                s(&["cai@contoso.com"]),
                usd("8.00"),
                "prune".into()
            ),
            (
                "disabledAccount".into(),
                "MCOPSTN1".into(),
                1,
                s(&["cai@contoso.com"]),
                usd("12.00"),
                "prune".into()
            ),
            (
                "redundant".into(),
                "MCOEV".into(),
                1,
                s(&["ana@contoso.com"]),
                usd("8.00"),
                "removeFromConfig".into()
            ),
            (
                "redundant".into(),
                "MCOMEETADV".into(),
                1,
                s(&["ben@contoso.com"]),
                usd("4.00"),
                "prune".into()
            ),
            (
                "noCalls".into(),
                "MCOPSTN1".into(),
                2,
                s(&["dee@contoso.com", "fay@contoso.com"]),
                usd("24.00"),
                "removeFromConfig".into()
            ),
            (
                "noCalls".into(),
                "MCOPSTNC".into(),
                1,
                s(&["dee@contoso.com"]),
                Value::Null,
                "removeFromConfig".into()
            ),
        ]
    );
    let summary = &report["summary"];
    assert_eq!(summary["seats"], 11);
    assert_eq!(
        summary["monthly_cost"],
        json!({"amount": "80.00", "currency": "USD"})
    );
    assert_eq!(summary["unpriced_seats"], 2);
    assert_eq!(summary["unpriced"], json!(["MCOPSTNC"]));
    // What recovers ana's line: the name commcred.yaml gives her, and E5 provides it.
    let ana = &report["lines"][4];
    assert_eq!(ana["recover"]["licenses"], json!(["phoneSystem"]));
    assert_eq!(ana["users"][0]["provided_by"], json!(["ENTERPRISEPREMIUM"]));
    assert_eq!(ana["users"][0]["at"], "commcred.yaml:7:10");
    assert_eq!(
        report["lines"][7]["recover"]["licenses"],
        json!(["communicationsCredits"])
    );
    // The price of a SKU the tenant lacks is warned about, where it is written.
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].as_str().unwrap().contains("prices.yaml:7:3"),
        "{warnings:?}"
    );
    assert_eq!(report["usage"]["calls"], 1);
    // It changes nothing.
    assert_eq!(
        std::fs::read(dir.path().join("tenant.json")).unwrap(),
        before
    );

    // The human report says the same, with the recovery of each line.
    let out = commcred(dir.path()).arg("waste").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with("Waste: 11 seats, 80.00 USD a month plus 2 unpriced seats (MCOPSTNC), on 5 users and unassigned seats.\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "remove `phoneSystem` from these users' `licenses` or profile in commcred.yaml"
        ),
        "{text}"
    );
    assert!(text.contains("users: cai@contoso.com"), "{text}");
    assert!(text.contains("set `prune: true`"), "{text}");
    let md = commcred(dir.path())
        .args(["waste", "--format", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("<!-- commcred:waste -->\n"), "{md}");
    assert!(md.contains("**Waste: 11 seats, 80.00 USD a month"), "{md}");
}

#[test]
fn a_clean_tenant_has_no_waste_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = json!({
        "tenant": {"id": "7f1c0000-0000-4000-8000-000000000001", "domain": "contoso.onmicrosoft.com"},
        "subscribedSkus": [sku("MCOEV", 1, 1), sku("MCOPSTN1", 1, 1)],
        "users": [user(5, "eve", &["MCOEV", "MCOPSTN1"], Some(true))],
        "pstnCalls": [call("c1", "eve@contoso.com", "2026-11-15T10:00:00Z")]
    });
    write(dir.path(), &tenant);
    std::fs::write(
        dir.path().join("prices.yaml"),
        "currency: USD\nskus:\n  MCOEV: 8.00\n",
    )
    .unwrap();
    let (code, report) = waste_json(dir.path(), &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["lines"], json!([]));
    assert_eq!(report["has_waste"], false);
    let out = commcred(dir.path()).arg("waste").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("No waste found")
    );
}

#[test]
fn without_usage_idle_licenses_are_not_judged_and_a_usage_csv_counts_free_calls() {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant = wasteful_tenant();
    tenant.as_object_mut().unwrap().remove("pstnCalls");
    write(dir.path(), &tenant);
    let (_, report) = waste_json(dir.path(), &[]);
    assert_eq!(report["usage"]["checked"], false);
    assert!(lines(&report).iter().all(|l| l.0 != "noCalls"));
    // The admin center's export alone (the snapshot has no calls now): dee's one free call
    // keeps her calling plan and credits; eve's call is not in it any more.
    std::fs::write(
        dir.path().join("usage.csv"),
        "UsageId,Call ID,Conference ID,User Location,AAD ObjectId,UPN,User Display Name,Caller ID,Call Type,Number Type,Domestic/International,Destination Dialed,Destination Number,Start Time,End Time,Duration Seconds,Connection Fee,Charge,Currency,Capability\n\
u1,call-1,,USA,,dee@contoso.com,Dee,+14255550100,user_out_domestic,user,Domestic,United States,+1425555****,2026-11-20T10:00:00Z,2026-11-20T10:01:00Z,60,0,0,USD,MCOPSTN1\n",
    )
    .unwrap();
    let (_, report) = waste_json(dir.path(), &["--usage", "usage.csv"]);
    assert_eq!(report["usage"]["checked"], true, "{report:#}");
    let idle: Vec<_> = lines(&report)
        .into_iter()
        .filter(|l| l.0 == "noCalls")
        .collect();
    assert_eq!(idle.len(), 1, "{idle:?}");
    assert_eq!(idle[0].3, s(&["eve@contoso.com", "fay@contoso.com"]));
}

#[test]
fn through_the_emulator_the_report_is_the_same_as_on_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &wasteful_tenant());
    let (_, on_file) = waste_json(dir.path(), &[]);
    let emulator = crate::emulator::start(&dir.path().join("tenant.json"), |_| {});
    let out = commcred(dir.path())
        .args(["waste", "--format", "json"])
        .env("COMMCRED_BACKEND", format!("graph:{}", emulator.base_url()))
        .env("AZURE_TENANT_ID", crate::emulator::TENANT_DOMAIN)
        .env("AZURE_CLIENT_ID", "commcred-cli")
        .env("AZURE_CLIENT_SECRET", "secret")
        .env_remove("AZURE_AUTHORITY_HOST")
        .output()
        .unwrap();
    emulator.shutdown().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_graph: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(on_graph["lines"], on_file["lines"]);
    assert_eq!(on_graph["summary"], on_file["summary"]);
    assert_eq!(
        on_graph["usage"]["sources"],
        json!(["Microsoft Graph getPstnCalls"])
    );
}

/// `waste --workspace`: one summary over the tenants, each judged on its own data: the
/// wasteful tenant's seats and cost, the clean one's "no waste", the broken one's failure;
/// exit 1 with a failure, 2 with waste only, 0 with neither.
#[test]
fn waste_across_a_workspace_sums_each_tenant_and_isolates_a_failure() {
    let root = tempfile::tempdir().unwrap();
    let wasteful = root.path().join("wasteful");
    let clean = root.path().join("clean");
    let broken = root.path().join("broken");
    for dir in [&wasteful, &clean, &broken] {
        std::fs::create_dir_all(dir).unwrap();
    }
    write(&wasteful, &wasteful_tenant());
    write(
        &clean,
        &json!({
            "tenant": {"id": "7f1c0000-0000-4000-8000-000000000002", "domain": "contoso.onmicrosoft.com"},
            "subscribedSkus": [sku("MCOEV", 1, 1), sku("MCOPSTN1", 1, 1)],
            "users": [user(5, "eve", &["MCOEV", "MCOPSTN1"], Some(true))],
            "pstnCalls": [call("c1", "eve@contoso.com", "2026-11-15T10:00:00Z")]
        }),
    );
    std::fs::write(
        clean.join("commcred.yaml"),
        "apiVersion: commcred/v1\ntenant: contoso.onmicrosoft.com\nprices: prices.yaml\nusers:\n  - upn: eve@contoso.com\n    licenses: [phoneSystem, domesticCallingPlan]\n",
    )
    .unwrap();
    write(&broken, &wasteful_tenant());
    std::fs::write(
        broken.join("commcred.yaml"),
        "apiVersion: commcred/v1\nusers: 3\n",
    )
    .unwrap();
    std::fs::write(
        root.path().join("ws.yaml"),
        "apiVersion: commcred/v1\ntenants:\n  - name: wasteful\n    config: wasteful/commcred.yaml\n  - name: clean\n    config: clean/commcred.yaml\n  - name: broken\n    config: broken/commcred.yaml\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = commcred(root.path())
            .args(["waste", "--workspace", "ws.yaml"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = run(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("3 tenant(s): 2 read (1 with waste), 1 failed"),
        "{text}"
    );
    let line = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{text}"))
            .to_string()
    };
    // The single-tenant report says 11 seats and 80.00 USD (test above).
    assert!(line("wasteful").contains("11 seats"), "{text}");
    assert!(line("wasteful").contains("80.00 USD a month"), "{text}");
    assert!(line("clean").contains("no waste"), "{text}");
    assert!(line("broken").contains("FAILED commcred::config"), "{text}");
    assert!(text.contains("Priced waste: 80.00 USD a month"), "{text}");
    assert!(text.contains("--- wasteful ---"), "{text}");

    let (code, text) = run(&["--tenants", "wasteful,clean"]);
    assert_eq!(code, Some(2), "{text}");
    let (code, text) = run(&["--tenants", "clean"]);
    assert_eq!(code, Some(0), "{text}");
    // Per-tenant options are refused rather than applied to every tenant.
    let out = commcred(root.path())
        .args(["waste", "--workspace", "ws.yaml", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("commcred::cli::bad_flag"));
}
