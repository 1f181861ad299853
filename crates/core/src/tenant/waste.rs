//! Licenses a tenant pays for and gets nothing from, judged on the live tenant alone with
//! Microsoft's rules (docs/cost.md has the sources):
//!
//! - seats bought and never assigned: `prepaidUnits.enabled - consumedUnits` (Graph's
//!   `subscribedSku`);
//! - a calling add-on assigned directly whose capabilities another SKU of the same user
//!   already provides (the catalog decides: Teams Phone on E5, Audio Conferencing on E5 or
//!   Business Voice);
//! - calling add-ons on accounts whose sign-in is blocked (`accountEnabled: false`): a
//!   disabled account keeps its licenses and its seats;
//! - calling plans and Communications Credits licenses with no PSTN call in the usage window
//!   (`callers`: who called, from `getPstnCalls` or the usage export).
//!
//! Resource accounts (holding Teams Phone for resource accounts) are left out: they serve
//! auto attendants and call queues, not a person. Each seat is reported once: a disabled account's add-on is not also "redundant" or "no
//! calls", a redundant one is not also "no calls". Linear in users: one pass, SKU facts
//! computed once.

use std::collections::HashSet;

use crate::base::catalog::Capability;

use super::capabilities::sold_by;
use super::rules::{Holding, holdings};
use super::{Snapshot, TenantIndex};

/// Why a seat is wasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WasteKind {
    /// Bought and not assigned.
    Unassigned,
    /// On an account whose sign-in is blocked.
    DisabledAccount,
    /// Assigned directly, and another SKU of the user already gives what it gives.
    Redundant,
    /// A calling plan or Communications Credits with no PSTN call in the usage window.
    NoCalls,
}

impl WasteKind {
    pub const ALL: [WasteKind; 4] = [
        WasteKind::Unassigned,
        WasteKind::DisabledAccount,
        WasteKind::Redundant,
        WasteKind::NoCalls,
    ];

    /// The name in JSON output.
    pub fn key(self) -> &'static str {
        match self {
            WasteKind::Unassigned => "unassigned",
            WasteKind::DisabledAccount => "disabledAccount",
            WasteKind::Redundant => "redundant",
            WasteKind::NoCalls => "noCalls",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            WasteKind::Unassigned => "seats bought and not assigned",
            WasteKind::DisabledAccount => "calling licenses on disabled accounts",
            WasteKind::Redundant => "licenses another SKU of the user already provides",
            WasteKind::NoCalls => "calling plans and credits with no PSTN call",
        }
    }
}

/// One wasted seat of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WastedSeat {
    pub kind: WasteKind,
    /// Position of the user in `users`.
    pub user: usize,
    /// Position of the SKU in `subscribedSkus`.
    pub sku: usize,
    /// Held directly (commcred can remove it), else only through groups.
    pub direct: bool,
    /// Ids of the groups whose active assignment gives it (the seat stays while one does).
    pub groups: Vec<String>,
    /// For [`WasteKind::Redundant`]: the SKUs (positions) that already provide it.
    pub provided_by: Vec<usize>,
}

/// Seats of one SKU bought and not assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnassignedSeats {
    pub sku: usize,
    pub seats: i64,
}

/// What [`find_waste`] looks at.
pub struct WasteScope<'a> {
    /// SKUs whose unassigned seats count (the workflow: calling SKUs and priced ones);
    /// free and trial SKUs with thousands of seats would drown the report.
    pub unassigned: &'a dyn Fn(usize) -> bool,
    /// Lower-case UPNs and user ids with a PSTN call in the window; `None` when no usage is
    /// known (the "no calls" check is then not made).
    pub callers: Option<&'a HashSet<String>>,
}

/// Everything wasted, unassigned seats by SKU position, users' seats by user then SKU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waste {
    pub unassigned: Vec<UnassignedSeats>,
    pub seats: Vec<WastedSeat>,
}

