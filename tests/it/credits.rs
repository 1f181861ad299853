//! Communications Credits through the real binary: usage import, recommend, the ledger.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{commcred, read, root};

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/credits").join(name)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

#[test]
fn usage_import_reads_a_realistic_export_once() {
    let dir = tempfile::tempdir().unwrap();
    // The fixture is the export as the Teams admin center writes it: a byte-order mark, CRLF,
    // quoted fields with commas and doubled quotes, free calls with empty Charge and
    // Currency, a bot call without a user, fractions of seconds, a space-separated time,
    // and three currencies.
    let output = commcred(dir.path())
        .args(["usage", "import"])
        .arg(fixture("pstn-usage.csv"))
        .args(["--ledger", "ledger.json", "--by", "alice"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    // 17 calls; 15 charged (the first and the last are free). Per currency:
    // EUR 12.34 + 7.66 = 20.00; GBP 3.21; USD 20.00+0.50 + 14.50 + 5.00 + 30.00 + 25.00
    // + 15.00 + 5.00 + 60.00 + 70.00 + 70.00 + 70.00 + 69.00+1.00 = 455.00.
    assert!(
        text.contains(
            "17 calls from 2026-04-01 to 2026-06-30; 15 charged: 20.00 EUR, 3.21 GBP, 455.00 USD"
        ),
        "{text}"
    );
    assert!(
        text.contains("15 charged calls added, 0 already in the ledger"),
        "{text}"
    );

    let ledger = json(&dir.path().join("ledger.json"));
    assert_eq!(ledger["formatVersion"], 1);
    let calls = ledger["pstnCalls"].as_array().unwrap();
    assert_eq!(calls.len(), 15);
    let erin = &calls[0];
    assert_eq!(erin["id"], "0a9f1e52-0002-4b1c-9d2e-5f7a8b9c0d02");
    assert_eq!(erin["userDisplayName"], "Erin \"The Closer\" Ellis");
    assert_eq!(erin["charge"], "20.00");
    assert_eq!(erin["connectionCharge"], "0.50");
    assert_eq!(erin["licenseCapability"], "MCOPSTNPP");
    assert_eq!(erin["destinationName"], "Italy");
    let frank = &calls[1];
    assert_eq!(frank["userDisplayName"], "Frank, Jr.");
    assert_eq!(frank["startDateTime"], "2026-04-08T11:30:00Z");
    assert!(
        frank.get("connectionCharge").is_none(),
        "an empty fee is no fee"
    );
    assert_eq!(ledger["usageImports"][0]["by"], "alice");
    assert_eq!(ledger["usageImports"][0]["rows"], 17);

    // The same export again adds nothing: calls are keyed by UsageId.
    commcred(dir.path())
        .args(["usage", "import"])
        .arg(fixture("pstn-usage.csv"))
        .args(["--ledger", "ledger.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "0 charged calls added, 15 already in the ledger",
        ));
    let ledger = json(&dir.path().join("ledger.json"));
    assert_eq!(ledger["pstnCalls"].as_array().unwrap().len(), 15);
    assert_eq!(ledger["usageImports"].as_array().unwrap().len(), 2);
}

#[test]
fn usage_import_reports_every_bad_field_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "\u{feff}UsageId,Start Time,Charge,Currency\r\n\
               a-1,2026-05-01T10:00:00Z,0.50,USD\r\n\
               a-2,2026-05-02T10:00:00Z,\"1,50\",USD\r\n\
               a-3,yesterday,0.10,USD\r\n";
    std::fs::write(dir.path().join("bad.csv"), csv).unwrap();
    let output = commcred(dir.path())
        .args(["usage", "import", "bad.csv", "--ledger", "ledger.json"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&output.get_output().stderr).to_string();
    assert!(err.contains("commcred::credits::usage_invalid"), "{err}");
    assert!(err.contains("commcred::credits::usage_bad_value"), "{err}");
    // `a-2,2026-05-02T10:00:00Z,` is 25 characters: Charge starts in column 26. The
    // byte-order mark is not a column.
    assert!(
        err.contains("bad.csv:3:26: Charge `1,50` is not a decimal amount"),
        "{err}"
    );
    assert!(
        err.contains("bad.csv:4:5: Start Time `yesterday` is not a date and time"),
        "{err}"
    );
    assert!(
        err.contains("plain decimals with a dot"),
        "help line: {err}"
    );
    assert!(!dir.path().join("ledger.json").exists(), "nothing imported");

    std::fs::write(dir.path().join("other.csv"), "Name,Amount\nx,1\n").unwrap();
    commcred(dir.path())
        .args(["usage", "import", "other.csv", "--ledger", "ledger.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("commcred::credits::usage_missing_column"))
        .stderr(predicate::str::contains("other.csv:1:1: the header has no `UsageId`, `Start Time`, `Charge`, `Currency` columns"));
}

#[test]
fn recommend_from_the_export_matches_the_hand_arithmetic() {
    let dir = tempfile::tempdir().unwrap();
    let output = commcred(dir.path())
        .env("COMMCRED_NOW", "2026-07-01T00:00:00Z")
        .arg("recommend")
        .arg("--usage")
        .arg(fixture("pstn-usage.csv"))
        .assert()
        .success();
    let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    // Window: the first call (free, 2026-04-01 09:00) -> from 2026-04-01 00:00 to now,
    // 2026-07-01 00:00 = 30 (April) + 31 (May) + 30 (June) = 91 days.
    //
    // USD: S = 455.00 (see the import test). M = 455.00 x 30 / 91 = 13650 / 91 = 150.00.
    // Weeks (Monday to Sunday): 04-06: 20.50 + 14.50 = 35.00; 04-13: 5.00;
    // 05-04: 30.00 + 25.00 + 15.00 (bot) + 5.00 (Sunday 23:59:59) = 75.00;
    // 05-11: 60.00 (Monday 00:00:00); 06-01, 06-08, 06-15, 06-22: 70.00 each. P = 75.00.
    // T = ceil(75.00) = 75; R = ceil(max(150.00, 75.00)) = 150; B = T = 75.
    // 12 months of spend A = 12 x 150.00 = 1800.00 >= T + R = 225: no cap.
    assert!(
        text.contains(
            "# Window: 2026-04-01 to 2026-07-01 (91 days), 12 charged calls, 455.00 USD in all."
        ),
        "{text}"
    );
    assert!(
        text.contains("# Average monthly spend: 455.00 USD x 30 / 91 days = 150.00 USD."),
        "{text}"
    );
    assert!(
        text.contains("# Peak week: 2026-05-04 to 2026-05-10, 75.00 USD."),
        "{text}"
    );
    assert!(text.contains(
        "communicationsCredits:\n  currency: USD\n  minimumBalance: 75.00\n  autoRecharge:\n    enabled: true\n    triggerBelow: 75.00\n    rechargeAmount: 150.00\n"
    ), "{text}");
    // EUR: S = 12.34 + 7.66 = 20.00; M = 20.00 x 30 / 91 = 6.5934.. (6.59 EUR);
    // P = 12.34 (week of 05-18); T = ceil(12.34) = 13; R = ceil(max(6.59.., 12.34)) = 13;
    // A = 12 x 6.5934.. = 79.12.. >= 26.
    assert!(
        text.contains("# Average monthly spend: 20.00 EUR x 30 / 91 days = 6.59 EUR."),
        "{text}"
    );
    assert!(text.contains(
        "  currency: EUR\n  minimumBalance: 13.00\n  autoRecharge:\n    enabled: true\n    triggerBelow: 13.00\n    rechargeAmount: 13.00\n"
    ), "{text}");
    // GBP: S = 3.21; M = 3.21 x 30 / 91 = 1.058.. (1.06 GBP); P = 3.21; T = 4; R = 4.
    assert!(
        text.contains("  currency: GBP\n  minimumBalance: 4.00\n"),
        "{text}"
    );
    assert!(text.contains("    rechargeAmount: 4.00\n"), "{text}");
    // One YAML document per currency, in code order.
    let docs: Vec<&str> = text.split("---\n").collect();
    assert_eq!(docs.len(), 3);
    assert!(
        docs[0].contains("currency: EUR")
            && docs[1].contains("currency: GBP")
            && docs[2].contains("currency: USD")
    );
}

/// A ledger written by hand: fund A bought 2025-11-20 (40.00 left when it was recorded on
/// 2025-11-25), fund B bought 2026-02-01 (100.00).
fn boundary_ledger(dir: &Path) {
    let ledger = serde_json::json!({
        "formatVersion": 1,
        "tenant": "contoso.onmicrosoft.com",
        "communicationsCredits": {
            "billingAccountType": "MOSA",
            "currency": "USD",
            "funds": [
                {"id": "A", "purchasedAt": "2025-11-20T00:00:00Z", "amount": "40.00", "remaining": "40.00",
                 "countsFrom": "2025-11-25T00:00:00Z",
                 "recorded": {"by": "alice", "at": "2025-11-25T00:00:00Z", "how": "ledgerRecord"}},
                {"id": "B", "purchasedAt": "2026-02-01T00:00:00Z", "amount": "100.00", "remaining": "100.00",
                 "countsFrom": "2026-02-01T00:00:00Z",
                 "recorded": {"by": "alice", "at": "2026-02-01T00:00:00Z", "how": "terminal", "plan": "p", "step": "addFunds"}}
            ],
            "autoRecharge": {"enabled": false, "triggerBelow": null, "rechargeAmount": null},
            "payment": {"method": "creditCard", "agreementNumber": null, "purchaseOrder": null}
        },
        "pstnCalls": [
            {"id": "c1", "startDateTime": "2025-11-24T12:00:00Z", "charge": "3.00", "currency": "USD"},
            {"id": "c2", "startDateTime": "2025-12-10T00:00:00Z", "charge": "10.25", "currency": "USD"},
            {"id": "c3", "startDateTime": "2026-03-01T00:00:00Z", "charge": "19.50", "connectionCharge": "0.50", "currency": "USD"},
            {"id": "c4", "startDateTime": "2026-11-19T23:59:59Z", "charge": "0.50", "currency": "USD"},
            {"id": "c5", "startDateTime": "2026-11-20T00:00:00Z", "charge": "1.00", "currency": "USD"}
        ]
    });
    std::fs::write(
        dir.join("ledger.json"),
        serde_json::to_string_pretty(&ledger).unwrap(),
    )
    .unwrap();
}

#[test]
fn ledger_replays_fifo_and_expiry_around_the_twelve_month_boundary() {
    let dir = tempfile::tempdir().unwrap();
    boundary_ledger(dir.path());
    // One second before A expires (2025-11-20 + 12 months = 2026-11-20 00:00:00):
    // c1 predates A's recording (already in its 40.00) and is not replayed;
    // c2: A 40.00 - 10.25 = 29.75; c3 (19.50 + 0.50 fee): A 29.75 - 20.00 = 9.75, B untouched
    // (oldest first); c4: A 9.75 - 0.50 = 9.25; c5 has not happened yet.
    // Usable: 9.25 + 100.00 = 109.25.
    commcred(dir.path())
        .env("COMMCRED_NOW", "2026-11-19T23:59:59Z")
        .args(["ledger", "show", "--ledger", "ledger.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("usable balance: 109.25 USD"))
        .stdout(predicate::str::contains(
            "expires 2026-11-20    9.25 USD left of  40.00 USD",
        ));
    // At the boundary A has expired with 9.25 in it (lost); c5 (1.00) is paid by B:
    // 100.00 - 1.00 = 99.00.
    commcred(dir.path())
        .env("COMMCRED_NOW", "2026-11-20")
        .args(["ledger", "show", "--ledger", "ledger.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("usable balance: 99.00 USD"))
        .stdout(predicate::str::contains(
            "expires 2026-11-20 (expired)   9.25 USD left of  40.00 USD",
        ))
        .stdout(predicate::str::contains(
            "expires 2027-02-01            99.00 USD left of 100.00 USD",
        ));
}

#[test]
fn ledger_record_creates_then_reconciles() {
    let dir = tempfile::tempdir().unwrap();
    commcred(dir.path())
        .args([
            "ledger",
            "record",
            "--ledger",
            "ledger.json",
            "--fund",
            "35.00@2025-12-01",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "commcred::credits::currency_unknown",
        ));
    commcred(dir.path())
        .args([
            "ledger",
            "record",
            "--ledger",
            "ledger.json",
            "--billing-account",
            "MOSA",
            "--currency",
            "USD",
        ])
        .args([
            "--fund",
            "35.00@2025-12-01",
            "--fund",
            "120.50@2026-03-15",
            "--by",
            "alice",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("balance 155.50 USD in 2 funds"));
    let ledger = json(&dir.path().join("ledger.json"));
    let funds = ledger["communicationsCredits"]["funds"].as_array().unwrap();
    assert_eq!(funds.len(), 2);
    assert_eq!(funds[0]["purchasedAt"], "2025-12-01T00:00:00Z");
    assert_eq!(funds[0]["remaining"], "35.00");
    assert_eq!(funds[0]["countsFrom"], "2026-11-25T12:00:00Z");
    assert_eq!(funds[0]["recorded"]["by"], "alice");
    assert_eq!(funds[0]["recorded"]["how"], "ledgerRecord");
    // An expired purchase is refused; amounts have the currency's decimals.
    commcred(dir.path())
        .args([
            "ledger",
            "record",
            "--ledger",
            "ledger.json",
            "--fund",
            "1.00@2025-11-01",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("expired 12 months later"));
    commcred(dir.path())
        .args([
            "ledger",
            "record",
            "--ledger",
            "ledger.json",
            "--fund",
            "1.005",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("at most 2 decimals"));
    // Reconciling replaces the funds and keeps the history.
    commcred(dir.path())
        .args([
            "ledger",
            "record",
            "--ledger",
            "ledger.json",
            "--fund",
            "80.00@2026-03-15",
        ])
        .assert()
        .success();
    let ledger = json(&dir.path().join("ledger.json"));
    assert_eq!(
        ledger["communicationsCredits"]["funds"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(ledger["observations"].as_array().unwrap().len(), 2);
}

/// The quickstart with its usage imported into the ledger beside commcred.yaml.
fn quickstart_with_usage() -> tempfile::TempDir {
    let dir = crate::common::example("quickstart");
    commcred(dir.path())
        .args(["usage", "import"])
        .arg(fixture("pstn-usage.csv"))
        .assert()
        .success();
    assert!(dir.path().join("commcred.ledger.json").exists());
    dir
}

#[test]
fn plan_warns_about_callers_who_will_lack_the_credits_license() {
    let dir = quickstart_with_usage();
    let output = commcred(dir.path())
        .env("COMMCRED_NOW", "2026-07-01T00:00:00Z")
        .arg("plan")
        .assert()
        .success();
    let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    // frank made a charged call on 2026-04-08 (within 90 days) and the YAML gives him only
    // phoneSystem; erin holds MCOPSTNC; luca and oliver are not in the tenant; the bot call
    // has no user.
    assert!(text.contains(
        "Warning: 1 user whose calls were charged to credits in the last 90 days will not hold the Communications Credits license (MCOPSTNC): frank@contoso.com [commcred::credits::unlicensed_callers]"
    ), "{text}");
    // Recent rate: the first charged call is 2026-04-07, younger than 90 days: the window
    // is 2026-04-07 00:00 to 2026-07-01 00:00 = 85 days; 455.00 USD / 85 = 5.35 USD/day.
    assert!(text.contains("recent spend           5.35 USD/day over 85 days since 2026-04-07 (455.00 USD, 12 charged calls)"), "{text}");
    // The summary line stays last.
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("Plan: "),
        "{text}"
    );
    // Machines and reviewers get the same warnings: the JSON plan's outlook, the PR comment.
    let output = commcred(dir.path())
        .env("COMMCRED_NOW", "2026-07-01T00:00:00Z")
        .args(["plan", "--format", "json"])
        .assert()
        .success();
    let doc: Value = serde_json::from_slice(&output.get_output().stdout).unwrap();
    let outlook = &doc["communications_credits"]["outlook"];
    assert_eq!(
        outlook["warnings"][0]["code"],
        "commcred::credits::unlicensed_callers"
    );
    // 455.00 / 85 = 5.35294117.. -> 5.352941 (6 decimals).
    assert_eq!(outlook["recent_spend"]["per_day"], "5.352941");
    assert_eq!(outlook["recent_spend"]["days"], 85);
    commcred(dir.path())
        .env("COMMCRED_NOW", "2026-07-01T00:00:00Z")
        .args(["plan", "--format", "markdown"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "**Communications Credits warnings:**",
        ))
        .stdout(predicate::str::contains(
            "`commcred::credits::unlicensed_callers`",
        ));
}

#[test]
fn plan_shows_money_about_to_expire_and_when_the_balance_runs_out() {
    let dir = quickstart_with_usage();
    let yaml = read(&dir.path().join("commcred.yaml")).replace(
        "  autoRecharge:\n    enabled: true\n    triggerBelow: 100.00\n    rechargeAmount: 250.00\n",
        "  autoRecharge:\n    enabled: false\n",
    ).replace("minimumBalance: 500.00", "minimumBalance: 100.00");
    std::fs::write(dir.path().join("commcred.yaml"), yaml).unwrap();
    let output = commcred(dir.path())
        .env("COMMCRED_NOW", "2026-08-25T00:00:00Z")
        .arg("plan")
        .assert()
        .success();
    let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    // Funds: f-1 bought 2025-09-01 with 35.00 left (expires 2026-09-01, in 7 days),
    // f-2 bought 2026-03-15 with 120.50 left. 155.50 >= minimumBalance 100.00: no purchase.
    assert!(
        text.contains("usable balance         155.50 USD\n"),
        "{text}"
    );
    // Recent rate: 90 days back is 2026-05-27; USD charges since: 4 x 70.00 = 280.00;
    // 280.00 / 90 = 3.111111 USD/day (6 decimals).
    assert!(
        text.contains("3.11 USD/day over 90 days since 2026-05-27 (280.00 USD, 4 charged calls)"),
        "{text}"
    );
    // f-1 is spent first: 7 days x 3.111111 = 21.777777 of its 35.00 before it expires;
    // 35.00 - 21.777777 = 13.222223 is lost (13.22 USD).
    assert!(
        text.contains("expires 2026-09-01     35.00 USD in fund f-1, 13.22 USD likely lost"),
        "{text}"
    );
    assert!(text.contains(
        "Warning: 13.22 USD will expire unused within 30 days at the recent rate of spend (first: fund f-1 on 2026-09-01) [commcred::credits::funds_expiring]"
    ), "{text}");
    // Then f-2: 120.50 / 3.111111 = 38.73 days after f-1 expired: 7 + 38.73 = 45.73 days
    // after 2026-08-25 is 2026-10-09. No auto-recharge refills it.
    assert!(
        text.contains("runs out               2026-10-09 at the recent rate (auto-recharge off)"),
        "{text}"
    );
    assert!(
        text.contains("[commcred::credits::auto_recharge_off]"),
        "{text}"
    );
    // More than 30 days away: not a run-out warning.
    assert!(!text.contains("commcred::credits::runs_out"), "{text}");
}

mod graph {
    //! Credits on Microsoft Graph, through the emulator on 127.0.0.1: the call log read in
    //! windows and pages, and the ledger as the live credits state.

    use std::path::Path;

    use chrono::{DateTime, Duration, Utc};
    use commcred::backend::graph::pstn::{GraphGet, fetch_pstn_calls, function_path};
    use commcred::backend::graph::{Credentials, GraphBackend, GraphOptions, Secret};
    use predicates::prelude::*;
    use rust_decimal::Decimal;
    use serde_json::{Value, json};

    use super::json;
    use crate::common::{commcred, read};
    use crate::emulator::{TENANT_DOMAIN, start};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Adds `pstnCalls` to the tenant file (what the emulator serves to getPstnCalls).
    fn add_calls(tenant: &Path, calls: Vec<Value>) {
        let mut value: Value = serde_json::from_str(&read(tenant)).unwrap();
        value["pstnCalls"] = Value::Array(calls);
        std::fs::write(tenant, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    }

    fn client(base_url: &str) -> GraphBackend {
        let credentials =
            Credentials::with_secret(TENANT_DOMAIN, "commcred-tests", Secret::new("secret"));
        let options = GraphOptions::new(Some(base_url), credentials);
        GraphBackend::new(options).unwrap()
    }

    #[test]
    fn get_pstn_calls_pages_and_crosses_the_90_day_window_boundary() {
        let dir = crate::common::example("quickstart");
        let tenant = dir.path().join("tenant.json");
        // 1,500 calls an hour apart from 2026-01-05 (one window, two pages of Graph's
        // 1,000), and calls on each side of every boundary. Some charges are JSON numbers,
        // as Graph sends Edm.Decimal.
        let mut calls: Vec<Value> = (0..1500)
            .map(|h| {
                let start = at("2026-01-05T00:00:00Z") + Duration::hours(h);
                json!({"id": format!("h-{h:04}"), "startDateTime": start.to_rfc3339(),
                       "charge": "0.01", "currency": "USD", "userPrincipalName": "erin@contoso.com"})
            })
            .collect();
        for (id, start) in [
            ("before", "2025-12-31T23:59:59Z"),
            ("first-instant", "2026-01-01T00:00:00Z"),
            ("last-second-of-window-1", "2026-03-31T23:59:59Z"),
            ("on-the-boundary", "2026-04-01T00:00:00Z"),
            ("first-second-of-window-2", "2026-04-01T00:00:01Z"),
            ("last-instant", "2026-06-01T00:00:00Z"),
            ("after", "2026-06-01T00:00:01Z"),
        ] {
            calls.push(json!({"id": id, "startDateTime": start, "charge": 0.25,
                              "connectionCharge": 0, "currency": "USD"}));
        }
        add_calls(&tenant, calls);
        let emulator = start(&tenant, |_| {});
        let mut graph = client(&emulator.base_url());

        // 2026-01-01 to 2026-06-01 is 151 days: windows [01-01, 04-01] (90 days) and
        // [04-01, 06-01], both ends inclusive, so the call at 04-01 00:00:00 is in both
        // answers and must be counted once.
        let rows = fetch_pstn_calls(
            &mut graph,
            at("2026-01-01T00:00:00Z"),
            at("2026-06-01T00:00:00Z"),
        )
        .unwrap();
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(rows.len(), 1500 + 5, "{:?}", &ids[..3]);
        assert_eq!(ids.iter().filter(|i| **i == "on-the-boundary").count(), 1);
        assert!(!ids.contains(&"before") && !ids.contains(&"after"));
        assert!(ids.contains(&"first-instant") && ids.contains(&"last-instant"));
        // In exact decimals: 1,500 x 0.01 + 5 x 0.25 = 15.00 + 1.25 = 16.25.
        let total: Decimal = rows.iter().map(|r| r.debit()).sum();
        assert_eq!(total, Decimal::new(1625, 2));
        // Window 1 took two pages (1,000 + 503 rows), window 2 one (3 rows): three reads.
        let stats = emulator.stats();
        assert_eq!(stats.http_requests - stats.token_requests, 3, "{stats:?}");

        // Graph's limit holds in the emulator: one request over 90 days is refused.
        let err = graph
            .get_json(&function_path(
                at("2026-01-01T00:00:00Z"),
                at("2026-04-01T00:00:01Z"),
            ))
            .unwrap_err();
        assert!(err.contains("cannot exceed 90 days"), "{err}");
        emulator.shutdown().unwrap();
    }

    const YAML: &str = "apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
communicationsCredits:
  currency: USD
  minimumBalance: 500.00
  autoRecharge: {enabled: true, triggerBelow: 100.00, rechargeAmount: 250.00}
  payment: {method: enterpriseAgreement, agreementNumber: \"62839471\", purchaseOrder: PO-2026-114}
  ledger: state/credits.json
";

    fn on_graph(mut cmd: assert_cmd::Command, url: &str) -> assert_cmd::Command {
        cmd.env("COMMCRED_BACKEND", format!("graph:{url}"))
            .env("AZURE_TENANT_ID", TENANT_DOMAIN)
            .env("AZURE_CLIENT_ID", "commcred-cli")
            .env("AZURE_CLIENT_SECRET", "secret")
            .env_remove("AZURE_AUTHORITY_HOST")
            .env_remove("COMMCRED_GRAPH_WRITE_QUOTA")
            .env_remove("COMMCRED_CONFIRMED_BY");
        cmd
    }

    #[test]
    fn on_graph_the_ledger_is_the_credits_state_and_a_plan_is_recorded_once() {
        let dir = crate::common::example("quickstart");
        std::fs::write(dir.path().join("commcred.yaml"), YAML).unwrap();
        std::fs::create_dir(dir.path().join("state")).unwrap();
        let tenant = dir.path().join("tenant.json");
        add_calls(
            &tenant,
            vec![
                json!({"id": "c1", "startDateTime": "2026-10-01T09:00:00Z", "charge": 30.0, "currency": "USD", "userPrincipalName": "erin@contoso.com"}),
                json!({"id": "c2", "startDateTime": "2026-11-01T09:00:00Z", "charge": "29.50", "connectionCharge": "0.50", "currency": "USD", "userPrincipalName": "erin@contoso.com"}),
                json!({"id": "c3", "startDateTime": "2026-11-20T09:00:00Z", "charge": "30.00", "currency": "USD", "userPrincipalName": "erin@contoso.com"}),
            ],
        );
        let emulator = start(&tenant, |_| {});
        let url = emulator.base_url();
        let ledger_path = dir.path().join("state/credits.json");

        // Without a ledger there is no credits state on Graph.
        on_graph(commcred(dir.path()), &url)
            .arg("plan")
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "commcred::credits::ledger_missing",
            ));
        commcred(dir.path())
            .args([
                "ledger",
                "record",
                "--billing-account",
                "MOSA",
                "--fund",
                "120.50@2026-03-15",
                "--by",
                "alice",
            ])
            .assert()
            .success()
            .stdout(predicate::str::contains("state/credits.json"));

        // The plan diffs the YAML against the ledger: 500.00 - 120.50 = 379.50 to add, the
        // settings the ledger does not have, as steps apply will guide.
        let output = on_graph(commcred(dir.path()), &url)
            .args(["plan", "--out", "plan.json"])
            .assert()
            .success();
        let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
        assert!(
            text.contains("+ add funds 379.50 USD (usable balance 120.50 USD -> 500.00 USD)"),
            "{text}"
        );
        assert!(
            text.contains("# manual: 3 steps in the Microsoft 365 admin center"),
            "{text}"
        );
        assert!(text.contains("estimated from the ledger"), "{text}");
        // getPstnCalls through the emulator: since 2026-10-01 (younger than 90 days), to
        // 2026-11-25 12:00 = 55.5 days, rounded up to 56; 30.00 + 29.50 + 0.50 + 30.00 =
        // 90.00 USD; 90.00 / 56 = 1.607142.. = 1.61 USD/day.
        assert!(text.contains("recent spend           1.61 USD/day over 56 days since 2026-10-01 (90.00 USD, 3 charged calls)"), "{text}");

        // No terminal and no --confirm-manual: the steps are shown, nothing is recorded.
        let before = read(&ledger_path);
        let output = on_graph(commcred(dir.path()), &url)
            .args(["apply", "--auto-approve"])
            .assert()
            .success();
        let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
        assert!(
            text.contains("Step 2 of 3: Add funds: 379.50 USD"),
            "{text}"
        );
        assert!(text.contains("When balance is below  100.00 USD"), "{text}");
        assert!(
            text.contains("Not recorded: there is no terminal"),
            "{text}"
        );
        assert_eq!(read(&ledger_path), before);

        // The saved plan, confirmed in a pipeline: recorded once.
        let output = on_graph(commcred(dir.path()), &url)
            .args([
                "apply",
                "plan.json",
                "--confirm-manual",
                "--confirmed-by",
                "bob",
            ])
            .assert()
            .success();
        let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
        assert_eq!(
            text.matches("Recorded in state/credits.json").count(),
            3,
            "{text}"
        );
        let ledger = json(&ledger_path);
        let funds = ledger["communicationsCredits"]["funds"].as_array().unwrap();
        assert_eq!(funds.len(), 2);
        assert_eq!(funds[1]["amount"], "379.50");
        assert_eq!(funds[1]["recorded"]["by"], "bob");
        assert_eq!(funds[1]["recorded"]["how"], "confirmManual");
        assert_eq!(funds[1]["recorded"]["step"], "addFunds");
        assert_eq!(
            ledger["communicationsCredits"]["autoRecharge"]["triggerBelow"],
            "100.00"
        );
        assert_eq!(
            ledger["communicationsCredits"]["payment"]["agreementNumber"],
            "62839471"
        );
        assert_eq!(ledger["confirmations"].as_array().unwrap().len(), 3);

        // The same plan again: every step is already recorded; the ledger does not change.
        let after_first = read(&ledger_path);
        let output = on_graph(commcred(dir.path()), &url)
            .args(["apply", "plan.json", "--confirm-manual"])
            .assert()
            .success();
        let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
        assert_eq!(
            text.matches("already recorded on 2026-11-25 12:00 UTC by bob")
                .count(),
            3,
            "{text}"
        );
        assert_eq!(read(&ledger_path), after_first);

        // Converged: planning again finds nothing to do.
        on_graph(commcred(dir.path()), &url)
            .args(["plan", "--detailed-exitcode"])
            .assert()
            .code(0)
            .stdout(predicate::str::contains(
                "usable balance         500.00 USD",
            ));
        emulator.shutdown().unwrap();
    }
}

#[test]
fn a_typed_cause_is_said_once() {
    // The error keeps the I/O error as its source; the message already says it, so the
    // report does not repeat it as a cause line.
    let dir = tempfile::tempdir().unwrap();
    let output = commcred(dir.path())
        .args(["usage", "import", "nope.csv", "--ledger", "ledger.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "commcred::credits::usage_unreadable",
        ));
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}
