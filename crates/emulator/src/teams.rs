//! Teams telephone number management and user configurations, as Graph v1.0 documents them
//! (pages read 2026-12-07, listed in docs/graph.md "Phone numbers"):
//!
//! - `GET /admin/teams/telephoneNumberManagement/numberAssignments` ("List
//!   numberAssignments"): `$filter` (`eq` clauses joined by `and`), `$top` (default 500, at
//!   most 1,000) and `$skip`;
//! - `POST .../numberAssignments/assignNumber` and `.../unassignNumber` ("Creates an
//!   asynchronous order"): `202 Accepted` with a `Location` of
//!   `.../telephoneNumberManagement/operations('{id}')`;
//! - `GET .../operations/{id}` (or `operations('{id}')`, the form `Location` holds): the
//!   `telephoneNumberLongRunningOperation`, `status` `notStarted`, `running`, `succeeded` or
//!   `failed`, with `numbers[]` of `{resourceLocation, status, statusDetail}`;
//! - `POST .../numberAssignments/updateNumber`: `200 OK`;
//! - `GET /admin/teams/userConfigurations` ("List userConfigurations").
//!
//! An order runs when it is first polled (that answer says `running`), so a caller always
//! sees it in progress before it ends. Its checks are Teams' rules from `tenant::numbers`;
//! a user Teams has not provisioned yet (see [`TeamsState::provisioning_delay`]) fails the
//! order until it is.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::error::{GraphResponse, RequestIds, new_guid};
use super::resources::{Query, query_value};
use super::state::AppState;
use commcred::base::catalog::Capabilities;
use commcred::base::phone::NumberType;
use commcred::tenant::NumberIndex;

const ROOT: &str = "/admin/teams/telephoneNumberManagement";
/// "Default number of results is 500 entries and maximum 1,000 entries allowed per query."
const DEFAULT_NUMBERS: usize = 500;
const MAX_NUMBERS: usize = 1_000;
/// `userConfigurations` pages (the page does not document a size; Graph's usual 100).
const CONFIG_PAGE: usize = 100;

/// The orders placed and when users were last licensed, shared by the handlers.
pub struct TeamsState {
    /// How long after its last license change (or after the emulator started, for a user
    /// Teams does not list) Teams takes to provision a user; an order for a user not
    /// provisioned yet fails. Zero: provisioned at once. Microsoft: "it can possibly take up
    /// to 24 hours for users to be enabled" ("Assign, change, or remove a phone number for a
    /// user").
    pub provisioning_delay: Duration,
    started: Instant,
    licensed_at: Mutex<HashMap<String, Instant>>,
    orders: Mutex<HashMap<String, Order>>,
}

#[derive(Debug, Clone)]
struct Order {
    kind: OrderKind,
    number: String,
    number_type: NumberType,
    created: chrono::DateTime<chrono::Utc>,
    /// `None` until the order has run.
    result: Option<Result<String, String>>,
}

#[derive(Debug, Clone)]
enum OrderKind {
    Assign { target: String },
    Unassign,
}

impl TeamsState {
    pub fn new(provisioning_delay: Duration) -> TeamsState {
        TeamsState {
            provisioning_delay,
            started: Instant::now(),
            licensed_at: Mutex::new(HashMap::new()),
            orders: Mutex::new(HashMap::new()),
        }
    }

    /// A user's licenses changed: Teams provisions it again from now.
    pub fn licensed(&self, user_id: &str) {
        self.licensed_at
            .lock()
            .expect("teams lock")
            .insert(user_id.to_ascii_lowercase(), Instant::now());
    }

    fn provisioned(&self, user_id: &str, listed: bool) -> bool {
        if self.provisioning_delay.is_zero() {
            return true;
        }
        let since = self
            .licensed_at
            .lock()
            .expect("teams lock")
            .get(&user_id.to_ascii_lowercase())
            .copied();
        let since = match since {
            Some(t) => t,
            None if listed => return true,
            None => self.started,
        };
        since.elapsed() >= self.provisioning_delay
    }
}

/// The roles each endpoint accepts, from its page's permissions table.
pub fn accepted(method: &Method, segs: &[&str]) -> Option<&'static [&'static str]> {
    const READ_NUMBERS: &[&str] = &[
        "TeamsTelephoneNumber.Read.All",
        "TeamsTelephoneNumber.ReadWrite.All",
    ];
    const WRITE_NUMBERS: &[&str] = &["TeamsTelephoneNumber.ReadWrite.All"];
    const READ_CONFIGS: &[&str] = &["TeamsUserConfiguration.Read.All"];
    match (method.clone(), segs) {
        (Method::GET, ["admin", "teams", "telephoneNumberManagement", ..]) => Some(READ_NUMBERS),
        (Method::POST, ["admin", "teams", "telephoneNumberManagement", ..]) => Some(WRITE_NUMBERS),
        (Method::GET, ["admin", "teams", "userConfigurations", ..]) => Some(READ_CONFIGS),
        _ => None,
    }
}

