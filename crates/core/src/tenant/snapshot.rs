//! The tenant snapshot (SPEC §4): Graph-shaped objects, used by the file backend, the
//! emulator's store and the planner. Every struct keeps the fields it does not know in
//! `extra`, so that rewriting a snapshot never loses data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::base::money::Amount;

type Extra = Map<String, Value>;

/// Fields commcred does not know on a per-user object (a user, an assigned license, an
/// assignment state), kept so that rewriting a snapshot loses nothing. Most such objects
/// have none, so the map is boxed and absent when empty: 8 bytes instead of the 72 of an
/// empty map, on the 300,000-odd of these objects a 100,000-user snapshot holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unknown(Option<Box<Extra>>);

impl Unknown {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.as_ref()?.get(key)
    }

    pub fn insert(&mut self, key: String, value: Value) {
        self.0.get_or_insert_default().insert(key, value);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().flat_map(|m| m.iter())
    }
}

impl Serialize for Unknown {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Unknown {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Unknown, D::Error> {
        let map = Extra::deserialize(deserializer)?;
        Ok(Unknown((!map.is_empty()).then(|| Box::new(map))))
    }
}

/// A list read at its exact length. Deserializing grows a vector to four entries for
/// one; on the lists every user has (licenses, assignment states) the spare room was a
/// fifth of a 100,000-user plan's memory.
fn exact<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut list = Vec::<T>::deserialize(deserializer)?;
    list.shrink_to_fit();
    Ok(list)
}

/// [`exact`] for an optional list.
fn exact_option<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut list = Option::<Vec<T>>::deserialize(deserializer)?;
    if let Some(list) = &mut list {
        list.shrink_to_fit();
    }
    Ok(list)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub tenant: TenantInfo,
    #[serde(default)]
    pub subscribed_skus: Vec<SubscribedSku>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communications_credits: Option<CreditsAccount>,
    /// Groups that carry licenses (group-based licensing), see `tenant::groups`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<super::groups::Group>,
    /// The tenant's phone number inventory (Graph's `numberAssignment` objects), see
    /// `tenant::numbers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub number_assignments: Vec<super::numbers::NumberAssignment>,
    /// Teams users' voice configuration (Graph's `teamsUserConfiguration` objects; `id` is
    /// the user's id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_configurations: Vec<super::numbers::TeamsUserConfiguration>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TenantInfo {
    pub id: String,
    /// The initial `*.onmicrosoft.com` domain; the YAML's `tenant` must equal it.
    pub domain: String,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    pub sku_id: String,
    pub sku_part_number: String,
    #[serde(default = "default_applies_to")]
    pub applies_to: String,
    #[serde(default = "default_capability_status")]
    pub capability_status: String,
    #[serde(default)]
    pub prepaid_units: PrepaidUnits,
    #[serde(default)]
    pub consumed_units: i64,
    #[serde(default)]
    pub service_plans: Vec<ServicePlan>,
    #[serde(flatten)]
    pub extra: Extra,
}

fn default_applies_to() -> String {
    "User".to_string()
}

fn default_capability_status() -> String {
    "Enabled".to_string()
}

impl User {
    /// False only when the account is disabled (`accountEnabled: false`).
    pub fn is_enabled(&self) -> bool {
        self.account_enabled != Some(false)
    }
}

impl SubscribedSku {
    /// Seats still free: `enabled + warning - consumed` (Graph's own arithmetic).
    pub fn available_seats(&self) -> i64 {
        self.prepaid_units.enabled + self.prepaid_units.warning - self.consumed_units
    }

