//! The `communicationsCredits` section from the live account: the settings it has, written
//! so that planning them is a no-op, and left out (with a warning) where the YAML cannot say
//! the same thing.
//!
//! `minimumBalance` is never exported: it is a commcred policy, not a Microsoft setting, and
//! any value would make the plan add funds whenever the balance is lower. The balance is shown
//! in a comment instead.

use chrono::{DateTime, Utc};

use crate::base::codes::currency_minor_units;
use crate::base::money::{Amount, Money};
use crate::config::schema::{self, AutoRecharge, Credits, Currency, Payment};
use crate::tenant::credits::usable_balance;
use crate::tenant::{BillingAccountType, CreditsAccount, PaymentMethod};

use super::ExportWarning;
use super::codes::Code;

/// The section, the comment lines above it, and what was left out.
pub struct CreditsExport {
    pub section: Option<Credits>,
    pub comments: Vec<String>,
    pub warnings: Vec<ExportWarning>,
}

// Long: one account field after another, each with the comment or warning export writes for it.
pub fn export_credits(account: Option<&CreditsAccount>, now: DateTime<Utc>) -> CreditsExport {
    let mut out = CreditsExport {
        section: None,
        comments: Vec::new(),
        warnings: Vec::new(),
    };
    let Some(account) = account else {
        // Absent means the tenant has none, or the backend cannot see it: Microsoft Graph
        // has no API for credits.
        out.comments.extend([
            "No Communications Credits account was read (the tenant has none, or the backend"
                .into(),
            "cannot read it: Microsoft has no API for credits), so credits are not managed.".into(),
        ]);
        return out;
    };
    let currency = account.currency.to_ascii_uppercase();
    let Some(decimals) = currency_minor_units(&currency) else {
        out.warnings.push(setting_skipped(
            format!(
                "the credits account's currency `{}` is not an ISO 4217 code, so `communicationsCredits` is left out",
                account.currency
            ),
            "fix the account's currency in the snapshot, or write the section by hand",
        ));
        return out;
    };
    let balance = Money::new(usable_balance(account, now), currency.clone());
    out.comments.push(format!(
        "Usable balance on {}: {balance}. commcred adds funds only when the balance",
        now.format("%Y-%m-%d")
    ));
    out.comments
        .push("is below `minimumBalance`: add one to keep credits topped up.".into());
    let amount = |a: Option<Amount>| -> Option<Option<schema::Amount>> {
        match a {
            None => Some(None),
            Some(a) if a.0.is_sign_negative() || a.scale() > decimals => None,
            Some(a) => Some(Some(schema::Amount(a.format_for(&currency)))),
        }
    };

    let fundable = account.billing_account_type == BillingAccountType::Mosa;
    if !fundable {
        out.comments.push(format!(
            "The account is billed through {}, which cannot buy credits: auto-recharge stays",
            account.billing_account_type.as_str()
        ));
        out.comments
            .push("off and payment is not managed here.".into());
    }

    let ar = &account.auto_recharge;
    let auto_recharge = match (amount(ar.trigger_below), amount(ar.recharge_amount)) {
        _ if ar.enabled && !fundable => {
            out.warnings.push(setting_skipped(
                format!(
                    "auto-recharge is on, but the account is billed through {}, which cannot fund credits, so `autoRecharge` is left out",
                    account.billing_account_type.as_str()
                ),
                "turn auto-recharge off in the admin center; then export again",
            ));
            None
        }
        (Some(trigger), Some(recharge)) => {
            let complete = trigger.is_some() && recharge.as_ref().is_some_and(|r| !is_zero(r));
            if ar.enabled && !complete {
                out.warnings.push(setting_skipped(
                    "auto-recharge is on without a trigger amount or a positive recharge amount, so `autoRecharge` is left out",
                    "set both amounts in the admin center, or write `autoRecharge` by hand",
                ));
                None
            } else {
                Some(AutoRecharge {
                    enabled: ar.enabled,
                    trigger_below: trigger,
                    recharge_amount: recharge,
                })
            }
        }
        _ => {
            out.warnings.push(setting_skipped(
                format!(
                    "an auto-recharge amount is negative or has more than {decimals} decimals for {currency}, so `autoRecharge` is left out"
                ),
                "fix the amounts in the admin center, or write `autoRecharge` by hand",
            ));
            None
        }
    };

    let pay = &account.payment;
    let payment = match pay.method {
        _ if !fundable => None,
        None => None,
        Some(PaymentMethod::EnterpriseAgreement) if pay.agreement_number.is_none() => {
            out.warnings.push(setting_skipped(
                "payment is by Enterprise Agreement without an agreement number, so `payment` is left out",
                "record the agreement number, or write `payment` by hand",
            ));
            None
        }
        Some(method) => Some(Payment {
            method: match method {
                PaymentMethod::CreditCard => schema::PaymentMethod::CreditCard,
                PaymentMethod::EnterpriseAgreement => schema::PaymentMethod::EnterpriseAgreement,
            },
            agreement_number: pay.agreement_number.clone(),
            purchase_order: pay.purchase_order.clone(),
        }),
    };

    out.section = Some(Credits {
        currency: Currency(currency),
        minimum_balance: None,
        auto_recharge,
        payment,
        ledger: None,
    });
    out
}

fn is_zero(a: &schema::Amount) -> bool {
    Amount::parse(&a.0).is_ok_and(|a| a.0.is_zero())
}

fn setting_skipped(message: impl Into<String>, help: impl Into<String>) -> ExportWarning {
    ExportWarning::warning(Code::SettingSkipped.as_str(), message, help)
}
