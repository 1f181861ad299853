//! The diagnostic codes of the planner's problems and warnings: one variant per problem, spelled once, in
//! [`Code::as_str`] (docs/diagnostics.md lists each with its fix; a test checks it).

/// A stable code, `commcred::plan::<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    TenantMismatch,
    SwapsUnorderable,
    SeatShortfall,
    UsageLocationMissing,
    PrerequisiteMissing,
    NeedsCredits,
    AssignmentFailed,
    UserNotFound,
    CreditsUnfunded,
    SkuNotForUsers,
    AmbiguousLicense,
    SkuNotSubscribed,
    GroupNotFound,
    AmbiguousGroup,
    UnknownServicePlan,
    CreditsNotSetUp,
    CurrencyMismatch,
    FundingNotPossible,
    Failed,
}

impl Code {
    /// Every code, for the test that each is unique and documented.
    pub const ALL: [Code; 19] = [
        Code::TenantMismatch,
        Code::SwapsUnorderable,
        Code::SeatShortfall,
        Code::UsageLocationMissing,
        Code::PrerequisiteMissing,
        Code::NeedsCredits,
        Code::AssignmentFailed,
        Code::UserNotFound,
        Code::CreditsUnfunded,
        Code::SkuNotForUsers,
        Code::AmbiguousLicense,
        Code::SkuNotSubscribed,
        Code::GroupNotFound,
        Code::AmbiguousGroup,
        Code::UnknownServicePlan,
        Code::CreditsNotSetUp,
        Code::CurrencyMismatch,
        Code::FundingNotPossible,
        Code::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::TenantMismatch => "commcred::plan::tenant_mismatch",
            Code::SwapsUnorderable => "commcred::plan::swaps_unorderable",
            Code::SeatShortfall => "commcred::plan::seat_shortfall",
            Code::UsageLocationMissing => "commcred::plan::usage_location_missing",
            Code::PrerequisiteMissing => "commcred::plan::prerequisite_missing",
            Code::NeedsCredits => "commcred::plan::needs_credits",
            Code::AssignmentFailed => "commcred::plan::assignment_failed",
            Code::UserNotFound => "commcred::plan::user_not_found",
            Code::CreditsUnfunded => "commcred::plan::credits_unfunded",
            Code::SkuNotForUsers => "commcred::plan::sku_not_for_users",
            Code::AmbiguousLicense => "commcred::plan::ambiguous_license",
            Code::SkuNotSubscribed => "commcred::plan::sku_not_subscribed",
            Code::GroupNotFound => "commcred::plan::group_not_found",
            Code::AmbiguousGroup => "commcred::plan::ambiguous_group",
            Code::UnknownServicePlan => "commcred::plan::unknown_service_plan",
            Code::CreditsNotSetUp => "commcred::plan::credits_not_set_up",
            Code::CurrencyMismatch => "commcred::plan::currency_mismatch",
            Code::FundingNotPossible => "commcred::plan::funding_not_possible",
            Code::Failed => "commcred::plan::failed",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
