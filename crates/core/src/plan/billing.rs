//! How the tenant pays for calls beyond the included minutes, and the credits warnings that
//! follow from it (docs/credits.md, "Billing account types"; Microsoft pages read
//! 2026-12-07):
//!
//! - MOSA (bought online, or paid with an Enterprise Agreement): prepaid Communications
//!   Credits. A pay-as-you-go or pay-per-minute user without the credits license, or a zero
//!   balance, stops calls ("What are Communications Credits?").
//! - MCA: "MCA customers don't need to purchase Communication Credits"; auto-recharge must be
//!   off, any remaining balance is used first, then usage is billed after the fact ("Set up
//!   Communications Credits for your organization"; "Turn off Communication Credits auto
//!   recharge for Microsoft Customer Agreement (MCA) customers").
//! - CSP (new commerce): "these communication credits weren't offered in Partner Center";
//!   usage beyond the included minutes is overage billed to the partner's Azure subscription
//!   ("New commerce overage for telco pay-as-you-go", Partner Center).

use crate::base::text::list_some;
use crate::config::DesiredState;
use crate::tenant::{BillingAccountType, Snapshot};

use super::codes::Code;
use super::model::PlanWarning;
use super::problems::PlanProblem;

/// The codes of the warnings that assume prepaid credits.
const NEEDS_CREDITS: &str = Code::NeedsCredits.as_str();
const UNFUNDED: &str = Code::CreditsUnfunded.as_str();

/// The tenant's billing account type: the live credits account's (snapshot or ledger), else
/// commcred.yaml's `billingAccount`, else unknown (treated as MOSA, the only account type
/// that buys credits, as before). Both saying different things is a plan error.
pub fn billing_account(
    desired: &DesiredState,
    live: &Snapshot,
) -> Result<Option<BillingAccountType>, PlanProblem> {
    let live_kind = live
        .communications_credits
        .as_ref()
        .map(|a| a.billing_account_type);
    match (live_kind, &desired.billing_account) {
        (Some(l), Some(d)) if l != d.kind => Err(PlanProblem::new(
            Code::BillingAccountMismatch.as_str(),
            format!(
                "{}: commcred.yaml says the billing account is {}, but the tenant's credits account is {}",
                d.origin,
                d.kind.as_str(),
                l.as_str()
            ),
            format!(
                "set `billingAccount: {}` (Microsoft 365 admin center > Billing > Billing accounts shows the type), or correct the credits account with `commcred ledger record --billing-account`",
                l.as_str()
            ),
        )),
        (Some(l), _) => Ok(Some(l)),
        (None, d) => Ok(d.as_ref().map(|d| d.kind)),
    }
}

/// Replaces the prepaid-credits warnings (`needs_credits`, `credits_unfunded`) of an account
/// that does not prepay with one warning saying how those calls are billed instead.
pub fn warnings_for_account(kind: Option<BillingAccountType>, warnings: &mut Vec<PlanWarning>) {
    let Some(kind @ (BillingAccountType::Mca | BillingAccountType::Csp)) = kind else {
        return;
    };
    let users: Vec<String> = warnings
        .iter()
        .filter(|w| w.code == NEEDS_CREDITS)
        .filter_map(|w| w.upn.clone())
        .collect();
    warnings.retain(|w| w.code != NEEDS_CREDITS && w.code != UNFUNDED);
    if users.is_empty() {
        return;
    }
    let who = format!(
        "{} user{} ({}) will hold a pay-as-you-go calling plan or pay-per-minute audio conferencing, which include no minutes",
        users.len(),
        if users.len() == 1 { "" } else { "s" },
        list_some(&users, 10)
    );
    let (code, how) = match kind {
        BillingAccountType::Mca => (
            Code::UsageBilledAfterUse.as_str(),
            "the billing account is MCA: MCA customers don't need Communications Credits (no credits license or balance is needed); these calls are billed on the invoice after use, once any remaining Communications Credits balance is spent. Keep auto-recharge off (Billing > Your products > Communication Credits > Edit auto recharge settings)",
        ),
        _ => (
            Code::PartnerOverage.as_str(),
            "the billing account is CSP: Communications Credits are not offered in Partner Center; under new commerce these calls are overage billed to your partner's Azure subscription once the partner enables overage (Partner Center > Subscriptions > Manage Overage), and fail without it. Ask your partner to enable telco pay-as-you-go overage",
        ),
    };
    warnings.push(PlanWarning {
        code: code.into(),
        upn: None,
        message: format!("{who}; {how}"),
        assignment: None,
    });
}
