//! The rules the planner enforces, each with a stable id. Every plan error or warning that
//! a rule produces is made here (`PlanRule::problem`, `PlanRule::warning`), so the list
//! below is the list of what the planner checks; README and docs/licensing.md list the
//! same ids, with each rule's Microsoft source, and a test (`tests/it/docs.rs`) keeps the
//! three equal.

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
    /// A friendly name no subscribed SKU sells: nothing is bought for users who already
    /// hold the capability (E5); the others are named.
    ProvidedNotBought,
    /// A group's calling plan needs Teams Phone in the same group.
    GroupPrerequisiteInGroup,
    /// A license inherited from a group is never removed from the user directly.
    GroupLicenseKept,
    /// Warning: an assignment in error gives nothing.
    AssignmentInError,
    /// Warning: pay-as-you-go / pay-per-minute without the Communications Credits license.
    NeedsCredits,
    /// Warning: credits licenses with no usable balance behind them.
    CreditsFunded,
    /// Warning: Teams Phone without Microsoft Teams.
    TeamsPhoneNeedsTeams,
}

impl PlanRule {
    pub const ALL: [PlanRule; 14] = [
        PlanRule::TenantMatches,
        PlanRule::UserExists,
        PlanRule::CallingPlanNeedsTeamsPhone,
        PlanRule::CreditsNeedAWayToCall,
        PlanRule::UsageLocationFirst,
        PlanRule::SeatsAvailable,
        PlanRule::UserSkusOnly,
        PlanRule::ProvidedNotBought,
        PlanRule::GroupPrerequisiteInGroup,
        PlanRule::GroupLicenseKept,
        PlanRule::AssignmentInError,
        PlanRule::NeedsCredits,
        PlanRule::CreditsFunded,
        PlanRule::TeamsPhoneNeedsTeams,
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
            PlanRule::ProvidedNotBought => "provided-not-bought",
            PlanRule::GroupPrerequisiteInGroup => "group-prerequisite-in-group",
            PlanRule::GroupLicenseKept => "group-license-kept",
            PlanRule::AssignmentInError => "assignment-in-error",
            PlanRule::NeedsCredits => "needs-credits",
            PlanRule::CreditsFunded => "credits-funded",
            PlanRule::TeamsPhoneNeedsTeams => "teams-phone-needs-teams",
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
