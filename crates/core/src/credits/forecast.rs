//! What the credits will do next: the usable balance, money that expires within 30 days
//! unspent, the recent rate of spend, and warnings. Shown with every plan that manages
//! credits, changes or not. Pure: the clock and the usage are arguments.
//!
//! Formulas (docs/credits.md):
//! - recent rate = charges (charge + connection fee, account currency) over the last 90 days
//!   divided by the days in that window; the window starts later when the first charged call
//!   known is younger than 90 days (from the start of that call's day);
//! - projection: from now, spend the rate continuously, oldest usable fund first; a fund
//!   that reaches its expiry with money left loses that money; the balance runs out when the
//!   last fund is spent or expired;
//! - "runs out before the next recharge": with auto-recharge off, the balance after the plan
//!   runs out within 30 days; with it on, "When balance is below" covers less than 7 days of
//!   spend, too little for the recharge to land before the balance reaches zero.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::base::money::{Amount, Money};
use crate::tenant::credits::{expires_at, is_usable};
use crate::tenant::{BillingAccountType, CreditsAccount, Fund};

use super::usage::CallRow;
use super::{RECENT_DAYS, start_of_day, whole_days};

/// Money about to be lost is looked for this far ahead.
pub const EXPIRY_HORIZON_DAYS: i64 = 30;
/// With auto-recharge off, a balance lasting less than this is a warning.
pub const RUN_OUT_DAYS: i64 = 30;
/// With auto-recharge on, the trigger should cover at least this many days of spend.
pub const TRIGGER_COVER_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    pub usable_balance: Amount,
    /// After this plan's purchase, if any.
    pub balance_after: Amount,
    /// Usable funds expiring within 30 days, with what they still hold.
    pub expiring: Vec<ExpiringFund>,
    /// `None` when commcred knows no PSTN usage at all.
    pub rate: Option<SpendRate>,
    /// With auto-recharge off after the plan: when the balance is spent or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_out_at: Option<DateTime<Utc>>,
    pub warnings: Vec<CreditsWarning>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringFund {
    pub id: String,
    pub expires_at: DateTime<Utc>,
    pub remaining: Amount,
    /// What is left at expiry at the recent rate; `None` without usage data.
    pub likely_lost: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendRate {
    pub since: DateTime<Utc>,
    pub days: i64,
    pub total: Amount,
    pub calls: usize,
    /// `total / days`, exact to 6 decimals (rounded half away from zero).
    pub per_day: Amount,
}

/// A warning under the plan's credits outlook: what it is about (which fixes its code),
/// what is wrong in words, and what to do. Serialized as `{code, message, help}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsWarning {
    #[serde(rename = "code")]
    pub kind: WarningKind,
    pub message: String,
    pub help: String,
}

impl CreditsWarning {
    pub fn new(kind: WarningKind, message: impl Into<String>, help: impl Into<String>) -> Self {
        CreditsWarning {
            kind,
            message: message.into(),
            help: help.into(),
        }
    }

    /// The stable diagnostic code, `commcred::credits::<name>`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// What a credits warning is about: one kind per problem, each with its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarningKind {
    /// A MOSA account without auto-recharge after the plan.
    AutoRechargeOff,
    /// Auto-recharge off, and the balance runs out within [`RUN_OUT_DAYS`].
    RunsOut,
    /// Auto-recharge on, but "When balance is below" covers less than
    /// [`TRIGGER_COVER_DAYS`] of spend.
    TriggerTooLow,
    /// Money that will expire unused within [`EXPIRY_HORIZON_DAYS`].
    FundsExpiring,
    /// Users with charged calls who will not hold the credits license.
    UnlicensedCallers,
    /// Charges exceed the ledger's funds: a purchase is missing from it (Graph only).
    LedgerBehind,
}

impl WarningKind {
    pub const ALL: [WarningKind; 6] = [
        WarningKind::AutoRechargeOff,
        WarningKind::RunsOut,
        WarningKind::TriggerTooLow,
        WarningKind::FundsExpiring,
        WarningKind::UnlicensedCallers,
        WarningKind::LedgerBehind,
    ];