/// Serves the Teams administration paths; `None` for any other path.
pub fn dispatch(
    state: &AppState,
    method: &Method,
    segs: &[&str],
    query: &Query,
    body: Option<&Value>,
    ids: &RequestIds,
) -> Option<(GraphResponse, Option<u64>)> {
    let ["admin", "teams", rest @ ..] = segs else {
        return None;
    };
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    Some(match (method.clone(), rest) {
        (Method::GET, ["telephoneNumberManagement", "numberAssignments"]) => {
            (list_numbers(state, query, ids), None)
        }
        (Method::POST, ["telephoneNumberManagement", "numberAssignments", action])
            if is(action, "assignNumber") || is(action, "unassignNumber") =>
        {
            (
                place_order(state, is(action, "assignNumber"), body, ids),
                None,
            )
        }
        (Method::POST, ["telephoneNumberManagement", "numberAssignments", action])
            if is(action, "updateNumber") =>
        {
            update_number(state, body, ids)
        }
        (Method::GET, ["telephoneNumberManagement", "operations", id]) => poll(state, id, ids),
        (Method::GET, ["telephoneNumberManagement", op]) if op.starts_with("operations(") => {
            let id = op
                .trim_start_matches("operations(")
                .trim_end_matches(')')
                .trim_matches('\'');
            poll(state, id, ids)
        }
        (Method::GET, ["userConfigurations"]) => (list_configs(state, query, ids), None),
        (Method::GET, ["userConfigurations", id]) => (get_config(state, id, ids), None),
        _ => (
            GraphResponse::bad_request(
                "BadRequest",
                format!("Resource not found for the segment '{}'.", segs.join("/")),
                ids,
            ),
            None,
        ),
    })
}

/// One `eq` clause of `$filter` (`field eq 'value'`); several are joined by `and`.
fn filters(query: &Query, ids: &RequestIds) -> Result<Vec<(String, String)>, GraphResponse> {
    let Some(text) = query_value(query, "$filter") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for clause in text.split(" and ") {
        let parts: Vec<&str> = clause.trim().splitn(3, ' ').collect();
        match parts.as_slice() {
            [field, op, value] if op.eq_ignore_ascii_case("eq") => {
                if field.eq_ignore_ascii_case("id") || field.eq_ignore_ascii_case("city") {
                    return Err(unsupported_filter(field, ids));
                }
                let value = value
                    .trim()
                    .trim_matches(|c| c == '\'' || c == '‘' || c == '’');
                out.push((field.to_string(), value.to_string()));
            }
            _ => return Err(unsupported_filter(clause, ids)),
        }
    }
    Ok(out)
}

fn unsupported_filter(what: &str, ids: &RequestIds) -> GraphResponse {
    GraphResponse::bad_request(
        "BadRequest",
        format!("Invalid filter clause: '{what}' is not supported."),
        ids,
    )
}

fn list_numbers(state: &AppState, query: &Query, ids: &RequestIds) -> GraphResponse {
    let number = |name: &str, default: usize, max: usize| -> Result<usize, GraphResponse> {
        match query_value(query, name) {
            None => Ok(default),
            Some(t) => t.parse::<usize>().ok().filter(|n| *n <= max).ok_or_else(|| {
                GraphResponse::bad_request(
                    "BadRequest",
                    format!("Invalid value '{t}' for {name}: at most {max} entries are allowed per query."),
                    ids,
                )
            }),
        }
    };
    let (top, skip) = match (
        number("$top", DEFAULT_NUMBERS, MAX_NUMBERS),
        number("$skip", 0, usize::MAX),
    ) {
        (Ok(t), Ok(s)) => (t, s),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let clauses = match filters(query, ids) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let (items, more) = state.store.read(|s, _| {
        let matching = s.number_assignments.iter().filter(|n| {
            let value = serde_json::to_value(n).unwrap_or(Value::Null);
            clauses.iter().all(|(field, want)| {
                value
                    .as_object()
                    .and_then(|o| {
                        o.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(field))
                            .map(|(_, v)| v)
                    })
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(want))
            })
        });
        let mut page: Vec<Value> = matching
            .skip(skip)
            .take(top + 1)
            .map(|n| {
                let mut v = serde_json::to_value(n).unwrap_or(Value::Null);
                v["@odata.type"] = json!("#microsoft.graph.teamsAdministration.numberAssignment");
                v
            })
            .collect();
        let more = page.len() > top;
        page.truncate(top);
        (page, more)
    });
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#admin/teams/telephoneNumberManagement/numberAssignments",
            state.base_url
        )),
    );
    body.insert("value".into(), Value::Array(items));
    if more {
        let mut next = url::Url::parse(&format!("{}/v1.0{ROOT}/numberAssignments", state.base_url))
            .expect("the emulator's own URL parses");
        {
            let mut q = next.query_pairs_mut();
            if let Some(f) = query_value(query, "$filter") {
                q.append_pair("$filter", f);
            }
            q.append_pair("$top", &top.to_string());
            q.append_pair("$skip", &(skip + top).to_string());
        }
        body.insert("@odata.nextLink".into(), json!(next.to_string()));
    }
    GraphResponse::json(StatusCode::OK, Value::Object(body))
}

