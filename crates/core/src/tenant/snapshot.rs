//! The tenant snapshot (SPEC §4): Graph-shaped objects, used by the file backend, the
//! emulator's store and the planner. Every struct keeps the fields it does not know in
//! `extra`, so that rewriting a snapshot never loses data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::base::money::Amount;

type Extra = Map<String, Value>;

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
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
    /// Optional in snapshots; when absent every assignment counts as direct.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_assignment_states: Option<Vec<LicenseAssignmentState>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    pub sku_id: String,
    #[serde(default)]
    pub disabled_plans: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_plans: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
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
