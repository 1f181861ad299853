//! The Graph resources the emulator serves: `organization`, `subscribedSkus` and `users`
//! (list with `$select`/`$top`/`$skiptoken`, get, PATCH, `assignLicense`). Every change goes
//! through the tenant model's own rules (`Snapshot::set_usage_location`,
//! `Snapshot::assign_license`): the emulator adds the wire format, not a second rule book.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use commcred::tenant::{RuleError, Snapshot, TenantIndex, User};

use super::error::{GraphResponse, RequestIds};
use super::refusals;
use super::state::AppState;

/// Graph's `user` properties that `$select` accepts (v1.0), in Graph's spelling.
const USER_PROPERTIES: &[&str] = &[
    "aboutMe",
    "accountEnabled",
    "ageGroup",
    "assignedLicenses",
    "assignedPlans",
    "birthday",
    "businessPhones",
    "city",
    "companyName",
    "consentProvidedForMinor",
    "country",
    "createdDateTime",
    "creationType",
    "deletedDateTime",
    "department",
    "displayName",
    "employeeHireDate",
    "employeeId",
    "employeeLeaveDateTime",
    "employeeType",
    "externalUserState",
    "faxNumber",
    "givenName",
    "hireDate",
    "id",
    "identities",
    "imAddresses",
    "interests",
    "isResourceAccount",
    "jobTitle",
    "lastPasswordChangeDateTime",
    "legalAgeGroupClassification",
    "licenseAssignmentStates",
    "mail",
    "mailNickname",
    "mobilePhone",
    "mySite",
    "officeLocation",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesImmutableId",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "onPremisesUserPrincipalName",
    "otherMails",
    "passwordPolicies",
    "pastProjects",
    "postalCode",
    "preferredDataLocation",
    "preferredLanguage",
    "preferredName",
    "provisionedPlans",
    "proxyAddresses",
    "responsibilities",
    "schools",
    "securityIdentifier",
    "showInAddressList",
    "skills",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
];

/// What Graph returns for a user without `$select`.
const DEFAULT_USER_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// Properties a PATCH cannot set.
const READ_ONLY: &[&str] = &[
    "id",
    "assignedLicenses",
    "assignedPlans",
    "licenseAssignmentStates",
    "provisionedPlans",
    "createdDateTime",
    "deletedDateTime",
];

pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 999;

pub(super) fn rule_error(e: &RuleError, ids: &RequestIds) -> GraphResponse {
    let status = match e.graph_code() {
        "Request_ResourceNotFound" => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    GraphResponse::error(status, e.graph_code(), e.message.clone(), ids)
}

pub(super) fn not_found(id: &str, ids: &RequestIds) -> GraphResponse {
    refusals::user_not_found(id, ids)
}

/// A user is addressed by id or by userPrincipalName, as in Graph.
pub(super) fn find_user(snapshot: &Snapshot, index: &TenantIndex, key: &str) -> Option<usize> {
    index
        .user_by_id(key)
        .or_else(|| index.user_by_upn(key))
        .filter(|&i| i < snapshot.users.len())
}

/// The user as Graph shows it. Graph always has `licenseAssignmentStates`; a snapshot may
/// omit them (every assignment direct, SPEC §4), so they are derived in that case.
pub fn user_json(user: &User) -> Map<String, Value> {
    let mut obj = match serde_json::to_value(user) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    if user.license_assignment_states.is_none() {
        let states: Vec<Value> = user
            .assigned_licenses
            .iter()
            .map(|a| {
                json!({
                    "disabledPlans": a.disabled_plans,
                    "skuId": a.sku_id,
                    "assignedByGroup": null,
                    "state": "Active",
                    "error": "None",
                })
            })
            .collect();
        obj.insert("licenseAssignmentStates".into(), Value::Array(states));
    }
    // Graph has `accountEnabled` on every user; a snapshot that leaves it out means enabled.
    if user.account_enabled.is_none() {
        obj.insert("accountEnabled".into(), Value::Bool(true));
    }
    // A collection is never null in Graph: "List users" shows `"businessPhones": []` for a
    // user without one.
    obj.entry("businessPhones").or_insert_with(|| json!([]));
    obj
}

/// Parses `$select` into Graph's spelling of each property (case-insensitive, as Graph).
pub(super) fn parse_select(
    select: Option<&str>,
    ids: &RequestIds,
) -> Result<Vec<String>, GraphResponse> {
    let Some(select) = select else {
        return Ok(DEFAULT_USER_PROPERTIES
            .iter()
            .map(|s| s.to_string())
            .collect());
    };
    let mut out = Vec::new();
    for name in select.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match USER_PROPERTIES
            .iter()
            .find(|p| p.eq_ignore_ascii_case(name))
        {
            Some(p) => out.push(p.to_string()),
            None => {
                return Err(GraphResponse::bad_request(
                    "Request_BadRequest",
                    format!(
                        "Could not find a property named '{name}' on type 'microsoft.graph.user'."
                    ),
                    ids,
                ));
            }
        }
    }
    Ok(out)
}

