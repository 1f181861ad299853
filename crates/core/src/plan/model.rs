//! The plan: every change commcred intends, with the state it observed for each object it
//! touches (so a later apply can refuse when that object has changed since).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::base::money::{Amount, Money};
use crate::base::phone::NumberType;
use crate::tenant::{BillingAccountType, PaymentMethod};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub tenant_id: String,
    pub tenant_domain: String,
    pub planned_at: DateTime<Utc>,
    /// SHA-256 of the config (YAML and CSVs) the plan was made from.
    pub config_digest: String,
    /// Users with changes, sorted by UPN (case-insensitive).
    pub users: Vec<UserChange>,
    pub credits: Option<CreditsChange>,
    /// What the admin should know but that does not stop the plan: assignments Microsoft
    /// flags as failed, users who cannot call without credits, credits without funding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<PlanWarning>,
    /// Managed groups with changes or members in error, sorted by display name.
    #[serde(default)]
    pub groups: Vec<super::groups::GroupChange>,
    /// Seats the plan takes and frees, per SKU, sorted by part number: one seat per user
    /// and SKU however many paths assign it (a group change counts the members who newly
    /// take a seat).
    #[serde(default)]
    pub seats: Vec<SeatChange>,
    /// With a price list (`prices:`): what the seat changes cost per month.
    #[serde(default)]
    pub cost: Option<super::cost::PlanCost>,
}

/// Seats of one SKU the plan takes and frees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatChange {
    pub sku: SkuRef,
    pub added: usize,
    pub freed: usize,
}

/// A warning of the plan, with a stable code (listed in docs/diagnostics.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanWarning {
    /// `commcred::plan::<name>`.
    pub code: String,
    /// The user it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    pub message: String,
    /// For `assignment_failed`: the assignment Microsoft reports in error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<FailedAssignment>,
}

/// A license assignment whose `licenseAssignmentStates` entry is not `Active`: it gives the
/// user nothing until the cause (Graph's `error`) is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedAssignment {
    pub sku_id: String,
    pub part_number: String,
    /// The friendly name of the SKU, when it has one.
    pub friendly: Option<String>,
    /// The group that assigns it; `None` for a direct assignment.
    pub group_id: Option<String>,
    /// The group's display name, when the tenant lists it.
    pub group_name: Option<String>,
    /// Graph's `state`: `Error`, `ActiveWithError`, `Disabled`.
    pub state: String,
    /// Graph's `error`: `CountViolation`, `MutuallyExclusiveViolation`,
    /// `DependencyViolation`, `ProhibitedInUsageLocationViolation`, `UniquenessViolation`,
    /// `Other`.
    pub error: Option<String>,
}

/// A SKU as the plan names it: by id (what Graph needs) and by names (what people read).
/// Shared strings: a 100,000-user plan names the same few SKUs hundreds of thousands of times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuRef {
    pub sku_id: Arc<str>,
    pub part_number: Arc<str>,
    /// The friendly name of SPEC §2, when the SKU has one.
    pub friendly: Option<Arc<str>>,
}

