//! Group-based licensing on the emulator, from Graph's documentation:
//! - `GET /groups` and `GET /groups/{id}` ("List groups", "Get group"): `id`, `displayName`,
//!   `assignedLicenses` (`$select`, `$top` up to 999, `@odata.nextLink`);
//! - `GET /groups/{id}/members` and `/transitiveMembers`, optionally cast to
//!   `/microsoft.graph.user` ("List group members", "List group transitive members"), users
//!   with `$select` (e.g. `id,licenseAssignmentStates`);
//! - `POST /groups/{id}/assignLicense` ("group: assignLicense"): answers `202 Accepted` with the
//!   group; Entra ID then processes the members in the background. With
//!   `--group-processing-delay` the processing happens that long after the answer, so a
//!   client sees members "not yet processed" (no `licenseAssignmentStates` entry for the
//!   group yet) until then;
//! - `POST /users/{id}/reprocessLicenseAssignment` ("user: reprocessLicenseAssignment"):
//!   processes the user's group assignments again (at once) and answers 200 with the user.
//!
//! Processing itself is the tenant model's (`Snapshot::process_group_licenses`), the same code
//! the file backend runs.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use commcred::tenant::{AssignedLicense, Group, GroupRetry};

use super::error::{GraphResponse, RequestIds};
use super::resources::{
    Query, WriteOutcome, find_user, not_found, parse_select, project, query_value, rule_error,
};
use super::state::AppState;

const GROUP_PROPERTIES: &[&str] = &["id", "displayName", "assignedLicenses"];
const MAX_PAGE: usize = 999;
const DEFAULT_PAGE: usize = 100;

fn group_json(g: &Group, select: &[&str]) -> Value {
    let mut out = Map::new();
    for p in select {
        let v = match *p {
            "id" => json!(g.id),
            "displayName" => json!(g.display_name),
            "assignedLicenses" => json!(g.assigned_licenses),
            _ => continue,
        };
        out.insert((*p).to_string(), v);
    }
    Value::Object(out)
}

fn group_select(query: &Query, ids: &RequestIds) -> Result<Vec<&'static str>, GraphResponse> {
    let Some(text) = query_value(query, "$select") else {
        return Ok(GROUP_PROPERTIES.to_vec());
    };
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match GROUP_PROPERTIES
            .iter()
            .find(|p| p.eq_ignore_ascii_case(name))
        {
            Some(p) => out.push(*p),
            None => {
                return Err(GraphResponse::bad_request(
                    "Request_BadRequest",
                    format!(
                        "Could not find a property named '{name}' on type 'microsoft.graph.group'."
                    ),
                    ids,
                ));
            }
        }
    }
    Ok(out)
}

/// `$top` and the offset carried by `$skiptoken`.
fn paging(query: &Query, ids: &RequestIds) -> Result<(usize, usize), GraphResponse> {
    let top = match query_value(query, "$top") {
        None => DEFAULT_PAGE,
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(GraphResponse::bad_request(
                    "Request_UnsupportedQuery",
                    format!(
                        "Invalid page size specified: '{t}'. Must be between 1 and 999 inclusive."
                    ),
                    ids,
                ));
            }
        },
    };
    let offset = match query_value(query, "$skiptoken") {
        None => 0,
        Some(t) => t
            .strip_prefix("G")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                GraphResponse::bad_request(
                    "Request_UnsupportedQuery",
                    "The specified page token value has expired or is invalid.",
                    ids,
                )
            })?,
    };
    Ok((top, offset))
}

/// A page of `items` with Graph's `@odata.nextLink` when more follow.
fn page(
    state: &AppState,
    path: &str,
    query: &Query,
    items: Vec<Value>,
    total: usize,
    top: usize,
    offset: usize,
) -> GraphResponse {
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#{}",
            state.base_url,
            path.trim_start_matches('/')
        )),
    );
    if offset + top < total {
        let mut next = url::Url::parse(&format!("{}/v1.0{path}", state.base_url))
            .expect("the emulator's own URL parses");
        {
            let mut q = next.query_pairs_mut();
            if let Some(s) = query_value(query, "$select") {
                q.append_pair("$select", s);
            }
            q.append_pair("$top", &top.to_string());
            q.append_pair("$skiptoken", &format!("G{}", offset + top));
        }
        body.insert("@odata.nextLink".into(), json!(next.to_string()));
    }
    body.insert("value".into(), Value::Array(items));
    GraphResponse::json(StatusCode::OK, Value::Object(body))
}

fn list_groups(state: &AppState, query: &Query, ids: &RequestIds) -> GraphResponse {
    let select = match group_select(query, ids) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let (top, offset) = match paging(query, ids) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let (items, total) = state.store.read(|s, _| {
        let items = s
            .groups
            .iter()
            .skip(offset)
            .take(top)
            .map(|g| group_json(g, &select))
            .collect();
        (items, s.groups.len())
    });
    page(state, "/groups", query, items, total, top, offset)
}

fn get_group(state: &AppState, id: &str, query: &Query, ids: &RequestIds) -> GraphResponse {
    let select = match group_select(query, ids) {
        Ok(s) => s,
        Err(e) => return e,
    };
    match state
        .store
        .read(|s, _| s.group_by_id(id).map(|g| group_json(&s.groups[g], &select)))
    {
        Some(v) => GraphResponse::json(StatusCode::OK, v),
        None => not_found(id, ids),
    }
}

