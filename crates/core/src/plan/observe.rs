//! Observation and staleness: what a plan records of each object it touches, and the
//! check every apply runs before changing anything (a saved plan refuses to apply when the
//! live state moved).

use std::sync::Arc;

use crate::plan::{CreditsChange, ObservedCredits, ObservedUser, Plan};
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
        numbers: Vec::new(),
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
        usable_balance: crate::base::money::Amount(credits::usable_balance(account, now)),
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
    let number_index = crate::tenant::NumberIndex::build(snapshot);
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
                let mut now = observe_user(&snapshot.users[i], snapshot, &index);
                now.numbers = numbers_of(snapshot, &number_index, &snapshot.users[i].id);
                if now != change.observed {
                    stale.push(format!("user {}", change.upn));
                }
            }
        }
    }
    stale.extend(super::groups::stale_groups(plan, snapshot));
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

/// The numbers assigned to a user, sorted: what a plan observes of them.
pub fn numbers_of(
    snapshot: &Snapshot,
    index: &crate::tenant::NumberIndex,
    user_id: &str,
) -> Vec<String> {
    let mut numbers: Vec<String> = index
        .of_target(user_id)
        .iter()
        .map(|&n| snapshot.number_assignments[n].telephone_number.clone())
        .collect();
    numbers.sort();
    numbers
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