impl SkuRef {
    /// `communicationsCredits (MCOPSTNC)`, or the bare part number.
    pub fn label(&self) -> String {
        match &self.friendly {
            Some(f) => format!("{f} ({})", self.part_number),
            None => self.part_number.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChange {
    pub user_id: String,
    pub upn: String,
    pub observed: ObservedUser,
    pub usage_location: Option<UsageLocationChange>,
    pub add: Vec<SkuRef>,
    pub remove: Vec<SkuRef>,
    /// Why a desired license is not being assigned (already satisfied elsewhere), etc.
    pub notes: Vec<String>,
    /// True when the user is not listed and loses licenses because of `prune: true`.
    pub pruned: bool,
    /// The user's phone number changes: assigned, moved to another number, or removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<NumberChange>,
}

impl UserChange {
    pub fn has_changes(&self) -> bool {
        self.usage_location.is_some()
            || !self.add.is_empty()
            || !self.remove.is_empty()
            || self.number.is_some()
    }

    /// What the user's license change does to the tenant's seats; `None` without one.
    pub fn seat_effect(&self) -> Option<SeatEffect> {
        SeatEffect::of(&self.add, &self.remove)
    }
}

/// What one user's license change does to the tenant's seats. It decides the change's turn
/// at apply, decided here once for every backend: changes that only free seats go first,
/// then swaps, then changes that only take seats, so that the seats the plan frees exist
/// before other users consume them (Graph checks each `assignLicense` on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SeatEffect {
    /// Only removes licenses.
    Frees,
    /// Adds and removes in one call (a calling-plan swap).
    Swaps,
    /// Only adds licenses.
    Takes,
}

impl SeatEffect {
    /// In the order apply sends them.
    pub const ORDER: [SeatEffect; 3] = [SeatEffect::Frees, SeatEffect::Swaps, SeatEffect::Takes];

    /// The effect of adding `add` and removing `remove`; `None` when both are empty.
    pub fn of<A, R>(add: &[A], remove: &[R]) -> Option<SeatEffect> {
        match (add.is_empty(), remove.is_empty()) {
            (true, true) => None,
            (true, false) => Some(SeatEffect::Frees),
            (false, false) => Some(SeatEffect::Swaps),
            (false, true) => Some(SeatEffect::Takes),
        }
    }
}

/// A phone number as the plan names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedNumber {
    /// E.164, as the inventory shows it.
    pub number: String,
    pub number_type: NumberType,
}

/// A user's number before and after the plan (at least one side is set, and they differ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberChange {
    pub from: Option<PlannedNumber>,
    pub to: Option<PlannedNumber>,
}

/// What the plan saw of a user: enough to tell, at apply time, whether it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedUser {
    pub usage_location: Option<String>,
    /// Directly assigned SKU ids, lower case, sorted.
    pub direct_sku_ids: Vec<Arc<str>>,
    /// Phone numbers assigned to the user, sorted (absent in plans saved before numbers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageLocationChange {
    pub from: Option<String>,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditsChange {
    pub currency: String,
    pub billing_account_type: BillingAccountType,
    pub observed: ObservedCredits,
    /// Settings to converge, in display order.
    pub settings: Vec<SettingChange>,
    pub auto_recharge: Option<AutoRechargeTarget>,
    pub payment: Option<PaymentTarget>,
    /// "Add funds" amount: exactly what lifts the usable balance to `minimumBalance`.
    pub add_funds: Option<Amount>,
    pub balance_after: Amount,
    /// The declared `minimumBalance`, for explaining the purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_balance: Option<Amount>,
    /// The credits ledger the account's state came from (Microsoft Graph has no API for
    /// it); `None` when it came from the live snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// Balance, expiry and warnings: what the credits will do next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<crate::credits::forecast::Forecast>,
}

impl CreditsChange {
    pub fn has_changes(&self) -> bool {
        !self.settings.is_empty() || self.add_funds.is_some()
    }

    pub fn money(&self, amount: Amount) -> Money {
        Money::new(amount.0, self.currency.clone())
    }
}

