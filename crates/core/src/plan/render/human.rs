//! The Terraform-like plan for a terminal or a log.

use std::fmt::Write;

use crate::base::money::Money;

use super::Style;
use crate::plan::{CreditsChange, Plan, PlanSummary, UserChange};

/// The whole plan: a block per changed user, the credits block, one summary line.
pub fn render(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    write_to(&mut out, plan, style);
    out
}

/// [`render`] into any writer, so that the CLI can stream a 100,000-user plan to stdout
/// instead of holding its whole text in memory.
pub fn write_to(out: &mut dyn Write, plan: &Plan, style: Style) {
    let outlook = plan
        .credits
        .as_ref()
        .map(|c| super::outlook::render_outlook(c, style))
        .unwrap_or_default();
    if !plan.has_changes() {
        render_groups(out, plan, style);
        let _ = out.write_str(&outlook);
        render_warnings(out, plan, style);
        let _ = writeln!(
            out,
            "No changes. Tenant {} matches the configuration.",
            plan.tenant_domain
        );
        return;
    }
    let _ = writeln!(
        out,
        "commcred will perform the following actions on tenant {} ({}):\n",
        plan.tenant_domain, plan.tenant_id
    );
    for user in plan.users.iter().filter(|u| u.has_changes()) {
        render_user(out, user, style);
    }
    render_groups(out, plan, style);
    if let Some(c) = plan.credits.as_ref().filter(|c| c.has_changes()) {
        render_credits(out, c, style);
    }
    // The outlook, then the people losing licenses right above the summary line.
    let _ = out.write_str(&outlook);
    render_warnings(out, plan, style);
    render_losses(out, plan, style);
    render_cost(out, plan, style);
    let _ = writeln!(out, "{}", style.bold(&summary_line(&plan.summary())));
}

/// Seats added and freed per SKU with the monthly change, right above the summary line.
fn render_cost(out: &mut dyn Write, plan: &Plan, style: Style) {
    use super::cost::{Mark, lines, of, source, total};
    let Some(cost) = of(plan) else { return };
    let _ = writeln!(out, "Seats and monthly cost ({}):", source(cost));
    for (mark, text) in lines(cost) {
        let _ = match mark {
            Mark::Added => writeln!(out, "  {}", style.added(&format!("+ {text}"))),
            Mark::Freed => writeln!(out, "  {}", style.removed(&format!("- {text}"))),
            Mark::Unpriced => writeln!(out, "  {}", style.changed(&format!("? {text}"))),
        };
    }
    let _ = writeln!(out, "  Monthly change: {}\n", total(cost));
}

/// The plan's warnings (docs/licensing.md), each with its code: failed license
/// assignments per user, users who cannot call without credits, credits without funding.
fn render_warnings(out: &mut dyn Write, plan: &Plan, style: Style) {
    if plan.warnings.is_empty() {
        return;
    }
    let _ = writeln!(out, "Warnings ({}):", plan.warnings.len());
    for w in &plan.warnings {
        let _ = writeln!(
            out,
            "  {} [{}]",
            style.bold(&format!("! {}", w.message)),
            w.code
        );
    }
    let _ = out.write_char('\n');
}

/// Everyone who loses a license, just above the summary line: a removal takes a capability
/// away from a person and must not hide in a long plan.
fn render_losses(out: &mut dyn Write, plan: &Plan, style: Style) {
    let losing: Vec<&UserChange> = super::users_losing_licenses(plan).collect();
    if losing.is_empty() {
        return;
    }
    let _ = writeln!(out, "Users losing licenses ({}):", losing.len());
    for u in losing {
        let labels: Vec<String> = u.remove.iter().map(|s| s.label()).collect();
        let pruned = if u.pruned { " (prune)" } else { "" };
        let _ = writeln!(
            out,
            "  {}",
            style.removed(&format!("- {}{pruned}: {}", u.upn, labels.join(", ")))
        );
    }
    let _ = out.write_char('\n');
}

