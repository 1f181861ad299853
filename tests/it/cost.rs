//! What a plan costs (issue 23), through the binary: seats added and freed per SKU with the
//! exact monthly change in every format, unpriced SKUs listed as such, group changes priced
//! on the members who newly take a seat, and `apply --max-monthly-increase`.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::commcred;
use crate::waste::{sku, user};

const PRICES: &str = "currency: USD
asOf: 2026-11-01
skus:
  MCOEV: 8.10
  MCOPSTN1: {monthly: 12.00, term: annual}
";

/// 40 users who get Teams Phone (two of them Audio Conferencing too), 5 who lose their
/// calling plan.
fn tenant() -> Value {
    let mut users: Vec<Value> = (1..=40)
        .map(|n| user(n, &format!("new{n:02}"), &[], None))
        .collect();
    users.extend((41..=45).map(|n| user(n, &format!("old{n}"), &["MCOEV", "MCOPSTN1"], None)));
    json!({
        "tenant": {"id": "7f1c0000-0000-4000-8000-000000000001", "domain": "contoso.onmicrosoft.com"},
        "subscribedSkus": [sku("MCOEV", 60, 5), sku("MCOPSTN1", 10, 5), sku("MCOMEETADV", 5, 0)],
        "users": users,
    })
}

fn config() -> String {
    let mut yaml = String::from(
        "apiVersion: commcred/v1\ntenant: contoso.onmicrosoft.com\nprices: prices.yaml\nusers:\n",
    );
    for n in 1..=40 {
        let extra = if n <= 2 { ", audioConferencing" } else { "" };
        yaml.push_str(&format!(
            "  - upn: new{n:02}@contoso.com\n    licenses: [phoneSystem{extra}]\n"
        ));
    }
    for n in 41..=45 {
        yaml.push_str(&format!(
            "  - upn: old{n}@contoso.com\n    licenses: [phoneSystem]\n"
        ));
    }
    yaml
}

fn setup(dir: &Path, tenant: &Value, yaml: &str, prices: &str) {
    std::fs::write(
        dir.join("tenant.json"),
        serde_json::to_string_pretty(tenant).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("commcred.yaml"), yaml).unwrap();
    std::fs::write(dir.join("prices.yaml"), prices).unwrap();
}

fn stdout(dir: &Path, args: &[&str]) -> String {
    let out = commcred(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_plan_shows_seats_added_and_freed_and_the_exact_monthly_change_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &tenant(), &config(), PRICES);

    let human = stdout(dir.path(), &["plan"]);
    assert!(
        human.contains(
            "Seats and monthly cost (prices from prices.yaml (USD, as of 2026-11-01)):\n\
             \x20 + phoneSystem (MCOEV): 40 seats added x 8.10 USD = +324.00 USD a month\n\
             \x20 - domesticCallingPlan (MCOPSTN1): 5 seats freed x 12.00 USD = -60.00 USD a month (annual term: the freed seats are saved at renewal)\n\
             \x20 ? audioConferencing (MCOMEETADV): 2 seats added, unpriced (no price in prices.yaml; not counted)\n\
             \x20 Monthly change: +264.00 USD a month in seats (1 SKU unpriced)\n"
        ),
        "{human}"
    );
    assert!(
        human.ends_with(
            "Plan: 42 to assign, 5 to remove, 0 settings to change, no money to add, +264.00 USD a month in seats (1 SKU unpriced).\n"
        ),
        "{human}"
    );

    let markdown = stdout(dir.path(), &["plan", "--format", "markdown"]);
    let first: Vec<&str> = markdown.lines().take(10).collect();
    assert_eq!(
        first[3],
        "**Plan: 42 to assign, 5 to remove, 0 settings to change, no money to add, +264.00 USD a month in seats (1 SKU unpriced).**",
        "{markdown}"
    );
    assert_eq!(first[5], "**Money to spend: none.**", "{markdown}");
    assert_eq!(
        first[7],
        "**Monthly cost: +264.00 USD a month in seats (1 SKU unpriced)** (prices from prices.yaml (USD, as of 2026-11-01))",
        "{markdown}"
    );
    assert!(
        markdown.contains("| ? | audioConferencing (MCOMEETADV): 2 seats added, unpriced"),
        "{markdown}"
    );

    let plan: Value =
        serde_json::from_str(&stdout(dir.path(), &["plan", "--format", "json"])).unwrap();
    assert_eq!(
        plan["summary"]["monthly_change"],
        json!({"amount": "264.00", "currency": "USD"})
    );
    let cost = &plan["cost"];
    assert_eq!(cost["currency"], "USD");
    assert_eq!(cost["as_of"], "2026-11-01");
    let lines: Vec<(Value, Value, Value, Value)> = cost["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["license"]["sku_part_number"].clone(),
                json!([l["added"], l["freed"]]),
                l["monthly_price"].clone(),
                l["monthly_change"].clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (
                json!("MCOEV"),
                json!([40, 0]),
                json!("8.10"),
                json!("324.00")
            ),
            (
                json!("MCOPSTN1"),
                json!([0, 5]),
                json!("12.00"),
                json!("-60.00")
            ),
        ]
    );
    assert_eq!(
        cost["unpriced"],
        json!([{"license": plan["cost"]["unpriced"][0]["license"], "added": 2, "freed": 0}])
    );
    assert_eq!(
        cost["unpriced"][0]["license"]["sku_part_number"],
        "MCOMEETADV"
    );

    // A saved plan keeps its cost: `show` prints the same block.
    stdout(dir.path(), &["plan", "--out", "plan.json"]);
    let shown = stdout(dir.path(), &["show", "plan.json"]);
    assert!(
        shown.contains("+264.00 USD a month in seats (1 SKU unpriced)."),
        "{shown}"
    );
}

