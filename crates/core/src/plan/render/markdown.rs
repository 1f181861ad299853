//! The plan as a pull-request comment (GitHub and GitLab flavoured Markdown): what a
//! reviewer must see first (the summary, the money, who loses a license) on top, the
//! per-user details collapsed in `<details>`.
//!
//! Every value that comes from the tenant or the YAML is escaped: a comment is rendered by
//! the forge, and a UPN or a note must never turn into markup.

use std::fmt::Write;

use crate::plan::{CreditsChange, Plan, UserChange};

use super::human::summary_line;
use super::{users_gaining_licenses, users_losing_licenses};

/// First line of every comment, so a pipeline can find and update its previous comment.
pub const MARKER: &str = "<!-- commcred:plan -->";

/// Rows of the "gaining" table before it is cut (the full list stays in the details).
const MAX_GAIN_ROWS: usize = 50;
/// Characters of the details block before it is cut: GitHub refuses comments over 65,536
/// characters, and the summary above it must always fit.
const MAX_DETAILS_CHARS: usize = 40_000;

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER}");
    let _ = writeln!(out, "### commcred plan for {}\n", code(&plan.tenant_domain));
    if !plan.has_changes() {
        let _ = writeln!(
            out,
            "**No changes.** The tenant matches the configuration.\n"
        );
        credits_warnings(&mut out, plan);
        plan_warnings(&mut out, plan);
        groups(&mut out, plan);
        footer(&mut out, plan);
        return out;
    }
    let _ = writeln!(out, "**{}**\n", text(&summary_line(&plan.summary())));
    money(&mut out, plan);
    seat_cost(&mut out, plan);
    credits_warnings(&mut out, plan);
    plan_warnings(&mut out, plan);
    losses(&mut out, plan);
    gains(&mut out, plan);
    groups(&mut out, plan);
    details(&mut out, plan);
    footer(&mut out, plan);
    out
}

fn money(out: &mut String, plan: &Plan) {
    let funding = plan
        .credits
        .as_ref()
        .and_then(|c| c.add_funds.map(|a| (c, a)));
    match funding {
        Some((c, amount)) => {
            let _ = writeln!(
                out,
                "**Money to spend: {}** (Communications Credits \"add funds\"; usable balance {} → {})\n",
                text(&c.money(amount).to_string()),
                text(&c.money(c.observed.usable_balance).to_string()),
                text(&c.money(c.balance_after).to_string()),
            );
        }
        None => {
            let _ = writeln!(out, "**Money to spend: none.**\n");
        }
    }
}

/// The seats' monthly cost, right under the money to spend: the total first, then a row
/// per SKU, unpriced ones named as such.
fn seat_cost(out: &mut String, plan: &Plan) {
    use super::cost::{Mark, lines, of, source, total};
    let Some(cost) = of(plan) else { return };
    let _ = writeln!(
        out,
        "**Monthly cost: {}** ({})\n",
        text(&total(cost)),
        text(&source(cost))
    );
    let _ = writeln!(out, "| | Seats and monthly change |\n| --- | --- |");
    for (mark, line) in lines(cost) {
        let sign = match mark {
            Mark::Added => "+",
            Mark::Freed => "−",
            Mark::Unpriced => "?",
        };
        let _ = writeln!(out, "| {sign} | {} |", text(&line));
    }
    out.push('\n');
}

/// What the credits will do next, when it needs attention (docs/credits.md), and the
/// admin-center steps apply will guide when the account has no API.
fn credits_warnings(out: &mut String, plan: &Plan) {
    let Some(c) = &plan.credits else { return };
    if c.ledger.is_some() && c.has_changes() {
        let steps = crate::plan::steps::steps_for(c);
        let _ = writeln!(
            out,
            "**Manual steps:** {}\n",
            text(&crate::plan::steps::plan_note(&steps))
        );
    }
    let warnings = c.forecast.iter().flat_map(|f| &f.warnings);
    for (n, w) in warnings.enumerate() {
        if n == 0 {
            let _ = writeln!(out, "**Communications Credits warnings:**\n");
        }
        let _ = writeln!(out, "- {} ({})", text(&w.message), code(w.code()));
    }
    if c.forecast.as_ref().is_some_and(|f| !f.warnings.is_empty()) {
        out.push('\n');
    }
}

