//! One summary for a workspace run: a line per tenant (its changes, credits to add, or why
//! it failed), the totals, then each failure in full. Human text, markdown for a pull
//! request, or JSON for pipelines.

use std::fmt::Write;

use serde_json::{Value, json};

use super::{Applied, Drifted, Outcome, Planned, Readied, TenantResult, Wasted};

pub const FORMAT_VERSION: u32 = 1;

fn status<T>(outcome: &Outcome<T>, ok: impl Fn(&T) -> &'static str) -> &'static str {
    match outcome {
        Outcome::Ok(t) => ok(t),
        Outcome::Failed(_) => "FAILED",
        Outcome::NotStarted => "not started",
    }
}

fn counts<T>(results: &[TenantResult<T>]) -> (usize, usize, usize) {
    let failed = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .count();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::NotStarted))
        .count();
    (results.len() - failed - skipped, failed, skipped)
}

fn failure_names<T>(results: &[TenantResult<T>]) -> Vec<&str> {
    results
        .iter()
        .filter(|r| r.outcome.is_failure())
        .map(|r| r.name.as_str())
        .collect()
}

/// The failures in full, each under its tenant's name.
fn failure_details<T>(results: &[TenantResult<T>], out: &mut String, markdown: bool) {
    for r in results {
        let detail = match &r.outcome {
            Outcome::Failed(f) => f.detail.trim_end().to_string(),
            Outcome::NotStarted => {
                "not started: --fail-fast stopped the run after a failure".into()
            }
            Outcome::Ok(_) => continue,
        };
        if markdown {
            let _ = writeln!(
                out,
                "<details><summary><code>{}</code> failed</summary>\n\n```\n{detail}\n```\n</details>\n",
                r.name
            );
        } else {
            let _ = writeln!(out, "--- {} ---\n{detail}\n", r.name);
        }
    }
}

fn plan_cells(p: &Planned) -> [String; 5] {
    let s = &p.summary;
    [
        s.users.to_string(),
        s.assign.to_string(),
        s.remove.to_string(),
        s.settings.to_string(),
        s.add_funds
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_else(|| "-".into()),
    ]
}

/// `plan --workspace`, as text (`markdown`: a pull-request comment).
// Long: the table in two layouts (text, markdown) sharing the rows and totals.
pub fn plan_text(workspace: &str, results: &[TenantResult<Planned>], markdown: bool) -> String {
    let (planned, failed, skipped) = counts(results);
    let with_changes = results
        .iter()
        .filter(|r| matches!(&r.outcome, Outcome::Ok(p) if p.has_changes))
        .count();
    let mut out = String::new();
    let headline = format!(
        "{} tenant(s): {planned} planned ({with_changes} with changes), {failed} failed{}",
        results.len(),
        if skipped > 0 {
            format!(", {skipped} not started")
        } else {
            String::new()
        }
    );
    let header = [
        "tenant",
        "result",
        "users",
        "assign",
        "remove",
        "settings",
        "credits to add",
    ];
    if markdown {
        let _ = writeln!(out, "### commcred plan: {workspace}\n\n**{headline}**\n");
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}", " --- |".repeat(header.len()));
    } else {
        let _ = writeln!(out, "Workspace {workspace}: {headline}\n");
        let _ = writeln!(
            out,
            "  {:<24} {:<11} {:>6} {:>6} {:>6} {:>8}  {}",
            header[0], header[1], header[2], header[3], header[4], header[5], header[6]
        );
    }
    for r in results {
        let result = status(&r.outcome, |p| {
            if p.has_changes {
                "changes"
            } else {
                "no changes"
            }
        });
        let cells = match &r.outcome {
            Outcome::Ok(p) => plan_cells(p).to_vec(),
            Outcome::Failed(f) => vec![format!("{}: {}", f.code, first_line(&f.message))],
            Outcome::NotStarted => vec![],
        };
        if markdown {
            let mut row = vec![format!("`{}`", r.name), result.to_string()];
            if cells.len() == 5 {
                row.extend(cells);
            } else {
                row.push(cells.join(" ").replace('|', "\\|"));
                row.extend(std::iter::repeat_n(String::new(), 4));
            }
            let _ = writeln!(out, "| {} |", row.join(" | "));
        } else if cells.len() == 5 {
            let _ = writeln!(
                out,
                "  {:<24} {:<11} {:>6} {:>6} {:>6} {:>8}  {}",
                r.name, result, cells[0], cells[1], cells[2], cells[3], cells[4]
            );
        } else {
            let _ = writeln!(out, "  {:<24} {:<11} {}", r.name, result, cells.join(" "));
        }
    }
    let failures = failure_names(results);
    if !failures.is_empty() {
        let _ = writeln!(
            out,
            "\n{}Failed ({}): {}{}\n",
            if markdown { "**" } else { "" },
            failures.len(),
            failures.join(", "),
            if markdown { "**" } else { "" }
        );
        failure_details(results, &mut out, markdown);
    }
    out
}

