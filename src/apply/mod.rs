//! Executing a plan: the staleness check every backend runs before changing anything, and
//! the in-memory application of operations to a snapshot (the file backend's engine).

use std::sync::Arc;

pub mod groups;

use rust_decimal::Decimal;

use crate::backend::ApplyReport;
use crate::plan::{CreditsChange, ObservedCredits, ObservedUser, Operation, Plan};
use crate::tenant::rules::Holding;
use crate::tenant::{Snapshot, TenantIndex, credits};

/// What the plan would observe of `user` now.
pub fn observe_user(
    user: &crate::tenant::User,
    snapshot: &Snapshot,
    index: &TenantIndex,
) -> ObservedUser {
    let held = crate::tenant::rules::holdings(user, snapshot, index);
    observe_holdings(user, &held, index)
}

/// [`observe_user`] from holdings already computed.
pub fn observe_holdings(
    user: &crate::tenant::User,
    held: &[Holding],
    index: &TenantIndex,
) -> ObservedUser {
    let mut direct_sku_ids: Vec<Arc<str>> = held
        .iter()
        .filter(|h| h.direct)
        .map(|h| match h.sku {
            Some(i) => index.sku_key(i),
            None => h.sku_id.to_ascii_lowercase().into(),
        })
        .collect();
    direct_sku_ids.sort();
    ObservedUser {
        usage_location: user.usage_location.clone(),
        direct_sku_ids,
    }
}

/// What the plan would observe of the credits account now.
pub fn observe_credits(
    account: &crate::tenant::CreditsAccount,
    now: chrono::DateTime<chrono::Utc>,
) -> ObservedCredits {
    let mut fund_ids: Vec<String> = account.funds.iter().map(|f| f.id.clone()).collect();
    fund_ids.sort();
    ObservedCredits {
        usable_balance: crate::money::Amount(credits::usable_balance(account, now)),
        auto_recharge_enabled: account.auto_recharge.enabled,
        trigger_below: account.auto_recharge.trigger_below,
        recharge_amount: account.auto_recharge.recharge_amount,
        payment_method: account.payment.method,
        agreement_number: account.payment.agreement_number.clone(),
        purchase_order: account.payment.purchase_order.clone(),
        fund_ids,
    }
}

/// Names of every object the plan touches whose live state differs from what it observed.
/// The balance is compared through the fund ids and settings, not the clock-dependent
/// usable balance, so a plan does not go stale merely because time passed.
pub fn stale_objects(plan: &Plan, snapshot: &Snapshot) -> Vec<String> {
    let index = TenantIndex::build(snapshot);
    let mut stale = Vec::new();
    if !plan.tenant_id.eq_ignore_ascii_case(&snapshot.tenant.id) {
        stale.push(format!(
            "tenant (planned for {}, live is {})",
            plan.tenant_id, snapshot.tenant.id
        ));
        return stale;
    }
    for change in plan.users.iter().filter(|u| u.has_changes()) {
        match index.user_by_id(&change.user_id) {
            None => stale.push(format!("user {} (no longer exists)", change.upn)),
            Some(i) => {
                let now = observe_user(&snapshot.users[i], snapshot, &index);
                if now != change.observed {
                    stale.push(format!("user {}", change.upn));
                }
            }
        }
    }
    stale.extend(groups::stale_groups(plan, snapshot));
    if let Some(c) = plan.credits.as_ref().filter(|c| c.has_changes()) {
        let changed = match &snapshot.communications_credits {
            None => true,
            Some(account) => credits_changed(c, &observe_credits(account, plan.planned_at)),
        };
        if changed {
            stale.push("communicationsCredits".to_string());
        }
    }
    stale
}

fn credits_changed(change: &CreditsChange, now: &ObservedCredits) -> bool {
    let then = &change.observed;
    then.fund_ids != now.fund_ids
        || then.auto_recharge_enabled != now.auto_recharge_enabled
        || then.trigger_below != now.trigger_below
        || then.recharge_amount != now.recharge_amount
        || then.payment_method != now.payment_method
        || then.agreement_number != now.agreement_number
        || then.purchase_order != now.purchase_order
}

