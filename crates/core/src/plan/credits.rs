//! Planning the Communications Credits account: top-up to the minimum balance, auto-recharge
//! and payment settings, and the forecast shown with them. Pure: the clock is an argument.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::base::licenses::Capability;
use crate::base::money::{Amount, Money};
use crate::config::{DesiredCredits, DesiredPayment};
use crate::credits::forecast::{AutoRechargeAfter, ForecastInput, forecast, recent_callers};
use crate::credits::usage::{CallRow, rows_from_json};
use crate::plan::observe::observe_credits;
use crate::tenant::rules::holdings;
use crate::tenant::{
    BillingAccountType, CreditsAccount, Snapshot, TenantIndex, credits::usable_balance,
};

use super::codes::Code;
use super::model::{AutoRechargeTarget, CreditsChange, PaymentTarget, SettingChange, UserChange};
use super::problems::PlanProblem;

/// Plans the credits account. `users` are the planned user changes, so that warnings speak
/// of the licenses users will hold after the plan.
// Long: balance, auto-recharge, payment and warnings in SPEC §3's order, sharing the observed account.
pub fn plan_credits(
    want: &DesiredCredits,
    live: &Snapshot,
    index: &TenantIndex,
    users: &[UserChange],
    now: DateTime<Utc>,
) -> Result<CreditsChange, PlanProblem> {
    let Some(account) = live.communications_credits.as_ref() else {
        return Err(PlanProblem::new(
            Code::CreditsNotSetUp.as_str(),
            format!(
                "commcred.yaml manages Communications Credits ({}), but the tenant has no credits account",
                want.origin
            ),
            "buy Communications Credits once in the Microsoft 365 admin center (Billing > Purchase services) to create the account, then plan again; or remove `communicationsCredits` from commcred.yaml",
        ));
    };
    if !account.currency.eq_ignore_ascii_case(&want.currency) {
        return Err(PlanProblem::new(
            Code::CurrencyMismatch.as_str(),
            format!(
                "communicationsCredits.currency is {} ({}), but the tenant's credits account is in {}",
                want.currency, want.origin, account.currency
            ),
            format!(
                "credits are bought in the billing account's currency: set `currency: {}` and express the amounts in it",
                account.currency
            ),
        ));
    }
    let funds_something = want.minimum_balance.is_some_and(|m| m > Decimal::ZERO)
        || want.auto_recharge.as_ref().is_some_and(|a| a.enabled)
        || want.payment.is_some();
    if funds_something && account.billing_account_type != BillingAccountType::Mosa {
        return Err(not_fundable(account.billing_account_type, want));
    }

    let currency = account.currency.clone();
    let money = |d: Decimal| Money::new(d, currency.clone()).to_string();
    let opt_money = |d: Option<Amount>| d.map(|a| money(a.0));
    let usable = usable_balance(account, now);
    let add_funds = want
        .minimum_balance
        .filter(|&min| usable < min)
        .map(|min| Amount(min - usable));
    let balance_after = Amount(usable + add_funds.map_or(Decimal::ZERO, |a| a.0));

    let mut settings = Vec::new();
    let mut auto_recharge = None;
    if let Some(ar) = &want.auto_recharge {
        let current = &account.auto_recharge;
        let target = AutoRechargeTarget {
            enabled: ar.enabled,
            trigger_below: ar.trigger_below.map(Amount).or(current.trigger_below),
            recharge_amount: ar.recharge_amount.map(Amount).or(current.recharge_amount),
        };
        let same_amount = |a: Option<Amount>, b: Option<Amount>| a.map(|x| x.0) == b.map(|x| x.0);
        if current.enabled != target.enabled {
            settings.push(SettingChange {
                key: "autoRecharge.enabled".into(),
                before: Some(current.enabled.to_string()),
                after: Some(target.enabled.to_string()),
            });
        }
        if !same_amount(current.trigger_below, target.trigger_below) {
            settings.push(SettingChange {
                key: "autoRecharge.triggerBelow".into(),
                before: opt_money(current.trigger_below),
                after: opt_money(target.trigger_below),
            });
        }
        if !same_amount(current.recharge_amount, target.recharge_amount) {
            settings.push(SettingChange {
                key: "autoRecharge.rechargeAmount".into(),
                before: opt_money(current.recharge_amount),
                after: opt_money(target.recharge_amount),
            });
        }
        if !settings.is_empty() {
            auto_recharge = Some(target);
        }
    }
    let mut payment = None;
    if let Some(p) = &want.payment {
        let before = settings.len();
        payment_settings(p, account, &mut settings);
        if settings.len() > before {
            payment = Some(PaymentTarget {
                method: p.method,
                agreement_number: p.agreement_number.clone(),
                purchase_order: p.purchase_order.clone(),
            });
        }
    }

    let after = auto_recharge.as_ref().map_or(
        AutoRechargeAfter {
            enabled: account.auto_recharge.enabled,
            trigger_below: account.auto_recharge.trigger_below.map(|a| a.0),
            recharge_amount: account.auto_recharge.recharge_amount.map(|a| a.0),
        },
        |t: &AutoRechargeTarget| AutoRechargeAfter {
            enabled: t.enabled,
            trigger_below: t.trigger_below.map(|a| a.0),
            recharge_amount: t.recharge_amount.map(|a| a.0),
        },
    );
    let (rows, unreadable_rows) = rows_from_json(live.extra.get("pstnCalls"));
    let forecast = forecast(&ForecastInput {
        account,
        add_funds: add_funds.map(|a| a.0),
        auto_recharge: after,
        unlicensed_callers: unlicensed_callers(live, index, users, &rows, now),
        rows: &rows,
        unreadable_rows,
        now,
    });

    Ok(CreditsChange {
        currency,
        billing_account_type: account.billing_account_type,
        observed: observe_credits(account, now),
        settings,
        auto_recharge,
        payment,
        add_funds,
        balance_after,
        minimum_balance: want.minimum_balance.map(Amount),
        ledger: None,
        forecast: Some(forecast),
    })
}

