//! The seam between a backend's snapshot and what commcred knows of credits: the usage
//! (the snapshot's `pstnCalls`, the ledger's imported calls and, on Microsoft Graph,
//! `getPstnCalls`) and, on Graph, the credits account itself, which comes from the ledger.
//!
//! [`prepare`] runs between reading the live tenant and planning; [`annotate`] after.

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};

use crate::config::DesiredState;
use crate::plan::Plan;
use crate::tenant::Snapshot;

use crate::backend::graph::pstn::{GraphGet, fetch_pstn_calls};
use crate::backend::ledger::load;
use crate::backend::ledger::{self, Ledger, Replay};
use crate::credits::CreditsError;
use crate::credits::forecast::{CreditsWarning, WarningKind};
use crate::credits::usage::{CallRow, merge_rows, rows_from_json};
use crate::credits::{RECENT_DAYS, twelve_months_before};

/// Where the credits state of a plan came from.
pub enum CreditsSource<'a> {
    /// The snapshot holds the account (file backend, emulator store).
    Snapshot,
    /// Microsoft Graph: the account comes from the ledger; `pstn` reads `getPstnCalls`.
    Ledger { pstn: Option<&'a mut dyn GraphGet> },
}

/// What [`prepare`] learned, for [`annotate`] and for recording confirmations.
pub struct CreditsContext {
    pub ledger_path: PathBuf,
    pub ledger: Option<Ledger>,
    /// The ledger's estimate of the account, when the account came from it.
    pub replay: Option<Replay>,
    /// Calls fetched from Graph's `getPstnCalls`.
    pub fetched: usize,
}

/// Merges every known call into `live`'s `pstnCalls` and, for [`CreditsSource::Ledger`],
/// replaces `live`'s credits account with the ledger's estimate at `now`.
pub fn prepare(
    desired: &DesiredState,
    live: &mut Snapshot,
    source: CreditsSource,
    now: DateTime<Utc>,
) -> Result<CreditsContext, CreditsError> {
    let ledger_path = ledger::ledger_path(desired);
    let ledger = load(&ledger_path)?;
    if let Some(l) = &ledger {
        l.check_tenant(&ledger_path, &live.tenant.domain)?;
    }
    let mut context = CreditsContext {
        ledger_path,
        ledger,
        replay: None,
        fetched: 0,
    };
    let (mut rows, _) = rows_from_json(live.extra.get("pstnCalls"));
    if let Some(l) = &context.ledger {
        merge_rows(&mut rows, l.pstn_calls.iter().cloned());
    }
    if let CreditsSource::Ledger { pstn } = source
        && desired.credits.is_some()
    {
        let account = context
            .ledger
            .as_ref()
            .and_then(|l| l.communications_credits.as_ref())
            .ok_or_else(|| CreditsError::LedgerMissing {
                path: context.ledger_path.clone(),
            })?;
        if let Some(client) = pstn {
            let from = fetch_from(account, now);
            let fetched = fetch_pstn_calls(client, from, now)?;
            context.fetched = fetched.len();
            merge_rows(&mut rows, fetched);
        }
        let replay = account.replay(&rows, now);
        live.communications_credits = Some(replay.account.clone());
        context.replay = Some(replay);
    }
    if !rows.is_empty() {
        let json = serde_json::to_value(&rows).expect("call rows always serialize");
        live.extra.insert("pstnCalls".into(), json);
    }
    Ok(context)
}

/// How far back Graph is asked for calls: the recent-spend window, and further back to the
/// oldest fund still usable, so that every charge that could consume it is replayed.
fn fetch_from(account: &ledger::LedgerAccount, now: DateTime<Utc>) -> DateTime<Utc> {
    let year_ago = twelve_months_before(now);
    let oldest_fund = account
        .funds
        .iter()
        .map(|f| f.counts_from)
        .filter(|t| *t >= year_ago)
        .min();
    let recent = now - Duration::days(RECENT_DAYS);
    oldest_fund.map_or(recent, |t| t.min(recent))
}

/// Marks a plan made from the ledger and adds what only the ledger can tell: charges its
/// funds could not pay, estimated auto-recharges, calls in other currencies.
pub fn annotate(plan: &mut Plan, context: &CreditsContext) {
    let (Some(change), Some(replay)) = (plan.credits.as_mut(), context.replay.as_ref()) else {
        return;
    };
    change.ledger = Some(context.ledger_path.display().to_string());
    let Some(forecast) = change.forecast.as_mut() else {
        return;
    };
    let money = |d: rust_decimal::Decimal| {
        crate::base::money::Money::new(d, replay.account.currency.clone()).to_string()
    };
    if replay.uncovered > rust_decimal::Decimal::ZERO {
        let since = replay
            .uncovered_since
            .map(|t| format!(" since {}", t.format("%Y-%m-%d")))
            .unwrap_or_default();
        forecast.warnings.push(CreditsWarning::new(
            WarningKind::LedgerBehind,
            format!(
                "{} of charged calls{since} exceed the funds in the ledger: a purchase is missing from it (an auto-recharge, or funds bought outside commcred)",
                money(replay.uncovered)
            ),
            "read the balance in the Microsoft 365 admin center (Billing > Your products > Communication Credits) and record it: commcred ledger record --fund AMOUNT@PURCHASE-DATE",
        ));
    }
    let recharges: Vec<_> = replay.estimated_recharges().collect();
    if !recharges.is_empty() {
        let total: rust_decimal::Decimal = recharges.iter().map(|f| f.amount.0).sum();
        forecast.notes.push(format!(
            "includes {} auto-recharge{} Microsoft will have made ({}), estimated from the usage; `commcred ledger record` replaces estimates with the balance you read",
            recharges.len(),
            if recharges.len() == 1 { "" } else { "s" },
            money(total)
        ));
    }
    for (currency, amount) in &replay.other_currencies {
        forecast.notes.push(format!(
            "{} of calls in {currency} cannot be paid from this {} account and are left out",
            crate::base::money::Money::new(*amount, currency.clone()),
            replay.account.currency
        ));
    }
}

/// Every call known for the last 12 months, for `recommend`: the snapshot's, the ledger's
/// and, with `pstn`, Graph's call log. Needs no credits account.
pub fn calls_for_advice(
    desired: &DesiredState,
    live: &Snapshot,
    pstn: Option<&mut dyn GraphGet>,
    now: DateTime<Utc>,
) -> Result<Vec<CallRow>, CreditsError> {
    let (mut rows, _) = rows_from_json(live.extra.get("pstnCalls"));
    let path = ledger::ledger_path(desired);
    if let Some(l) = load(&path)? {
        l.check_tenant(&path, &live.tenant.domain)?;
        merge_rows(&mut rows, l.pstn_calls);
    }
    if let Some(client) = pstn {
        let year_ago = twelve_months_before(now);
        merge_rows(&mut rows, fetch_pstn_calls(client, year_ago, now)?);
    }
    Ok(rows)
}