/// Applies `ops` in order to an in-memory snapshot with Graph's rules. A license change
/// refused only for want of a seat waits until another change frees one (a chain of
/// calling-plan swaps); any other refusal stops the run, and the caller then discards the
/// snapshot, so a file is never left half-applied.
pub fn apply_to_snapshot(
    snapshot: &mut Snapshot,
    ops: &[Operation],
    now: chrono::DateTime<chrono::Utc>,
) -> ApplyReport {
    let index = TenantIndex::build(snapshot);
    let mut report = ApplyReport::default();
    let mut waiting: Vec<(Operation, String)> = Vec::new();
    for (n, op) in ops.iter().enumerate() {
        match groups::apply_group_op(snapshot, &index, op) {
            Some(Ok(kept)) => {
                report.applied.push(op.clone());
                if let Some(note) = kept {
                    report.manual.push((op.clone(), note));
                }
                continue;
            }
            Some(Err(message)) => {
                report.failed.push((op.clone(), message));
                report.not_attempted.extend(ops[n + 1..].iter().cloned());
                return report;
            }
            None => {}
        }
        match apply_one(snapshot, &index, op, now) {
            Ok(()) => {
                report.applied.push(op.clone());
                if matches!(op, Operation::AssignLicenses { .. }) {
                    retry_waiting(snapshot, &index, &mut waiting, &mut report, now);
                }
            }
            Err(Refusal {
                message,
                seat: true,
            }) => waiting.push((op.clone(), message)),
            Err(Refusal { message, .. }) => {
                report.failed.push((op.clone(), message));
                report.not_attempted.extend(ops[n + 1..].iter().cloned());
                return report;
            }
        }
    }
    report.failed.extend(waiting);
    report
}

/// Retries seat-starved changes until none of them goes through any more.
fn retry_waiting(
    snapshot: &mut Snapshot,
    index: &TenantIndex,
    waiting: &mut Vec<(Operation, String)>,
    report: &mut ApplyReport,
    now: chrono::DateTime<chrono::Utc>,
) {
    loop {
        let before = waiting.len();
        let mut still = Vec::new();
        for (op, message) in waiting.drain(..) {
            match apply_one(snapshot, index, &op, now) {
                Ok(()) => report.applied.push(op),
                Err(_) => still.push((op, message)),
            }
        }
        *waiting = still;
        if waiting.len() == before || waiting.is_empty() {
            return;
        }
    }
}

/// Why one operation was refused; `seat` when only a free seat was missing.
struct Refusal {
    message: String,
    seat: bool,
}

impl From<String> for Refusal {
    fn from(message: String) -> Refusal {
        Refusal {
            message,
            seat: false,
        }
    }
}

fn apply_one(
    snapshot: &mut Snapshot,
    index: &TenantIndex,
    op: &Operation,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Refusal> {
    let user_idx = |id: &str, upn: &str| {
        index
            .user_by_id(id)
            .ok_or_else(|| format!("user {upn} no longer exists"))
    };
    match op {
        Operation::SetUsageLocation { user_id, upn, to } => {
            let i = user_idx(user_id, upn)?;
            snapshot
                .set_usage_location(i, Some(to))
                .map_err(|e| format!("{upn}: {e}").into())
        }
        Operation::AssignLicenses {
            user_id,
            upn,
            add,
            remove,
        } => {
            let i = user_idx(user_id, upn)?;
            let add: Vec<String> = add.iter().map(|s| s.sku_id.to_string()).collect();
            let remove: Vec<String> = remove.iter().map(|s| s.sku_id.to_string()).collect();
            snapshot
                .assign_license(index, i, &add, &remove)
                .map_err(|e| Refusal {
                    seat: e.kind == crate::tenant::RuleKind::NoLicensesAvailable,
                    message: format!("{upn}: {e}"),
                })
        }
        Operation::SetAutoRecharge(t) => {
            let account = credits_account(snapshot)?;
            account.auto_recharge.enabled = t.enabled;
            account.auto_recharge.trigger_below = t.trigger_below;
            account.auto_recharge.recharge_amount = t.recharge_amount;
            Ok(())
        }
        Operation::SetPayment(p) => {
            let account = credits_account(snapshot)?;
            account.payment.method = Some(p.method);
            account.payment.agreement_number = p.agreement_number.clone();
            account.payment.purchase_order = p.purchase_order.clone();
            Ok(())
        }
        Operation::AddFunds(money) => {
            let account = credits_account(snapshot)?;
            if account.currency != money.currency {
                return Err(format!(
                    "the credits account is in {}, the plan adds {}",
                    account.currency, money
                )
                .into());
            }
            if money.amount.0 <= Decimal::ZERO {
                return Err(format!("refusing to add a non-positive amount {money}").into());
            }
            credits::add_funds(account, money.amount.0, now);
            Ok(())
        }
        other => Err(format!("{} is a group operation", other.describe()).into()),
    }
}

fn credits_account(snapshot: &mut Snapshot) -> Result<&mut crate::tenant::CreditsAccount, String> {
    snapshot
        .communications_credits
        .as_mut()
        .ok_or_else(|| "the tenant has no Communications Credits account".to_string())
}
