//! `communicationsCredits`: currency, exact amounts, auto-recharge and payment.

use rust_decimal::Decimal;

use crate::config::checks;
use crate::config::diagnostics::Code;
use crate::config::fields::{self, Cx, Fields};
use crate::config::model::*;
use crate::config::node::{Node, Value};
use crate::tenant::PaymentMethod;

const CREDITS_KEYS: &[&str] = &[
    "currency",
    "minimumBalance",
    "autoRecharge",
    "payment",
    "ledger",
];
const AUTO_RECHARGE_KEYS: &[&str] = &["enabled", "triggerBelow", "rechargeAmount"];
const PAYMENT_KEYS: &[&str] = &["method", "agreementNumber", "purchaseOrder"];
const PAYMENT_METHODS: &[&str] = &["creditCard", "enterpriseAgreement"];

pub(super) fn credits(cx: &mut Cx, key: &Node, node: &Node) -> Option<DesiredCredits> {
    let example = "communicationsCredits: {currency: USD, minimumBalance: 100.00}";
    let fields = Fields::open(cx, node, "`communicationsCredits`", CREDITS_KEYS, example)?
        .owned_by(key.span);

    let currency = fields
        .require(cx, "currency", "currency: USD")
        .and_then(|node| fields::currency(cx, node));
    let money = currency.as_ref().map(|(c, d)| (c.as_str(), *d));

    let minimum_balance = fields
        .get("minimumBalance")
        .and_then(|node| fields::amount(cx, node, "minimumBalance", money));
    let auto_recharge = fields
        .entry("autoRecharge")
        .filter(|(_, v)| v.value != Value::Null)
        .and_then(|(k, v)| auto_recharge(cx, k, v, money));
    let payment = fields
        .entry("payment")
        .filter(|(_, v)| v.value != Value::Null)
        .and_then(|(k, v)| payment(cx, k, v));

    let ledger = fields.get("ledger").and_then(|node| ledger(cx, node));

    Some(DesiredCredits {
        currency: currency?.0,
        minimum_balance,
        auto_recharge,
        payment,
        ledger,
        origin: Origin {
            file: cx.yaml.shared_path(),
            line: key.line,
            column: key.column,
        },
    })
}

/// `ledger: PATH`: where the credits ledger lives with Microsoft Graph, relative to the YAML.
fn ledger(cx: &mut Cx, node: &Node) -> Option<std::path::PathBuf> {
    const EXAMPLE: &str = "ledger: commcred.ledger.json";
    let text = fields::string(cx, node, "ledger", EXAMPLE)?;
    if text.trim().is_empty() {
        cx.wrong_type(node, "ledger", "a file path", EXAMPLE);
        return None;
    }
    let base = cx.yaml.path().parent().unwrap_or(std::path::Path::new(""));
    Some(base.join(text))
}

fn auto_recharge(
    cx: &mut Cx,
    key: &Node,
    node: &Node,
    money: Option<(&str, u32)>,
) -> Option<DesiredAutoRecharge> {
    let example = "autoRecharge: {enabled: true, triggerBelow: 100.00, rechargeAmount: 250.00}";
    let fields =
        Fields::open(cx, node, "`autoRecharge`", AUTO_RECHARGE_KEYS, example)?.owned_by(key.span);
    let enabled_node = fields.require(cx, "enabled", "enabled: true");
    let enabled = enabled_node.and_then(|n| fields::boolean(cx, n, "enabled"));
    let trigger_below = fields
        .get("triggerBelow")
        .and_then(|n| fields::amount(cx, n, "triggerBelow", money));
    let recharge_amount = fields
        .get("rechargeAmount")
        .and_then(|n| fields::amount(cx, n, "rechargeAmount", money));

    if let (Some(true), Some(enabled_node)) = (enabled, enabled_node) {
        let missing: Vec<&str> = ["triggerBelow", "rechargeAmount"]
            .into_iter()
            .filter(|k| fields.get(k).is_none())
            .collect();
        if !missing.is_empty() {
            let problem = cx
                .problem(
                    Code::AutoRechargeIncomplete,
                    enabled_node,
                    format!(
                        "auto-recharge is enabled without {}",
                        checks::quoted_list(&missing).replace(", ", " and ")
                    ),
                    "enabled here",
                )
                .help(
                    "add `triggerBelow` (recharge when the balance is below it) and \
                     `rechargeAmount` (the amount to add), or set `enabled: false`",
                );
            cx.report(problem);
        }
        if let (Some(amount), Some(node)) = (recharge_amount, fields.get("rechargeAmount"))
            && amount == Decimal::ZERO
        {
            let problem = cx
                .problem(
                    Code::AmountNotPositive,
                    node,
                    "`rechargeAmount` must be more than zero when auto-recharge is enabled",
                    "zero",
                )
                .help("write the amount to add at each recharge, e.g. `250.00`");
            cx.report(problem);
        }
    }
    Some(DesiredAutoRecharge {
        enabled: enabled?,
        trigger_below,
        recharge_amount,
    })
}

fn payment(cx: &mut Cx, key: &Node, node: &Node) -> Option<DesiredPayment> {
    let example = "payment: {method: creditCard}";
    let fields = Fields::open(cx, node, "`payment`", PAYMENT_KEYS, example)?.owned_by(key.span);
    let method_node = fields.require(cx, "method", "method: creditCard")?;
    let agreement_number = fields
        .get("agreementNumber")
        .and_then(|n| fields::text(cx, n, "agreementNumber", "agreementNumber: \"62839471\""));
    let purchase_order = fields
        .get("purchaseOrder")
        .and_then(|n| fields::text(cx, n, "purchaseOrder", "purchaseOrder: \"PO-2026-114\""));
    let method = fields::string(cx, method_node, "method", "method: creditCard")?;
    let method = match method {
        "creditCard" => PaymentMethod::CreditCard,
        "enterpriseAgreement" => PaymentMethod::EnterpriseAgreement,
        other => {
            let problem = cx
                .problem(
                    Code::InvalidPaymentMethod,
                    method_node,
                    format!("unknown payment method `{other}`"),
                    "unknown method",
                )
                .help(checks::did_you_mean(other, PAYMENT_METHODS));
            cx.report(problem);
            return None;
        }
    };
    if method == PaymentMethod::EnterpriseAgreement && agreement_number.is_none() {
        let problem = cx
            .problem(
                Code::AgreementNumberRequired,
                method_node,
                "an Enterprise Agreement payment needs `agreementNumber`",
                "needs an agreement number",
            )
            .help("add `agreementNumber: \"12345678\"` (your EA enrollment number) to `payment`");
        cx.report(problem);
        return None;
    }
    Some(DesiredPayment {
        method,
        agreement_number,
        purchase_order,
    })
}
