//! The credits ledger's commands without the terminal: `record` what a person read in
//! the Microsoft 365 admin center (the billing account and the funds left), and `show`
//! what the ledger knows with its estimate of today's balance.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::backend::ledger as store;
use crate::base::money::{Amount, Money};
use crate::config::DesiredState;
use crate::credits::CreditsError;
use crate::credits::ledger::{How, Ledger, LedgerAccount, LedgerFund, Observation, Stamp};
use crate::tenant::credits::{expires_at, usable_balance};
use crate::tenant::{BillingAccountType, Fund};

fn bad(message: impl Into<String>, help: impl Into<String>) -> CreditsError {
    CreditsError::BadArgument {
        message: message.into(),
        help: help.into(),
    }
}

/// Parses `AMOUNT[@DATE]` into an amount and a purchase time.
fn parse_fund(
    text: &str,
    currency: &str,
    now: DateTime<Utc>,
) -> Result<(Amount, DateTime<Utc>), CreditsError> {
    let help = "write --fund AMOUNT@YYYY-MM-DD, e.g. --fund 120.50@2026-03-15";
    let (amount, date) = match text.split_once('@') {
        Some((a, d)) => (a, Some(d)),
        None => (text, None),
    };
    let amount = Amount::parse(amount).map_err(|e| bad(format!("--fund {text}: {e}"), help))?;
    let decimals = crate::base::codes::currency_minor_units(currency).unwrap_or(2);
    if amount.0.is_sign_negative() || amount.scale() > decimals {
        return Err(bad(
            format!(
                "--fund {text}: not an amount of {currency} (at most {decimals} decimals, not negative)"
            ),
            help,
        ));
    }
    let at = match date {
        None => now,
        Some(d) => {
            let parsed = crate::credits::usage::parse_time(d)
                .ok_or_else(|| bad(format!("--fund {text}: `{d}` is not a date"), help))?;
            if parsed > now {
                return Err(bad(
                    format!("--fund {text}: the purchase date is in the future"),
                    help,
                ));
            }
            let year_ago = crate::credits::twelve_months_before(now);
            if parsed <= year_ago {
                return Err(bad(
                    format!(
                        "--fund {text}: funds bought on {} expired 12 months later",
                        parsed.format("%Y-%m-%d")
                    ),
                    "record only purchases from the last 12 months: older funds are gone",
                ));
            }
            parsed
        }
    };
    Ok((amount, at))
}

/// What `commcred ledger record` records: what a person read in the admin center.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub billing_account: Option<BillingAccountType>,
    /// The account's currency (default: the ledger's, else the YAML's).
    pub currency: Option<String>,
    /// `AMOUNT[@DATE]` per purchase still holding money.
    pub fund: Vec<String>,
    /// Who read it.
    pub by: String,
}

/// Records `args` in the ledger at `path` (created when new); returns what was recorded,
/// in words. `config` is the YAML, when one was read (its tenant and currency).
pub fn record(
    path: &Path,
    config: Option<&DesiredState>,
    args: Reading,
    now: DateTime<Utc>,
    lock_wait: Duration,
) -> Result<String, CreditsError> {
    if args.fund.is_empty() && args.billing_account.is_none() {
        return Err(bad(
            "nothing to record",
            "give --billing-account and/or one --fund AMOUNT@DATE per purchase still holding money",
        ));
    }
    let declared = config
        .and_then(|d| d.credits.as_ref())
        .map(|c| c.currency.clone());
    let existing = store::load(path)?;
    let currency = args
        .currency
        .clone()
        .map(|c| c.to_ascii_uppercase())
        .or_else(|| {
            existing
                .as_ref()
                .and_then(|l| l.communications_credits.as_ref())
                .map(|a| a.currency.clone())
        })
        .or(declared)
        .ok_or_else(|| {
            bad(
                "the account's currency is not known",
                "give --currency, e.g. --currency USD",
            )
        })?;
    if crate::base::codes::currency_minor_units(&currency).is_none() {
        return Err(bad(
            format!("`{currency}` is not an ISO 4217 currency"),
            "e.g. --currency USD",
        ));
    }
    let by = args.by.clone();
    let stamp = Stamp {
        by: by.clone(),
        at: now,
        how: How::LedgerRecord,
        plan: None,
        step: None,
    };
    let mut funds = Vec::new();
    for (n, text) in args.fund.iter().enumerate() {
        let (amount, bought) = parse_fund(text, &currency, now)?;
        if amount.0.is_zero() {
            continue;
        }
        funds.push(LedgerFund {
            fund: Fund {
                id: format!("obs-{}-{}", now.format("%Y%m%d"), n + 1),
                purchased_at: bought,
                amount,
                remaining: amount,
                extra: Default::default(),
            },
            counts_from: now,
            recorded: stamp.clone(),
        });
    }
    let money = |a: Amount| Money::new(a.0, currency.clone()).to_string();
    let total: rust_decimal::Decimal = funds.iter().map(|f| f.fund.remaining.0).sum();
    let tenant = config.map(|d| d.tenant.clone());
    let replace_funds = !args.fund.is_empty();
    let description = {
        let mut d = String::new();
        if let Some(b) = args.billing_account {
            let _ = write!(d, "billing account {}; ", b.as_str());
        }
        if replace_funds {
            let _ = write!(
                d,
                "balance {} in {} fund{}",
                money(Amount(total)),
                funds.len(),
                if funds.len() == 1 { "" } else { "s" }
            );
            let parts: Vec<String> = funds
                .iter()
                .map(|f| {
                    format!(
                        "{} bought {}",
                        money(f.fund.remaining),
                        f.fund.purchased_at.format("%Y-%m-%d")
                    )
                })
                .collect();
            if !parts.is_empty() {
                let _ = write!(d, " ({})", parts.join(", "));
            }
        }
        d.trim_end_matches("; ").to_string()
    };
    let summary = description.clone();
    store::update(path, lock_wait, |ledger| {
        let ledger = ledger.get_or_insert_with(|| Ledger::new(tenant));
        match ledger.communications_credits.as_mut() {
            None => {
                let Some(b) = args.billing_account else {
                    return Err(bad(
                        format!("{} has no credits account yet", path.display()),
                        "give --billing-account MOSA (or MCA, CSP) as shown in Billing > Billing accounts",
                    ));
                };
                ledger.communications_credits = Some(LedgerAccount {
                    billing_account_type: b,
                    currency: currency.clone(),
                    funds: funds.clone(),
                    auto_recharge: Default::default(),
                    payment: Default::default(),
                    extra: Default::default(),
                });
            }
            Some(account) => {
                if !account.currency.eq_ignore_ascii_case(&currency) {
                    return Err(bad(
                        format!(
                            "the ledger's account is in {}, not {currency}",
                            account.currency
                        ),
                        "a credits account has one currency; record amounts in it",
                    ));
                }
                if let Some(b) = args.billing_account {
                    account.billing_account_type = b;
                }
                if replace_funds {
                    account.funds = funds.clone();
                }
            }
        }
        ledger.observations.push(Observation { description, stamp });
        Ok(())
    })?;
    Ok(format!(
        "Recorded in {}: {summary} (by {by}).\n",
        path.display()
    ))
}

