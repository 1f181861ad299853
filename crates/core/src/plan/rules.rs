//! The rules the planner enforces, each with a stable id. Every plan error or warning has a
//! code (`codes::Code`), and every code belongs to the rule that produces it
//! (`Code::rules`), so the list below is the list of what the planner checks; README and
//! docs/licensing.md list the same ids, with each rule's Microsoft source, and a test
//! (`tests/it/docs.rs`) keeps the three equal and checks that every code is produced.

use super::codes::Code;
use super::model::PlanWarning;
use super::problems::PlanProblem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlanRule {
    /// commcred.yaml's `tenant` is the live tenant's initial domain.
    TenantMatches,
    /// A listed user exists (commcred assigns licenses; it does not create accounts).
    UserExists,
    /// A calling plan needs Teams Phone in the user's state after the plan.
    CallingPlanNeedsTeamsPhone,
    /// The Communications Credits license needs audio conferencing, or Teams Phone with a
    /// calling plan.
    CreditsNeedAWayToCall,
    /// A usage location before any license.
    UsageLocationFirst,
    /// Seats: additions minus removals fit the free seats (swaps in an order Graph accepts).
    SeatsAvailable,
    /// Only SKUs with `appliesTo: User` go to users.
    UserSkusOnly,
    /// A license named by part number or id is one the tenant subscribes to.
    LicenseSubscribed,
    /// A friendly name matches one user SKU of the tenant (else the part number is asked for).
    LicenseNameUnambiguous,
    /// A friendly name no subscribed SKU sells: nothing is bought for users who already
    /// hold the capability (E5); the others are named.
    ProvidedNotBought,
    /// A group under `groups:` names exactly one group of the tenant.
    GroupExists,
    /// `disabledPlans` name service plans of the SKU.
    DisabledPlansExist,
    /// A group's calling plan needs Teams Phone in the same group.
    GroupPrerequisiteInGroup,
    /// A license inherited from a group is never removed from the user directly.
    GroupLicenseKept,
    /// `communicationsCredits` needs the tenant's credits account, in its currency.
    CreditsAccountMatches,
    /// `billingAccount` is the tenant's, and only a MOSA account buys credits.
    BillingAccountMatches,
    /// A user's number is in the tenant's number inventory.
    NumberInInventory,
    /// A number's `numberType` is the inventory's (written when it cannot be defaulted).
    NumberTypeMatches,
    /// A user's number has the `userAssignment` capability.
    NumberForUsers,
    /// A number is free, or its holder gives it up in the same plan.
    NumberFree,
    /// Every number needs Teams Phone on its user.
    NumberNeedsTeamsPhone,
    /// A Calling Plan number needs a calling plan on its user.
    NumberNeedsCallingPlan,
    /// A number's country is its user's usage location.
    NumberCountryMatches,
    /// A resource account holds the Teams Phone Resource Account license, not Teams Phone.
    ResourceAccountLicensed,
    /// Warning: an assignment in error gives nothing.
    AssignmentInError,
    /// Warning: pay-as-you-go / pay-per-minute without the Communications Credits license.
    NeedsCredits,
    /// Warning: credits licenses with no usable balance behind them.
    CreditsFunded,
    /// Warning: Teams Phone without Microsoft Teams.
    TeamsPhoneNeedsTeams,
    /// Warning: on an MCA or CSP account, how pay-as-you-go calls are billed instead of credits.
    CreditsByBillingAccount,
    /// Warning: a calling plan where Microsoft's country page says Calling Plans are not sold.
    CallingPlanSoldInCountry,
    /// Warning: the credits license where Microsoft's country page says credits are not offered.
    CreditsOfferedInCountry,
    /// Warning: GCC High / DoD audio conferencing user licenses without the tenant license.
    TenantLicensePresent,
    /// Warning: a Direct Routing or Operator Connect number on a user holding a calling plan.
    CallingPlanUsed,
    /// Warning: a price for a SKU the tenant does not have.
    PricesMatchTenant,
}

