//! The JSON plan document (`--format json`, and the saved plan of `plan --out`): the stable,
//! documented shape of a [`Plan`] for machines (docs/plan-format.md,
//! schemas/plan.schema.json).
//!
//! The document has its own types instead of serializing [`Plan`] directly: the plan model
//! is free to change, the file format is a contract with pipelines and with plans saved by
//! older builds. Conversion destructures every model struct completely, so a field added to
//! the model is a compile error here until someone decides how it is saved.

mod cost;
mod groups;
mod outlook;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::base::money::Amount;
use crate::plan::{
    AutoRechargeTarget, CreditsChange, FailedAssignment, NumberChange, ObservedCredits,
    ObservedUser, PaymentTarget, Plan, PlanWarning, PlannedNumber, SettingChange, SkuRef,
    UsageLocationChange, UserChange,
};
use crate::tenant::{BillingAccountType, PaymentMethod};

/// The format this build writes. Readers accept the same major version and a minor version
/// no newer than theirs (a newer minor may carry fields that change what apply must do).
pub const FORMAT_VERSION: &str = "1.3";

/// A Terraform-style action on one object or attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Nothing changes (an object the plan looked at and leaves as it is).
    NoOp,
    /// Something is added: a license assigned, funds bought.
    Create,
    /// A value is changed in place: a user, a usage location, a setting.
    Update,
    /// Something is taken away: a license removed.
    Delete,
}

/// A commcred plan: what it observed of every object it touches and what it will change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "commcred plan")]
pub struct PlanDocument {
    /// `MAJOR.MINOR`. A reader refuses another major version and a newer minor version.
    #[schemars(extend("pattern" = "^[0-9]+\\.[0-9]+$"))]
    pub format_version: String,
    /// The commcred version that wrote the plan.
    pub commcred_version: String,
    /// When the plan was made (RFC 3339, UTC).
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub planned_at: DateTime<Utc>,
    pub config: ConfigDoc,
    pub tenant: TenantDoc,
    /// Where the plan applies, in `--backend` syntax: `file:PATH`, `graph` or
    /// `graph:BASE_URL`. Never holds credentials.
    pub backend: String,
    pub summary: SummaryDoc,
    /// Users whose licenses or usage location change, sorted by UPN.
    pub user_changes: Vec<UserChangeDoc>,
    /// The Communications Credits account, when commcred.yaml manages it.
    pub communications_credits: Option<CreditsDoc>,
    /// Warnings that do not stop the plan (docs/licensing.md): license assignments
    /// Microsoft reports in error, users who cannot call without credits, credits without
    /// funding. Absent when there are none (format 1.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningDoc>,
    /// Managed groups whose licenses change, or whose members are in error (format 1.2;
    /// left out when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_changes: Vec<groups::GroupChangeDoc>,
    /// Seats the plan takes and frees per SKU (format 1.3; left out when none change).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seat_changes: Vec<cost::SeatChangeDoc>,
    /// With a price list (`prices:`): the seats' monthly cost (format 1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<cost::CostDoc>,
    /// `sha256:` and the hex SHA-256 of the RFC 8785 canonical form of this document
    /// without its `checksum` member.
    #[schemars(extend("pattern" = "^sha256:[0-9a-f]{64}$"))]
    pub checksum: String,
}

/// A warning of the plan, with its stable code (docs/diagnostics.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningDoc {
    /// `commcred::plan::<name>`.
    pub code: String,
    /// The user the warning is about; absent for tenant-wide warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    pub message: String,
    /// For `commcred::plan::assignment_failed`: the assignment Microsoft reports in error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<FailedAssignmentDoc>,
}

/// A license assignment whose `licenseAssignmentStates` entry is not `Active`: it gives
/// the user none of the license's services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailedAssignmentDoc {
    pub license: LicenseDoc,
    /// The assigning group's object id; null for a direct assignment.
    pub group_id: Option<String>,
    /// The group's display name, when the tenant lists it.
    pub group_name: Option<String>,
    /// Graph's `state`: `Error`, `ActiveWithError` or `Disabled`.
    pub state: String,
    /// Graph's `error`: `CountViolation`, `MutuallyExclusiveViolation`,
    /// `DependencyViolation`, `ProhibitedInUsageLocationViolation`, `UniquenessViolation`
    /// or `Other`.
    pub error: Option<String>,
}