    pub fn applies_to_users(&self) -> bool {
        self.applies_to.eq_ignore_ascii_case("User")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrepaidUnits {
    #[serde(default)]
    pub enabled: i64,
    #[serde(default)]
    pub warning: i64,
    #[serde(default)]
    pub suspended: i64,
    #[serde(default)]
    pub locked_out: i64,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    pub service_plan_id: String,
    pub service_plan_name: String,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    #[serde(default)]
    pub usage_location: Option<String>,
    /// Graph's `accountEnabled`: `false` when sign-in is blocked. Absent in a snapshot
    /// means enabled (Graph has it on every user; hand-written snapshots may leave it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
    #[serde(default, deserialize_with = "exact")]
    pub assigned_licenses: Vec<AssignedLicense>,
    /// Optional in snapshots; when absent every assignment counts as direct.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "exact_option"
    )]
    pub license_assignment_states: Option<Vec<LicenseAssignmentState>>,
    #[serde(flatten)]
    pub extra: Unknown,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    pub sku_id: String,
    #[serde(default, deserialize_with = "exact")]
    pub disabled_plans: Vec<String>,
    #[serde(flatten)]
    pub extra: Unknown,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct LicenseAssignmentState {
    pub sku_id: String,
    #[serde(default)]
    pub assigned_by_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Graph's `error`: `CountViolation`, `MutuallyExclusiveViolation`, ... when `state` is
    /// `Error`; null or `"None"` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The service plans switched off in this assignment.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "exact_option"
    )]
    pub disabled_plans: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Unknown,
}

impl LicenseAssignmentState {
    /// True when the assignment gives the user its service plans. The rule is
    /// [`super::capabilities::state_provides`] (only `Active`, or no state): `Error`,
    /// `ActiveWithError` and `Disabled` give nothing.
    pub fn is_active(&self) -> bool {
        super::capabilities::state_provides(self.state.as_deref())
    }

    /// The error kind when the assignment is in error (`None` when it is not).
    pub fn error_kind(&self) -> Option<&str> {
        if self.is_active() {
            return None;
        }
        Some(
            self.error
                .as_deref()
                .filter(|e| !e.eq_ignore_ascii_case("None"))
                .unwrap_or("Other"),
        )
    }
}

/// The tenant's Communications Credits account. Microsoft has no API for it; the file
/// backend and the emulator keep it here, the graph backend in a ledger.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CreditsAccount {
    pub billing_account_type: BillingAccountType,
    pub currency: String,
    #[serde(default)]
    pub funds: Vec<Fund>,
    #[serde(default)]
    pub auto_recharge: AutoRechargeState,
    #[serde(default)]
    pub payment: PaymentState,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum BillingAccountType {
    /// Microsoft Online Subscription Agreement: the only account type that can buy credits.
    #[serde(rename = "MOSA")]
    Mosa,
    /// Microsoft Customer Agreement: post-paid overage instead of credits.
    #[serde(rename = "MCA")]
    Mca,
    /// Cloud Solution Provider: the partner funds credits.
    #[serde(rename = "CSP")]
    Csp,
}

impl BillingAccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingAccountType::Mosa => "MOSA",
            BillingAccountType::Mca => "MCA",
            BillingAccountType::Csp => "CSP",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Fund {
    pub id: String,
    pub purchased_at: DateTime<Utc>,
    pub amount: Amount,
    pub remaining: Amount,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AutoRechargeState {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub trigger_below: Option<Amount>,
    #[serde(default)]
    pub recharge_amount: Option<Amount>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum PaymentMethod {
    CreditCard,
    EnterpriseAgreement,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::CreditCard => "creditCard",
            PaymentMethod::EnterpriseAgreement => "enterpriseAgreement",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PaymentState {
    #[serde(default)]
    pub method: Option<PaymentMethod>,
    #[serde(default)]
    pub agreement_number: Option<String>,
    #[serde(default)]
    pub purchase_order: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Serializes a snapshot the way commcred always writes it (pretty JSON, final newline).
pub fn snapshot_to_string(snapshot: &Snapshot) -> String {
    let mut text = serde_json::to_string_pretty(snapshot).expect("snapshots always serialize");
    text.push('\n');
    text
}