/// What the plan saw of the credits account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedCredits {
    pub usable_balance: Amount,
    pub auto_recharge_enabled: bool,
    pub trigger_below: Option<Amount>,
    pub recharge_amount: Option<Amount>,
    pub payment_method: Option<PaymentMethod>,
    pub agreement_number: Option<String>,
    pub purchase_order: Option<String>,
    /// Ids of the funds that existed, sorted: a purchase since then makes the plan stale.
    pub fund_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChange {
    /// YAML path of the setting, e.g. `autoRecharge.triggerBelow`.
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoRechargeTarget {
    pub enabled: bool,
    pub trigger_below: Option<Amount>,
    pub recharge_amount: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTarget {
    pub method: PaymentMethod,
    pub agreement_number: Option<String>,
    pub purchase_order: Option<String>,
}

/// Totals for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSummary {
    pub users: usize,
    pub assign: usize,
    pub remove: usize,
    pub settings: usize,
    /// Phone numbers assigned or removed.
    pub numbers: usize,
    pub add_funds: Option<Money>,
    /// With a price list: the monthly change of the priced seats.
    pub monthly_change: Option<Money>,
    /// SKUs whose seats change and that the price list has no price for.
    pub unpriced: usize,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.users.iter().any(UserChange::has_changes)
            || self
                .groups
                .iter()
                .any(super::groups::GroupChange::has_changes)
            || self
                .credits
                .as_ref()
                .is_some_and(CreditsChange::has_changes)
    }

    pub fn summary(&self) -> PlanSummary {
        let mut s = PlanSummary::default();
        for u in self.users.iter().filter(|u| u.has_changes()) {
            s.users += 1;
            s.assign += u.add.len();
            s.remove += u.remove.len();
            s.settings += usize::from(u.usage_location.is_some());
            if let Some(n) = &u.number {
                s.numbers += usize::from(n.from.is_some()) + usize::from(n.to.is_some());
            }
        }
        for g in self.groups.iter().filter(|g| g.has_changes()) {
            s.assign += g.add.len();
            s.remove += g.remove.len() + g.migrate.iter().map(|m| m.remove.len()).sum::<usize>();
        }
        if let Some(c) = &self.credits {
            s.settings += c.settings.len();
            s.add_funds = c.add_funds.map(|a| c.money(a));
        }
        if let Some(cost) = &self.cost {
            s.monthly_change = Some(cost.money(cost.monthly_change));
            s.unpriced = cost.unpriced.len();
        }
        s
    }

    /// The changes in the order they must be applied (SPEC: usage locations, removals,
    /// additions, credits settings, funds). A user's adds and removes stay in one operation
    /// so that a calling-plan swap is atomic; users that only free seats go first.
    pub fn operations(&self) -> Vec<Operation> {
        let mut ops = Vec::new();
        for u in &self.users {
            if let Some(loc) = &u.usage_location {
                ops.push(Operation::SetUsageLocation {
                    user_id: u.user_id.clone(),
                    upn: u.upn.clone(),
                    to: loc.to.clone(),
                });
            }
        }
        let license_op = |u: &UserChange| Operation::AssignLicenses {
            user_id: u.user_id.clone(),
            upn: u.upn.clone(),
            add: u.add.clone(),
            remove: u.remove.clone(),
        };
        for effect in SeatEffect::ORDER {
            let users = self.users.iter();
            ops.extend(
                users
                    .filter(|u| u.seat_effect() == Some(effect))
                    .map(license_op),
            );
        }
        super::groups::group_operations(&self.groups, &mut ops);
        // Numbers after licenses (Teams provisions a newly licensed user with a delay), and
        // every unassignment before any assignment: a number moving from one user to
        // another is free by the time its new holder asks for it.
        let numbers = || {
            self.users
                .iter()
                .filter_map(|u| Some((u, u.number.as_ref()?)))
        };
        for (u, n) in numbers() {
            if let Some(from) = &n.from {
                ops.push(Operation::UnassignNumber {
                    user_id: u.user_id.clone(),
                    upn: u.upn.clone(),
                    number: from.clone(),
                });
            }
        }
        for (u, n) in numbers() {
            if let Some(to) = &n.to {
                ops.push(Operation::AssignNumber {
                    user_id: u.user_id.clone(),
                    upn: u.upn.clone(),
                    number: to.clone(),
                });
            }
        }
        if let Some(c) = &self.credits {
            if let Some(t) = &c.auto_recharge {
                ops.push(Operation::SetAutoRecharge(t.clone()));
            }
            if let Some(p) = &c.payment {
                ops.push(Operation::SetPayment(p.clone()));
            }
            if let Some(amount) = c.add_funds {
                ops.push(Operation::AddFunds(c.money(amount)));
            }
        }
        ops
    }
}

