//! The credits ledger (a backend for credits, as Microsoft Graph has none): what commcred knows of the Communications Credits account when the
//! tenant is on Microsoft Graph, which has no API for it (SPEC §1).
//!
//! It is shaped like the snapshot's `communicationsCredits` (so the planner diffs the YAML
//! against it exactly as it does against a snapshot), plus provenance: who confirmed each
//! setting and purchase, when, and from which plan step. Funds are replayed against the
//! charged PSTN calls, oldest fund first, to estimate today's balance; auto-recharges that
//! Microsoft makes on its own are estimated the same way.
//!
//! Only confirmed steps enter the ledger. Each confirmation is keyed by plan id and step, so
//! applying the same plan twice records nothing the second time.

pub mod store;

pub use store::{load, to_string, update};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::base::money::Amount;
use crate::plan::{CreditsChange, ObservedCredits};
use crate::tenant::credits::{consume_fifo_where, usable_balance};
use crate::tenant::{AutoRechargeState, BillingAccountType, CreditsAccount, Fund, PaymentState};

use crate::credits::CreditsError;
use crate::credits::error::LedgerChanges;
use crate::credits::usage::CallRow;
use crate::plan::steps::{ManualStep, StepAction};

pub const FORMAT_VERSION: u32 = 1;
/// Where the ledger lives when the YAML does not say: beside `commcred.yaml`.
pub const DEFAULT_FILE_NAME: &str = "commcred.ledger.json";

