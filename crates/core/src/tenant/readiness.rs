//! Calling readiness: whether a user can place a PSTN call now and, if not, the first thing
//! missing, in the order Microsoft has an admin set a user up (sources in docs/licensing.md,
//! "Calling readiness"): a license with Microsoft Teams, Teams Phone, a way to the phone
//! network (a calling plan, or a Direct Routing / Operator Connect number), a usage location
//! and a phone number, the user provisioned in Teams (Teams lists it, the number is
//! activated, enterprise voice is on), and for a pay-as-you-go calling plan Communications
//! Credits with money behind them (or post-paid billing).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::base::catalog::{Capabilities, Capability};
use crate::base::phone::NumberType;

use super::numbers::{NumberIndex, voice_capabilities};
use super::rules::{TenantIndex, holdings};
use super::snapshot::{BillingAccountType, Snapshot};

/// The first thing a user lacks to place a PSTN call, in the order they are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Missing {
    /// No license with Microsoft Teams (`TEAMS1` and its kin): Teams Phone works only
    /// inside Teams.
    TeamsLicense,
    /// No Teams Phone (a resource account's license counts for resource accounts only).
    TeamsPhone,
    /// Neither a calling plan nor a Direct Routing / Operator Connect number.
    CallingPlanOrDirectRouting,
    /// No usage location (no calling plan and no number can be given without one).
    UsageLocation,
    /// No phone number assigned.
    PhoneNumber,
    /// Teams does not list the user (no `teamsUserConfiguration`): not provisioned yet.
    TeamsProvisioning,
    /// The number is assigned but its `activationState` is not `activated`.
    NumberActivation,
    /// `isEnterpriseVoiceEnabled` is false.
    EnterpriseVoice,
    /// A pay-as-you-go calling plan without Communications Credits, or without money behind
    /// them (and not billed post-paid).
    Credits,
}

impl Missing {
    pub fn key(self) -> &'static str {
        match self {
            Missing::TeamsLicense => "teamsLicense",
            Missing::TeamsPhone => "teamsPhone",
            Missing::CallingPlanOrDirectRouting => "callingPlanOrDirectRouting",
            Missing::UsageLocation => "usageLocation",
            Missing::PhoneNumber => "phoneNumber",
            Missing::TeamsProvisioning => "teamsProvisioning",
            Missing::NumberActivation => "numberActivation",
            Missing::EnterpriseVoice => "enterpriseVoice",
            Missing::Credits => "credits",
        }
    }

    /// What is missing and what to do, in one sentence.
    pub fn explain(self) -> &'static str {
        match self {
            Missing::TeamsLicense => {
                "no license with Microsoft Teams: Teams Phone works only inside Teams; assign a license that includes Teams (e.g. Microsoft Teams Enterprise beside a \"(no Teams)\" suite)"
            }
            Missing::TeamsPhone => {
                "no Teams Phone: add phoneSystem (a resource account: PHONESYSTEM_VIRTUALUSER)"
            }
            Missing::CallingPlanOrDirectRouting => {
                "no calling plan and no Direct Routing or Operator Connect number: add a calling plan, or declare a directRouting/operatorConnect phoneNumber"
            }
            Missing::UsageLocation => {
                "no usage location: set usageLocation (calling plans and numbers depend on it)"
            }
            Missing::PhoneNumber => "no phone number assigned: declare phoneNumber and apply",
            Missing::TeamsProvisioning => {
                "not provisioned in Teams yet (Teams lists no configuration for the user): Microsoft allows up to 24 hours after licensing"
            }
            Missing::NumberActivation => {
                "the number is assigned but not activated yet (activationState): wait, or check the order in the Teams admin center"
            }
            Missing::EnterpriseVoice => {
                "enterprise voice is off (isEnterpriseVoiceEnabled: false): assigning the number (commcred apply, or Set-CsPhoneNumberAssignment) turns it on"
            }
            Missing::Credits => {
                "a pay-as-you-go calling plan with no Communications Credits to pay its calls: add communicationsCredits to the user and fund the account (or bill post-paid)"
            }
        }
    }
}

