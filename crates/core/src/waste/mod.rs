//! `commcred waste`: the licenses a tenant pays for and gets nothing from, priced with the
//! admin's price list, each line saying which change to commcred.yaml (or `prune`) recovers
//! it. Finding the waste is Microsoft's rules on the live tenant (`tenant::waste`); this
//! module groups it into lines, prices them and works out the recovery from the config.
//! Pure: the workflow reads the tenant, the usage and the config.

pub mod render;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::base::licenses::LicenseName;
use crate::base::money::{Amount, Money};
use crate::config::{DesiredState, Term};
use crate::plan::SkuRef;
use crate::plan::skus::{resolve, sku_ref};
use crate::tenant::waste::{Waste, WasteKind, WastedSeat};
use crate::tenant::{Snapshot, TenantIndex};

/// The format of `waste --format json`.
pub const FORMAT_VERSION: &str = "1.0";

/// What the report knows of the usage it judged "no calls" on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageWindow {
    /// False when no usage is known: the "no calls" check was not made.
    pub checked: bool,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub days: i64,
    /// Where the calls came from (`pstnCalls in tenant.json`, `getPstnCalls`, a CSV…).
    pub sources: Vec<String>,
    /// Calls in the window.
    pub calls: usize,
}

/// The price list a report was priced with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricesUsed {
    pub file: String,
    pub currency: String,
    pub as_of: Option<NaiveDate>,
}

/// How a line's seats are recovered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Recovery {
    /// No YAML change: the subscription's quantity is reduced in the admin center.
    ReduceQuantity,
    /// The users' entries ask for the license: take these names out of their licenses or
    /// profile, then `commcred apply`.
    RemoveFromConfig { licenses: Vec<String> },
    /// commcred.yaml already leaves the license out for these users: `commcred apply`
    /// removes it.
    Apply,
    /// The users are not listed and `prune` is off: `prune: true`, or list them without it.
    Prune,
    /// Inherited from groups: the seat stays while a group assigns it.
    Groups { groups: Vec<String> },
    /// A SKU commcred does not manage (no friendly name, not named in commcred.yaml).
    Unmanaged,
}

impl Recovery {
    /// What to do, in words.
    pub fn text(&self, sku: &SkuRef, seats: usize) -> String {
        match self {
            Recovery::ReduceQuantity => format!(
                "no YAML change: remove {seats} {} license{} from the subscription (Microsoft 365 admin center > Billing > Your products)",
                sku.part_number,
                if seats == 1 { "" } else { "s" }
            ),
            Recovery::RemoveFromConfig { licenses } => format!(
                "remove {} from these users' `licenses` or profile in commcred.yaml, then `commcred apply`",
                licenses
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect::<Vec<_>>()
                    .join(" / ")
            ),
            Recovery::Apply => {
                "`commcred apply`: commcred.yaml does not give these users the license, so the plan removes it".to_string()
            }
            Recovery::Prune => {
                "set `prune: true` in commcred.yaml (or list these users without the license), then `commcred apply`".to_string()
            }
            Recovery::Groups { groups } => format!(
                "inherited from {}: remove the users from the group, or the license from the group (`groups:` in commcred.yaml); commcred does not change group members",
                groups
                    .iter()
                    .map(|g| format!("group \"{g}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Recovery::Unmanaged => format!(
                "commcred does not manage {}: name the part number in commcred.yaml (then users not given it lose it), or remove it in the Microsoft 365 admin center",
                sku.part_number
            ),
        }
    }
}

/// A user on a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineUser {
    pub upn: String,
    pub id: String,
    /// For a redundant license: the part numbers that already provide it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provided_by: Vec<String>,
    /// Where the user is written in commcred.yaml, when listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// One line of the report: seats of one SKU wasted for one reason, recovered one way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WasteLine {
    #[serde(serialize_with = "kind_key")]
    pub kind: WasteKind,
    pub sku: SkuRef,
    pub seats: usize,
    /// Sorted by UPN; empty for unassigned seats.
    pub users: Vec<LineUser>,
    /// Per seat and month, from the price list; `None`: unpriced (never counted as zero).
    pub monthly_price: Option<Amount>,
    pub term: Option<Term>,
    /// `seats x monthly_price`.
    pub monthly_cost: Option<Amount>,
    pub recover: Recovery,
}

fn kind_key<S: serde::Serializer>(kind: &WasteKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.key())
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasteReport {
    pub tenant_id: String,
    pub tenant_domain: String,
    pub generated_at: DateTime<Utc>,
    pub prices: Option<PricesUsed>,
    pub usage: UsageWindow,
    /// By kind, then part number, then recovery.
    pub lines: Vec<WasteLine>,
    /// Priced part numbers the tenant does not subscribe to (with where they are written).
    pub warnings: Vec<String>,
}

/// Totals of a report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WasteTotals {
    pub seats: usize,
    pub users: usize,
    /// Of the priced lines.
    pub monthly_cost: Option<Money>,
    pub unpriced_seats: usize,
    /// Part numbers with unpriced seats, each once.
    pub unpriced: Vec<String>,
}