    /// The one place the codes of credits warnings are written (docs/diagnostics.md).
    pub fn code(self) -> &'static str {
        match self {
            WarningKind::AutoRechargeOff => "commcred::credits::auto_recharge_off",
            WarningKind::RunsOut => "commcred::credits::runs_out",
            WarningKind::TriggerTooLow => "commcred::credits::trigger_too_low",
            WarningKind::FundsExpiring => "commcred::credits::funds_expiring",
            WarningKind::UnlicensedCallers => "commcred::credits::unlicensed_callers",
            WarningKind::LedgerBehind => "commcred::credits::ledger_behind",
        }
    }

    /// The kind whose code is `code` (a saved plan's warnings are read back this way).
    pub fn from_code(code: &str) -> Option<WarningKind> {
        WarningKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl std::fmt::Display for WarningKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for WarningKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for WarningKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        WarningKind::from_code(&code).ok_or_else(|| {
            serde::de::Error::custom(format!("`{code}` is not a credits warning code"))
        })
    }
}

/// The auto-recharge settings in force after the plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoRechargeAfter {
    pub enabled: bool,
    pub trigger_below: Option<Decimal>,
    pub recharge_amount: Option<Decimal>,
}

pub struct ForecastInput<'a> {
    pub account: &'a CreditsAccount,
    pub add_funds: Option<Decimal>,
    pub auto_recharge: AutoRechargeAfter,
    pub rows: &'a [CallRow],
    /// Rows in the live state that could not be read.
    pub unreadable_rows: usize,
    /// UPNs (or ids) of users with charged calls who will not hold the credits license.
    pub unlicensed_callers: Vec<String>,
    pub now: DateTime<Utc>,
}