/// `plan --workspace --format json`.
pub fn plan_json(workspace: &str, results: &[TenantResult<Planned>]) -> Value {
    let tenants: Vec<Value> = results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Ok(p) => json!({
                "name": r.name,
                "status": if p.has_changes { "changes" } else { "no_changes" },
                "users": p.summary.users,
                "assign": p.summary.assign,
                "remove": p.summary.remove,
                "settings": p.summary.settings,
                "add_funds": p.summary.add_funds.as_ref().map(|m| m.to_string()),
                "plan": p.saved.as_ref().map(|p| p.display().to_string()),
            }),
            Outcome::Failed(f) => json!({
                "name": r.name, "status": "failed",
                "error": {"code": f.code, "message": f.message},
            }),
            Outcome::NotStarted => json!({"name": r.name, "status": "not_started"}),
        })
        .collect();
    let (planned, failed, skipped) = counts(results);
    json!({
        "format_version": FORMAT_VERSION,
        "workspace": workspace,
        "tenants": tenants,
        "summary": {
            "tenants": results.len(),
            "planned": planned,
            "with_changes": results.iter().filter(|r| matches!(&r.outcome, Outcome::Ok(p) if p.has_changes)).count(),
            "failed": failed,
            "not_started": skipped,
        },
    })
}

/// `apply --workspace`: a line per tenant, then each failure's report.
pub fn apply_text(workspace: &str, results: &[TenantResult<Applied>]) -> String {
    let (ok, failed, skipped) = counts(results);
    let mut out = format!(
        "Workspace {workspace}: {} tenant(s): {ok} applied, {failed} failed{}\n\n",
        results.len(),
        if skipped > 0 {
            format!(", {skipped} not started")
        } else {
            String::new()
        }
    );
    for r in results {
        let line = match &r.outcome {
            Outcome::Ok(a) if a.applied == 0 && a.manual == 0 => "no changes".to_string(),
            Outcome::Ok(a) => format!(
                "applied {} change(s){}",
                a.applied,
                if a.manual > 0 {
                    " (credits steps left to a person: run `commcred apply` for this tenant on a terminal)"
                } else {
                    ""
                }
            ),
            Outcome::Failed(f) => format!("FAILED {}: {}", f.code, first_line(&f.message)),
            Outcome::NotStarted => "not started (--fail-fast)".into(),
        };
        let _ = writeln!(out, "  {:<24} {line}", r.name);
    }
    let failures = failure_names(results);
    if !failures.is_empty() {
        let _ = writeln!(
            out,
            "\nFailed ({}): {}\n",
            failures.len(),
            failures.join(", ")
        );
        failure_details(results, &mut out, false);
    }
    out
}