impl WasteReport {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn totals(&self) -> WasteTotals {
        let mut t = WasteTotals::default();
        let mut sum = Decimal::ZERO;
        let mut users = std::collections::HashSet::new();
        for line in &self.lines {
            t.seats += line.seats;
            users.extend(line.users.iter().map(|u| u.id.as_str()));
            match line.monthly_cost {
                Some(c) => sum += c.0,
                None => {
                    t.unpriced_seats += line.seats;
                    if !t.unpriced.iter().any(|p| **p == *line.sku.part_number) {
                        t.unpriced.push(line.sku.part_number.to_string());
                    }
                }
            }
        }
        t.users = users.len();
        t.monthly_cost = self
            .prices
            .as_ref()
            .map(|p| Money::new(sum, p.currency.clone()));
        t
    }
}

/// Groups `waste` into priced lines with their recovery.
pub fn report(
    waste: &Waste,
    live: &Snapshot,
    index: &TenantIndex,
    desired: &DesiredState,
    usage: UsageWindow,
    now: DateTime<Utc>,
) -> WasteReport {
    let config = ConfigView::new(desired, live, index);
    let prices = desired.prices.as_ref();
    let price =
        |sku: usize| prices.and_then(|p| p.price_of(&live.subscribed_skus[sku].sku_part_number));
    let mut lines: Vec<WasteLine> = Vec::new();
    for u in &waste.unassigned {
        let seats = u.seats as usize;
        lines.push(line(
            WasteKind::Unassigned,
            sku_ref(live, u.sku),
            seats,
            Vec::new(),
            price(u.sku),
            Recovery::ReduceQuantity,
        ));
    }
    // (kind, SKU, recovery) -> users.
    let mut grouped: BTreeMap<(WasteKind, usize, Recovery), Vec<LineUser>> = BTreeMap::new();
    for seat in &waste.seats {
        let recovery = config.recovery(live, seat);
        let user = &live.users[seat.user];
        grouped
            .entry((seat.kind, seat.sku, recovery))
            .or_default()
            .push(LineUser {
                upn: user.user_principal_name.clone(),
                id: user.id.clone(),
                provided_by: seat
                    .provided_by
                    .iter()
                    .map(|&s| live.subscribed_skus[s].sku_part_number.clone())
                    .collect(),
                at: config.origin(seat.user),
            });
    }
    for ((kind, sku, recovery), mut users) in grouped {
        users.sort_by_cached_key(|u| u.upn.to_lowercase());
        let seats = users.len();
        lines.push(line(
            kind,
            sku_ref(live, sku),
            seats,
            users,
            price(sku),
            recovery,
        ));
    }
    lines.sort_by(|a, b| {
        (a.kind, &a.sku.part_number, &a.recover).cmp(&(b.kind, &b.sku.part_number, &b.recover))
    });
    let warnings = prices
        .map(|p| {
            crate::plan::cost::prices_not_in_tenant(p, live)
                .into_iter()
                .map(|w| w.message)
                .collect()
        })
        .unwrap_or_default();
    WasteReport {
        tenant_id: live.tenant.id.clone(),
        tenant_domain: live.tenant.domain.clone(),
        generated_at: now,
        prices: prices.map(|p| PricesUsed {
            file: p.path.display().to_string(),
            currency: p.currency.clone(),
            as_of: p.as_of,
        }),
        usage,
        lines,
        warnings,
    }
}