/// A mandatory string parameter of an action's body.
fn param<'b>(
    body: Option<&'b Value>,
    name: &str,
    ids: &RequestIds,
) -> Result<&'b str, GraphResponse> {
    body.and_then(|b| b.get(name))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            GraphResponse::bad_request(
                "BadRequest",
                format!("The parameter '{name}' is mandatory."),
                ids,
            )
        })
}

fn place_order(
    state: &AppState,
    assign: bool,
    body: Option<&Value>,
    ids: &RequestIds,
) -> GraphResponse {
    let number = match param(body, "telephoneNumber", ids) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let kind_text = match param(body, "numberType", ids) {
        Ok(k) => k,
        Err(e) => return e,
    };
    let Some(number_type) = NumberType::parse_any_case(kind_text) else {
        return GraphResponse::bad_request(
            "BadRequest",
            format!(
                "'{kind_text}' is not a valid numberType: use directRouting, callingPlan or operatorConnect."
            ),
            ids,
        );
    };
    let kind = if assign {
        match param(body, "assignmentTargetId", ids) {
            Ok(t) => OrderKind::Assign {
                target: t.to_string(),
            },
            Err(e) => return e,
        }
    } else {
        OrderKind::Unassign
    };
    let id = order_id(if assign { "Assignment" } else { "Unassignment" });
    state.teams.orders.lock().expect("teams lock").insert(
        id.clone(),
        Order {
            kind,
            number: number.to_string(),
            number_type,
            created: chrono::Utc::now(),
            result: None,
        },
    );
    GraphResponse {
        status: StatusCode::ACCEPTED,
        headers: Vec::new(),
        body: None,
    }
    .with_header(
        "Location",
        format!("{}/v1.0{ROOT}/operations('{id}')", state.base_url),
    )
}

/// An id in the shape of Graph's examples: base64 of `Assignment|<guid>`, unpadded.
fn order_id(kind: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(format!("{kind}|{}", new_guid()))
}

/// Polls an order: the first poll runs it and answers `running`; later polls answer its end.
fn poll(state: &AppState, id: &str, ids: &RequestIds) -> (GraphResponse, Option<u64>) {
    let order = state
        .teams
        .orders
        .lock()
        .expect("teams lock")
        .get(id)
        .cloned();
    let Some(mut order) = order else {
        return (
            GraphResponse::error(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("Operation '{id}' is not found."),
                ids,
            ),
            None,
        );
    };
    let mut version = None;
    let status = match &order.result {
        None => {
            let (result, v) = run(state, &order);
            version = v;
            order.result = Some(result);
            state
                .teams
                .orders
                .lock()
                .expect("teams lock")
                .insert(id.to_string(), order.clone());
            "running"
        }
        Some(Ok(_)) => "succeeded",
        Some(Err(_)) => "failed",
    };
    let detail = match (&order.result, status) {
        (Some(Ok(location)), "succeeded") => {
            json!({"resourceLocation": location, "status": "succeeded"})
        }
        (Some(Err(why)), "failed") => {
            json!({"resourceLocation": null, "status": "failed", "statusDetail": why})
        }
        _ => json!({"resourceLocation": null, "status": "running"}),
    };
    let body = json!({"value": {
        "@odata.type": "#microsoft.graph.teamsAdministration.telephoneNumberLongRunningOperation",
        "id": id,
        "createdDateTime": order.created.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "status": status,
        "numbers": [detail],
    }});
    (GraphResponse::json(StatusCode::OK, body), version)
}

