//! Telling "already applied" from "stale": a saved plan applied a second time finds every
//! object it touches changed, but changed into exactly the state the plan leaves. Saying
//! "stale" then sends a person looking for someone else's change that never happened.

use crate::plan::{CreditsChange, ObservedCredits, ObservedUser, Plan, UserChange};
use crate::tenant::{Snapshot, TenantIndex};

use super::observe::{observe_credits, observe_user};

/// True when every user and setting the plan changes is in the state the plan leaves it.
pub fn already_applied(plan: &Plan, snapshot: &Snapshot) -> bool {
    if !plan.tenant_id.eq_ignore_ascii_case(&snapshot.tenant.id) {
        return false;
    }
    let index = TenantIndex::build(snapshot);
    let users_done = plan.users.iter().filter(|u| u.has_changes()).all(|change| {
        index.user_by_id(&change.user_id).is_some_and(|i| {
            observe_user(&snapshot.users[i], snapshot, &index) == user_after(change)
        })
    });
    let credits_done = match plan.credits.as_ref().filter(|c| c.has_changes()) {
        None => true,
        Some(change) => snapshot
            .communications_credits
            .as_ref()
            .is_some_and(|account| {
                credits_after(change, &observe_credits(account, plan.planned_at))
            }),
    };
    users_done && credits_done
}

/// What the plan leaves of a user: its usage location and direct SKUs after the change.
fn user_after(change: &UserChange) -> ObservedUser {
    let key = |id: &str| id.to_ascii_lowercase();
    let mut direct: Vec<_> = change
        .observed
        .direct_sku_ids
        .iter()
        .filter(|id| !change.remove.iter().any(|r| key(&r.sku_id) == key(id)))
        .cloned()
        .collect();
    for sku in &change.add {
        if !direct.iter().any(|id| key(id) == key(&sku.sku_id)) {
            direct.push(key(&sku.sku_id).into());
        }
    }
    direct.sort();
    ObservedUser {
        usage_location: change
            .usage_location
            .as_ref()
            .map(|u| Some(u.to.clone()))
            .unwrap_or_else(|| change.observed.usage_location.clone()),
        direct_sku_ids: direct,
        numbers: numbers_after(change),
    }
}

/// The user's numbers after the change: the one it loses gone, the one it gets added.
fn numbers_after(change: &UserChange) -> Vec<String> {
    let mut numbers = change.observed.numbers.clone();
    if let Some(n) = &change.number {
        if let Some(from) = &n.from {
            numbers.retain(|x| *x != from.number);
        }
        if let Some(to) = &n.to
            && !numbers.contains(&to.number)
        {
            numbers.push(to.number.clone());
        }
    }
    numbers.sort();
    numbers
}

/// The settings are the plan's targets, and the funds it saw are still there plus the one
/// it bought (when it bought one).
fn credits_after(change: &CreditsChange, now: &ObservedCredits) -> bool {
    let then = &change.observed;
    let kept = then.fund_ids.iter().all(|id| now.fund_ids.contains(id));
    let bought = now.fund_ids.len() > then.fund_ids.len();
    let recharge = change.auto_recharge.as_ref().is_none_or(|t| {
        t.enabled == now.auto_recharge_enabled
            && t.trigger_below == now.trigger_below
            && t.recharge_amount == now.recharge_amount
    });
    let payment = change.payment.as_ref().is_none_or(|t| {
        Some(t.method) == now.payment_method
            && t.agreement_number == now.agreement_number
            && t.purchase_order == now.purchase_order
    });
    kept && (change.add_funds.is_none() || bought) && recharge && payment
}