fn warning_doc(w: &PlanWarning) -> WarningDoc {
    let PlanWarning {
        code,
        upn,
        message,
        assignment,
    } = w;
    WarningDoc {
        code: code.clone(),
        upn: upn.clone(),
        message: message.clone(),
        assignment: assignment.as_ref().map(|a| {
            let FailedAssignment {
                sku_id,
                part_number,
                friendly,
                group_id,
                group_name,
                state,
                error,
            } = a;
            FailedAssignmentDoc {
                license: license_doc(&SkuRef {
                    sku_id: sku_id.as_str().into(),
                    part_number: part_number.as_str().into(),
                    friendly: friendly.as_deref().map(Into::into),
                }),
                group_id: group_id.clone(),
                group_name: group_name.clone(),
                state: state.clone(),
                error: error.clone(),
            }
        }),
    }
}

fn warning_from_doc(d: &WarningDoc) -> PlanWarning {
    PlanWarning {
        code: d.code.clone(),
        upn: d.upn.clone(),
        message: d.message.clone(),
        assignment: d.assignment.as_ref().map(|a| FailedAssignment {
            sku_id: a.license.sku_id.clone(),
            part_number: a.license.sku_part_number.clone(),
            friendly: a.license.name.clone(),
            group_id: a.group_id.clone(),
            group_name: a.group_name.clone(),
            state: a.state.clone(),
            error: a.error.clone(),
        }),
    }
}

/// The configuration the plan was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigDoc {
    /// Path of commcred.yaml as given to `commcred plan`.
    pub path: String,
    /// SHA-256 (hex) of commcred.yaml and every CSV file it reads.
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantDoc {
    /// The Entra tenant id.
    pub id: String,
    /// The tenant's initial `*.onmicrosoft.com` domain.
    pub domain: String,
}