fn render_user(out: &mut dyn Write, user: &UserChange, style: Style) {
    let why = if user.pruned {
        "  # not listed; prune: true"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "  {} user {}{} {{",
        style.changed("~"),
        user.upn,
        style.note(why)
    );
    if let Some(loc) = &user.usage_location {
        let from = loc.from.as_deref().unwrap_or("(none)");
        let _ = writeln!(
            out,
            "      {} usageLocation: {from} -> {}",
            style.changed("~"),
            loc.to
        );
    }
    for sku in &user.remove {
        let _ = writeln!(
            out,
            "      {}",
            style.removed(&format!("- {}", sku.label()))
        );
    }
    for sku in &user.add {
        let _ = writeln!(out, "      {}", style.added(&format!("+ {}", sku.label())));
    }
    if let Some(n) = &user.number {
        match (&n.from, &n.to) {
            (Some(from), Some(to)) => {
                let _ = writeln!(
                    out,
                    "      {} phoneNumber: {} -> {} ({})",
                    style.changed("~"),
                    from.number,
                    to.number,
                    to.number_type
                );
            }
            (None, Some(to)) => {
                let _ = writeln!(
                    out,
                    "      {}",
                    style.added(&format!(
                        "+ phoneNumber: {} ({})",
                        to.number, to.number_type
                    ))
                );
            }
            (Some(from), None) => {
                let _ = writeln!(
                    out,
                    "      {}",
                    style.removed(&format!(
                        "- phoneNumber: {} ({})",
                        from.number, from.number_type
                    ))
                );
            }
            (None, None) => {}
        }
    }
    for note in &user.notes {
        let _ = writeln!(out, "      {}", style.note(&format!("# {note}")));
    }
    let _ = writeln!(out, "    }}\n");
}

/// Managed groups: license changes with their seats, members to reprocess, direct copies
/// that wait for the group, and members in error with what fixes them.
fn render_groups(out: &mut dyn Write, plan: &Plan, style: Style) {
    use super::groups::{Mark, group_lines};
    for g in &plan.groups {
        for (mark, text) in group_lines(g) {
            let _ = match mark {
                Mark::Header => {
                    let sign = if g.has_changes() { "~" } else { "#" };
                    writeln!(out, "  {} {text} {{", style.changed(sign))
                }
                Mark::Added => writeln!(out, "      {}", style.added(&text)),
                Mark::Removed => writeln!(out, "      {}", style.removed(&text)),
                Mark::Changed => writeln!(out, "      {}", style.changed(&text)),
                Mark::Note | Mark::Error => writeln!(out, "      {}", style.note(&text)),
            };
        }
        let _ = writeln!(out, "    }}\n");
    }
}

fn render_credits(out: &mut dyn Write, c: &CreditsChange, style: Style) {
    let _ = writeln!(
        out,
        "  {} communicationsCredits ({}, {} account) {{",
        style.changed("~"),
        c.currency,
        c.billing_account_type.as_str()
    );
    for s in &c.settings {
        let _ = writeln!(
            out,
            "      {} {}: {} -> {}",
            style.changed("~"),
            s.key,
            s.before.as_deref().unwrap_or("(none)"),
            s.after.as_deref().unwrap_or("(none)")
        );
    }
    if let Some(amount) = c.add_funds {
        let line = format!(
            "+ add funds {} (usable balance {} -> {})",
            c.money(amount),
            c.money(c.observed.usable_balance),
            c.money(c.balance_after)
        );
        let _ = writeln!(out, "      {}", style.added(&line));
    }
    if let Some(ledger) = &c.ledger {
        let steps = crate::plan::steps::steps_for(c);
        let notes = [
            format!("state from the credits ledger {ledger}: Microsoft has no API for credits"),
            crate::plan::steps::plan_note(&steps),
        ];
        for note in notes {
            let _ = writeln!(out, "      {}", style.note(&format!("# {note}")));
        }
    }
    let _ = writeln!(out, "    }}\n");
}

/// `Plan: 9 to assign, 2 to remove, 4 settings to change, 379.50 USD to add.`; with a price
/// list, the seats' monthly change follows the credits to add:
/// `…, 379.50 USD to add, +280.00 USD a month in seats (1 SKU unpriced).`
pub fn summary_line(s: &PlanSummary) -> String {
    let money = s.add_funds.as_ref().map_or_else(
        || "no money to add".to_string(),
        |m: &Money| format!("{m} to add"),
    );
    let numbers = match s.numbers {
        0 => String::new(),
        1 => ", 1 phone number change".to_string(),
        n => format!(", {n} phone number changes"),
    };
    let seats = match &s.monthly_change {
        Some(m) => {
            let unpriced = match s.unpriced {
                0 => String::new(),
                n => format!(" ({n} SKU{} unpriced)", if n == 1 { "" } else { "s" }),
            };
            format!(
                ", {} a month in seats{unpriced}",
                crate::plan::cost::signed(m)
            )
        }
        None => String::new(),
    };
    format!(
        "Plan: {} to assign, {} to remove, {} setting{} to change{numbers}, {money}{seats}.",
        s.assign,
        s.remove,
        s.settings,
        if s.settings == 1 { "" } else { "s" }
    )
}