pub(super) fn project(user: &User, select: &[String]) -> Value {
    let full = user_json(user);
    let mut out = Map::new();
    for name in select {
        let value = full
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or(Value::Null, |(_, v)| v.clone());
        out.insert(name.clone(), value);
    }
    Value::Object(out)
}

/// `GET /organization`, with `$select` as Graph answers it: only the properties named
/// (any case), the others left out ("List organization"; Microsoft's example there).
pub fn organization(state: &AppState, query: &Query) -> GraphResponse {
    let org = state.store.read(|s, _| {
        let mut org = Map::new();
        org.insert("id".into(), Value::String(s.tenant.id.clone()));
        org.insert(
            "displayName".into(),
            s.tenant
                .extra
                .get("displayName")
                .cloned()
                .unwrap_or_else(|| Value::String(s.tenant.domain.clone())),
        );
        org.insert("verifiedDomains".into(), verified_domains(s));
        for (k, v) in &s.tenant.extra {
            org.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if let Some(select) = query_value(query, "$select") {
            let names: Vec<&str> = select.split(',').map(str::trim).collect();
            org.retain(|k, _| names.iter().any(|n| n.eq_ignore_ascii_case(k)));
        }
        Value::Object(org)
    });
    GraphResponse::json(
        StatusCode::OK,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#organization", state.base_url),
            "value": [org],
        }),
    )
}

/// The snapshot's own `verifiedDomains` when it has them; otherwise the initial
/// `*.onmicrosoft.com` domain plus every domain the users' UPNs use.
pub fn verified_domains(s: &Snapshot) -> Value {
    if let Some(v @ Value::Array(_)) = s.tenant.extra.get("verifiedDomains") {
        return v.clone();
    }
    let mut others: Vec<String> = Vec::new();
    for u in &s.users {
        if let Some((_, d)) = u.user_principal_name.rsplit_once('@') {
            let d = d.to_ascii_lowercase();
            if !d.eq_ignore_ascii_case(&s.tenant.domain) && !others.contains(&d) {
                others.push(d);
            }
        }
    }
    let mut domains = vec![json!({
        "capabilities": "Email, OfficeCommunicationsOnline",
        "isDefault": others.is_empty(),
        "isInitial": true,
        "name": s.tenant.domain,
        "type": "Managed",
    })];
    for (n, d) in others.iter().enumerate() {
        domains.push(json!({
            "capabilities": "Email, OfficeCommunicationsOnline",
            "isDefault": n == 0,
            "isInitial": false,
            "name": d,
            "type": "Managed",
        }));
    }
    Value::Array(domains)
}

pub fn subscribed_skus(state: &AppState) -> GraphResponse {
    let skus: Vec<Value> = state.store.read(|s, _| {
        s.subscribed_skus
            .iter()
            .map(|sku| {
                let mut v = serde_json::to_value(sku).unwrap_or(Value::Null);
                if let Value::Object(o) = &mut v {
                    sku_defaults(o, s, &sku.applies_to);
                }
                v
            })
            .collect()
    });
    GraphResponse::json(
        StatusCode::OK,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#subscribedSkus", state.base_url),
            "value": skus,
        }),
    )
}