#[test]
fn a_group_change_prices_only_the_members_who_newly_take_a_seat() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = tenant();
    // Ten members; four already hold Teams Phone directly.
    let members: Vec<Value> = (1..=10)
        .map(|n| json!(format!("b1e2a3c4-0000-4000-8000-{n:012}")))
        .collect();
    for n in 0..4 {
        t["users"][n]["assignedLicenses"] =
            json!([{"skuId": crate::waste::sku_id("MCOEV"), "disabledPlans": []}]);
    }
    t["subscribedSkus"][0]["consumedUnits"] = json!(9);
    t["groups"] = json!([{
        "id": "5a1e5000-0000-4000-8000-000000000001", "displayName": "Sales Phones",
        "assignedLicenses": [], "members": members
    }]);
    let yaml = "apiVersion: commcred/v1\ntenant: contoso.onmicrosoft.com\nprices: prices.yaml\n\
                groups:\n  - displayName: Sales Phones\n    licenses: [phoneSystem]\n";
    setup(dir.path(), &t, yaml, PRICES);
    let human = stdout(dir.path(), &["plan"]);
    assert!(
        human.contains("  + phoneSystem (MCOEV): 6 seats added x 8.10 USD = +48.60 USD a month\n"),
        "{human}"
    );
    assert!(human.contains("+48.60 USD a month in seats."), "{human}");
}

#[test]
fn max_monthly_increase_refuses_above_the_limit_and_accepts_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let prices = format!("{PRICES}  MCOMEETADV: 4.00\n");
    setup(dir.path(), &tenant(), &config(), &prices);
    let before = std::fs::read(dir.path().join("tenant.json")).unwrap();
    // 324.00 - 60.00 + 8.00 = 272.00 USD a month.
    let out = commcred(dir.path())
        .args([
            "apply",
            "--auto-approve",
            "--max-monthly-increase",
            "271.99",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("commcred::apply::max_monthly_increase_exceeded"),
        "{stderr}"
    );
    assert!(stderr.contains("+272.00 USD"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("tenant.json")).unwrap(),
        before
    );

    // A saved plan, at exactly the limit, with its currency.
    stdout(dir.path(), &["plan", "--out", "plan.json"]);
    let out = commcred(dir.path())
        .args(["apply", "plan.json", "--max-monthly-increase", "272.00 USD"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        std::fs::read(dir.path().join("tenant.json")).unwrap(),
        before
    );
}

#[test]
fn max_monthly_increase_refuses_a_plan_whose_cost_is_not_known() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &tenant(), &config(), PRICES);
    let out = commcred(dir.path())
        .args(["apply", "--auto-approve", "--max-monthly-increase", "1000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("commcred::apply::monthly_cost_unknown"),
        "{stderr}"
    );
    assert!(stderr.contains("MCOMEETADV"), "{stderr}");
    // Without a price list at all, the same refusal says to add one.
    std::fs::write(
        dir.path().join("commcred.yaml"),
        config().replace("prices: prices.yaml\n", ""),
    )
    .unwrap();
    let out = commcred(dir.path())
        .args(["apply", "--auto-approve", "--max-monthly-increase", "1000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("commcred::apply::monthly_cost_unknown"),
        "{stderr}"
    );
    assert!(stderr.contains("prices:"), "{stderr}");
}

#[test]
fn validate_reads_the_price_list_and_locates_its_problems() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &tenant(), &config(), PRICES);
    let out = stdout(dir.path(), &["validate"]);
    assert!(
        out.ends_with(", 2 prices in USD from prices.yaml\n"),
        "{out}"
    );
    std::fs::write(
        dir.path().join("prices.yaml"),
        "currency: USD\nskus:\n  MCOEV: 8.105\n",
    )
    .unwrap();
    for command in ["validate", "plan"] {
        let out = commcred(dir.path()).arg(command).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("commcred::config::too_many_decimals"),
            "{stderr}"
        );
        assert!(stderr.contains("prices.yaml:3:10"), "{stderr}");
    }
}