/// Members as users (the snapshot's members are user ids; nested groups are already
/// flattened, so `members` and `transitiveMembers` agree).
fn list_members(
    state: &AppState,
    id: &str,
    path: &str,
    query: &Query,
    ids: &RequestIds,
) -> GraphResponse {
    let select = match parse_select(query_value(query, "$select"), ids) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let (top, offset) = match paging(query, ids) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let found = state.store.read(|s, index| {
        let g = s.group_by_id(id)?;
        let members: Vec<usize> = s.groups[g]
            .members
            .iter()
            .filter_map(|m| index.user_by_id(m))
            .collect();
        let items: Vec<Value> = members
            .iter()
            .skip(offset)
            .take(top)
            .map(|&u| {
                let mut v = project(&s.users[u], &select);
                if let Value::Object(o) = &mut v {
                    o.insert("@odata.type".into(), json!("#microsoft.graph.user"));
                }
                v
            })
            .collect();
        Some((items, members.len()))
    });
    match found {
        Some((items, total)) => page(state, path, query, items, total, top, offset),
        None => not_found(id, ids),
    }
}

fn parse_assign(
    body: Option<&Value>,
    ids: &RequestIds,
) -> Result<(Vec<AssignedLicense>, Vec<String>), GraphResponse> {
    let bad = |what: &str| {
        GraphResponse::bad_request(
            "Request_BadRequest",
            format!("Invalid value for '{what}' in the 'assignLicense' payload."),
            ids,
        )
    };
    let Some(Value::Object(o)) = body else {
        return Err(GraphResponse::bad_request(
            "Request_BadRequest",
            "One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: addLicenses, removeLicenses.",
            ids,
        ));
    };
    let add: Vec<AssignedLicense> = match o.get("addLicenses") {
        Some(v @ Value::Array(_)) => {
            serde_json::from_value(v.clone()).map_err(|_| bad("addLicenses"))?
        }
        _ => return Err(bad("addLicenses")),
    };
    let remove: Vec<String> = match o.get("removeLicenses") {
        Some(v @ Value::Array(_)) => {
            serde_json::from_value(v.clone()).map_err(|_| bad("removeLicenses"))?
        }
        _ => return Err(bad("removeLicenses")),
    };
    Ok((add, remove))
}

/// `POST /groups/{id}/assignLicense`.
fn assign_license(
    state: &AppState,
    id: &str,
    body: Option<&Value>,
    ids: &RequestIds,
) -> (WriteOutcome, Option<u64>) {
    let (add, remove) = match parse_assign(body, ids) {
        Ok(p) => p,
        Err(e) => return (WriteOutcome::failed(e).0, None),
    };
    let delay = state.group_processing_delay;
    let (outcome, version) = state.store.write(|s, index| {
        let Some(g) = s.group_by_id(id) else {
            return WriteOutcome::failed(not_found(id, ids));
        };
        let changed = match s.set_group_licenses(index, g, &add, &remove) {
            Ok(changed) => changed,
            Err(e) => return WriteOutcome::failed(rule_error(&e, ids)),
        };
        let processed = delay.is_zero() && s.process_group_licenses(index, GroupRetry::Group(id));
        let body = group_json(&s.groups[g], GROUP_PROPERTIES);
        (
            WriteOutcome {
                response: GraphResponse::json(StatusCode::ACCEPTED, body),
                changed_user: None,
                noop: !changed,
            },
            changed || processed,
        )
    });
    if !delay.is_zero() && outcome.response.status.is_success() {
        let store = Arc::clone(&state.store);
        let id = id.to_string();
        // Entra ID processes the members in the background, after the answer.
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            store.write(|s, index| ((), s.process_group_licenses(index, GroupRetry::Group(&id))));
        });
    }
    (outcome, version)
}

/// `POST /users/{id}/reprocessLicenseAssignment`.
fn reprocess(state: &AppState, key: &str, ids: &RequestIds) -> (WriteOutcome, Option<u64>) {
    state.store.write(|s, index| {
        let Some(u) = find_user(s, index, key) else {
            return WriteOutcome::failed(not_found(key, ids));
        };
        let changed = s.process_group_licenses(index, GroupRetry::User(u));
        let select: Vec<String> = [
            "id",
            "userPrincipalName",
            "assignedLicenses",
            "licenseAssignmentStates",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        (
            WriteOutcome {
                response: GraphResponse::json(StatusCode::OK, project(&s.users[u], &select)),
                changed_user: changed.then(|| s.users[u].id.clone()),
                noop: !changed,
            },
            changed,
        )
    })
}

/// Routes the group resources and the reprocess action; `None` for anything else.
pub fn dispatch(
    state: &AppState,
    method: &Method,
    segs: &[&str],
    query: &Query,
    body: Option<&Value>,
    ids: &RequestIds,
) -> Option<(GraphResponse, Option<u64>, Option<WriteOutcome>)> {
    let read = |r: GraphResponse| Some((r, None, None));
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match (method.clone(), segs) {
        (Method::GET, ["groups"]) => read(list_groups(state, query, ids)),
        (Method::GET, ["groups", id]) => read(get_group(state, id, query, ids)),
        (Method::GET, ["groups", id, rel])
        | (Method::GET, ["groups", id, rel, "microsoft.graph.user"])
            if is(rel, "members") || is(rel, "transitiveMembers") =>
        {
            let path = format!("/groups/{id}/{rel}");
            read(list_members(state, id, &path, query, ids))
        }
        (Method::POST, ["groups", id, action]) if is(action, "assignLicense") => {
            let (outcome, version) = assign_license(state, id, body, ids);
            Some((outcome.response.clone(), version, Some(outcome)))
        }
        (Method::POST, ["users", id, action]) if is(action, "reprocessLicenseAssignment") => {
            let (outcome, version) = reprocess(state, id, ids);
            Some((outcome.response.clone(), version, Some(outcome)))
        }
        _ => None,
    }
}