/// The properties Microsoft's "List subscribedSkus" example shows that a snapshot may leave
/// out, filled as Graph would: `id` is `{tenant id}_{skuId}` (the example's ids),
/// `accountId`/`accountName` the tenant's own when the snapshot names no billing account,
/// `subscriptionIds` none known, and each service plan `provisioningStatus` `Success` and
/// the SKU's `appliesTo`. The snapshot's own values win.
fn sku_defaults(o: &mut Map<String, Value>, s: &Snapshot, applies_to: &str) {
    let sku_id = o
        .get("skuId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    o.entry("id")
        .or_insert_with(|| format!("{}_{}", s.tenant.id, sku_id).into());
    o.entry("accountId")
        .or_insert_with(|| s.tenant.id.clone().into());
    o.entry("accountName").or_insert_with(|| {
        s.tenant
            .extra
            .get("displayName")
            .cloned()
            .unwrap_or_else(|| s.tenant.domain.clone().into())
    });
    o.entry("subscriptionIds").or_insert_with(|| json!([]));
    if let Some(Value::Array(plans)) = o.get_mut("servicePlans") {
        for plan in plans.iter_mut().filter_map(Value::as_object_mut) {
            plan.entry("provisioningStatus")
                .or_insert_with(|| "Success".into());
            plan.entry("appliesTo").or_insert_with(|| applies_to.into());
        }
    }
}

/// The query options of a request, with Graph's names (`$top`, ...).
pub type Query = Vec<(String, String)>;

pub(super) fn query_value<'a>(query: &'a Query, name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub fn get_user(state: &AppState, key: &str, query: &Query, ids: &RequestIds) -> GraphResponse {
    let select = match parse_select(query_value(query, "$select"), ids) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let user = state
        .store
        .read(|s, index| find_user(s, index, key).map(|i| project(&s.users[i], &select)));
    match user {
        Some(Value::Object(mut o)) => {
            let mut body = Map::new();
            body.insert(
                "@odata.context".into(),
                Value::String(format!("{}/v1.0/$metadata#users/$entity", state.base_url)),
            );
            body.append(&mut o);
            GraphResponse::json(StatusCode::OK, Value::Object(body))
        }
        _ => refusals::user_not_found(key, ids),
    }
}

/// What a change did, for the statistics that tests check exactly-once delivery with.
pub struct WriteOutcome {
    pub response: GraphResponse,
    /// The user's id, when the request changed it.
    pub changed_user: Option<String>,
    /// True when the write was accepted but found nothing to change (a repeat).
    pub noop: bool,
}

impl WriteOutcome {
    pub(super) fn failed(response: GraphResponse) -> (WriteOutcome, bool) {
        (
            WriteOutcome {
                response,
                changed_user: None,
                noop: false,
            },
            false,
        )
    }
}

/// `PATCH /users/{id}`: `usageLocation` through the rules; other known properties are kept
/// as they are sent; read-only or unknown properties are refused. All or nothing.
// Long: every field of the body is checked in turn under the store's lock, before anything
// changes, so that a refused field leaves the user as it was.
pub fn patch_user(
    state: &AppState,
    key: &str,
    body: Option<&Value>,
    ids: &RequestIds,
) -> (WriteOutcome, Option<u64>) {
    let Some(Value::Object(fields)) = body else {
        return (
            WriteOutcome::failed(GraphResponse::bad_request(
                "BadRequest",
                "Empty Payload. JSON content expected.",
                ids,
            ))
            .0,
            None,
        );
    };
    state.store.write(|s, index| {
        let Some(i) = find_user(s, index, key) else {
            return WriteOutcome::failed(refusals::user_not_found(key, ids));
        };
        let mut extras = Vec::new();
        let mut location: Option<Option<String>> = None;
        for (name, value) in fields {
            if name.starts_with("@odata.") {
                // Graph accepts OData annotations in a body; a type must be the user's own.
                if name == "@odata.type" && !is_user_type(value) {
                    return WriteOutcome::failed(GraphResponse::bad_request(
                        "BadRequest",
                        format!("A type named '{}' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", value.as_str().unwrap_or_default().trim_start_matches('#')),
                        ids,
                    ));
                }
                continue;
            }
            if name.eq_ignore_ascii_case("usageLocation") {
                match value {
                    Value::Null => location = Some(None),
                    Value::String(l) => location = Some(Some(l.clone())),
                    _ => {
                        return WriteOutcome::failed(GraphResponse::bad_request(
                            "Request_BadRequest",
                            "Invalid value specified for property 'usageLocation' of resource 'User'.",
                            ids,
                        ));
                    }
                }
            } else if READ_ONLY.iter().any(|p| p.eq_ignore_ascii_case(name)) {
                return WriteOutcome::failed(GraphResponse::bad_request(
                    "Request_BadRequest",
                    format!("Property '{name}' is read-only and cannot be set."),
                    ids,
                ));
            } else if name.eq_ignore_ascii_case("userPrincipalName") {
                return WriteOutcome::failed(GraphResponse::bad_request(
                    "Request_BadRequest",
                    "The emulator does not support renaming users (userPrincipalName).",
                    ids,
                ));
            } else if let Some(p) = USER_PROPERTIES.iter().find(|p| p.eq_ignore_ascii_case(name)) {
                extras.push((p.to_string(), value.clone()));
            } else {
                return WriteOutcome::failed(GraphResponse::bad_request(
                    "Request_BadRequest",
                    format!(
                        "Property '{name}' does not exist as a declared property or extension property."
                    ),
                    ids,
                ));
            }
        }
        let before = s.users[i].clone();
        if let Some(loc) = &location
            && s.set_usage_location(i, loc.as_deref()).is_err()
        {
            return WriteOutcome::failed(refusals::usage_location(ids));
        }
        for (name, value) in extras {
            s.users[i].extra.insert(name, value);
        }
        let changed = s.users[i] != before;
        (
            WriteOutcome {
                response: GraphResponse::no_content(),
                changed_user: changed.then(|| s.users[i].id.clone()),
                noop: !changed,
            },
            changed,
        )
    })
}

/// `#microsoft.graph.user` (the form Graph documents) or `microsoft.graph.user`.
fn is_user_type(value: &Value) -> bool {
    value.as_str().is_some_and(|t| {
        t.trim_start_matches('#')
            .eq_ignore_ascii_case("microsoft.graph.user")
    })
}

fn missing_parameters(missing: &[&str], ids: &RequestIds) -> GraphResponse {
    GraphResponse::bad_request(
        "Request_BadRequest",
        format!(
            "One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: {}.",
            missing.join(", ")
        ),
        ids,
    )
}

struct AddLicense {
    sku_id: String,
    disabled_plans: Option<Vec<String>>,
}

fn parse_assign(
    body: Option<&Value>,
    ids: &RequestIds,
) -> Result<(Vec<AddLicense>, Vec<String>), GraphResponse> {
    let fields = match body {
        Some(Value::Object(o)) => o,
        _ => return Err(missing_parameters(&["addLicenses", "removeLicenses"], ids)),
    };
    let present = |name: &str| fields.get(name).filter(|v| !v.is_null());
    let (add, remove) = match (present("addLicenses"), present("removeLicenses")) {
        (Some(a), Some(r)) => (a, r),
        (None, Some(_)) => return Err(missing_parameters(&["addLicenses"], ids)),
        (Some(_), None) => return Err(missing_parameters(&["removeLicenses"], ids)),
        (None, None) => return Err(missing_parameters(&["addLicenses", "removeLicenses"], ids)),
    };
    let malformed = |what: &str| {
        GraphResponse::bad_request(
            "Request_BadRequest",
            format!("Invalid value for '{what}' in the 'assignLicense' payload."),
            ids,
        )
    };
    let mut adds = Vec::new();
    for item in add.as_array().ok_or_else(|| malformed("addLicenses"))? {
        let sku_id = item
            .get("skuId")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("addLicenses.skuId"))?;
        let disabled_plans = match item.get("disabledPlans") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|p| p.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| malformed("addLicenses.disabledPlans"))?,
            ),
            Some(_) => return Err(malformed("addLicenses.disabledPlans")),
        };
        adds.push(AddLicense {
            sku_id: sku_id.to_string(),
            disabled_plans,
        });
    }
    let removes = remove
        .as_array()
        .ok_or_else(|| malformed("removeLicenses"))?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| malformed("removeLicenses"))?;
    Ok((adds, removes))
}

