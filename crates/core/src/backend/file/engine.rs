//! The file backend's engine: operations applied to an in-memory snapshot with Graph's
//! rules.

use rust_decimal::Decimal;

use crate::backend::ApplyReport;
use crate::base::catalog::Capabilities;
use crate::plan::Operation;
use crate::tenant::rules::holdings;
use crate::tenant::{NumberIndex, Snapshot, TenantIndex, credits};

use super::waiting::Waiting;

/// Applies `ops` in order to an in-memory snapshot with Graph's rules. A license change
/// refused only for want of a seat waits until another change frees one (a chain of
/// calling-plan swaps, see `waiting.rs`); any other refusal stops the run, and the caller then discards the
/// snapshot, so a file is never left half-applied.
pub fn apply_to_snapshot(
    snapshot: &mut Snapshot,
    ops: &[Operation],
    now: chrono::DateTime<chrono::Utc>,
) -> ApplyReport {
    let index = TenantIndex::build(snapshot);
    let mut numbers = NumberIndex::build(snapshot);
    let mut report = ApplyReport::default();
    let mut waiting = Waiting::default();
    for (n, op) in ops.iter().enumerate() {
        match super::groups::apply_group_op(snapshot, &index, op) {
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
        if op.is_number() {
            match apply_number(snapshot, &index, &mut numbers, op) {
                Ok(()) => report.applied.push(op.clone()),
                Err(message) => {
                    report.failed.push((op.clone(), message));
                    report.not_attempted.extend(ops[n + 1..].iter().cloned());
                    return report;
                }
            }
            continue;
        }
        match apply_one(snapshot, &index, op, now) {
            Ok(()) => {
                report.applied.push(op.clone());
                waiting.retry_after(op, snapshot, &index, &mut report, |snapshot, op| {
                    apply_one(snapshot, &index, op, now).map_err(|r| r.seat)
                });
            }
            Err(Refusal {
                message,
                seat: true,
            }) => waiting.push(snapshot, &index, op.clone(), message),
            Err(Refusal { message, .. }) => {
                report.failed.push((op.clone(), message));
                report.not_attempted.extend(ops[n + 1..].iter().cloned());
                return report;
            }
        }
    }
    report.failed.extend(waiting.into_failed());
    report
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

/// A phone number change with Teams' rules (`tenant::numbers`): the user's licenses as
/// they are at this point of the apply (licenses are applied first).
fn apply_number(
    snapshot: &mut Snapshot,
    index: &TenantIndex,
    numbers: &mut NumberIndex,
    op: &Operation,
) -> Result<(), String> {
    match op {
        Operation::UnassignNumber { upn, number, .. } => snapshot
            .unassign_number(numbers, &number.number, number.number_type)
            .map_err(|e| format!("{upn}: {e}")),
        Operation::AssignNumber {
            user_id,
            upn,
            number,
        } => {
            let i = index
                .user_by_id(user_id)
                .ok_or_else(|| format!("user {upn} no longer exists"))?;
            let caps = holdings(&snapshot.users[i], snapshot, index)
                .iter()
                .fold(Capabilities::default(), |acc, h| acc.union(h.capabilities));
            snapshot
                .assign_number(numbers, i, caps, &number.number, number.number_type)
                .map_err(|e| format!("{upn}: {e}"))
        }
        other => Err(format!("{} is not a number change", other.describe())),
    }
}

fn credits_account(snapshot: &mut Snapshot) -> Result<&mut crate::tenant::CreditsAccount, String> {
    snapshot
        .communications_credits
        .as_mut()
        .ok_or_else(|| "the tenant has no Communications Credits account".to_string())
}