/// Finds the waste of `live`.
pub fn find_waste(live: &Snapshot, index: &TenantIndex, scope: &WasteScope) -> Waste {
    let unassigned = live
        .subscribed_skus
        .iter()
        .enumerate()
        .filter(|(i, s)| s.applies_to_users() && (scope.unassigned)(*i))
        .map(|(i, s)| UnassignedSeats {
            sku: i,
            seats: s.prepaid_units.enabled - s.consumed_units,
        })
        .filter(|u| u.seats > 0)
        .collect();
    // What each SKU sells as a calling add-on, once (suites sell nothing).
    let sold: Vec<Option<Capability>> = live.subscribed_skus.iter().map(sold_by).collect();
    let mut seats = Vec::new();
    for (u, user) in live.users.iter().enumerate() {
        let held = holdings(user, live, index);
        let addons = || {
            held.iter()
                .filter(|h| h.provides())
                .filter_map(|h| h.sku.and_then(|s| sold[s].map(|c| (h, s, c))))
        };
        // Resource accounts (auto attendants, call queues) are not people who sign in or
        // place calls themselves: their licenses serve the number, so none is judged here.
        let resource = held
            .iter()
            .any(|h| h.capabilities.has(Capability::TeamsPhoneResourceAccount));
        if resource {
            continue;
        }
        if !user.is_enabled() {
            for (h, s, _) in addons() {
                seats.push(seat(WasteKind::DisabledAccount, u, s, h, Vec::new()));
            }
            continue;
        }
        let mut redundant: Vec<usize> = Vec::new();
        // A direct copy of a SKU a group also assigns takes no seat of its own.
        for (h, s, _) in addons().filter(|(h, _, _)| h.direct && active_groups(h).is_empty()) {
            if let Some(by) = provided_by_others(&held, s, &redundant) {
                redundant.push(s);
                seats.push(seat(WasteKind::Redundant, u, s, h, by));
            }
        }
        let Some(callers) = scope.callers else {
            continue;
        };
        let called = callers.contains(&user.user_principal_name.to_lowercase())
            || callers.contains(&user.id.to_ascii_lowercase());
        if called {
            continue;
        }
        for (h, s, c) in addons() {
            let calling = c.is_calling_plan() || c == Capability::CommunicationsCredits;
            if calling && !redundant.contains(&s) {
                seats.push(seat(WasteKind::NoCalls, u, s, h, Vec::new()));
            }
        }
    }
    Waste { unassigned, seats }
}

fn seat(kind: WasteKind, user: usize, sku: usize, h: &Holding, by: Vec<usize>) -> WastedSeat {
    WastedSeat {
        kind,
        user,
        sku,
        direct: h.direct,
        groups: active_groups(h),
        provided_by: by,
    }
}

/// The groups whose assignment of the holding's SKU is active (holds the seat).
fn active_groups(h: &Holding) -> Vec<String> {
    h.paths
        .iter()
        .filter(|p| p.provides())
        .filter_map(|p| p.group.clone())
        .collect()
}

/// The user's other active SKUs (positions) that together give every capability of `sku`
/// (as the user holds it), when they do. SKUs already found redundant do not count:
/// of two add-ons that cover each other, one stays.
fn provided_by_others(held: &[Holding], sku: usize, redundant: &[usize]) -> Option<Vec<usize>> {
    let mine = held.iter().find(|h| h.sku == Some(sku))?;
    let wanted = mine.capabilities.as_held();
    if wanted.is_empty() {
        return None;
    }
    let others: Vec<&Holding> = held
        .iter()
        .filter(|h| h.sku != Some(sku) && h.sku.is_some_and(|s| !redundant.contains(&s)))
        .filter(|h| h.provides())
        .collect();
    let all = others
        .iter()
        .fold(crate::base::licenses::Capabilities::default(), |acc, h| {
            acc.union(h.capabilities.as_held())
        });
    if !all.covers(wanted) {
        return None;
    }
    Some(
        others
            .iter()
            .filter(|h| h.capabilities.as_held().iter().any(|c| wanted.has(c)))
            .filter_map(|h| h.sku)
            .collect(),
    )
}