/// The ledger path: the YAML's `communicationsCredits.ledger` (already resolved against
/// the YAML's folder), else [`DEFAULT_FILE_NAME`] beside the YAML.
pub fn ledger_path(desired: &crate::config::DesiredState) -> PathBuf {
    if let Some(path) = desired.credits.as_ref().and_then(|c| c.ledger.clone()) {
        return path;
    }
    match desired.config_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(DEFAULT_FILE_NAME),
        _ => PathBuf::from(DEFAULT_FILE_NAME),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    pub format_version: u32,
    /// The tenant's initial domain: a ledger is never used for another tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The account as last known; absent until someone records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communications_credits: Option<LedgerAccount>,
    /// Every confirmed manual step, oldest first.
    #[serde(default)]
    pub confirmations: Vec<Confirmation>,
    /// Balances read in the admin center and recorded with `commcred ledger record`.
    #[serde(default)]
    pub observations: Vec<Observation>,
    /// Each `commcred usage import`.
    #[serde(default)]
    pub usage_imports: Vec<UsageImport>,
    /// Charged calls imported from usage exports (Graph `pstnCallLogRow`), by start time.
    #[serde(default)]
    pub pstn_calls: Vec<CallRow>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerAccount {
    pub billing_account_type: BillingAccountType,
    pub currency: String,
    #[serde(default)]
    pub funds: Vec<LedgerFund>,
    #[serde(default)]
    pub auto_recharge: LedgerAutoRecharge,
    #[serde(default)]
    pub payment: LedgerPayment,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A fund as the snapshot shapes it, where `remaining` is what was left at `countsFrom`:
/// charges before that instant are already reflected in it and are not replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerFund {
    #[serde(flatten)]
    pub fund: Fund,
    pub counts_from: DateTime<Utc>,
    pub recorded: Stamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LedgerAutoRecharge {
    #[serde(flatten)]
    pub state: AutoRechargeState,
    /// When the settings were confirmed; `None` means never (the defaults, off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<Stamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LedgerPayment {
    #[serde(flatten)]
    pub state: PaymentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<Stamp>,
}

/// Who did what, when, and how it reached the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stamp {
    pub by: String,
    pub at: DateTime<Utc>,
    pub how: How,
    /// The plan and step a confirmation came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum How {
    /// A person answered `done` on a terminal during `apply`.
    Terminal,
    /// `apply --confirm-manual` (a pipeline, after a person did the steps).
    ConfirmManual,
    /// `commcred ledger record`: balances read in the admin center.
    LedgerRecord,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    /// `<plan id>/<step>`: the idempotency key.
    pub key: String,
    pub description: String,
    #[serde(flatten)]
    pub stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub description: String,
    #[serde(flatten)]
    pub stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageImport {
    pub file: String,
    pub at: DateTime<Utc>,
    pub by: String,
    /// Calls in the file, charged ones, and charged ones the ledger did not have yet.
    pub rows: usize,
    pub charged: usize,
    pub added: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
}

impl Ledger {
    pub fn new(tenant: Option<String>) -> Ledger {
        Ledger {
            format_version: FORMAT_VERSION,
            tenant,
            communications_credits: None,
            confirmations: Vec::new(),
            observations: Vec::new(),
            usage_imports: Vec::new(),
            pstn_calls: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Refuses a ledger written for another tenant.
    pub fn check_tenant(&self, path: &Path, live_domain: &str) -> Result<(), CreditsError> {
        match &self.tenant {
            Some(t) if !t.eq_ignore_ascii_case(live_domain) => {
                Err(CreditsError::LedgerTenantMismatch {
                    path: path.to_path_buf(),
                    ledger: t.clone(),
                    live: live_domain.to_string(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Adds charged calls not already known (by id). Returns how many were new.
    pub fn add_calls(&mut self, rows: impl IntoIterator<Item = CallRow>) -> usize {
        let added = crate::credits::usage::merge_rows(&mut self.pstn_calls, rows);
        self.pstn_calls.sort_by(|a, b| {
            a.start_date_time
                .cmp(&b.start_date_time)
                .then_with(|| a.id.cmp(&b.id))
        });
        added
    }

    pub fn is_confirmed(&self, key: &str) -> Option<&Confirmation> {
        self.confirmations.iter().find(|c| c.key == key)
    }

    /// Records what a person confirmed of a plan's credits steps. Steps already recorded
    /// under the same key are skipped (and returned as such); anything else first checks
    /// that the ledger is still what the plan saw.
    pub fn record_steps(
        &mut self,
        path: &Path,
        plan_id: &str,
        change: &CreditsChange,
        confirmed: &[&ManualStep],
        stamp: &Stamp,
    ) -> Result<Recorded, CreditsError> {
        let mut outcome = Recorded::default();
        let fresh: Vec<&ManualStep> = confirmed
            .iter()
            .copied()
            .filter(|s| match self.is_confirmed(&s.key(plan_id)) {
                Some(c) => {
                    outcome.already.push((s.title.clone(), c.stamp.clone()));
                    false
                }
                None => true,
            })
            .collect();
        if fresh.is_empty() {
            return Ok(outcome);
        }
        let account =
            self.communications_credits
                .as_mut()
                .ok_or_else(|| CreditsError::LedgerMissing {
                    path: path.to_path_buf(),
                })?;
        if let Some(changes) = account.differs_from(&change.observed) {
            return Err(CreditsError::LedgerStale {
                path: path.to_path_buf(),
                changes,
            });
        }
        for step in fresh {
            let key = step.key(plan_id);
            let stamp = Stamp {
                plan: Some(plan_id.to_string()),
                step: Some(step.kind.as_str().to_string()),
                ..stamp.clone()
            };
            match &step.action {
                StepAction::AddFunds(amount) => account.funds.push(LedgerFund {
                    fund: Fund {
                        id: format!("{}-{}", short(plan_id), step.kind.as_str()),
                        purchased_at: stamp.at,
                        amount: *amount,
                        remaining: *amount,
                        extra: Map::new(),
                    },
                    counts_from: stamp.at,
                    recorded: stamp.clone(),
                }),
                StepAction::AutoRecharge(target) => {
                    account.auto_recharge.state.enabled = target.enabled;
                    account.auto_recharge.state.trigger_below = target.trigger_below;
                    account.auto_recharge.state.recharge_amount = target.recharge_amount;
                    account.auto_recharge.confirmed = Some(stamp.clone());
                }
                StepAction::Payment(target) => {
                    account.payment.state.method = Some(target.method);
                    account.payment.state.agreement_number = target.agreement_number.clone();
                    account.payment.state.purchase_order = target.purchase_order.clone();
                    account.payment.confirmed = Some(stamp.clone());
                }
            }
            self.confirmations.push(Confirmation {
                key,
                description: step.title.clone(),
                stamp,
            });
            outcome.recorded.push(step.title.clone());
        }
        Ok(outcome)
    }
}

/// What [`Ledger::record_steps`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recorded {
    pub recorded: Vec<String>,
    /// Steps already in the ledger from an earlier apply of the same plan.
    pub already: Vec<(String, Stamp)>,
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// The account as the ledger estimates it at some instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Snapshot-shaped, with `remaining` after every replayed charge; estimated
    /// auto-recharges appear as funds `auto-1`, `auto-2`… marked `"estimated": true`.
    pub account: CreditsAccount,
    /// Charges in the account's currency that no known fund could pay.
    pub uncovered: Decimal,
    pub uncovered_since: Option<DateTime<Utc>>,
    /// Charged calls replayed against the funds.
    pub charges: usize,
    /// Charged calls in other currencies, which cannot be paid from this account.
    pub other_currencies: BTreeMap<String, Decimal>,
}

impl Replay {
    pub fn estimated_recharges(&self) -> impl Iterator<Item = &Fund> {
        self.account
            .funds
            .iter()
            .filter(|f| f.extra.get("estimated") == Some(&Value::Bool(true)))
    }
}

impl LedgerAccount {
    /// The ledger's view of the account at `now`: funds consumed first in, first out by
    /// every charged call (in the account's currency) made since the fund was known, and,
    /// while auto-recharge has been confirmed on, a recharge each time the balance fell
    /// below its trigger (Microsoft does that by itself; the ledger cannot see it happen).
    // Long: one chronological simulation (funds first in, first out, estimated recharges) whose state lives in its locals.
    pub fn replay(&self, rows: &[CallRow], now: DateTime<Utc>) -> Replay {
        let mut account = CreditsAccount {
            billing_account_type: self.billing_account_type,
            currency: self.currency.clone(),
            funds: self.funds.iter().map(|f| f.fund.clone()).collect(),
            auto_recharge: self.auto_recharge.state.clone(),
            payment: self.payment.state.clone(),
            extra: self.extra.clone(),
        };
        let mut counts_from: Vec<DateTime<Utc>> =
            self.funds.iter().map(|f| f.counts_from).collect();
        let known_since = counts_from.iter().min().copied();
        let mut uncovered = Decimal::ZERO;
        let mut uncovered_since = None;
        let mut other_currencies: BTreeMap<String, Decimal> = BTreeMap::new();

        let mut charges: Vec<&CallRow> = rows
            .iter()
            .filter(|r| r.is_charged() && r.start_date_time <= now)
            .filter(|r| {
                let same = r
                    .currency_code()
                    .is_none_or(|c| c.eq_ignore_ascii_case(&self.currency));
                if !same {
                    let c = r.currency_code().unwrap_or_default();
                    *other_currencies.entry(c).or_default() += r.debit();
                }
                same
            })
            // Calls before the ledger knew of any fund are already in the recorded
            // `remaining` amounts (or predate the ledger): nothing to replay.
            .filter(|r| known_since.is_some_and(|k| r.start_date_time >= k))
            .collect();
        charges.sort_by(|a, b| {
            a.start_date_time
                .cmp(&b.start_date_time)
                .then_with(|| a.id.cmp(&b.id))
        });

        let recharge = self.auto_recharge_rule();
        let mut recharges = 0usize;
        let mut maybe_recharge = |account: &mut CreditsAccount,
                                  counts_from: &mut Vec<DateTime<Utc>>,
                                  at: DateTime<Utc>| {
            let Some((since, trigger, amount)) = recharge else {
                return;
            };
            if at < since || usable_balance(account, at) >= trigger {
                return;
            }
            recharges += 1;
            let mut extra = Map::new();
            extra.insert("estimated".into(), Value::Bool(true));
            account.funds.push(Fund {
                id: format!("auto-{recharges}"),
                purchased_at: at,
                amount: Amount(amount),
                remaining: Amount(amount),
                extra,
            });
            counts_from.push(at);
        };
        // Turning auto-recharge on below the trigger makes Microsoft recharge at once.
        if let Some((since, _, _)) = recharge
            && since <= now
        {
            maybe_recharge(&mut account, &mut counts_from, since);
        }
        let replayed = charges.len();
        for row in charges {
            let at = row.start_date_time;
            let eligible = |i: usize| counts_from[i] <= at;
            let left = consume_fifo_where(&mut account, row.debit(), at, eligible);
            if left > Decimal::ZERO {
                uncovered += left;
                uncovered_since.get_or_insert(at);
            }
            maybe_recharge(&mut account, &mut counts_from, at);
        }
        Replay {
            account,
            uncovered,
            uncovered_since,
            charges: replayed,
            other_currencies,
        }
    }

    /// `(since, trigger, amount)` when auto-recharge is confirmed on with both amounts.
    fn auto_recharge_rule(&self) -> Option<(DateTime<Utc>, Decimal, Decimal)> {
        let ar = &self.auto_recharge;
        match (
            &ar.confirmed,
            ar.state.enabled,
            ar.state.trigger_below,
            ar.state.recharge_amount,
        ) {
            (Some(stamp), true, Some(t), Some(a)) if a.0 > Decimal::ZERO => {
                Some((stamp.at, t.0, a.0))
            }
            _ => None,
        }
    }

    /// Why the ledger no longer matches what a plan observed, if it does not: a setting
    /// changed, or a fund was recorded since.
    pub fn differs_from(&self, observed: &ObservedCredits) -> Option<LedgerChanges> {
        let ar = &self.auto_recharge.state;
        let pay = &self.payment.state;
        let changes = LedgerChanges {
            auto_recharge: ar.enabled != observed.auto_recharge_enabled
                || ar.trigger_below.map(|a| a.0) != observed.trigger_below.map(|a| a.0)
                || ar.recharge_amount.map(|a| a.0) != observed.recharge_amount.map(|a| a.0),
            payment: pay.method != observed.payment_method
                || pay.agreement_number != observed.agreement_number
                || pay.purchase_order != observed.purchase_order,
            new_funds: self
                .funds
                .iter()
                .map(|f| f.fund.id.clone())
                .filter(|id| !observed.fund_ids.iter().any(|o| o == id))
                .collect(),
        };
        (!changes.is_empty()).then_some(changes)
    }
}