fn line(
    kind: WasteKind,
    sku: SkuRef,
    seats: usize,
    users: Vec<LineUser>,
    price: Option<&crate::config::SkuPrice>,
    recover: Recovery,
) -> WasteLine {
    WasteLine {
        kind,
        sku,
        seats,
        users,
        monthly_price: price.map(|p| Amount(p.monthly)),
        term: price.map(|p| p.term),
        monthly_cost: price.map(|p| Amount(p.monthly * Decimal::from(seats as u64))),
        recover,
    }
}

/// What commcred.yaml says of each user, indexed once: listed or not, and the names it
/// writes for each SKU.
struct ConfigView<'d> {
    prune: bool,
    /// SKU positions commcred manages (what a plan may remove).
    managed: std::collections::HashSet<usize>,
    /// User position -> where it is written and what it asks for.
    listed: HashMap<usize, Listed<'d>>,
}

/// A listed user: where it is written, and the SKU positions it wants with the names written.
type Listed<'d> = (&'d crate::config::Origin, Vec<(usize, &'d LicenseName)>);

impl<'d> ConfigView<'d> {
    fn new(desired: &'d DesiredState, live: &Snapshot, index: &TenantIndex) -> ConfigView<'d> {
        // Names that do not resolve are the plan's problem; here they recover nothing.
        let (skus, _) = resolve(desired, live);
        let mut listed = HashMap::with_capacity(desired.users.len());
        for want in &desired.users {
            if let Some(u) = index.user_by_upn(&want.upn) {
                let wanted = want
                    .licenses
                    .iter()
                    .filter_map(|n| skus.by_name.get(n).map(|&s| (s, n)))
                    .collect();
                listed.insert(u, (&want.origin, wanted));
            }
        }
        ConfigView {
            prune: desired.prune,
            managed: skus.managed,
            listed,
        }
    }

    fn origin(&self, user: usize) -> Option<String> {
        self.listed.get(&user).map(|(o, _)| o.to_string())
    }

    /// How the seat is recovered: groups keep it while they assign it; else the YAML.
    fn recovery(&self, live: &Snapshot, seat: &WastedSeat) -> Recovery {
        if !seat.groups.is_empty() {
            let mut groups: Vec<String> = seat
                .groups
                .iter()
                .map(|id| {
                    live.group_by_id(id)
                        .map(|g| live.groups[g].display_name.clone())
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| id.clone())
                })
                .collect();
            groups.sort();
            return Recovery::Groups { groups };
        }
        if !self.managed.contains(&seat.sku) {
            return Recovery::Unmanaged;
        }
        match self.listed.get(&seat.user) {
            Some((_, wanted)) => {
                let mut names: Vec<String> = wanted
                    .iter()
                    .filter(|(s, _)| *s == seat.sku)
                    .map(|(_, n)| n.to_string())
                    .collect();
                names.sort();
                names.dedup();
                if names.is_empty() {
                    Recovery::Apply
                } else {
                    Recovery::RemoveFromConfig { licenses: names }
                }
            }
            None if self.prune => Recovery::Apply,
            None => Recovery::Prune,
        }
    }
}