/// The plan's warnings (docs/licensing.md): failed license assignments with the group and
/// Graph's error, users who cannot call without credits, credits without funding.
fn plan_warnings(out: &mut String, plan: &Plan) {
    if plan.warnings.is_empty() {
        return;
    }
    let _ = writeln!(out, "#### Warnings ({})\n", plan.warnings.len());
    let _ = writeln!(out, "| User | Warning | Code |\n| --- | --- | --- |");
    for w in &plan.warnings {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            w.upn.as_deref().map(code).unwrap_or_else(|| "—".into()),
            text(&w.message),
            code(&w.code)
        );
    }
    out.push('\n');
}

fn losses(out: &mut String, plan: &Plan) {
    let losing: Vec<&UserChange> = users_losing_licenses(plan).collect();
    if losing.is_empty() {
        let _ = writeln!(out, "No user loses a license.\n");
        return;
    }
    let _ = writeln!(out, "#### Users losing licenses ({})\n", losing.len());
    let _ = writeln!(out, "| User | Loses |\n| --- | --- |");
    for u in losing {
        let who = if u.pruned {
            format!("{} (not listed; `prune: true`)", code(&u.upn))
        } else {
            code(&u.upn)
        };
        let labels: Vec<String> = u.remove.iter().map(|s| text(&s.label())).collect();
        let _ = writeln!(out, "| {who} | {} |", labels.join(", "));
    }
    out.push('\n');
}

fn gains(out: &mut String, plan: &Plan) {
    let gaining: Vec<&UserChange> = users_gaining_licenses(plan).collect();
    if gaining.is_empty() {
        return;
    }
    let _ = writeln!(out, "#### Users gaining licenses ({})\n", gaining.len());
    let _ = writeln!(out, "| User | Gains |\n| --- | --- |");
    for u in gaining.iter().take(MAX_GAIN_ROWS) {
        let labels: Vec<String> = u.add.iter().map(|s| text(&s.label())).collect();
        let _ = writeln!(out, "| {} | {} |", code(&u.upn), labels.join(", "));
    }
    if gaining.len() > MAX_GAIN_ROWS {
        let _ = writeln!(
            out,
            "| … and {} more | see the details below |",
            gaining.len() - MAX_GAIN_ROWS
        );
    }
    out.push('\n');
}

/// A `diff` block (the forges colour `+` and `-` lines) with every change and note.
fn details(out: &mut String, plan: &Plan) {
    let users: Vec<&UserChange> = plan.users.iter().filter(|u| u.has_changes()).collect();
    let credits = plan.credits.as_ref().filter(|c| c.has_changes());
    let mut what = vec![format!(
        "{} user{}",
        users.len(),
        if users.len() == 1 { "" } else { "s" }
    )];
    if credits.is_some() {
        what.push("Communications Credits".into());
    }
    let _ = writeln!(
        out,
        "<details>\n<summary>Details: {}</summary>\n\n```diff",
        what.join(", ")
    );
    let mut body = String::new();
    let mut shown = 0;
    for u in &users {
        if body.len() > MAX_DETAILS_CHARS {
            break;
        }
        user_block(&mut body, u);
        shown += 1;
    }
    if shown < users.len() {
        let _ = writeln!(
            body,
            "# … {} more users: run `commcred show PLAN` on the saved plan",
            users.len() - shown
        );
    }
    if let Some(c) = credits {
        credits_block(&mut body, c);
    }
    out.push_str(&body);
    let _ = writeln!(out, "```\n\n</details>\n");
}

