//! The plan's seats and their monthly cost (docs/cost.md), as lines every renderer shows:
//! each priced SKU with its seats and change, each unpriced one named as such, the total.

use crate::plan::Plan;
use crate::plan::cost::{PlanCost, signed};

/// What a cost line is, for colour and diff markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// More seats (costs more).
    Added,
    /// Fewer seats (saves).
    Freed,
    /// Seats of a SKU without a price.
    Unpriced,
}

/// `prices from prices.yaml (USD, as of 2026-11-01)`.
pub fn source(cost: &PlanCost) -> String {
    format!(
        "prices from {} ({}{})",
        cost.price_list,
        cost.currency,
        cost.as_of
            .map(|d| format!(", as of {d}"))
            .unwrap_or_default()
    )
}

fn seats(added: usize, freed: usize) -> String {
    match (added, freed) {
        (a, 0) => format!("{a} seat{} added", plural(a)),
        (0, f) => format!("{f} seat{} freed", plural(f)),
        (a, f) => format!("{a} added, {f} freed"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One line per SKU whose seats change: priced ones with their change, then unpriced ones.
pub fn lines(cost: &PlanCost) -> Vec<(Mark, String)> {
    let mut out = Vec::new();
    for l in &cost.lines {
        let mark = if l.added >= l.freed {
            Mark::Added
        } else {
            Mark::Freed
        };
        let renewal = if l.freed > 0 && l.term == crate::config::Term::Annual {
            " (annual term: the freed seats are saved at renewal)"
        } else {
            ""
        };
        out.push((
            mark,
            format!(
                "{}: {} x {} = {} a month{renewal}",
                l.sku.label(),
                seats(l.added, l.freed),
                cost.money(l.monthly_price),
                signed(&cost.money(l.monthly_change))
            ),
        ));
    }
    for u in &cost.unpriced {
        out.push((
            Mark::Unpriced,
            format!(
                "{}: {}, unpriced (no price in {}; not counted)",
                u.sku.label(),
                seats(u.added, u.freed),
                cost.price_list
            ),
        ));
    }
    out
}

/// `+280.00 USD a month in seats (1 SKU unpriced)`, for summary lines.
pub fn total(cost: &PlanCost) -> String {
    let unpriced = match cost.unpriced.len() {
        0 => String::new(),
        n => format!(" ({n} SKU{} unpriced)", plural(n)),
    };
    format!(
        "{} a month in seats{unpriced}",
        signed(&cost.money(cost.monthly_change))
    )
}

/// The plan's cost when it has one and any seat changes.
pub fn of(plan: &Plan) -> Option<&PlanCost> {
    plan.cost
        .as_ref()
        .filter(|c| !c.lines.is_empty() || !c.unpriced.is_empty())
}