/// `drift --workspace`: a line per tenant, then each differing tenant's diff and each
/// failure.
pub fn drift_text(workspace: &str, results: &[TenantResult<Drifted>]) -> String {
    let (ok, failed, _) = counts(results);
    let differ = results
        .iter()
        .filter(|r| matches!(&r.outcome, Outcome::Ok(d) if d.differs))
        .count();
    let mut out = format!(
        "Workspace {workspace}: {} tenant(s): {ok} read ({differ} differ from their config), {failed} failed\n\n",
        results.len()
    );
    for r in results {
        let _ = writeln!(
            out,
            "  {:<24} {}",
            r.name,
            match &r.outcome {
                Outcome::Ok(d) if d.differs => "differs".to_string(),
                Outcome::Ok(_) => "matches".to_string(),
                Outcome::Failed(f) => format!("FAILED {}: {}", f.code, first_line(&f.message)),
                Outcome::NotStarted => "not started (--fail-fast)".into(),
            }
        );
    }
    for r in results {
        if let Outcome::Ok(d) = &r.outcome
            && d.differs
        {
            let _ = writeln!(out, "\n--- {} ---\n{}", r.name, d.diff.trim_end());
        }
    }
    if failed > 0 {
        out.push('\n');
        failure_details(results, &mut out, false);
    }
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// `waste --workspace`: a line per tenant (seats, users, monthly cost, or why it failed), the
/// monthly cost summed per currency (tenants may be billed in different ones), then each
/// tenant's report and each failure in full.
pub fn waste_text(workspace: &str, results: &[TenantResult<Wasted>]) -> String {
    let (ok, failed, _) = counts(results);
    let wasteful = results
        .iter()
        .filter(|r| matches!(&r.outcome, Outcome::Ok(w) if w.totals.seats > 0))
        .count();
    let mut out = format!(
        "Workspace {workspace}: {} tenant(s): {ok} read ({wasteful} with waste), {failed} failed\n\n",
        results.len()
    );
    let mut by_currency: std::collections::BTreeMap<String, rust_decimal::Decimal> =
        Default::default();
    for r in results {
        let line = match &r.outcome {
            Outcome::Ok(w) if w.totals.seats == 0 => "no waste".to_string(),
            Outcome::Ok(w) => {
                let t = &w.totals;
                let cost = match &t.monthly_cost {
                    Some(money) => {
                        *by_currency.entry(money.currency.clone()).or_default() += money.amount.0;
                        format!(", {money} a month")
                    }
                    None => ", unpriced (no `prices:`)".to_string(),
                };
                let unpriced = if t.unpriced_seats > 0 && t.monthly_cost.is_some() {
                    format!(" ({} seats unpriced)", t.unpriced_seats)
                } else {
                    String::new()
                };
                format!("{} seats on {} users{cost}{unpriced}", t.seats, t.users)
            }
            Outcome::Failed(f) => format!("FAILED {}: {}", f.code, first_line(&f.message)),
            Outcome::NotStarted => "not started (--fail-fast)".into(),
        };
        let _ = writeln!(out, "  {:<24} {line}", r.name);
    }
    if !by_currency.is_empty() {
        let totals: Vec<String> = by_currency
            .into_iter()
            .map(|(currency, amount)| crate::base::money::Money::new(amount, currency).to_string())
            .collect();
        let _ = writeln!(out, "\nPriced waste: {} a month", totals.join(" + "));
    }
    for r in results {
        if let Outcome::Ok(w) = &r.outcome
            && !w.report.is_empty()
        {
            let _ = writeln!(out, "\n--- {} ---\n{}", r.name, w.report.trim_end());
        }
    }
    if failed > 0 {
        out.push('\n');
        failure_details(results, &mut out, false);
    }
    out
}

/// `readiness --workspace`: a line per tenant (how many of its calling users can call, or
/// why it failed), then the report of each tenant with someone not ready, and each failure.
pub fn readiness_text(workspace: &str, results: &[TenantResult<Readied>]) -> String {
    let (ok, failed, _) = counts(results);
    let unready = results
        .iter()
        .filter(|r| matches!(&r.outcome, Outcome::Ok(t) if t.ready < t.calling))
        .count();
    let mut out = format!(
        "Workspace {workspace}: {} tenant(s): {ok} read ({unready} with users not ready), {failed} failed\n\n",
        results.len()
    );
    for r in results {
        let line = match &r.outcome {
            Outcome::Ok(t) => format!("{} of {} calling users ready", t.ready, t.calling),
            Outcome::Failed(f) => format!("FAILED {}: {}", f.code, first_line(&f.message)),
            Outcome::NotStarted => "not started (--fail-fast)".into(),
        };
        let _ = writeln!(out, "  {:<24} {line}", r.name);
    }
    for r in results {
        if let Outcome::Ok(t) = &r.outcome
            && t.ready < t.calling
        {
            let _ = writeln!(out, "\n--- {} ---\n{}", r.name, t.report.trim_end());
        }
    }
    if failed > 0 {
        out.push('\n');
        failure_details(results, &mut out, false);
    }
    out
}