/// Totals, for reviewers and policy checks. Derived from the changes; never read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryDoc {
    pub has_changes: bool,
    pub users_changed: usize,
    pub licenses_to_assign: usize,
    pub licenses_to_remove: usize,
    pub settings_to_change: usize,
    /// Phone numbers assigned plus phone numbers removed (a move counts both).
    #[serde(default)]
    pub phone_numbers_to_change: usize,
    /// Communications Credits bought by this plan ("add funds"); null when none.
    pub funds_to_add: Option<MoneyDoc>,
    /// With a price list: the monthly change of the priced seats, in the price list's
    /// currency (`cost` has each SKU and the unpriced ones; format 1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_change: Option<MoneyDoc>,
    /// Every user who loses a license, with the licenses lost.
    pub users_losing_licenses: Vec<LossDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyDoc {
    pub amount: Amount,
    /// ISO 4217 code.
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LossDoc {
    pub upn: String,
    /// True when the user is not listed in commcred.yaml and `prune: true` removes them.
    pub pruned: bool,
    pub licenses: Vec<LicenseDoc>,
}

/// A SKU, by id (what Microsoft Graph needs) and by names (what people read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenseDoc {
    pub sku_id: String,
    pub sku_part_number: String,
    /// The friendly name of commcred.yaml (`communicationsCredits`), when the SKU has one.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeDoc {
    /// Always `["update"]`: commcred changes users, it never creates or deletes them.
    pub actions: Vec<Action>,
    /// The user's object id: apply addresses the user by it.
    pub user_id: String,
    pub upn: String,
    /// True when the user is not listed in commcred.yaml and `prune: true` removes licenses.
    pub pruned: bool,
    /// What the plan saw; apply refuses when the user no longer looks like this.
    pub observed: ObservedUserDoc,
    pub usage_location: Option<UsageLocationDoc>,
    /// Licenses removed (`["delete"]`) then assigned (`["create"]`).
    pub licenses: Vec<LicenseChangeDoc>,
    /// Why desired licenses are not assigned (already provided by E5, a group...).
    pub notes: Vec<String>,
    /// The user's phone number: assigned (`["create"]`), moved to another number
    /// (`["update"]`) or removed (`["delete"]`). Absent when it does not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<PhoneNumberDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneNumberDoc {
    pub actions: Vec<Action>,
    pub before: Option<NumberDoc>,
    pub after: Option<NumberDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberDoc {
    /// E.164 (`+` and digits).
    pub telephone_number: String,
    /// Graph's `numberType`: `callingPlan`, `directRouting` or `operatorConnect`.
    pub number_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedUserDoc {
    pub usage_location: Option<String>,
    /// Directly assigned SKU ids (lower case, sorted); group-inherited ones are left out.
    pub direct_sku_ids: Vec<String>,
    /// Phone numbers assigned to the user (sorted); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageLocationDoc {
    /// `["update"]`.
    pub actions: Vec<Action>,
    pub before: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenseChangeDoc {
    /// `["create"]` (assign) or `["delete"]` (remove).
    pub actions: Vec<Action>,
    pub sku_id: String,
    pub sku_part_number: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditsDoc {
    /// `["update"]` when anything changes, else `["no-op"]`.
    pub actions: Vec<Action>,
    /// ISO 4217 code of the account.
    pub currency: String,
    pub billing_account_type: BillingAccountDoc,
    /// What the plan saw; apply refuses when the account no longer looks like this.
    pub observed: ObservedCreditsDoc,
    /// Settings that change, for reading (`autoRecharge.triggerBelow`: `(none)` -> `100.00 USD`).
    pub settings: Vec<SettingChangeDoc>,
    /// The auto-recharge settings apply sets, when they change.
    pub auto_recharge: Option<AutoRechargeDoc>,
    /// The payment settings apply sets, when they change.
    pub payment: Option<PaymentDoc>,
    /// The one-off purchase that lifts the usable balance to `minimumBalance`.
    pub add_funds: Option<AddFundsDoc>,
    /// Usable balance after `add_funds`.
    pub balance_after: Amount,
    /// The declared `minimumBalance` (format 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_balance: Option<Amount>,
    /// The credits ledger the account's state came from, when the backend has no credits
    /// API (Microsoft Graph); confirmations of the manual steps are recorded there
    /// (format 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// What the credits will do next: balance, expiry, spend, warnings (format 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlook: Option<outlook::OutlookDoc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BillingAccountDoc {
    #[serde(rename = "MOSA")]
    Mosa,
    #[serde(rename = "MCA")]
    Mca,
    #[serde(rename = "CSP")]
    Csp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PaymentMethodDoc {
    CreditCard,
    EnterpriseAgreement,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedCreditsDoc {
    /// Sum of `remaining` over unexpired funds when planned.
    pub usable_balance: Amount,
    pub auto_recharge_enabled: bool,
    pub trigger_below: Option<Amount>,
    pub recharge_amount: Option<Amount>,
    pub payment_method: Option<PaymentMethodDoc>,
    pub agreement_number: Option<String>,
    pub purchase_order: Option<String>,
    /// Ids of the funds that existed, sorted: a purchase since then makes the plan stale.
    pub fund_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingChangeDoc {
    /// `["update"]`.
    pub actions: Vec<Action>,
    /// The commcred.yaml path of the setting, e.g. `autoRecharge.enabled`.
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoRechargeDoc {
    pub enabled: bool,
    pub trigger_below: Option<Amount>,
    pub recharge_amount: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentDoc {
    pub method: PaymentMethodDoc,
    pub agreement_number: Option<String>,
    pub purchase_order: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFundsDoc {
    /// `["create"]`: a new purchase.
    pub actions: Vec<Action>,
    pub amount: Amount,
    pub currency: String,
}

/// The document for `plan`; `backend`, `config_path` and `commcred_version` are what the
/// plan model does not know. The checksum is left empty: `plan::saved` fills it.
pub fn document(plan: &Plan, backend: &str, config_path: &str, version: &str) -> PlanDocument {
    let Plan {
        tenant_id,
        tenant_domain,
        planned_at,
        config_digest,
        users,
        credits,
        warnings,
        groups,
        seats,
        cost,
    } = plan;
    PlanDocument {
        format_version: FORMAT_VERSION.to_string(),
        commcred_version: version.to_string(),
        planned_at: *planned_at,
        config: ConfigDoc {
            path: config_path.to_string(),
            digest: config_digest.clone(),
        },
        tenant: TenantDoc {
            id: tenant_id.clone(),
            domain: tenant_domain.clone(),
        },
        backend: backend.to_string(),
        summary: summary(plan),
        user_changes: users.iter().map(user_doc).collect(),
        communications_credits: credits.as_ref().map(credits_doc),
        warnings: warnings.iter().map(warning_doc).collect(),
        group_changes: groups.iter().map(groups::group_doc).collect(),
        seat_changes: seats.iter().map(cost::seat_doc).collect(),
        cost: cost.as_ref().map(cost::cost_doc),
        checksum: String::new(),
    }
}

fn summary(plan: &Plan) -> SummaryDoc {
    let s = plan.summary();
    SummaryDoc {
        has_changes: plan.has_changes(),
        users_changed: s.users,
        licenses_to_assign: s.assign,
        licenses_to_remove: s.remove,
        settings_to_change: s.settings,
        phone_numbers_to_change: s.numbers,
        funds_to_add: s.add_funds.map(|m| MoneyDoc {
            amount: m.amount,
            currency: m.currency,
        }),
        monthly_change: s.monthly_change.map(|m| MoneyDoc {
            amount: m.amount,
            currency: m.currency,
        }),
        users_losing_licenses: super::render::users_losing_licenses(plan)
            .map(|u| LossDoc {
                upn: u.upn.clone(),
                pruned: u.pruned,
                licenses: u.remove.iter().map(license_doc).collect(),
            })
            .collect(),
    }
}

fn license_doc(sku: &SkuRef) -> LicenseDoc {
    let SkuRef {
        sku_id,
        part_number,
        friendly,
    } = sku;
    LicenseDoc {
        sku_id: sku_id.to_string(),
        sku_part_number: part_number.to_string(),
        name: friendly.as_deref().map(str::to_string),
    }
}

fn license_change(sku: &SkuRef, action: Action) -> LicenseChangeDoc {
    let LicenseDoc {
        sku_id,
        sku_part_number,
        name,
    } = license_doc(sku);
    LicenseChangeDoc {
        actions: vec![action],
        sku_id,
        sku_part_number,
        name,
    }
}

fn user_doc(user: &UserChange) -> UserChangeDoc {
    let UserChange {
        user_id,
        upn,
        observed,
        usage_location,
        add,
        remove,
        notes,
        pruned,
        number,
    } = user;
    let ObservedUser {
        usage_location: observed_location,
        direct_sku_ids,
        numbers,
    } = observed;
    let mut licenses: Vec<LicenseChangeDoc> = remove
        .iter()
        .map(|s| license_change(s, Action::Delete))
        .collect();
    licenses.extend(add.iter().map(|s| license_change(s, Action::Create)));
    UserChangeDoc {
        actions: vec![if user.has_changes() {
            Action::Update
        } else {
            Action::NoOp
        }],
        user_id: user_id.clone(),
        upn: upn.clone(),
        pruned: *pruned,
        observed: ObservedUserDoc {
            usage_location: observed_location.clone(),
            direct_sku_ids: direct_sku_ids.iter().map(|id| id.to_string()).collect(),
            phone_numbers: numbers.clone(),
        },
        usage_location: usage_location
            .as_ref()
            .map(|UsageLocationChange { from, to }| UsageLocationDoc {
                actions: vec![Action::Update],
                before: from.clone(),
                after: to.clone(),
            }),
        licenses,
        notes: notes.clone(),
        phone_number: number.as_ref().map(phone_doc),
    }
}

fn phone_doc(change: &NumberChange) -> PhoneNumberDoc {
    let NumberChange { from, to } = change;
    let doc = |n: &PlannedNumber| {
        let PlannedNumber {
            number,
            number_type,
        } = n;
        NumberDoc {
            telephone_number: number.clone(),
            number_type: number_type.as_str().to_string(),
        }
    };
    let action = match (from, to) {
        (None, _) => Action::Create,
        (Some(_), None) => Action::Delete,
        (Some(_), Some(_)) => Action::Update,
    };
    PhoneNumberDoc {
        actions: vec![action],
        before: from.as_ref().map(doc),
        after: to.as_ref().map(doc),
    }
}

fn phone_from_doc(doc: &PhoneNumberDoc, what: &str) -> Result<NumberChange, String> {
    let what = format!("{what}, phone number");
    let expected = match (&doc.before, &doc.after) {
        (None, Some(_)) => Action::Create,
        (Some(_), None) => Action::Delete,
        (Some(_), Some(_)) => Action::Update,
        (None, None) => return Err(format!("{what} has neither before nor after")),
    };
    one_action(&doc.actions, &what, &[expected])?;
    let number = |n: &NumberDoc| -> Result<PlannedNumber, String> {
        Ok(PlannedNumber {
            number: n.telephone_number.clone(),
            number_type: crate::base::phone::NumberType::parse(&n.number_type)
                .ok_or_else(|| format!("{what} has unknown number type `{}`", n.number_type))?,
        })
    };
    Ok(NumberChange {
        from: doc.before.as_ref().map(number).transpose()?,
        to: doc.after.as_ref().map(number).transpose()?,
    })
}

// Long: builds the credits object of the plan document field by field.
fn credits_doc(c: &CreditsChange) -> CreditsDoc {
    let CreditsChange {
        currency,
        billing_account_type,
        observed,
        settings,
        auto_recharge,
        payment,
        add_funds,
        balance_after,
        minimum_balance,
        ledger,
        forecast,
    } = c;
    let ObservedCredits {
        usable_balance,
        auto_recharge_enabled,
        trigger_below,
        recharge_amount,
        payment_method,
        agreement_number,
        purchase_order,
        fund_ids,
    } = observed;
    CreditsDoc {
        actions: vec![if c.has_changes() {
            Action::Update
        } else {
            Action::NoOp
        }],
        currency: currency.clone(),
        billing_account_type: (*billing_account_type).into(),
        observed: ObservedCreditsDoc {
            usable_balance: *usable_balance,
            auto_recharge_enabled: *auto_recharge_enabled,
            trigger_below: *trigger_below,
            recharge_amount: *recharge_amount,
            payment_method: payment_method.map(Into::into),
            agreement_number: agreement_number.clone(),
            purchase_order: purchase_order.clone(),
            fund_ids: fund_ids.clone(),
        },
        settings: settings
            .iter()
            .map(|SettingChange { key, before, after }| SettingChangeDoc {
                actions: vec![Action::Update],
                key: key.clone(),
                before: before.clone(),
                after: after.clone(),
            })
            .collect(),
        auto_recharge: auto_recharge.as_ref().map(
            |AutoRechargeTarget {
                 enabled,
                 trigger_below,
                 recharge_amount,
             }| AutoRechargeDoc {
                enabled: *enabled,
                trigger_below: *trigger_below,
                recharge_amount: *recharge_amount,
            },
        ),
        payment: payment.as_ref().map(
            |PaymentTarget {
                 method,
                 agreement_number,
                 purchase_order,
             }| PaymentDoc {
                method: (*method).into(),
                agreement_number: agreement_number.clone(),
                purchase_order: purchase_order.clone(),
            },
        ),
        add_funds: add_funds.map(|amount| AddFundsDoc {
            actions: vec![Action::Create],
            amount,
            currency: currency.clone(),
        }),
        balance_after: *balance_after,
        minimum_balance: *minimum_balance,
        ledger: ledger.clone(),
        outlook: forecast.as_ref().map(Into::into),
    }
}

/// Reads the plan back from its document. Fails, with a sentence naming the place, on a
/// document commcred could not have written (an action that makes no sense, funds in
/// another currency); the checksum has already ruled out edits.
pub fn plan_from_document(doc: &PlanDocument) -> Result<Plan, String> {
    let users = doc
        .user_changes
        .iter()
        .map(user_from_doc)
        .collect::<Result<Vec<_>, _>>()?;
    let credits = doc
        .communications_credits
        .as_ref()
        .map(credits_from_doc)
        .transpose()?;
    Ok(Plan {
        tenant_id: doc.tenant.id.clone(),
        tenant_domain: doc.tenant.domain.clone(),
        planned_at: doc.planned_at,
        config_digest: doc.config.digest.clone(),
        users,
        credits,
        warnings: doc.warnings.iter().map(warning_from_doc).collect(),
        groups: doc
            .group_changes
            .iter()
            .map(groups::group_from_doc)
            .collect::<Result<Vec<_>, _>>()?,
        seats: doc.seat_changes.iter().map(cost::seat_from_doc).collect(),
        cost: doc.cost.as_ref().map(cost::cost_from_doc),
    })
}

fn one_action(actions: &[Action], what: &str, allowed: &[Action]) -> Result<Action, String> {
    match actions {
        [a] if allowed.contains(a) => Ok(*a),
        _ => Err(format!(
            "{what} has actions {actions:?}; expected one of {allowed:?}"
        )),
    }
}

fn user_from_doc(doc: &UserChangeDoc) -> Result<UserChange, String> {
    let what = format!("user {}", doc.upn);
    one_action(&doc.actions, &what, &[Action::Update, Action::NoOp])?;
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for l in &doc.licenses {
        let sku = SkuRef {
            sku_id: l.sku_id.as_str().into(),
            part_number: l.sku_part_number.as_str().into(),
            friendly: l.name.as_deref().map(Into::into),
        };
        let what = format!("{what}, license {}", l.sku_part_number);
        match one_action(&l.actions, &what, &[Action::Create, Action::Delete])? {
            Action::Create => add.push(sku),
            _ => remove.push(sku),
        }
    }
    let usage_location = match &doc.usage_location {
        Some(u) => {
            one_action(
                &u.actions,
                &format!("{what}, usage location"),
                &[Action::Update],
            )?;
            Some(UsageLocationChange {
                from: u.before.clone(),
                to: u.after.clone(),
            })
        }
        None => None,
    };
    Ok(UserChange {
        user_id: doc.user_id.clone(),
        upn: doc.upn.clone(),
        observed: ObservedUser {
            usage_location: doc.observed.usage_location.clone(),
            direct_sku_ids: doc
                .observed
                .direct_sku_ids
                .iter()
                .map(|id| id.as_str().into())
                .collect(),
            numbers: doc.observed.phone_numbers.clone(),
        },
        usage_location,
        add,
        remove,
        notes: doc.notes.clone(),
        pruned: doc.pruned,
        number: doc
            .phone_number
            .as_ref()
            .map(|p| phone_from_doc(p, &what))
            .transpose()?,
    })
}

fn credits_from_doc(doc: &CreditsDoc) -> Result<CreditsChange, String> {
    one_action(
        &doc.actions,
        "communications_credits",
        &[Action::Update, Action::NoOp],
    )?;
    let add_funds = match &doc.add_funds {
        Some(f) => {
            one_action(
                &f.actions,
                "communications_credits.add_funds",
                &[Action::Create],
            )?;
            if f.currency != doc.currency {
                return Err(format!(
                    "communications_credits.add_funds is in {}, the account in {}",
                    f.currency, doc.currency
                ));
            }
            Some(f.amount)
        }
        None => None,
    };
    let o = &doc.observed;
    Ok(CreditsChange {
        currency: doc.currency.clone(),
        billing_account_type: doc.billing_account_type.into(),
        observed: ObservedCredits {
            usable_balance: o.usable_balance,
            auto_recharge_enabled: o.auto_recharge_enabled,
            trigger_below: o.trigger_below,
            recharge_amount: o.recharge_amount,
            payment_method: o.payment_method.map(Into::into),
            agreement_number: o.agreement_number.clone(),
            purchase_order: o.purchase_order.clone(),
            fund_ids: o.fund_ids.clone(),
        },
        settings: doc
            .settings
            .iter()
            .map(|s| SettingChange {
                key: s.key.clone(),
                before: s.before.clone(),
                after: s.after.clone(),
            })
            .collect(),
        auto_recharge: doc.auto_recharge.as_ref().map(|a| AutoRechargeTarget {
            enabled: a.enabled,
            trigger_below: a.trigger_below,
            recharge_amount: a.recharge_amount,
        }),
        payment: doc.payment.as_ref().map(|p| PaymentTarget {
            method: p.method.into(),
            agreement_number: p.agreement_number.clone(),
            purchase_order: p.purchase_order.clone(),
        }),
        add_funds,
        balance_after: doc.balance_after,
        minimum_balance: doc.minimum_balance,
        ledger: doc.ledger.clone(),
        forecast: doc.outlook.as_ref().map(Into::into),
    })
}

impl From<BillingAccountType> for BillingAccountDoc {
    fn from(t: BillingAccountType) -> Self {
        match t {
            BillingAccountType::Mosa => BillingAccountDoc::Mosa,
            BillingAccountType::Mca => BillingAccountDoc::Mca,
            BillingAccountType::Csp => BillingAccountDoc::Csp,
        }
    }
}

impl From<BillingAccountDoc> for BillingAccountType {
    fn from(t: BillingAccountDoc) -> Self {
        match t {
            BillingAccountDoc::Mosa => BillingAccountType::Mosa,
            BillingAccountDoc::Mca => BillingAccountType::Mca,
            BillingAccountDoc::Csp => BillingAccountType::Csp,
        }
    }
}

impl From<PaymentMethod> for PaymentMethodDoc {
    fn from(m: PaymentMethod) -> Self {
        match m {
            PaymentMethod::CreditCard => PaymentMethodDoc::CreditCard,
            PaymentMethod::EnterpriseAgreement => PaymentMethodDoc::EnterpriseAgreement,
        }
    }
}

impl From<PaymentMethodDoc> for PaymentMethod {
    fn from(m: PaymentMethodDoc) -> Self {
        match m {
            PaymentMethodDoc::CreditCard => PaymentMethod::CreditCard,
            PaymentMethodDoc::EnterpriseAgreement => PaymentMethod::EnterpriseAgreement,
        }
    }
}

/// The JSON Schema of the document (committed as schemas/plan.schema.json).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(PlanDocument)).expect("schemas serialize to JSON")
}
