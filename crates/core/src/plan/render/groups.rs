//! Group changes and members in error as marked lines, shared by the human and the Markdown
//! renderers (each adds its own indentation, colour or escaping).

use crate::plan::GroupChange;

/// Members in error listed per group before the list is cut (the JSON plan lists all).
pub const MAX_ERROR_ROWS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Header,
    Added,
    Removed,
    Changed,
    Note,
    Error,
}

/// The lines of one group block, header first.
pub fn group_lines(g: &GroupChange) -> Vec<(Mark, String)> {
    let mut lines = vec![(
        Mark::Header,
        format!("group {} ({} members)", g.label(), g.members),
    )];
    for sku in &g.remove {
        lines.push((Mark::Removed, format!("- {}", sku.label())));
    }
    for add in &g.add {
        let seats = g
            .seats
            .iter()
            .find(|s| s.sku == add.sku)
            .map(|s| format!(": {} member(s) newly take a seat", s.new_seats))
            .unwrap_or_else(|| ": disabled plans change".to_string());
        let disabled = if add.disabled_plans.is_empty() {
            String::new()
        } else {
            format!(" (disabledPlans: {})", add.disabled_plans.join(", "))
        };
        lines.push((
            Mark::Added,
            format!("+ {}{disabled}{seats}", add.sku.label()),
        ));
    }
    if !g.reprocess.is_empty() {
        let upns: Vec<&str> = g.reprocess.iter().map(|m| m.upn.as_str()).collect();
        lines.push((
            Mark::Changed,
            format!(
                "~ reprocess {} member(s) in error now that seats are free: {}",
                upns.len(),
                list(&upns)
            ),
        ));
    }
    if !g.migrate.is_empty() {
        let n: usize = g.migrate.iter().map(|m| m.remove.len()).sum();
        let upns: Vec<&str> = g.migrate.iter().map(|m| m.upn.as_str()).collect();
        lines.push((
            Mark::Removed,
            format!(
                "- {n} direct copies from {} member(s), each once the group's assignment is active for them: {}",
                upns.len(),
                list(&upns)
            ),
        ));
    }
    if !g.errors.is_empty() {
        lines.push((
            Mark::Note,
            format!("# {} member assignment(s) in error:", g.errors.len()),
        ));
        for e in g.errors.iter().take(MAX_ERROR_ROWS) {
            lines.push((
                Mark::Error,
                format!("! {}: {} {} — {}", e.upn, e.sku.part_number, e.error, e.fix),
            ));
        }
        if g.errors.len() > MAX_ERROR_ROWS {
            lines.push((
                Mark::Note,
                format!(
                    "# … {} more: `commcred plan --format json` lists every member",
                    g.errors.len() - MAX_ERROR_ROWS
                ),
            ));
        }
    }
    lines
}

fn list(upns: &[&str]) -> String {
    const SHOWN: usize = 10;
    let mut text = upns
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if upns.len() > SHOWN {
        text.push_str(&format!(", … ({} more)", upns.len() - SHOWN));
    }
    text
}
