//! Funding advice from real usage: per currency, the average monthly spend, the peak week,
//! and `minimumBalance`, `triggerBelow` and `rechargeAmount` with the reasoning, as a YAML
//! snippet to paste into commcred.yaml.
//!
//! The formulas (also in docs/credits.md), all in exact decimals:
//! - window: from midnight UTC of the first call in the data, but at most 12 calendar months
//!   back, to now; `days` = whole days in it, rounded up;
//! - spend `S` = sum of (charge + connection fee) of the calls in the window, per currency;
//! - monthly `M` = S x 30 / days (a month is 30 days); 12 months of spend `A` = 12 x M;
//! - peak week `P` = the largest spend in one ISO week (Monday to Sunday, UTC);
//! - `triggerBelow` T = P rounded up to a whole currency unit: the balance left when a
//!   recharge starts covers the worst week seen while the recharge lands;
//! - `rechargeAmount` R = max(M, P) rounded up to a whole unit: about one purchase a
//!   month, and never less than a peak week;
//! - cap: the most the account holds, just under T + R, is at most A rounded down to a whole
//!   unit (R is lowered, then T), so that nothing is bought only to expire after 12 months;
//! - `minimumBalance` B = T: commcred's own top-up then buys only when auto-recharge has
//!   not refilled the account (it is a backstop, not a second recharge).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::base::codes::currency_minor_units;
use crate::base::money::Money;

use super::usage::CallRow;
use super::{start_of_day, twelve_months_before, whole_days};

/// A month, for "average monthly spend".
pub const MONTH_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    pub currency: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub days: i64,
    pub calls: usize,
    pub spend: Decimal,
    /// Exact `S x 30 / days` (shown rounded to the currency's decimals).
    pub monthly: Decimal,
    /// 12 x monthly.
    pub year: Decimal,
    /// Monday of the peak week and the spend in it.
    pub peak_week: (NaiveDate, Decimal),
    pub trigger_below: Decimal,
    pub recharge_amount: Decimal,
    pub minimum_balance: Decimal,
    /// True when the 12-month cap lowered an amount.
    pub capped: bool,
}