/// `POST /users/{id}/assignLicense`: adds and removes together, all or nothing, with the
/// tenant model's checks. Adding a SKU the user already holds directly is a no-op, as on
/// Graph, so repeating a request that did go through is harmless.
pub fn assign_license(
    state: &AppState,
    key: &str,
    body: Option<&Value>,
    ids: &RequestIds,
) -> (WriteOutcome, Option<u64>) {
    let (adds, removes) = match parse_assign(body, ids) {
        Ok(p) => p,
        Err(e) => return (WriteOutcome::failed(e).0, None),
    };
    let base_url = state.base_url.clone();
    state.store.write(|s, index| {
        let Some(i) = find_user(s, index, key) else {
            return WriteOutcome::failed(refusals::user_not_found(key, ids));
        };
        // Disabled plans must belong to the SKU; checked before anything changes.
        for add in &adds {
            let (Some(plans), Some(sku)) = (&add.disabled_plans, index.sku(&add.sku_id)) else {
                continue;
            };
            let sku = &s.subscribed_skus[sku];
            if let Some(bad) = plans.iter().find(|p| {
                !sku.service_plans
                    .iter()
                    .any(|sp| sp.service_plan_id.eq_ignore_ascii_case(p))
            }) {
                return WriteOutcome::failed(GraphResponse::bad_request(
                    "Request_BadRequest",
                    format!(
                        "Subscription {} does not have a service plan with id {bad}.",
                        sku.sku_part_number
                    ),
                    ids,
                ));
            }
        }
        let before = s.users[i].clone();
        let add_ids: Vec<String> = adds.iter().map(|a| a.sku_id.clone()).collect();
        if let Err(e) = s.assign_license(index, i, &add_ids, &removes) {
            let request = refusals::LicenseRequest {
                user: i,
                add: &add_ids,
                remove: &removes,
            };
            return WriteOutcome::failed(refusals::assign_license(&e, s, index, &request, ids));
        }
        // On Graph, assignLicense with an assigned SKU is also how disabled plans change.
        for add in &adds {
            if let Some(plans) = &add.disabled_plans
                && let Some(a) = s.users[i]
                    .assigned_licenses
                    .iter_mut()
                    .find(|a| a.sku_id.eq_ignore_ascii_case(&add.sku_id))
            {
                a.disabled_plans = plans.clone();
            }
        }
        let changed = s.users[i] != before;
        let mut body = Map::new();
        body.insert(
            "@odata.context".into(),
            Value::String(format!("{base_url}/v1.0/$metadata#users/$entity")),
        );
        let select: Vec<String> = DEFAULT_USER_PROPERTIES
            .iter()
            .map(|p| p.to_string())
            .collect();
        if let Value::Object(mut o) = project(&s.users[i], &select) {
            body.append(&mut o);
        }
        (
            WriteOutcome {
                response: GraphResponse::json(StatusCode::OK, Value::Object(body)),
                changed_user: changed.then(|| s.users[i].id.clone()),
                noop: !changed,
            },
            changed,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_is_case_insensitive_and_strict() {
        let ids = RequestIds::new(None);
        assert_eq!(
            parse_select(Some("ID,usagelocation"), &ids).unwrap(),
            ["id", "usageLocation"]
        );
        assert!(parse_select(Some("id,shoeSize"), &ids).is_err());
    }
}