// Long: the outlook's figures and each warning read the same locals (balance, rate, expiry); split, they would pass a dozen values around.
pub fn forecast(input: &ForecastInput) -> Forecast {
    let account = input.account;
    let now = input.now;
    let currency = account.currency.as_str();
    let money = |d: Decimal| Money::new(d, currency).to_string();

    let mut after = account.clone();
    if let Some(a) = input.add_funds {
        crate::tenant::credits::add_funds(&mut after, a, now);
    }
    let usable = crate::tenant::credits::usable_balance(account, now);
    let balance_after = crate::tenant::credits::usable_balance(&after, now);
    let rate = spend_rate(input.rows, currency, now);
    let per_day = rate.as_ref().map(|r| r.per_day.0);
    let projection = project(&after, per_day.unwrap_or(Decimal::ZERO), now);

    let horizon = now + Duration::days(EXPIRY_HORIZON_DAYS);
    let expiring: Vec<ExpiringFund> = projection
        .funds
        .iter()
        .filter(|p| p.expires_at <= horizon)
        .map(|p| ExpiringFund {
            id: p.id.clone(),
            expires_at: p.expires_at,
            remaining: Amount(p.remaining),
            likely_lost: per_day.map(|_| Amount(p.lost)),
        })
        .collect();

    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let ar = input.auto_recharge;
    let mosa = account.billing_account_type == BillingAccountType::Mosa;
    if mosa && !ar.enabled {
        warnings.push(CreditsWarning::new(
            WarningKind::AutoRechargeOff,
            "auto-recharge is off: when the balance reaches zero, every call paid by credits stops, toll-free numbers included",
            "Microsoft recommends auto-recharge: set communicationsCredits.autoRecharge {enabled: true, triggerBelow, rechargeAmount}; `commcred recommend` suggests the amounts",
        ));
    }
    let mut runs_out_at = None;
    if let (Some(rate), Some(per_day)) = (&rate, per_day.filter(|r| *r > Decimal::ZERO)) {
        let rate_text = format!(
            "{}/day over the last {} day{}",
            money(per_day),
            rate.days,
            if rate.days == 1 { "" } else { "s" }
        );
        if !ar.enabled {
            runs_out_at = projection.runs_out_at;
            // MCA and CSP accounts pay usage after the fact once the balance is spent
            // (docs/credits.md, "Billing account types"): running out stops nothing there.
            if let Some(at) = projection
                .runs_out_at
                .filter(|t| mosa && *t < now + Duration::days(RUN_OUT_DAYS))
            {
                warnings.push(CreditsWarning::new(
                    WarningKind::RunsOut,
                    format!(
                        "at the recent rate of spend ({rate_text}) the balance of {} runs out on {}, and no auto-recharge will refill it",
                        money(balance_after),
                        at.format("%Y-%m-%d")
                    ),
                    "turn auto-recharge on, or raise minimumBalance and apply more often",
                ));
            }
        } else if let Some(trigger) = ar.trigger_below.filter(|_| mosa) {
            let cover = per_day * Decimal::from(TRIGGER_COVER_DAYS);
            if trigger < cover {
                let days = (trigger / per_day).round_dp_with_strategy(1, RoundingStrategy::ToZero);
                warnings.push(CreditsWarning::new(
                    WarningKind::TriggerTooLow,
                    format!(
                        "auto-recharge starts below {}, which lasts {days} days at the recent rate of spend ({rate_text}): the balance could run out before the recharge arrives",
                        money(trigger)
                    ),
                    format!(
                        "raise triggerBelow to at least {} ({TRIGGER_COVER_DAYS} days of spend); `commcred recommend` works it out from your usage",
                        money(cover.round_dp_with_strategy(0, RoundingStrategy::AwayFromZero))
                    ),
                ));
            }
        }
    }
    let lost: Decimal = expiring
        .iter()
        .filter_map(|e| e.likely_lost)
        .map(|a| a.0)
        .sum();
    let expiring_total: Decimal = expiring.iter().map(|e| e.remaining.0).sum();
    if lost > Decimal::ZERO || (per_day.is_none() && expiring_total > Decimal::ZERO) {
        let first = &expiring[0];
        let amount = if per_day.is_some() {
            lost
        } else {
            expiring_total
        };
        warnings.push(CreditsWarning::new(
            WarningKind::FundsExpiring,
            format!(
                "{} will expire unused within {EXPIRY_HORIZON_DAYS} days{} (first: fund {} on {})",
                money(amount),
                if per_day.is_some() { " at the recent rate of spend" } else { " unless spent first" },
                first.id,
                first.expires_at.format("%Y-%m-%d")
            ),
            "funds last 12 months from purchase; buy smaller amounts (lower minimumBalance or rechargeAmount) so that each purchase is spent within a year",
        ));
    }
    // Only prepaid (MOSA) accounts pay calls through the Communications Credits license;
    // MCA and CSP accounts are billed without it.
    if mosa && !input.unlicensed_callers.is_empty() {
        let n = input.unlicensed_callers.len();
        warnings.push(CreditsWarning::new(
            WarningKind::UnlicensedCallers,
            format!(
                "{n} user{} whose calls were charged to credits in the last {RECENT_DAYS} days will not hold the Communications Credits license (MCOPSTNC): {}",
                if n == 1 { "" } else { "s" },
                crate::base::text::list_some(&input.unlicensed_callers, 10)
            ),
            "add communicationsCredits to their licenses or profile: without it, their next call that needs credits fails",
        ));
    }
    if rate.is_none() {
        notes.push(
            "no PSTN usage known: import the Teams admin center usage export (`commcred usage import FILE.csv`) for spend forecasts"
                .to_string(),
        );
    }
    if input.unreadable_rows > 0 {
        notes.push(format!(
            "{} pstnCalls row{} could not be read and {} ignored",
            input.unreadable_rows,
            if input.unreadable_rows == 1 { "" } else { "s" },
            if input.unreadable_rows == 1 {
                "is"
            } else {
                "are"
            }
        ));
    }

    Forecast {
        usable_balance: Amount(usable),
        balance_after: Amount(balance_after),
        expiring,
        rate,
        runs_out_at,
        warnings,
        notes,
    }
}