/// One recommendation per currency with charged calls in the window, by currency code.
/// `first_call` is where the data starts (the earliest call of any kind, free ones
/// included, since they show the export's coverage); `None` takes the earliest charged
/// call.
pub fn recommend(
    rows: &[CallRow],
    first_call: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Recommendation> {
    let year_ago = twelve_months_before(now);
    let charged: Vec<&CallRow> = rows
        .iter()
        .filter(|r| r.is_charged() && r.start_date_time <= now && r.start_date_time >= year_ago)
        .collect();
    let Some(first) = first_call.or_else(|| charged.iter().map(|r| r.start_date_time).min()) else {
        return Vec::new();
    };
    let since = start_of_day(first).max(year_ago);
    let days = whole_days(since, now);

    let mut by_currency: BTreeMap<String, Vec<&CallRow>> = BTreeMap::new();
    for r in charged.into_iter().filter(|r| r.start_date_time >= since) {
        let currency = r.currency_code().unwrap_or_else(|| "???".into());
        by_currency.entry(currency).or_default().push(r);
    }
    by_currency
        .into_iter()
        .map(|(currency, calls)| for_currency(currency, &calls, since, days, now))
        .collect()
}

fn for_currency(
    currency: String,
    calls: &[&CallRow],
    since: DateTime<Utc>,
    days: i64,
    now: DateTime<Utc>,
) -> Recommendation {
    let spend: Decimal = calls.iter().map(|r| r.debit()).sum();
    let monthly = spend * Decimal::from(MONTH_DAYS) / Decimal::from(days);
    let year = monthly * Decimal::from(12);

    let mut weeks: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    for r in calls {
        let date = r.start_date_time.date_naive();
        let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
        *weeks.entry(monday).or_default() += r.debit();
    }
    // The earliest of equal weeks, so that the answer does not depend on map order.
    let peak_week = weeks
        .iter()
        .fold(None::<(NaiveDate, Decimal)>, |best, (&w, &s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((w, s)),
        })
        .expect("at least one charged call");

    let cap = whole_down(year);
    let mut trigger = whole_up(peak_week.1);
    let mut recharge = whole_up(monthly.max(peak_week.1));
    let mut capped = false;
    if trigger > cap {
        trigger = cap;
        capped = true;
    }
    if trigger + recharge > cap {
        recharge = (cap - trigger).max(Decimal::ZERO);
        capped = true;
    }
    Recommendation {
        currency,
        since,
        until: now,
        days,
        calls: calls.len(),
        spend,
        monthly,
        year,
        peak_week,
        trigger_below: trigger,
        recharge_amount: recharge,
        minimum_balance: trigger,
        capped,
    }
}

fn whole_up(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(0, RoundingStrategy::ToPositiveInfinity)
}

fn whole_down(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(0, RoundingStrategy::ToNegativeInfinity)
}

/// The snippet(s) to paste, one YAML document per currency, the reasoning in comments.
pub fn render_yaml(recs: &[Recommendation], source: &str) -> String {
    let mut out = String::new();
    if recs.is_empty() {
        let _ = writeln!(
            out,
            "# commcred recommend ({source}): no charged calls in the last 12 months.\n\
             # Nothing is paid from Communications Credits, so there is nothing to fund; keep\n\
             # auto-recharge off, or drop communicationsCredits from commcred.yaml."
        );
        return out;
    }
    for (n, r) in recs.iter().enumerate() {
        if n > 0 {
            out.push_str("---\n");
        }
        render_one(&mut out, r, source);
    }
    if recs.len() > 1 {
        let _ = writeln!(
            out,
            "# The usage has {} currencies; a credits account has one: paste the snippet in its currency.",
            recs.len()
        );
    }
    out
}

/// The advice for an account that does not buy prepaid credits (MCA, CSP): no funding
/// amounts, how the calls are paid instead, and the recent spend to budget the bill with
/// (docs/credits.md, "Billing account types").
pub fn render_not_prepaid(
    recs: &[Recommendation],
    kind: crate::tenant::BillingAccountType,
    source: &str,
) -> String {
    use crate::tenant::BillingAccountType as Kind;
    let mut out = String::new();
    match kind {
        Kind::Mosa => return render_yaml(recs, source),
        Kind::Mca => {
            let _ = writeln!(
                out,
                "# commcred recommend ({source}): the billing account is MCA (Microsoft Customer Agreement).
                 # MCA customers don't need to purchase Communication Credits: calls are billed on the
                 # invoice after use, once any remaining balance is spent, and auto-recharge must be off
                 # (Microsoft: \"Set up Communications Credits for your organization\"; \"Turn off
                 # Communication Credits auto recharge for Microsoft Customer Agreement (MCA) customers\")."
            );
        }
        Kind::Csp => {
            let _ = writeln!(
                out,
                "# commcred recommend ({source}): the billing account is CSP (Cloud Solution Provider).
                 # Communication Credits are not offered in Partner Center: under new commerce, calls
                 # beyond the included minutes (every call of a pay-as-you-go plan) are overage billed to
                 # the partner's Azure subscription once the partner enables overage (Partner Center >
                 # Subscriptions > Manage Overage; Microsoft: \"New commerce overage for telco pay-as-you-go\")."
            );
        }
    }
    for r in recs {
        let m = |d: Decimal| Money::new(d, r.currency.as_str()).to_string();
        let _ = writeln!(
            out,
            "# Recent usage to budget for: {} from {} to {} ({} days, {} charged call{}),
             #   about {} a month.",
            m(r.spend),
            r.since.format("%Y-%m-%d"),
            r.until.format("%Y-%m-%d"),
            r.days,
            r.calls,
            if r.calls == 1 { "" } else { "s" },
            m(r.monthly)
        );
    }
    let currency = recs.first().map_or("USD", |r| r.currency.as_str());
    let _ = writeln!(
        out,
        "# Nothing to fund: keep auto-recharge off (or leave communicationsCredits out).
         communicationsCredits:
  currency: {currency}
  autoRecharge:
    enabled: false"
    );
    out
}

// Long: one YAML snippet written line by line in output order, each value with its reasoning comment.
fn render_one(out: &mut String, r: &Recommendation, source: &str) {
    let c = r.currency.as_str();
    let m = |d: Decimal| Money::new(d, c).to_string();
    let yaml = |d: Decimal| {
        let mut v = d;
        v.rescale(currency_minor_units(c).unwrap_or(2));
        v.to_string()
    };
    let _ = writeln!(out, "# commcred recommend: {c}, from {source}");
    let _ = writeln!(
        out,
        "# Window: {} to {} ({} days), {} charged call{}, {} in all.",
        r.since.format("%Y-%m-%d"),
        r.until.format("%Y-%m-%d"),
        r.days,
        r.calls,
        if r.calls == 1 { "" } else { "s" },
        m(r.spend)
    );
    let _ = writeln!(
        out,
        "# Average monthly spend: {} x {MONTH_DAYS} / {} days = {}.",
        m(r.spend),
        r.days,
        m(r.monthly)
    );
    let sunday = r.peak_week.0 + Duration::days(6);
    let _ = writeln!(
        out,
        "# Peak week: {} to {}, {}.",
        r.peak_week.0,
        sunday,
        m(r.peak_week.1)
    );
    let _ = writeln!(
        out,
        "# triggerBelow = the peak week, rounded up to a whole {c} = {}: the balance left when a\n\
         #   recharge starts covers the worst week seen while the purchase lands.",
        m(r.trigger_below)
    );
    let _ = writeln!(
        out,
        "# rechargeAmount = the larger of a month's spend and the peak week, rounded up = {}:\n\
         #   about one purchase a month.",
        m(r.recharge_amount)
    );
    let _ = writeln!(
        out,
        "# minimumBalance = triggerBelow = {}: commcred's top-up then buys only when auto-recharge\n\
         #   has not refilled the account.",
        m(r.minimum_balance)
    );
    let _ = writeln!(
        out,
        "# Funds expire 12 months after purchase; 12 months of spend is 12 x {} = {}.\n\
         #   The most the account holds, triggerBelow + rechargeAmount = {}, {}.",
        m(r.monthly),
        m(r.year),
        m(r.trigger_below + r.recharge_amount),
        if r.capped {
            "was capped to it"
        } else {
            "stays within it"
        }
    );
    let enabled = r.recharge_amount > Decimal::ZERO;
    let _ = writeln!(out, "communicationsCredits:");
    let _ = writeln!(out, "  currency: {c}");
    let _ = writeln!(out, "  minimumBalance: {}", yaml(r.minimum_balance));
    let _ = writeln!(out, "  autoRecharge:");
    if enabled {
        let _ = writeln!(out, "    enabled: true");
        let _ = writeln!(out, "    triggerBelow: {}", yaml(r.trigger_below));
        let _ = writeln!(out, "    rechargeAmount: {}", yaml(r.recharge_amount));
    } else {
        let _ = writeln!(
            out,
            "    enabled: false   # spend is too small for a recharge within 12 months of spend"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(id: &str, start: &str, charge: &str) -> CallRow {
        serde_json::from_value(
            json!({"id": id, "startDateTime": start, "charge": charge, "currency": "USD"}),
        )
        .unwrap()
    }

    #[test]
    fn a_burst_is_capped_to_twelve_months_of_spend() {
        let now: DateTime<Utc> = "2026-07-01T00:00:00Z".parse().unwrap();
        // Data since 2025-07-01 (a free call), one burst of 100.00 in the week of 2026-03-02.
        let mut free = call("f", "2025-07-01T08:00:00Z", "0");
        free.charge = None;
        let rows = vec![
            free,
            call("a", "2026-03-02T10:00:00Z", "60.00"),
            call("b", "2026-03-04T10:00:00Z", "40.00"),
        ];
        let first = rows.iter().map(|r| r.start_date_time).min();
        let r = &recommend(&rows, first, now)[0];
        // 2025-07-01 to 2026-07-01 = 365 days. M = 100.00 x 30 / 365 = 8.2191..;
        // A = 12 x M = 98.63.. -> at most 98 held. P = 100.00 -> T = 100, capped to 98;
        // R = ceil(max(8.22, 100.00)) = 100, capped to 98 - 98 = 0: auto-recharge off.
        assert_eq!(r.days, 365);
        assert_eq!(r.peak_week.1, Decimal::new(10000, 2));
        assert_eq!(r.trigger_below, Decimal::from(98));
        assert_eq!(r.recharge_amount, Decimal::ZERO);
        assert!(r.capped);
        let yaml = render_yaml(std::slice::from_ref(r), "test");
        assert!(yaml.contains("    enabled: false"), "{yaml}");
        assert!(yaml.contains("was capped to it"), "{yaml}");
    }

    #[test]
    fn calls_older_than_twelve_months_are_left_out() {
        let now: DateTime<Utc> = "2026-07-01T00:00:00Z".parse().unwrap();
        let rows = vec![
            call("old", "2025-06-30T23:59:59Z", "500.00"),
            call("new", "2025-07-01T00:00:00Z", "36.50"),
        ];
        let r = &recommend(&rows, None, now)[0];
        assert_eq!(r.spend, Decimal::new(3650, 2));
        assert_eq!(r.calls, 1);
        assert_eq!(
            r.since,
            "2025-07-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