impl PlanRule {
    pub const ALL: [PlanRule; 34] = [
        PlanRule::TenantMatches,
        PlanRule::UserExists,
        PlanRule::CallingPlanNeedsTeamsPhone,
        PlanRule::CreditsNeedAWayToCall,
        PlanRule::UsageLocationFirst,
        PlanRule::SeatsAvailable,
        PlanRule::UserSkusOnly,
        PlanRule::LicenseSubscribed,
        PlanRule::LicenseNameUnambiguous,
        PlanRule::ProvidedNotBought,
        PlanRule::GroupExists,
        PlanRule::DisabledPlansExist,
        PlanRule::GroupPrerequisiteInGroup,
        PlanRule::GroupLicenseKept,
        PlanRule::CreditsAccountMatches,
        PlanRule::BillingAccountMatches,
        PlanRule::NumberInInventory,
        PlanRule::NumberTypeMatches,
        PlanRule::NumberForUsers,
        PlanRule::NumberFree,
        PlanRule::NumberNeedsTeamsPhone,
        PlanRule::NumberNeedsCallingPlan,
        PlanRule::NumberCountryMatches,
        PlanRule::ResourceAccountLicensed,
        PlanRule::AssignmentInError,
        PlanRule::NeedsCredits,
        PlanRule::CreditsFunded,
        PlanRule::TeamsPhoneNeedsTeams,
        PlanRule::CreditsByBillingAccount,
        PlanRule::CallingPlanSoldInCountry,
        PlanRule::CreditsOfferedInCountry,
        PlanRule::TenantLicensePresent,
        PlanRule::CallingPlanUsed,
        PlanRule::PricesMatchTenant,
    ];

    /// The stable id, as README and docs/licensing.md write it.
    pub fn id(self) -> &'static str {
        match self {
            PlanRule::TenantMatches => "tenant-matches",
            PlanRule::UserExists => "user-exists",
            PlanRule::CallingPlanNeedsTeamsPhone => "calling-plan-needs-teams-phone",
            PlanRule::CreditsNeedAWayToCall => "credits-need-a-way-to-call",
            PlanRule::UsageLocationFirst => "usage-location-first",
            PlanRule::SeatsAvailable => "seats-available",
            PlanRule::UserSkusOnly => "user-skus-only",
            PlanRule::LicenseSubscribed => "license-subscribed",
            PlanRule::LicenseNameUnambiguous => "license-name-unambiguous",
            PlanRule::ProvidedNotBought => "provided-not-bought",
            PlanRule::GroupExists => "group-exists",
            PlanRule::DisabledPlansExist => "disabled-plans-exist",
            PlanRule::GroupPrerequisiteInGroup => "group-prerequisite-in-group",
            PlanRule::GroupLicenseKept => "group-license-kept",
            PlanRule::CreditsAccountMatches => "credits-account-matches",
            PlanRule::BillingAccountMatches => "billing-account-matches",
            PlanRule::NumberInInventory => "number-in-inventory",
            PlanRule::NumberTypeMatches => "number-type-matches",
            PlanRule::NumberForUsers => "number-for-users",
            PlanRule::NumberFree => "number-free",
            PlanRule::NumberNeedsTeamsPhone => "number-needs-teams-phone",
            PlanRule::NumberNeedsCallingPlan => "number-needs-calling-plan",
            PlanRule::NumberCountryMatches => "number-country-matches",
            PlanRule::ResourceAccountLicensed => "resource-account-licensed",
            PlanRule::AssignmentInError => "assignment-in-error",
            PlanRule::NeedsCredits => "needs-credits",
            PlanRule::CreditsFunded => "credits-funded",
            PlanRule::TeamsPhoneNeedsTeams => "teams-phone-needs-teams",
            PlanRule::CreditsByBillingAccount => "credits-by-billing-account",
            PlanRule::CallingPlanSoldInCountry => "calling-plan-sold-in-country",
            PlanRule::CreditsOfferedInCountry => "credits-offered-in-country",
            PlanRule::TenantLicensePresent => "tenant-license-present",
            PlanRule::CallingPlanUsed => "calling-plan-used",
            PlanRule::PricesMatchTenant => "prices-match-tenant",
        }
    }

    /// True for the rules that warn (the plan still runs).
    pub fn warns(self) -> bool {
        matches!(
            self,
            PlanRule::AssignmentInError
                | PlanRule::NeedsCredits
                | PlanRule::CreditsFunded
                | PlanRule::TeamsPhoneNeedsTeams
                | PlanRule::CreditsByBillingAccount
                | PlanRule::CallingPlanSoldInCountry
                | PlanRule::CreditsOfferedInCountry
                | PlanRule::TenantLicensePresent
                | PlanRule::CallingPlanUsed
                | PlanRule::PricesMatchTenant
        )
    }

    /// A plan error of this rule.
    pub fn problem(
        self,
        code: Code,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> PlanProblem {
        debug_assert!(!self.warns(), "{} warns", self.id());
        PlanProblem::new(code.as_str(), message, help)
    }

    /// A note of this rule on a user's change (a rule that changes what is planned
    /// without stopping the plan).
    pub fn note(self, message: String) -> String {
        debug_assert!(!self.warns(), "{} warns", self.id());
        message
    }

    /// A plan warning of this rule.
    pub fn warning(self, code: Code, upn: Option<&str>, message: String) -> PlanWarning {
        debug_assert!(self.warns(), "{} is an error", self.id());
        PlanWarning {
            code: code.as_str().to_string(),
            upn: upn.map(str::to_string),
            message,
            assignment: None,
        }
    }
}
