//! Guided manual steps: a credits change that Microsoft offers no API for, written as the
//! numbered steps a Billing administrator follows in the Microsoft 365 admin center, with
//! the page path, the field names as the page shows them, the exact values, and what is
//! already right.
//!
//! Order matters: the payment method first (a purchase uses it), then the one-off purchase,
//! then auto-recharge. Turning auto-recharge on while the balance is below "When balance is
//! below" makes Microsoft buy "Add this amount" at once, so funds are added before.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::base::money::Amount;
use crate::plan::{AutoRechargeTarget, CreditsChange, PaymentTarget};
use crate::tenant::{BillingAccountType, PaymentMethod};

pub const ADMIN_CENTER: &str = "https://admin.microsoft.com";
pub const PRODUCT_PATH: &str = "Billing > Your products > Communication Credits";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StepKind {
    Payment,
    AddFunds,
    AutoRecharge,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Payment => "payment",
            StepKind::AddFunds => "addFunds",
            StepKind::AutoRecharge => "autoRecharge",
        }
    }
}

/// What confirming the step records in the ledger.
#[derive(Debug, Clone, PartialEq)]
pub enum StepAction {
    Payment(PaymentTarget),
    AddFunds(Amount),
    AutoRecharge(AutoRechargeTarget),
}

/// One field on the admin-center page: its label there, the value to enter, and what the
/// ledger last knew (when different).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
    pub was: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ManualStep {
    pub kind: StepKind,
    /// e.g. `Add funds: 379.50 USD`.
    pub title: String,
    /// Where on the admin center, from the left navigation.
    pub path: String,
    pub fields: Vec<Field>,
    /// What to do once the fields are filled in.
    pub finish: String,
    pub why: Option<String>,
    pub action: StepAction,
}

impl ManualStep {
    /// The ledger key: plan id and step, so that a plan's step is recorded once.
    pub fn key(&self, plan_id: &str) -> String {
        format!("{plan_id}/{}", self.kind.as_str())
    }
}

/// The steps that make the account match the plan, in the order to do them.
// Long: one block per admin-center step, in the order a person does them, each building its own field list.
pub fn steps_for(change: &CreditsChange) -> Vec<ManualStep> {
    let money = |a: Amount| change.money(a).to_string();
    let opt_money = |a: Option<Amount>| a.map_or_else(|| "(empty)".to_string(), money);
    let seen = &change.observed;
    let mut steps = Vec::new();

    if let Some(p) = &change.payment {
        let mut fields = vec![Field {
            label: "Payment method",
            value: method_label(p.method).to_string(),
            was: changed(
                seen.payment_method.map_or("(not recorded)", method_label),
                method_label(p.method),
            ),
        }];
        if p.method == PaymentMethod::EnterpriseAgreement {
            fields.push(Field {
                label: "Agreement number",
                value: p.agreement_number.clone().unwrap_or_default(),
                was: changed_opt(&seen.agreement_number, &p.agreement_number),
            });
            fields.push(Field {
                label: "Purchase order",
                value: p
                    .purchase_order
                    .clone()
                    .unwrap_or_else(|| "(leave empty)".into()),
                was: changed_opt(&seen.purchase_order, &p.purchase_order),
            });
        }
        let finish = match p.method {
            PaymentMethod::CreditCard => {
                "Choose the credit card to charge (commcred never sees card details), then select Save."
            }
            PaymentMethod::EnterpriseAgreement => "Select Save.",
        };
        steps.push(ManualStep {
            kind: StepKind::Payment,
            title: format!("Payment method: {}", method_label(p.method)),
            path: format!("{PRODUCT_PATH} > Billing settings > Payment method"),
            fields,
            finish: finish.into(),
            why: None,
            action: StepAction::Payment(p.clone()),
        });
    }

    if let Some(amount) = change.add_funds {
        let why = match change.minimum_balance {
            Some(min) => format!(
                "the usable balance is {} and minimumBalance is {}; this adds exactly the difference",
                money(seen.usable_balance),
                money(min)
            ),
            None => format!("the usable balance is {}", money(seen.usable_balance)),
        };
        steps.push(ManualStep {
            kind: StepKind::AddFunds,
            title: format!("Add funds: {}", money(amount)),
            path: format!("{PRODUCT_PATH} > Add funds"),
            fields: vec![Field {
                label: "Amount",
                value: money(amount),
                was: None,
            }],
            finish: "Pay with the payment method above and complete the purchase.".into(),
            why: Some(why),
            action: StepAction::AddFunds(amount),
        });
    }

    if let Some(t) = &change.auto_recharge {
        let mut fields = vec![Field {
            label: "Auto recharge",
            value: on_off(t.enabled).into(),
            was: changed(on_off(seen.auto_recharge_enabled), on_off(t.enabled)),
        }];
        if t.enabled {
            fields.push(Field {
                label: "When balance is below",
                value: opt_money(t.trigger_below),
                was: changed(&opt_money(seen.trigger_below), &opt_money(t.trigger_below)),
            });
            fields.push(Field {
                label: "Add this amount",
                value: opt_money(t.recharge_amount),
                was: changed(
                    &opt_money(seen.recharge_amount),
                    &opt_money(t.recharge_amount),
                ),
            });
        }
        let why = match (t.enabled, t.trigger_below) {
            (true, Some(trigger)) if change.balance_after.0 < trigger.0 => Some(format!(
                "the balance ({}) is below \"When balance is below\" ({}): Microsoft buys {} as soon as you save",
                money(change.balance_after),
                money(trigger),
                opt_money(t.recharge_amount)
            )),
            (false, _) if change.billing_account_type == BillingAccountType::Mca => Some(
                "Microsoft Customer Agreement accounts pay usage after the fact on the invoice, once any remaining balance is used; auto-recharge must be off or the balance refills itself and billing never switches"
                    .into(),
            ),
            (false, _) if change.billing_account_type == BillingAccountType::Csp => Some(
                "CSP (new commerce) tenants pay calls beyond the included minutes as overage on the partner's Azure subscription; prepaid credits are not offered in Partner Center"
                    .into(),
            ),
            _ => None,
        };
        steps.push(ManualStep {
            kind: StepKind::AutoRecharge,
            title: format!("Auto-recharge: {}", if t.enabled { "on" } else { "off" }),
            path: format!("{PRODUCT_PATH} > Billing settings > Edit auto recharge settings"),
            fields,
            finish: "Select Save.".into(),
            why,
            action: StepAction::AutoRecharge(t.clone()),
        });
    }
    steps
}

