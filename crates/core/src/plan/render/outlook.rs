//! The Communications Credits outlook under a human plan.

use std::fmt::Write as _;

use rust_decimal::Decimal;

use crate::base::money::Amount;
use crate::plan::CreditsChange;
use crate::tenant::BillingAccountType;

use super::Style;

/// The outlook and warnings under a plan, for people: balance, recent spend, money about to
/// expire, when the balance runs out, then each warning with its code and help.
pub fn render_outlook(change: &CreditsChange, style: Style) -> String {
    let Some(f) = &change.forecast else {
        return String::new();
    };
    let m = |a: Amount| change.money(a).to_string();
    let mut out = String::new();
    let source = match &change.ledger {
        Some(path) => format!(", estimated from the ledger {path}"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "Communications Credits outlook ({} account{source}):",
        change.billing_account_type.as_str()
    );
    let after = if f.balance_after != f.usable_balance {
        format!(" ({} after this plan)", m(f.balance_after))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  usable balance         {}{after}",
        m(f.usable_balance)
    );
    if let Some(r) = &f.rate {
        let _ = writeln!(
            out,
            "  recent spend           {}/day over {} day{} since {} ({}, {} charged call{})",
            m(r.per_day),
            r.days,
            if r.days == 1 { "" } else { "s" },
            r.since.format("%Y-%m-%d"),
            m(r.total),
            r.calls,
            if r.calls == 1 { "" } else { "s" }
        );
    }
    for e in &f.expiring {
        let lost = match e.likely_lost {
            Some(l) if l.0 > Decimal::ZERO => format!(", {} likely lost", m(l)),
            Some(_) => ", spent before then at the recent rate".to_string(),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  expires {}     {} in fund {}{lost}",
            e.expires_at.format("%Y-%m-%d"),
            m(e.remaining),
            e.id
        );
    }
    if let Some(at) = f.runs_out_at {
        let then = after_balance(change.billing_account_type);
        let _ = writeln!(
            out,
            "  runs out               {} at the recent rate (auto-recharge off){then}",
            at.format("%Y-%m-%d")
        );
    }
    for note in &f.notes {
        let _ = writeln!(out, "  {}", style.note(&format!("# {note}")));
    }
    for w in &f.warnings {
        let _ = writeln!(
            out,
            "{} {} [{}]\n  help: {}",
            style.changed("Warning:"),
            w.message,
            w.code(),
            w.help
        );
    }
    out.push('\n');
    out
}

/// How calls are paid once the balance is spent, by billing account (docs/credits.md,
/// "Billing account types"): MOSA calls stop, MCA and CSP are billed after use.
fn after_balance(kind: BillingAccountType) -> &'static str {
    match kind {
        BillingAccountType::Mosa => "",
        BillingAccountType::Mca => "; then usage is billed on the MCA invoice",
        BillingAccountType::Csp => "; then usage is partner overage (Azure subscription)",
    }
}