/// Managed groups in a `diff` block: changes, seats, members in error with their fix.
fn groups(out: &mut String, plan: &Plan) {
    use super::groups::{Mark, group_lines};
    if plan.groups.is_empty() {
        return;
    }
    let _ = writeln!(out, "**Groups ({}):**\n\n```diff", plan.groups.len());
    for g in &plan.groups {
        for (mark, text) in group_lines(g) {
            let text = line(&text);
            let _ = match mark {
                Mark::Header if g.has_changes() => writeln!(out, "~ {text}"),
                Mark::Header => writeln!(out, "# {text}"),
                Mark::Added | Mark::Removed | Mark::Changed | Mark::Note => {
                    writeln!(out, "{}   {}", &text[..1], &text[2..])
                }
                Mark::Error => writeln!(out, "!   {}", &text[2..]),
            };
        }
        out.push('\n');
    }
    let _ = writeln!(out, "```\n");
}

fn user_block(out: &mut String, u: &UserChange) {
    let why = if u.pruned {
        "  # not listed; prune: true"
    } else {
        ""
    };
    let _ = writeln!(out, "~ user {}{why}", line(&u.upn));
    if let Some(loc) = &u.usage_location {
        let _ = writeln!(
            out,
            "~   usageLocation: {} -> {}",
            line(loc.from.as_deref().unwrap_or("(none)")),
            line(&loc.to)
        );
    }
    for s in &u.remove {
        let _ = writeln!(out, "-   {}", line(&s.label()));
    }
    for s in &u.add {
        let _ = writeln!(out, "+   {}", line(&s.label()));
    }
    if let Some(n) = &u.number {
        let shown = |p: &crate::plan::PlannedNumber| format!("{} ({})", p.number, p.number_type);
        match (&n.from, &n.to) {
            (Some(from), Some(to)) => {
                let _ = writeln!(
                    out,
                    "~   phoneNumber: {} -> {}",
                    line(&shown(from)),
                    line(&shown(to))
                );
            }
            (None, Some(to)) => {
                let _ = writeln!(out, "+   phoneNumber: {}", line(&shown(to)));
            }
            (Some(from), None) => {
                let _ = writeln!(out, "-   phoneNumber: {}", line(&shown(from)));
            }
            (None, None) => {}
        }
    }
    for n in &u.notes {
        let _ = writeln!(out, "#   {}", line(n));
    }
    out.push('\n');
}

fn credits_block(out: &mut String, c: &CreditsChange) {
    let _ = writeln!(
        out,
        "~ communicationsCredits ({}, {} account)",
        line(&c.currency),
        c.billing_account_type.as_str()
    );
    for s in &c.settings {
        let _ = writeln!(
            out,
            "~   {}: {} -> {}",
            line(&s.key),
            line(s.before.as_deref().unwrap_or("(none)")),
            line(s.after.as_deref().unwrap_or("(none)"))
        );
    }
    if let Some(amount) = c.add_funds {
        let _ = writeln!(
            out,
            "+   add funds {} (usable balance {} -> {})",
            line(&c.money(amount).to_string()),
            line(&c.money(c.observed.usable_balance).to_string()),
            line(&c.money(c.balance_after).to_string())
        );
    }
}

fn footer(out: &mut String, plan: &Plan) {
    let _ = writeln!(
        out,
        "<sub>Tenant {} ({}) · planned at {} · config sha256 {} · commcred {}</sub>",
        code(&plan.tenant_domain),
        code(&plan.tenant_id),
        plan.planned_at.format("%Y-%m-%dT%H:%M:%SZ"),
        code(&plan.config_digest),
        env!("CARGO_PKG_VERSION"),
    );
}

/// Inline code for identifiers (UPNs, ids): no autolinks, no emphasis. Falls back to
/// escaped text when the value could break out of the code span or a table cell.
fn code(value: &str) -> String {
    if value.contains(['`', '|', '\n', '\r']) || value.is_empty() {
        text(value)
    } else {
        format!("`{value}`")
    }
}

/// Plain text with Markdown and HTML syntax escaped, on one line.
pub(crate) fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A value inside the fenced diff block: only line breaks could escape it (a fence must
/// start a line, and every line here starts with a diff marker).
fn line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_text() {
        assert_eq!(code("a|b@x.com"), "a\\|b@x.com");
        assert_eq!(code("alice@contoso.com"), "`alice@contoso.com`");
        assert_eq!(text("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(text("**bold**\n# h"), "\\*\\*bold\\*\\* \\# h");
        assert_eq!(line("x\n```\ny"), "x ``` y");
    }
}
