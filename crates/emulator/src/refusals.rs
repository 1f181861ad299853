//! Graph's own status, code and message for each licensing refusal. The tenant model says
//! *which* rule a change breaks ([`RuleKind`]); this module says it the way Graph does,
//! with the ids Graph names. Every text, with its source, is listed in docs/graph.md
//! ("What Graph answers when it refuses a license change").

use axum::http::StatusCode;

use commcred::base::catalog::{Capability, catalog};
use commcred::tenant::{RuleError, RuleKind, ServicePlan, Snapshot, TenantIndex};

use super::error::{GraphResponse, RequestIds};

/// Teams Phone's service plan (MCOEV) in Microsoft's licensing table, named when a calling
/// plan lacks it and the tenant has no SKU carrying it.
const TEAMS_PHONE_PLAN_ID: &str = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7";

/// What an `assignLicense` asked for, to name the right ids in the refusal.
pub struct LicenseRequest<'a> {
    pub user: usize,
    pub add: &'a [String],
    pub remove: &'a [String],
}

/// `Resource '{id}' does not exist or one of its queried reference-property objects are not
/// present.` (404 `Request_ResourceNotFound`).
pub fn user_not_found(key: &str, ids: &RequestIds) -> GraphResponse {
    GraphResponse::error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!(
            "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
        ),
        ids,
    )
}

/// A refused `PATCH /users/{id}` of `usageLocation`.
pub fn usage_location(ids: &RequestIds) -> GraphResponse {
    GraphResponse::bad_request(
        "Request_BadRequest",
        "Invalid value specified for property 'usageLocation' of resource 'User'.",
        ids,
    )
}

/// A refused `assignLicense`, in Graph's words.
pub fn assign_license(
    e: &RuleError,
    s: &Snapshot,
    index: &TenantIndex,
    request: &LicenseRequest,
    ids: &RequestIds,
) -> GraphResponse {
    let message = match e.kind {
        RuleKind::UnknownUser => return user_not_found(&s.users[request.user].id, ids),
        RuleKind::MissingUsageLocation | RuleKind::InvalidUsageLocation => {
            "License assignment cannot be done for user with invalid usage location.".to_string()
        }
        RuleKind::NoLicensesAvailable => {
            let sku = request
                .add
                .iter()
                .find(|a| index.sku(a).is_some_and(|i| s.subscribed_skus[i].available_seats() < 1))
                .map_or("", String::as_str);
            format!("Subscription with SKU {sku} does not have any available licenses.")
        }
        RuleKind::UnknownSku => match request.add.iter().find(|a| index.sku(a).is_none()) {
            Some(sku) => format!("License {sku} does not correspond to a valid company License."),
            None => "User does not have a corresponding license.".to_string(),
        },
        RuleKind::GroupInherited => "User license is inherited from a group membership and it cannot be removed directly from the user.".to_string(),
        RuleKind::DependentServicePlan => {
            let mut required = tenant_plans(s, |c| c == Capability::TeamsPhone);
            if required.is_empty() {
                required.push(TEAMS_PHONE_PLAN_ID.to_string());
            }
            format!(
                "License assignment failed because service plan {} depends on the service plan(s) {}",
                plans_after(s, index, request, Capability::is_calling_plan).join(","),
                required.join(",")
            )
        }
        // No Microsoft source gives this text; the tenant model's own words are kept.
        RuleKind::NotApplicableToUser => e.message.clone(),
    };
    GraphResponse::bad_request("Request_BadRequest", message, ids)
}

/// Service plan ids whose capability is `wanted` in the SKUs the user would hold after the
/// request.
fn plans_after(
    s: &Snapshot,
    index: &TenantIndex,
    request: &LicenseRequest,
    wanted: fn(Capability) -> bool,
) -> Vec<String> {
    let user = &s.users[request.user];
    let mut skus: Vec<&str> = user
        .assigned_licenses
        .iter()
        .map(|a| a.sku_id.as_str())
        .filter(|id| !request.remove.iter().any(|r| r.eq_ignore_ascii_case(id)))
        .collect();
    skus.extend(request.add.iter().map(String::as_str));
    let plans = skus
        .iter()
        .filter_map(|id| index.sku(id))
        .flat_map(|sku| &s.subscribed_skus[sku].service_plans);
    plan_ids_with(plans, wanted)
}

/// Service plan ids whose capability is `wanted` anywhere in the tenant's subscriptions.
fn tenant_plans(s: &Snapshot, wanted: fn(Capability) -> bool) -> Vec<String> {
    plan_ids_with(
        s.subscribed_skus.iter().flat_map(|k| &k.service_plans),
        wanted,
    )
}

/// The ids of `plans` whose capability is `wanted`, once each, in order.
fn plan_ids_with<'a>(
    plans: impl Iterator<Item = &'a ServicePlan>,
    wanted: fn(Capability) -> bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for plan in plans {
        if catalog()
            .capability_of(&plan.service_plan_name)
            .is_some_and(wanted)
            && !out.contains(&plan.service_plan_id)
        {
            out.push(plan.service_plan_id.clone());
        }
    }
    out
}