/// Carries an order out on the tenant with Teams' rules.
fn run(state: &AppState, order: &Order) -> (Result<String, String>, Option<u64>) {
    let teams = &state.teams;
    let (result, version) = state.store.write(|s, index| {
        let mut numbers = NumberIndex::build(s);
        let outcome = match &order.kind {
            OrderKind::Assign { target } => {
                let Some(user) = index.user_by_id(target) else {
                    return (Err(format!("User '{target}' is not found")), false);
                };
                let listed = numbers.config(target).is_some();
                if !teams.provisioned(target, listed) {
                    return (
                        Err(format!(
                            "User '{target}' is not provisioned in Microsoft Teams yet; retry once its licenses have reached Teams"
                        )),
                        false,
                    );
                }
                let caps = commcred::tenant::rules::holdings(&s.users[user], s, index)
                    .iter()
                    .fold(Capabilities::default(), |acc, h| acc.union(h.capabilities));
                s.assign_number(&mut numbers, user, caps, &order.number, order.number_type)
            }
            OrderKind::Unassign => s.unassign_number(&mut numbers, &order.number, order.number_type),
        };
        match outcome {
            Ok(()) => {
                let entry = numbers.number(&order.number).map(|n| s.number_assignments[n].id.clone());
                (Ok(entry.unwrap_or_default()), true)
            }
            Err(e) => (Err(e.message), false),
        }
    });
    let result =
        result.map(|entry| format!("{}/v1.0{ROOT}/numberAssignments/{entry}", state.base_url));
    (result, version)
}

fn update_number(
    state: &AppState,
    body: Option<&Value>,
    ids: &RequestIds,
) -> (GraphResponse, Option<u64>) {
    let number = match param(body, "telephoneNumber", ids) {
        Ok(n) => n.to_string(),
        Err(e) => return (e, None),
    };
    let body = body.cloned().unwrap_or(Value::Null);
    let (found, version) = state.store.write(|s, _| {
        let numbers = NumberIndex::build(s);
        let Some(n) = numbers.number(&number) else {
            return (false, false);
        };
        let entry = &mut s.number_assignments[n];
        // "Passing an empty string clears the locationId, while passing null or not
        // including the field preserves the existing value."
        if let Some(location) = body.get("locationId").and_then(Value::as_str) {
            entry.location_id = (!location.is_empty()).then(|| location.to_string());
        }
        if let Some(site) = body.get("networkSiteId").and_then(Value::as_str) {
            entry.extra.insert(
                "networkSiteId".into(),
                if site.is_empty() {
                    Value::Null
                } else {
                    json!(site)
                },
            );
        }
        if let Some(options) = body
            .get("reverseNumberLookupOptions")
            .filter(|v| v.is_array())
        {
            entry
                .extra
                .insert("reverseNumberLookupOptions".into(), options.clone());
        }
        (true, true)
    });
    if !found {
        return (
            GraphResponse::bad_request(
                "BadRequest",
                format!(
                    "Telephone Number '{number}' is not found from tenant '{}'",
                    state.store.read(|s, _| s.tenant.id.clone())
                ),
                ids,
            ),
            None,
        );
    }
    (
        GraphResponse {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: None,
        },
        version,
    )
}

fn config_json(c: &commcred::tenant::TeamsUserConfiguration) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    v["@odata.type"] = json!("#microsoft.graph.teamsAdministration.teamsUserConfiguration");
    v
}

fn list_configs(state: &AppState, query: &Query, ids: &RequestIds) -> GraphResponse {
    let offset = match query_value(query, "$skiptoken") {
        None => 0,
        Some(t) => match t.strip_prefix('C').and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                return GraphResponse::bad_request(
                    "BadRequest",
                    "The specified page token value has expired or is invalid.",
                    ids,
                );
            }
        },
    };
    let top = match query_value(query, "$top").map(str::parse::<usize>) {
        None => CONFIG_PAGE,
        Some(Ok(n)) if (1..=MAX_NUMBERS).contains(&n) => n,
        Some(_) => {
            return GraphResponse::bad_request("BadRequest", "Invalid value for $top.", ids);
        }
    };
    let (items, total) = state.store.read(|s, _| {
        let items: Vec<Value> = s
            .user_configurations
            .iter()
            .skip(offset)
            .take(top)
            .map(config_json)
            .collect();
        (items, s.user_configurations.len())
    });
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#admin/teams/userConfigurations",
            state.base_url
        )),
    );
    body.insert("value".into(), Value::Array(items));
    if offset + top < total {
        body.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{}/v1.0/admin/teams/userConfigurations?$top={top}&$skiptoken=C{}",
                state.base_url,
                offset + top
            )),
        );
    }
    GraphResponse::json(StatusCode::OK, Value::Object(body))
}

fn get_config(state: &AppState, id: &str, ids: &RequestIds) -> GraphResponse {
    let found = state.store.read(|s, _| {
        s.user_configurations
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(id))
            .map(config_json)
    });
    match found {
        Some(v) => GraphResponse::json(StatusCode::OK, v),
        None => GraphResponse::error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("User '{id}' is not found."),
            ids,
        ),
    }
}