/// `commcred ledger show`: funds with their expiry, settings, who confirmed what, usage.
pub fn show(path: &Path, now: DateTime<Utc>) -> Result<String, CreditsError> {
    let ledger = store::load(path)?.ok_or_else(|| CreditsError::LedgerMissing {
        path: path.to_path_buf(),
    })?;
    let mut text = format!(
        "Credits ledger {}{}\n",
        path.display(),
        ledger
            .tenant
            .as_ref()
            .map(|t| format!(" (tenant {t})"))
            .unwrap_or_default()
    );
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let stamp = |s: &Stamp| format!("{} by {}", s.at.format("%Y-%m-%d %H:%M UTC"), s.by);
    match &ledger.communications_credits {
        None => text.push_str("  no account recorded yet: commcred ledger record --billing-account MOSA --fund AMOUNT@DATE\n"),
        Some(account) => {
            let replay = account.replay(&ledger.pstn_calls, now);
            let m = |a: Amount| Money::new(a.0, account.currency.clone()).to_string();
            let _ = writeln!(text, "  account: {}, {}", account.billing_account_type.as_str(), account.currency);
            let _ = writeln!(text, "  funds (remaining after replaying the ledger's {} charged calls):", replay.charges);
            for f in &replay.account.funds {
                let recorded = account
                    .funds
                    .iter()
                    .find(|l| l.fund.id == f.id)
                    .map(|l| format!("recorded {}", stamp(&l.recorded)))
                    .unwrap_or_else(|| "estimated auto-recharge".to_string());
                let expired = if expires_at(f) <= now { " (expired)" } else { "" };
                let _ = writeln!(
                    text,
                    "    {:<20} bought {}  expires {}{expired}  {} of {}  ({recorded})",
                    f.id,
                    day(f.purchased_at),
                    day(expires_at(f)),
                    m(f.remaining),
                    m(f.amount)
                );
            }
            let _ = writeln!(text, "  usable balance: {}", m(Amount(usable_balance(&replay.account, now))));
            if replay.uncovered > rust_decimal::Decimal::ZERO {
                let _ = writeln!(text, "  charges not covered by any fund: {} (a purchase is missing)", m(Amount(replay.uncovered)));
            }
            let ar = &account.auto_recharge;
            let _ = writeln!(
                text,
                "  auto recharge: {}{}",
                if ar.state.enabled { "on" } else { "off" },
                match (ar.state.trigger_below, ar.state.recharge_amount) {
                    (Some(t), Some(a)) if ar.state.enabled =>
                        format!(", When balance is below {}, Add this amount {}", m(t), m(a)),
                    _ => String::new(),
                } + &ar.confirmed.as_ref().map(|s| format!(" (confirmed {})", stamp(s))).unwrap_or_else(|| " (never confirmed)".into())
            );
            let pay = &account.payment;
            let _ = writeln!(
                text,
                "  payment: {}{}{}{}",
                pay.state.method.map_or("not recorded", |m| m.as_str()),
                pay.state.agreement_number.as_ref().map(|n| format!(", agreement {n}")).unwrap_or_default(),
                pay.state.purchase_order.as_ref().map(|n| format!(", purchase order {n}")).unwrap_or_default(),
                pay.confirmed.as_ref().map(|s| format!(" (confirmed {})", stamp(s))).unwrap_or_default()
            );
        }
    }
    let _ = writeln!(text, "  confirmations: {}", ledger.confirmations.len());
    for c in ledger.confirmations.iter().rev().take(5) {
        let _ = writeln!(
            text,
            "    {}  {}  ({})",
            day(c.stamp.at),
            c.description,
            c.stamp.by
        );
    }
    let _ = writeln!(
        text,
        "  usage: {} charged calls from {} import{}",
        ledger.pstn_calls.len(),
        ledger.usage_imports.len(),
        if ledger.usage_imports.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    Ok(text)
}
