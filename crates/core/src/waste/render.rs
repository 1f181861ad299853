//! The waste report for a terminal (human), a pull-request or issue comment (markdown) and
//! machines (JSON, `format_version` 1.0, docs/cost.md).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::base::money::Money;
use crate::plan::render::markdown::text as escape;

use super::{FORMAT_VERSION, WasteLine, WasteReport};

/// Users listed per line in the human and markdown formats; JSON lists every one.
const USERS_SHOWN: usize = 20;

/// The first line every format leads with: seats, users and the money.
pub fn summary_line(report: &WasteReport) -> String {
    if report.is_empty() {
        return format!(
            "No waste found in tenant {}: every calling license is assigned and used.",
            report.tenant_domain
        );
    }
    let t = report.totals();
    let money = match &t.monthly_cost {
        Some(m) => format!(", {m} a month"),
        None => " (no price list: add `prices:` to commcred.yaml to see the money)".to_string(),
    };
    let unpriced = if t.unpriced_seats > 0 && t.monthly_cost.is_some() {
        format!(
            " plus {} unpriced seat{} ({})",
            t.unpriced_seats,
            plural(t.unpriced_seats),
            t.unpriced.join(", ")
        )
    } else {
        String::new()
    };
    format!(
        "Waste: {} seat{}{money}{unpriced}, on {} user{} and unassigned seats.",
        t.seats,
        plural(t.seats),
        t.users,
        plural(t.users)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn line_money(report: &WasteReport, line: &WasteLine) -> String {
    let currency = report.prices.as_ref().map(|p| p.currency.as_str());
    match (line.monthly_cost, line.monthly_price, currency) {
        (Some(cost), Some(price), Some(c)) => format!(
            "{} a month ({} x {})",
            Money::new(cost.0, c),
            line.seats,
            Money::new(price.0, c)
        ),
        (_, _, Some(_)) => "unpriced (no price in the price list)".to_string(),
        _ => "no price list".to_string(),
    }
}

fn what(line: &WasteLine) -> String {
    format!(
        "{}: {} seat{}",
        line.sku.label(),
        line.seats,
        plural(line.seats)
    )
}

fn user_list(line: &WasteLine) -> String {
    let mut names: Vec<String> = line
        .users
        .iter()
        .take(USERS_SHOWN)
        .map(|u| {
            if u.provided_by.is_empty() {
                u.upn.clone()
            } else {
                format!("{} (has {})", u.upn, u.provided_by.join(" + "))
            }
        })
        .collect();
    if line.users.len() > USERS_SHOWN {
        names.push(format!("and {} more", line.users.len() - USERS_SHOWN));
    }
    names.join(", ")
}

/// Where the report's facts came from, in one line.
fn sources(report: &WasteReport) -> String {
    let prices = match &report.prices {
        Some(p) => format!(
            "prices from {} ({}{})",
            p.file,
            p.currency,
            p.as_of.map(|d| format!(", as of {d}")).unwrap_or_default()
        ),
        None => "no price list".to_string(),
    };
    let u = &report.usage;
    let usage = if u.checked {
        format!(
            "PSTN calls {} to {} ({} days, {} call{}) from {}",
            u.from.format("%Y-%m-%d"),
            u.to.format("%Y-%m-%d"),
            u.days,
            u.calls,
            plural(u.calls),
            u.sources.join(", ")
        )
    } else {
        "no PSTN usage known, so calling plans and credits without calls were not checked (pass --usage FILE.csv, import one with `commcred usage import`, or read Microsoft Graph's getPstnCalls with --backend graph)".to_string()
    };
    format!("{prices}; {usage}")
}

/// The report for a terminal or a log.
pub fn human(report: &WasteReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Waste in tenant {} ({}): {}.\n",
        report.tenant_domain,
        report.tenant_id,
        sources(report)
    );
    let mut kind = None;
    for line in &report.lines {
        if kind != Some(line.kind) {
            kind = Some(line.kind);
            let _ = writeln!(out, "{}:", capitalised(line.kind.title()));
        }
        let _ = writeln!(out, "  - {}, {}", what(line), line_money(report, line));
        if !line.users.is_empty() {
            let _ = writeln!(out, "      users: {}", user_list(line));
        }
        let _ = writeln!(
            out,
            "      recover: {}",
            line.recover.text(&line.sku, line.seats)
        );
    }
    if !report.lines.is_empty() {
        out.push('\n');
    }
    for w in &report.warnings {
        let _ = writeln!(out, "! {w} [{}]", crate::plan::cost::PRICE_NOT_IN_TENANT);
    }
    let _ = writeln!(out, "{}", summary_line(report));
    out
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// First line of the markdown report, so a pipeline can find and update its comment.
pub const MARKER: &str = "<!-- commcred:waste -->";

/// The report as GitHub/GitLab markdown: the summary first, a table of lines, the users in
/// a collapsed block. Values from the tenant are escaped.
pub fn markdown(report: &WasteReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER}");
    let _ = writeln!(
        out,
        "### commcred waste report for `{}`\n",
        report.tenant_domain
    );
    let _ = writeln!(out, "**{}**\n", escape(&summary_line(report)));
    let _ = writeln!(out, "{}\n", escape(&sources(report)));
    if !report.lines.is_empty() {
        let _ = writeln!(
            out,
            "| Waste | License | Seats | Monthly cost | Recover |\n| --- | --- | ---: | --- | --- |"
        );
        for line in &report.lines {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                line.kind.title(),
                escape(&line.sku.label()),
                line.seats,
                escape(&line_money(report, line)),
                escape(&line.recover.text(&line.sku, line.seats))
            );
        }
        out.push('\n');
        let with_users: Vec<&WasteLine> = report
            .lines
            .iter()
            .filter(|l| !l.users.is_empty())
            .collect();
        if !with_users.is_empty() {
            let _ = writeln!(out, "<details><summary>Users</summary>\n");
            for line in with_users {
                let _ = writeln!(
                    out,
                    "- {} ({}): {}",
                    escape(&line.sku.label()),
                    line.kind.title(),
                    escape(&user_list(line))
                );
            }
            let _ = writeln!(out, "\n</details>\n");
        }
    }
    for w in &report.warnings {
        let _ = writeln!(out, "> {}\n", escape(w));
    }
    out
}