/// The recent rate of spend in `currency` (see the module docs), or `None` when no call is
/// known at all.
pub fn spend_rate(rows: &[CallRow], currency: &str, now: DateTime<Utc>) -> Option<SpendRate> {
    let charged: Vec<&CallRow> = rows
        .iter()
        .filter(|r| r.is_charged() && r.start_date_time <= now)
        .filter(|r| {
            r.currency_code()
                .is_none_or(|c| c.eq_ignore_ascii_case(currency))
        })
        .collect();
    let earliest = charged.iter().map(|r| r.start_date_time).min()?;
    let window_start = now - Duration::days(RECENT_DAYS);
    let since = start_of_day(earliest).max(window_start);
    let days = whole_days(since, now);
    let recent: Vec<&CallRow> = charged
        .into_iter()
        .filter(|r| r.start_date_time >= since)
        .collect();
    let total: Decimal = recent.iter().map(|r| r.debit()).sum();
    let per_day = (total / Decimal::from(days))
        .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero);
    Some(SpendRate {
        since,
        days,
        total: Amount(total),
        calls: recent.len(),
        per_day: Amount(per_day),
    })
}

/// One usable fund in the projection.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedFund {
    pub id: String,
    pub expires_at: DateTime<Utc>,
    pub remaining: Decimal,
    /// Left in the fund when it expires.
    pub lost: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub funds: Vec<ProjectedFund>,
    /// When the last usable fund is spent or expired.
    pub runs_out_at: Option<DateTime<Utc>>,
}

/// Spends `per_day` continuously from `now`, oldest usable fund first (the account's FIFO
/// order: purchase time, then position).
pub fn project(account: &CreditsAccount, per_day: Decimal, now: DateTime<Utc>) -> Projection {
    let mut order: Vec<(usize, &Fund)> = account
        .funds
        .iter()
        .enumerate()
        .filter(|(_, f)| is_usable(f, now) && f.remaining.0 > Decimal::ZERO)
        .collect();
    order.sort_by_key(|(i, f)| (f.purchased_at, *i));
    let day = Decimal::from(86_400);
    // Days after `now` at which the spending has reached the current fund.
    let mut cursor = Decimal::ZERO;
    let mut funds = Vec::with_capacity(order.len());
    for (_, f) in order {
        let expiry = expires_at(f);
        let expires_in = Decimal::from((expiry - now).num_seconds()) / day;
        let remaining = f.remaining.0;
        let lost = if expires_in <= cursor || per_day <= Decimal::ZERO {
            cursor = cursor.max(expires_in);
            remaining
        } else {
            let can_spend = (expires_in - cursor) * per_day;
            if can_spend >= remaining {
                cursor += remaining / per_day;
                Decimal::ZERO
            } else {
                cursor = expires_in;
                remaining - can_spend
            }
        };
        funds.push(ProjectedFund {
            id: f.id.clone(),
            expires_at: expiry,
            remaining,
            lost: lost.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero),
        });
    }
    let runs_out_at = (!funds.is_empty()).then(|| {
        let seconds = (cursor * day).round();
        now + Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 2))
    });
    Projection { funds, runs_out_at }
}