/// One user's readiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The user's number, if it has one.
    pub phone_number: Option<String>,
    pub missing: Option<Missing>,
}

/// What the user's licenses give now, and whether one of them includes Teams.
fn licensed(snapshot: &Snapshot, index: &TenantIndex, user: usize) -> (Capabilities, bool) {
    let held = holdings(&snapshot.users[user], snapshot, index);
    let caps = held
        .iter()
        .fold(Capabilities::default(), |acc, h| acc.union(h.capabilities));
    let teams = held
        .iter()
        .any(|h| h.teams && h.paths.iter().any(|p| p.provides()));
    (caps, teams)
}

/// Whether the user can be meant to call: it holds Teams Phone or a calling plan now.
pub fn holds_calling(snapshot: &Snapshot, index: &TenantIndex, user: usize) -> bool {
    let (caps, _) = licensed(snapshot, index, user);
    caps.has(Capability::TeamsPhone) || caps.calling_plan()
}

/// Whether `user` can place a PSTN call now, and the first thing missing if not.
pub fn readiness(
    snapshot: &Snapshot,
    index: &TenantIndex,
    numbers: &NumberIndex,
    user: usize,
    now: DateTime<Utc>,
) -> Readiness {
    let u = &snapshot.users[user];
    let config = numbers
        .config(&u.id)
        .map(|c| &snapshot.user_configurations[c]);
    let number = numbers
        .of_target(&u.id)
        .first()
        .map(|&n| &snapshot.number_assignments[n]);
    let (caps, teams) = licensed(snapshot, index, user);
    let resource = config.is_some_and(|c| c.is_resource_account());
    let voice = voice_capabilities(caps, resource);
    let own_routing = number
        .and_then(|n| n.kind())
        .is_some_and(|k| k != NumberType::CallingPlan);
    let checks = [
        (Missing::TeamsLicense, teams || resource),
        (Missing::TeamsPhone, voice.has(Capability::TeamsPhone)),
        (
            Missing::CallingPlanOrDirectRouting,
            voice.calling_plan() || own_routing,
        ),
        (
            Missing::UsageLocation,
            u.usage_location.as_deref().is_some_and(|l| !l.is_empty()),
        ),
        (Missing::PhoneNumber, number.is_some()),
        (Missing::TeamsProvisioning, config.is_some()),
        (
            Missing::NumberActivation,
            number.is_some_and(|n| n.is_activated()),
        ),
        (
            Missing::EnterpriseVoice,
            config.is_some_and(|c| c.is_enterprise_voice_enabled),
        ),
        (
            Missing::Credits,
            paid_for(snapshot, voice, own_routing, now),
        ),
    ];
    Readiness {
        phone_number: number.map(|n| n.telephone_number.clone()),
        missing: checks.into_iter().find(|(_, ok)| !ok).map(|(m, _)| m),
    }
}

/// Calls are paid for: only a pay-as-you-go calling plan's calls are paid from
/// Communications Credits (docs/credits.md), which need the credits license and money in
/// the account, or post-paid billing (a Microsoft Customer Agreement). A user calling
/// through Direct Routing or Operator Connect pays its carrier.
fn paid_for(
    snapshot: &Snapshot,
    voice: Capabilities,
    own_routing: bool,
    now: DateTime<Utc>,
) -> bool {
    if own_routing || !voice.has(Capability::PayAsYouGoCallingPlan) {
        return true;
    }
    if !voice.credits() {
        return false;
    }
    match &snapshot.communications_credits {
        Some(a) if a.billing_account_type == BillingAccountType::Mca => true,
        Some(a) => !super::credits::usable_balance(a, now).is_zero(),
        None => false,
    }
}