/// Settings the plan leaves alone because the ledger already has them as declared.
pub fn already_right(change: &CreditsChange) -> Vec<String> {
    let seen = &change.observed;
    let money = |a: Amount| change.money(a).to_string();
    let mut out = Vec::new();
    if change.add_funds.is_none()
        && let Some(min) = change.minimum_balance
    {
        out.push(format!(
            "Balance: {} is at least minimumBalance {}; nothing to buy",
            money(seen.usable_balance),
            money(min)
        ));
    }
    if change.auto_recharge.is_none() {
        let line = match (seen.trigger_below, seen.recharge_amount) {
            (Some(t), Some(a)) if seen.auto_recharge_enabled => format!(
                "Auto recharge: on, When balance is below {}, Add this amount {}",
                money(t),
                money(a)
            ),
            _ => format!("Auto recharge: {}", on_off(seen.auto_recharge_enabled)),
        };
        out.push(line);
    }
    if change.payment.is_none()
        && let Some(method) = seen.payment_method
    {
        let mut line = format!("Payment method: {}", method_label(method));
        if let Some(n) = &seen.agreement_number {
            let _ = write!(line, ", agreement {n}");
        }
        if let Some(po) = &seen.purchase_order {
            let _ = write!(line, ", purchase order {po}");
        }
        out.push(line);
    }
    out
}

fn method_label(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::CreditCard => "Credit card",
        PaymentMethod::EnterpriseAgreement => "Enterprise Agreement",
    }
}

fn on_off(enabled: bool) -> &'static str {
    if enabled {
        "on (checked)"
    } else {
        "off (unchecked)"
    }
}

fn changed(before: &str, after: &str) -> Option<String> {
    (before != after).then(|| before.to_string())
}

fn changed_opt(before: &Option<String>, after: &Option<String>) -> Option<String> {
    (before != after).then(|| before.clone().unwrap_or_else(|| "(empty)".into()))
}

/// The steps as text: the header, each numbered step, and what is already right.
pub fn render(change: &CreditsChange, steps: &[ManualStep]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Communications Credits: Microsoft has no API for these changes. Do them in the Microsoft 365\n\
         admin center ({ADMIN_CENTER}), signed in as a Billing administrator:\n"
    );
    for (n, step) in steps.iter().enumerate() {
        out.push_str(&render_step(step, n + 1, steps.len()));
    }
    let right = already_right(change);
    if !right.is_empty() {
        let _ = writeln!(out, "  Already right (leave as it is):");
        for line in right {
            let _ = writeln!(out, "    - {line}");
        }
        out.push('\n');
    }
    out
}

pub fn render_step(step: &ManualStep, n: usize, of: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  Step {n} of {of}: {}", step.title);
    let _ = writeln!(out, "    Go to: {}", step.path);
    let width = step.fields.iter().map(|f| f.label.len()).max().unwrap_or(0);
    for f in &step.fields {
        let was = f
            .was
            .as_ref()
            .map(|w| format!("   (now: {w})"))
            .unwrap_or_default();
        let _ = writeln!(out, "      {:<width$}  {}{was}", f.label, f.value);
    }
    let _ = writeln!(out, "    {}", step.finish);
    if let Some(why) = &step.why {
        let _ = writeln!(out, "    Why: {why}.");
    }
    out.push('\n');
    out
}

/// Shown in a plan: what `apply` will ask a person to do.
pub fn plan_note(steps: &[ManualStep]) -> String {
    let titles: Vec<&str> = steps.iter().map(|s| s.title.as_str()).collect();
    format!(
        "manual: {} step{} in the Microsoft 365 admin center ({}), guided and confirmed by apply",
        steps.len(),
        if steps.len() == 1 { "" } else { "s" },
        titles.join("; ")
    )
}
