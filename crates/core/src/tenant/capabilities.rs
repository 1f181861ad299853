//! Which assignments give a user which Teams calling capability: the one place that reads a
//! user's `assignedLicenses`, `licenseAssignmentStates` and `disabledPlans` against the
//! capability catalog. The planner, the file backend, the emulator and group-based
//! licensing all ask here.
//!
//! Microsoft's rule ("Identify and resolve license assignment problems for a group"): an
//! assignment whose state is `Error` gives the user none of the license's services; Graph's
//! `licenseAssignmentState.state` is `Active`, `ActiveWithError`, `Disabled` or `Error`.
//! commcred counts only `Active` (or no state at all: a snapshot without states) as
//! providing, so an assignment Microsoft flags is never taken as held.

use crate::base::catalog::{
    Capabilities, Capability, catalog, is_teams_service_plan, sold_capability,
};
use crate::base::licenses::Friendly;

use super::snapshot::{SubscribedSku, User};

/// One way a user holds a SKU: directly or through a group, with Graph's state and error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentPath {
    /// The group that assigns it; `None` for a direct assignment.
    pub group: Option<String>,
    /// Graph's `state` (`Active`, `ActiveWithError`, `Error`, `Disabled`), if recorded.
    pub state: Option<String>,
    /// Graph's `error` (`CountViolation`, `MutuallyExclusiveViolation`, ...), if any.
    pub error: Option<String>,
}

impl AssignmentPath {
    /// True when this assignment gives the user the SKU's services.
    pub fn provides(&self) -> bool {
        state_provides(self.state.as_deref())
    }
}

/// True for Graph's `state` of an assignment that gives the user the license: `Active`, or
/// no state recorded.
pub fn state_provides(state: Option<&str>) -> bool {
    state.is_none_or(|s| s.eq_ignore_ascii_case("Active"))
}

/// The paths by which `user` holds `sku_id`, from `licenseAssignmentStates`; a user without
/// states holds every assigned SKU directly (SPEC §4).
pub fn assignment_paths(user: &User, sku_id: &str) -> Vec<AssignmentPath> {
    let Some(states) = &user.license_assignment_states else {
        return vec![AssignmentPath {
            group: None,
            state: None,
            error: None,
        }];
    };
    let mine: Vec<AssignmentPath> = states
        .iter()
        .filter(|s| s.sku_id.eq_ignore_ascii_case(sku_id))
        .map(|s| AssignmentPath {
            group: s.assigned_by_group.clone(),
            state: s.state.clone(),
            error: s
                .error
                .as_deref()
                .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("None"))
                .map(str::to_string),
        })
        .collect();
    if mine.is_empty() {
        // Assigned but with no state entry: Graph lists every assignment, so this is a
        // hand-written snapshot; count it as a direct, active assignment.
        return vec![AssignmentPath {
            group: None,
            state: None,
            error: None,
        }];
    }
    mine
}

/// The SKU ids a user holds in any state: `assignedLicenses`, then SKUs that appear only in
/// `licenseAssignmentStates` (an assignment in error need not be in `assignedLicenses`).
pub fn held_sku_ids(user: &User) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::with_capacity(user.assigned_licenses.len());
    let states = user.license_assignment_states.iter().flatten();
    let all = user
        .assigned_licenses
        .iter()
        .map(|a| a.sku_id.as_str())
        .chain(states.map(|s| s.sku_id.as_str()));
    for id in all {
        if !ids.iter().any(|i| i.eq_ignore_ascii_case(id)) {
            ids.push(id);
        }
    }
    ids
}

/// Capabilities a SKU gives when the listed service plan ids are disabled.
pub fn sku_capabilities(sku: &SubscribedSku, disabled_plans: &[String]) -> Capabilities {
    let catalog = catalog();
    sku.service_plans
        .iter()
        .filter(|p| {
            !disabled_plans
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&p.service_plan_id))
        })
        .filter_map(|p| catalog.capability_of(&p.service_plan_name))
        .collect()
}