/// One change to the live tenant, the unit a backend applies and reports on.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    SetUsageLocation {
        user_id: String,
        upn: String,
        to: String,
    },
    AssignLicenses {
        user_id: String,
        upn: String,
        add: Vec<SkuRef>,
        remove: Vec<SkuRef>,
    },
    SetAutoRecharge(AutoRechargeTarget),
    SetPayment(PaymentTarget),
    AddFunds(Money),
    /// Graph's `POST /groups/{id}/assignLicense`; members are processed by Entra ID after.
    AssignGroupLicenses {
        group_id: String,
        name: String,
        add: Vec<super::groups::GroupLicenseRef>,
        remove: Vec<SkuRef>,
    },
    /// Graph's `POST /users/{id}/reprocessLicenseAssignment` (a member in error whose seat
    /// is now free). Runs once group changes are processed.
    ReprocessLicenses {
        user_id: String,
        upn: String,
    },
    /// Removes direct copies of what the group gives, only for SKUs whose inherited
    /// assignment from `group_id` is active for the user; the others are kept and reported.
    RemoveRedundantDirect {
        user_id: String,
        upn: String,
        group_id: String,
        group_name: String,
        remove: Vec<SkuRef>,
    },
    /// Graph's `POST .../numberAssignments/unassignNumber` of the user's number.
    UnassignNumber {
        user_id: String,
        upn: String,
        number: PlannedNumber,
    },
    /// Graph's `POST .../numberAssignments/assignNumber` to the user (as `primary`).
    AssignNumber {
        user_id: String,
        upn: String,
        number: PlannedNumber,
    },
}

impl Operation {
    /// For a user's license change, what it does to seats (decided by the plan:
    /// [`SeatEffect`]); `None` for every other operation.
    pub fn seat_effect(&self) -> Option<SeatEffect> {
        match self {
            Operation::AssignLicenses { add, remove, .. } => SeatEffect::of(add, remove),
            _ => None,
        }
    }

    /// Group licensing operations (run after the users' own changes).
    pub fn is_group(&self) -> bool {
        matches!(
            self,
            Operation::AssignGroupLicenses { .. }
                | Operation::ReprocessLicenses { .. }
                | Operation::RemoveRedundantDirect { .. }
        )
    }

    /// A change to the Communications Credits account (not to a user).
    pub fn is_credits(&self) -> bool {
        !matches!(
            self,
            Operation::SetUsageLocation { .. }
                | Operation::AssignLicenses { .. }
                | Operation::UnassignNumber { .. }
                | Operation::AssignNumber { .. }
        )
    }

    /// A phone number change (Teams' telephone number management).
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Operation::UnassignNumber { .. } | Operation::AssignNumber { .. }
        )
    }

    /// One line saying what the operation does, for reports.
    pub fn describe(&self) -> String {
        match self {
            Operation::SetUsageLocation { upn, to, .. } => format!("{upn}: usageLocation = {to}"),
            Operation::AssignLicenses {
                upn, add, remove, ..
            } => {
                let mut parts = Vec::new();
                parts.extend(add.iter().map(|s| format!("+{}", s.part_number)));
                parts.extend(remove.iter().map(|s| format!("-{}", s.part_number)));
                format!("{upn}: {}", parts.join(" "))
            }
            Operation::SetAutoRecharge(t) => format!(
                "credits: auto-recharge {}",
                if t.enabled { "on" } else { "off" }
            ),
            Operation::SetPayment(p) => format!("credits: payment by {}", p.method.as_str()),
            Operation::AddFunds(m) => format!("credits: add funds {m}"),
            Operation::AssignGroupLicenses {
                name, add, remove, ..
            } => {
                let mut parts = Vec::new();
                parts.extend(add.iter().map(|a| format!("+{}", a.sku.part_number)));
                parts.extend(remove.iter().map(|s| format!("-{}", s.part_number)));
                format!("group \"{name}\": {}", parts.join(" "))
            }
            Operation::ReprocessLicenses { upn, .. } => {
                format!("{upn}: reprocess group license assignments")
            }
            Operation::UnassignNumber { upn, number, .. } => format!(
                "{upn}: unassign phone number {} ({})",
                number.number, number.number_type
            ),
            Operation::AssignNumber { upn, number, .. } => format!(
                "{upn}: assign phone number {} ({})",
                number.number, number.number_type
            ),
            Operation::RemoveRedundantDirect {
                upn,
                group_name,
                remove,
                ..
            } => {
                let parts: Vec<String> = remove
                    .iter()
                    .map(|s| format!("-{}", s.part_number))
                    .collect();
                format!(
                    "{upn}: {} (direct copies; group \"{group_name}\" provides them)",
                    parts.join(" ")
                )
            }
        }
    }
}
