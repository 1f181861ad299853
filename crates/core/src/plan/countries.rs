//! Warnings from Microsoft's country availability table (`tenant::countries`): a Calling
//! Plan planned for a user whose usage location is a country where Microsoft's page says
//! Calling Plans are not sold, and a Communications Credits license planned where it says
//! credits are not available. Warnings, not refusals: the pages say where the products can be
//! *purchased*, not that Graph refuses the assignment, and the page versions read may lag
//! Microsoft's current offer (docs/licensing.md, "Departures").

use crate::tenant::TenantIndex;
use crate::tenant::countries::availability;

use super::codes::Code;
use super::model::{PlanWarning, UserChange};

/// One warning per user and kind, for licenses this plan assigns. Linear in the changes.
pub fn country_warnings(index: &TenantIndex, users: &[UserChange]) -> Vec<PlanWarning> {
    let mut out = Vec::new();
    for change in users.iter().filter(|u| !u.add.is_empty()) {
        let location = change
            .usage_location
            .as_ref()
            .map(|l| l.to.as_str())
            .or(change.observed.usage_location.as_deref());
        let Some(page) = location.and_then(availability) else {
            continue;
        };
        let added = |wanted: fn(&crate::base::licenses::Capabilities) -> bool| {
            change.add.iter().find(|a| {
                index
                    .sku(&a.sku_id)
                    .is_some_and(|i| wanted(&index.capabilities_of_sku(i)))
            })
        };
        let read = format!(
            "Microsoft's \"Availability in {}\" page (read 2026-12-07, {}@{})",
            page.name,
            page.repository,
            &page.commit[..12]
        );
        if !page.calling_plans
            && let Some(plan) = added(|c| c.calling_plan())
        {
            out.push(PlanWarning {
                code: Code::CallingPlanNotSold.as_str().into(),
                upn: Some(change.upn.clone()),
                message: format!(
                    "{}: {} is planned with usage location {} ({}), but {read} says Calling Plans are not available to purchase there; a Calling Plan works in the country of the user's usage location, and Entra ID records ProhibitedInUsageLocationViolation for a license not allowed there. Use Direct Routing or Operator Connect for users in {}, or check the page for a newer answer",
                    change.upn,
                    plan.label(),
                    page.country,
                    page.name,
                    page.name
                ),
                assignment: None,
            });
        }
        if !page.communications_credits
            && let Some(credits) = added(|c| c.credits())
        {
            out.push(PlanWarning {
                code: Code::CreditsNotOffered.as_str().into(),
                upn: Some(change.upn.clone()),
                message: format!(
                    "{}: {} is planned with usage location {} ({}), but {read} says Communications Credits are not available there: the license may not be usable",
                    change.upn,
                    credits.label(),
                    page.country,
                    page.name
                ),
                assignment: None,
            });
        }
    }
    out
}