/// True when the SKU, with the listed service plan ids disabled, gives the Microsoft Teams
/// service ("Teams Phone licensing": Teams Phone needs it). Read from the tenant's own
/// `servicePlans` when they name a Teams plan; otherwise from Microsoft's table by part
/// number (a snapshot that lists only the calling plans of its SKUs), with the table's
/// Teams plan ids checked against `disabledPlans`.
pub fn sku_has_teams(sku: &SubscribedSku, disabled_plans: &[String]) -> bool {
    let off = |id: &str| disabled_plans.iter().any(|d| d.eq_ignore_ascii_case(id));
    let listed: Vec<&str> = sku
        .service_plans
        .iter()
        .filter(|p| is_teams_service_plan(&p.service_plan_name))
        .map(|p| p.service_plan_id.as_str())
        .collect();
    if !listed.is_empty() {
        return listed.iter().any(|id| !off(id));
    }
    let cat = catalog();
    cat.sku(&sku.sku_part_number).is_some_and(|s| {
        s.teams_service_plans
            .iter()
            .filter_map(|n| cat.teams_plan(n))
            .any(|p| !off(&p.service_plan_id))
    })
}

/// The capability a tenant SKU sells as a calling add-on (`MCOEV`, `MCOPSTN5_US`, ...).
pub fn sold_by(sku: &SubscribedSku) -> Option<Capability> {
    if sku.service_plans.is_empty() {
        // A snapshot that lists no service plans: fall back on Microsoft's table.
        return catalog().sku(&sku.sku_part_number).and_then(|s| s.sells);
    }
    sold_capability(
        sku.service_plans
            .iter()
            .map(|p| p.service_plan_name.as_str()),
    )
}

/// The friendly name that can stand for this SKU in the YAML, if any.
pub fn friendly_of(sku: &SubscribedSku) -> Option<Friendly> {
    sold_by(sku).and_then(Friendly::for_capability)
}

/// The catalog as text for `commcred licenses`: each capability with its service plans and
/// the add-on SKUs that sell it, then every SKU of Microsoft's table with what it provides.
pub fn describe_catalog() -> String {
    use std::fmt::Write as _;
    let cat = catalog();
    let mut out = format!(
        "Capability catalog from Microsoft's \"{}\" (retrieved {}).\n\nCapabilities:\n",
        cat.source.title, cat.source.retrieved
    );
    for cap in Capability::ALL {
        let plans: Vec<&str> = cat
            .service_plans
            .iter()
            .filter(|p| p.capability == cap)
            .map(|p| p.service_plan_name.as_str())
            .collect();
        let sellers: Vec<&str> = cat
            .skus
            .iter()
            .filter(|s| s.sells == Some(cap))
            .map(|s| s.sku_part_number.as_str())
            .collect();
        let name = Friendly::for_capability(cap)
            .map(|f| format!(" [{f}]"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {}{name}", cap.label());
        let _ = writeln!(out, "    service plans: {}", plans.join(", "));
        let _ = writeln!(out, "    sold by: {}", or_none(&sellers));
    }
    let _ = writeln!(
        out,
        "\nSKUs with a calling capability ({}):",
        cat.skus.len()
    );
    for sku in &cat.skus {
        let caps: Vec<&str> = sku.capabilities.iter().map(|c| c.label()).collect();
        let _ = writeln!(out, "  {:<45} {}", sku.sku_part_number, caps.join("; "));
    }
    out
}

/// What each subscribed SKU of a tenant provides, for `commcred licenses --backend ...`.
pub fn describe_tenant(snapshot: &super::Snapshot) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "Subscribed SKUs of {} ({}):\n",
        snapshot.tenant.domain, snapshot.tenant.id
    );
    for sku in &snapshot.subscribed_skus {
        let caps = sku_capabilities(sku, &[]);
        let provides: Vec<&str> = caps.iter().map(Capability::label).collect();
        let sells = match (sold_by(sku), friendly_of(sku)) {
            (Some(c), Some(f)) => format!("; sells {} (`{f}`)", c.label()),
            (Some(c), None) => format!("; sells {} (write the part number)", c.label()),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<45} {} seat(s) free; provides: {}{sells}",
            sku.sku_part_number,
            sku.available_seats(),
            if provides.is_empty() {
                "no calling capability".to_string()
            } else {
                provides.join(", ")
            }
        );
    }
    out
}

fn or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "(no add-on)".to_string()
    } else {
        items.join(", ")
    }
}