/// Users (UPN, else AAD id) with charged calls in the last [`RECENT_DAYS`] days, once each.
pub fn recent_callers(
    rows: &[CallRow],
    now: DateTime<Utc>,
) -> Vec<(Option<String>, Option<String>)> {
    let since = now - Duration::days(RECENT_DAYS);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.is_charged() && r.start_date_time > since && r.start_date_time <= now)
    {
        if r.user_id.is_none() && r.user_principal_name.is_none() {
            // Bots (auto attendants, call queues) have no user: nothing to license.
            continue;
        }
        let key = (
            r.user_id.as_deref().map(str::to_ascii_lowercase),
            r.user_principal_name.as_deref().map(str::to_lowercase),
        );
        if seen.insert(key) {
            out.push((r.user_id.clone(), r.user_principal_name.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::credits::add_funds;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn projection_spends_oldest_first_and_loses_what_expires() {
        let mut account: CreditsAccount = serde_json::from_value(serde_json::json!({
            "billingAccountType": "MOSA", "currency": "USD"
        }))
        .unwrap();
        add_funds(
            &mut account,
            Decimal::new(5000, 2),
            at("2025-12-11T00:00:00Z"),
        );
        add_funds(
            &mut account,
            Decimal::new(2000, 2),
            at("2026-06-01T00:00:00Z"),
        );
        // Now 2026-12-01: the first fund expires on 2026-12-11, in 10 days. At 2.00/day,
        // 20.00 of its 50.00 is spent by then and 30.00 is lost; the second fund then lasts
        // 20.00 / 2.00 = 10 days: empty on 2026-12-21.
        let p = project(&account, Decimal::new(200, 2), at("2026-12-01T00:00:00Z"));
        assert_eq!(p.funds[0].lost, Decimal::new(3000, 2));
        assert_eq!(p.funds[1].lost, Decimal::ZERO);
        assert_eq!(p.runs_out_at, Some(at("2026-12-21T00:00:00Z")));
    }

    fn account_with(amount: i64) -> CreditsAccount {
        let mut account: CreditsAccount = serde_json::from_value(serde_json::json!({
            "billingAccountType": "MOSA", "currency": "USD"
        }))
        .unwrap();
        add_funds(
            &mut account,
            Decimal::new(amount, 2),
            at("2026-11-01T00:00:00Z"),
        );
        account
    }

    /// 10.00 a day over 10 days of calls.
    fn spending() -> Vec<CallRow> {
        (1..=10)
            .map(|day| {
                serde_json::from_value(serde_json::json!({
                    "id": format!("c{day}"),
                    "startDateTime": format!("2026-11-{day:02}T10:00:00Z"),
                    "charge": "10.00",
                    "currency": "USD"
                }))
                .unwrap()
            })
            .collect()
    }

    fn kinds(account: &CreditsAccount, auto_recharge: AutoRechargeAfter) -> Vec<WarningKind> {
        let rows = spending();
        let input = ForecastInput {
            account,
            add_funds: None,
            auto_recharge,
            rows: &rows,
            unreadable_rows: 0,
            unlicensed_callers: Vec::new(),
            now: at("2026-11-11T00:00:00Z"),
        };
        forecast(&input).warnings.iter().map(|w| w.kind).collect()
    }

    #[test]
    fn running_out_and_a_low_trigger_are_two_warnings() {
        let account = account_with(5000);
        let off = AutoRechargeAfter {
            enabled: false,
            trigger_below: None,
            recharge_amount: None,
        };
        assert!(kinds(&account, off).contains(&WarningKind::RunsOut));
        let low = AutoRechargeAfter {
            enabled: true,
            trigger_below: Some(Decimal::new(2000, 2)),
            recharge_amount: Some(Decimal::new(10000, 2)),
        };
        let on = kinds(&account, low);
        assert!(on.contains(&WarningKind::TriggerTooLow), "{on:?}");
        assert!(!on.contains(&WarningKind::RunsOut), "{on:?}");
    }

    #[test]
    fn each_warning_kind_has_its_own_code_and_reads_back_from_it() {
        let codes: std::collections::BTreeSet<_> =
            WarningKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), WarningKind::ALL.len());
        for kind in WarningKind::ALL {
            let warning = CreditsWarning::new(kind, "m", "h");
            let json = serde_json::to_value(&warning).unwrap();
            assert_eq!(json["code"], kind.code());
            let back: CreditsWarning = serde_json::from_value(json).unwrap();
            assert_eq!(back, warning);
        }
        let unknown = serde_json::json!({"code": "nope", "message": "m", "help": "h"});
        assert!(serde_json::from_value::<CreditsWarning>(unknown).is_err());
    }
}