/// The report as one JSON document.
pub fn json(report: &WasteReport) -> Value {
    let t = report.totals();
    let money = |m: &Money| json!({"amount": m.amount, "currency": m.currency});
    let lines: Vec<Value> = report
        .lines
        .iter()
        .map(|line| {
            let currency = report.prices.as_ref().map(|p| p.currency.clone());
            let priced = |a: Option<crate::base::money::Amount>| match (a, &currency) {
                (Some(a), Some(c)) => money(&Money::new(a.0, c.clone())),
                _ => Value::Null,
            };
            let mut recover = serde_json::to_value(&line.recover).expect("recoveries serialize");
            recover["text"] = Value::String(line.recover.text(&line.sku, line.seats));
            json!({
                "kind": line.kind.key(),
                "license": {
                    "sku_id": line.sku.sku_id,
                    "sku_part_number": line.sku.part_number,
                    "name": line.sku.friendly,
                },
                "seats": line.seats,
                "monthly_price": priced(line.monthly_price),
                "term": line.term.map(|t| t.as_str()),
                "monthly_cost": priced(line.monthly_cost),
                "recover": recover,
                "users": line.users,
            })
        })
        .collect();
    json!({
        "format_version": FORMAT_VERSION,
        "tenant": {"id": report.tenant_id, "domain": report.tenant_domain},
        "generated_at": report.generated_at,
        "has_waste": !report.is_empty(),
        "prices": report.prices,
        "usage": report.usage,
        "summary": {
            "seats": t.seats,
            "users": t.users,
            "monthly_cost": t.monthly_cost.as_ref().map(money),
            "unpriced_seats": t.unpriced_seats,
            "unpriced": t.unpriced,
        },
        "lines": lines,
        "warnings": report.warnings,
    })
}