/// Users who made calls charged to credits recently and will not hold the credits license
/// after the plan (never had it, or the plan removes it). Users no longer in the tenant and
/// calls without a user (auto attendants, call queues) are left out.
fn unlicensed_callers(
    live: &Snapshot,
    index: &TenantIndex,
    users: &[UserChange],
    rows: &[CallRow],
    now: DateTime<Utc>,
) -> Vec<String> {
    let gives_credits = |sku_id: &str| {
        index.sku(sku_id).is_some_and(|i| {
            index
                .capabilities_of_sku(i)
                .has(Capability::CommunicationsCredits)
        })
    };
    let mut out = Vec::new();
    for (id, upn) in recent_callers(rows, now) {
        let found = id
            .as_deref()
            .and_then(|id| index.user_by_id(id))
            .or_else(|| upn.as_deref().and_then(|u| index.user_by_upn(u)));
        let Some(i) = found else { continue };
        let user = &live.users[i];
        let change = users
            .iter()
            .find(|c| c.user_id.eq_ignore_ascii_case(&user.id));
        let removed = |sku_id: &str| {
            change.is_some_and(|c| {
                c.remove
                    .iter()
                    .any(|r| r.sku_id.eq_ignore_ascii_case(sku_id))
            })
        };
        let keeps = holdings(user, live, index).iter().any(|h| {
            h.capabilities.has(Capability::CommunicationsCredits)
                && !(removed(&h.sku_id) && h.groups.is_empty())
        });
        let gains = change.is_some_and(|c| c.add.iter().any(|a| gives_credits(&a.sku_id)));
        if !keeps && !gains {
            out.push(user.user_principal_name.clone());
        }
    }
    out.sort_by_key(|u| u.to_lowercase());
    out
}

fn payment_settings(want: &DesiredPayment, account: &CreditsAccount, out: &mut Vec<SettingChange>) {
    let current = &account.payment;
    let mut diff = |key: &str, before: Option<String>, after: Option<String>| {
        if before != after {
            out.push(SettingChange {
                key: key.to_string(),
                before,
                after,
            });
        }
    };
    diff(
        "payment.method",
        current.method.map(|m| m.as_str().to_string()),
        Some(want.method.as_str().to_string()),
    );
    diff(
        "payment.agreementNumber",
        current.agreement_number.clone(),
        want.agreement_number.clone(),
    );
    diff(
        "payment.purchaseOrder",
        current.purchase_order.clone(),
        want.purchase_order.clone(),
    );
}

fn not_fundable(kind: BillingAccountType, want: &DesiredCredits) -> PlanProblem {
    let (why, instead) = match kind {
        BillingAccountType::Mca => (
            "tenants billed through a Microsoft Customer Agreement (MCA) cannot buy Communications Credits",
            "turn auto-recharge off (`autoRecharge: {enabled: false}`), drop `minimumBalance` and `payment`: MCA tenants pay usage as post-paid overage on their invoice once any remaining balance is used; commcred then guides you to uncheck Auto recharge (Billing > Your products > Communication Credits > Billing settings)",
        ),
        BillingAccountType::Csp => (
            "Communications Credits are not offered in Partner Center to tenants bought through a Cloud Solution Provider (CSP)",
            "drop `minimumBalance`, `payment` and auto-recharge from commcred.yaml: under new commerce, calls beyond the included minutes are overage billed to your partner's Azure subscription once the partner enables overage (Partner Center > Subscriptions > Manage Overage; Microsoft: \"New commerce overage for telco pay-as-you-go\"); commcred still assigns the licenses and shows the usage forecast",
        ),
        BillingAccountType::Mosa => unreachable!("MOSA accounts can fund credits"),
    };
    PlanProblem::new(
        Code::FundingNotPossible.as_str(),
        format!(
            "commcred.yaml funds Communications Credits ({}), but {why}; the account is {}",
            want.origin,
            kind.as_str()
        ),
        instead,
    )
}
