//! The credits ledger's commands without the terminal: `record` what a person read in
//! the Microsoft 365 admin center (the billing account and the funds left), and `show`
//! what the ledger knows with its estimate of today's balance.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::backend::ledger as store;
use crate::backend::ledger::{
    How, Ledger, LedgerAccount, LedgerFund, Observation, Recorded, Stamp,
};
use crate::base::money::{Amount, Money};
use crate::config::DesiredState;
use crate::credits::CreditsError;
use crate::credits::error::{FundProblem, RecordError};
use crate::plan::CreditsChange;
use crate::plan::steps::ManualStep;
use crate::tenant::credits::{expires_at, usable_balance};
use crate::tenant::{BillingAccountType, Fund};

/// Parses `AMOUNT[@DATE]` into an amount and a purchase time.
fn parse_fund(
    text: &str,
    currency: &str,
    now: DateTime<Utc>,
) -> Result<(Amount, DateTime<Utc>), RecordError> {
    let bad = |problem| RecordError::BadFund {
        text: text.to_string(),
        problem,
    };
    let (amount, date) = match text.split_once('@') {
        Some((a, d)) => (a, Some(d)),
        None => (text, None),
    };
    let amount = Amount::parse(amount).map_err(|e| bad(FundProblem::NotAnAmount(e)))?;
    let decimals = crate::base::codes::currency_minor_units(currency).unwrap_or(2);
    if amount.0.is_sign_negative() || amount.scale() > decimals {
        return Err(bad(FundProblem::NotOfCurrency {
            currency: currency.to_string(),
            decimals,
        }));
    }
    let at = match date {
        None => now,
        Some(d) => {
            let parsed = crate::credits::usage::parse_time(d)
                .ok_or_else(|| bad(FundProblem::NotADate(d.to_string())))?;
            if parsed > now {
                return Err(RecordError::FundInFuture {
                    text: text.to_string(),
                });
            }
            if parsed <= crate::credits::twelve_months_before(now) {
                return Err(RecordError::FundExpired {
                    text: text.to_string(),
                    bought: parsed,
                });
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
        return Err(RecordError::NothingToRecord.into());
    }
    let existing = store::load(path)?;
    let currency = account_currency(&args, existing.as_ref(), config)?;
    let stamp = Stamp {
        by: args.by.clone(),
        at: now,
        how: How::LedgerRecord,
        plan: None,
        step: None,
    };
    let funds = read_funds(&args.fund, &currency, now, &stamp)?;
    let description = describe(&args, &funds, &currency);
    let summary = format!(
        "Recorded in {}: {description} (by {}).\n",
        path.display(),
        args.by
    );
    let tenant = config.map(|d| d.tenant.clone());
    store::update(path, lock_wait, |ledger| {
        let ledger = ledger.get_or_insert_with(|| Ledger::new(tenant));
        apply_reading(ledger, path, &args, &currency, funds)?;
        ledger.observations.push(Observation { description, stamp });
        Ok(())
    })?;
    Ok(summary)
}

/// `--currency`, else the ledger's account's, else the YAML's; an ISO 4217 code.
fn account_currency(
    args: &Reading,
    existing: Option<&Ledger>,
    config: Option<&DesiredState>,
) -> Result<String, CreditsError> {
    let declared = config
        .and_then(|d| d.credits.as_ref())
        .map(|c| c.currency.clone());
    let currency = args
        .currency
        .clone()
        .map(|c| c.to_ascii_uppercase())
        .or_else(|| {
            existing
                .and_then(|l| l.communications_credits.as_ref())
                .map(|a| a.currency.clone())
        })
        .or(declared)
        .ok_or(RecordError::CurrencyUnknown)?;
    if crate::base::codes::currency_minor_units(&currency).is_none() {
        return Err(RecordError::BadCurrency(currency).into());
    }
    Ok(currency)
}

/// The funds of `--fund AMOUNT[@DATE]` (empty ones dropped), as recorded now.
fn read_funds(
    texts: &[String],
    currency: &str,
    now: DateTime<Utc>,
    stamp: &Stamp,
) -> Result<Vec<LedgerFund>, CreditsError> {
    let mut funds = Vec::new();
    for (n, text) in texts.iter().enumerate() {
        let (amount, bought) = parse_fund(text, currency, now)?;
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
    Ok(funds)
}

/// The reading in words: "billing account MOSA; balance 130.50 USD in 2 funds (…)".
fn describe(args: &Reading, funds: &[LedgerFund], currency: &str) -> String {
    let money = |a: Amount| Money::new(a.0, currency.to_string()).to_string();
    let mut d = String::new();
    if let Some(b) = args.billing_account {
        let _ = write!(d, "billing account {}; ", b.as_str());
    }
    if !args.fund.is_empty() {
        let total: rust_decimal::Decimal = funds.iter().map(|f| f.fund.remaining.0).sum();
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
}

/// Puts the reading into the ledger's account, creating it (which needs the billing
/// account type); funds are replaced only when `--fund` was given.
fn apply_reading(
    ledger: &mut Ledger,
    path: &Path,
    args: &Reading,
    currency: &str,
    funds: Vec<LedgerFund>,
) -> Result<(), CreditsError> {
    match ledger.communications_credits.as_mut() {
        None => {
            let Some(b) = args.billing_account else {
                return Err(RecordError::NoAccount(path.to_path_buf()).into());
            };
            ledger.communications_credits = Some(LedgerAccount {
                billing_account_type: b,
                currency: currency.to_string(),
                funds,
                auto_recharge: Default::default(),
                payment: Default::default(),
                extra: Default::default(),
            });
        }
        Some(account) => {
            if !account.currency.eq_ignore_ascii_case(currency) {
                return Err(RecordError::AccountCurrency {
                    ledger: account.currency.clone(),
                    given: currency.to_string(),
                }
                .into());
            }
            if let Some(b) = args.billing_account {
                account.billing_account_type = b;
            }
            if !args.fund.is_empty() {
                account.funds = funds;
            }
        }
    }
    Ok(())
}

/// Records the credits steps of the plan `plan_id` that a person `confirmed` (done in the
/// admin center) in the ledger at `path`, under its lock. Steps recorded before are
/// skipped and returned as such; anything else first checks that the ledger is still what
/// the plan saw ([`CreditsError::LedgerStale`]).
pub fn record_confirmed(
    path: &Path,
    plan_id: &str,
    change: &CreditsChange,
    confirmed: &[&ManualStep],
    stamp: &Stamp,
    lock_wait: Duration,
) -> Result<Recorded, CreditsError> {
    store::update(path, lock_wait, |ledger| {
        let ledger = ledger.as_mut().ok_or_else(|| CreditsError::LedgerMissing {
            path: path.to_path_buf(),
        })?;
        ledger.record_steps(path, plan_id, change, confirmed, stamp)
    })
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
    match &ledger.communications_credits {
        None => text.push_str("  no account recorded yet: commcred ledger record --billing-account MOSA --fund AMOUNT@DATE\n"),
        Some(account) => show_account(&mut text, &ledger, account, now),
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

/// The account part of `ledger show`: funds replayed to today, balance, settings.
fn show_account(text: &mut String, ledger: &Ledger, account: &LedgerAccount, now: DateTime<Utc>) {
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let stamp = |s: &Stamp| format!("{} by {}", s.at.format("%Y-%m-%d %H:%M UTC"), s.by);
    let replay = account.replay(&ledger.pstn_calls, now);
    let m = |a: Amount| Money::new(a.0, account.currency.clone()).to_string();
    let _ = writeln!(
        text,
        "  account: {}, {}",
        account.billing_account_type.as_str(),
        account.currency
    );
    let _ = writeln!(
        text,
        "  funds (remaining after replaying the ledger's {} charged calls):",
        replay.charges
    );
    // A table: every column as wide as its widest cell, amounts right-aligned.
    let rows: Vec<[String; 5]> = replay
        .account
        .funds
        .iter()
        .map(|f| {
            let recorded = account
                .funds
                .iter()
                .find(|l| l.fund.id == f.id)
                .map(|l| format!("recorded {}", stamp(&l.recorded)))
                .unwrap_or_else(|| "estimated auto-recharge".to_string());
            let expired = if expires_at(f) <= now {
                " (expired)"
            } else {
                ""
            };
            [
                f.id.clone(),
                format!(
                    "bought {}  expires {}{expired}",
                    day(f.purchased_at),
                    day(expires_at(f))
                ),
                m(f.remaining),
                m(f.amount),
                recorded,
            ]
        })
        .collect();
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
    for [id, dates, left, bought, recorded] in &rows {
        let _ = writeln!(
            text,
            "    {id:<w0$}  {dates:<w1$}  {left:>w2$} left of {bought:>w3$}  ({recorded})"
        );
    }
    let _ = writeln!(
        text,
        "  usable balance: {}",
        m(Amount(usable_balance(&replay.account, now)))
    );
    if replay.uncovered > rust_decimal::Decimal::ZERO {
        let _ = writeln!(
            text,
            "  charges not covered by any fund: {} (a purchase is missing)",
            m(Amount(replay.uncovered))
        );
    }
    show_settings(text, account);
}

/// Auto-recharge and payment as the ledger knows them, with who confirmed them.
fn show_settings(text: &mut String, account: &LedgerAccount) {
    let m = |a: Amount| Money::new(a.0, account.currency.clone()).to_string();
    let stamp = |s: &Stamp| format!("{} by {}", s.at.format("%Y-%m-%d %H:%M UTC"), s.by);
    let ar = &account.auto_recharge;
    let _ = writeln!(
        text,
        "  auto recharge: {}{}",
        if ar.state.enabled { "on" } else { "off" },
        match (ar.state.trigger_below, ar.state.recharge_amount) {
            (Some(t), Some(a)) if ar.state.enabled =>
                format!(", When balance is below {}, Add this amount {}", m(t), m(a)),
            _ => String::new(),
        } + &ar
            .confirmed
            .as_ref()
            .map(|s| format!(" (confirmed {})", stamp(s)))
            .unwrap_or_else(|| " (never confirmed)".into())
    );
    let pay = &account.payment;
    let _ = writeln!(
        text,
        "  payment: {}{}{}{}",
        pay.state.method.map_or("not recorded", |m| m.as_str()),
        pay.state
            .agreement_number
            .as_ref()
            .map(|n| format!(", agreement {n}"))
            .unwrap_or_default(),
        pay.state
            .purchase_order
            .as_ref()
            .map(|n| format!(", purchase order {n}"))
            .unwrap_or_default(),
        pay.confirmed
            .as_ref()
            .map(|s| format!(" (confirmed {})", stamp(s)))
            .unwrap_or_default()
    );
}
