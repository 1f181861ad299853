//! HTTP plumbing: the router, the per-request path (latency, dropped connections, bearer
//! check, durability wait) and the per-unit path (write quota, injected 5xx/429, dispatch)
//! that top-level requests and `$batch` items share, so both behave identically.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::Value;

use super::auth::{Clients, TokenCheck, token_endpoint, unauthorized};
use super::batch;
use super::error::{GraphResponse, RequestIds};
use super::faults::{DropFault, UnitFault};
use super::net::ConnHandle;
use super::permissions;
use super::resources::{self, Query};
use super::state::{AppState, bump};
use super::users_list;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/v1.0/{*rest}", any(graph))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/faults", get(faults).post(set_faults))
        .fallback(fallback)
        .with_state(state)
}

async fn token(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    bump(&state.stats.http_requests);
    bump(&state.stats.token_requests);
    let (id, domains) = state.store.read(|s, _| {
        let domains = match resources::verified_domains(s) {
            Value::Array(a) => a
                .iter()
                .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        (s.tenant.id.clone(), domains)
    });
    token_endpoint(
        &tenant,
        &form,
        &id,
        &domains,
        &Clients {
            expected: state.expected_client.as_ref(),
            certificates: &state.client_certificates,
            base_url: &state.base_url,
        },
        &state.tokens,
    )
}

async fn stats(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.stats.snapshot()).into_response()
}

async fn faults(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.faults.live()).into_response()
}

/// `POST /_emulator/faults`: any subset of the rates and `retryAfter`, all or nothing.
async fn set_faults(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    match state.faults.update(&body) {
        Ok(live) => {
            tracing::info!(?live, "emulator faults changed");
            axum::Json(live).into_response()
        }
        Err(message) => (
            StatusCode::BAD_REQUEST,
            axum::Json(super::faults::patch_error(&message)),
        )
            .into_response(),
    }
}

async fn fallback(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    bump(&state.stats.http_requests);
    let ids = RequestIds::new(None);
    GraphResponse::bad_request(
        "BadRequest",
        format!("Invalid version or resource: '{}'.", uri.path()),
        &ids,
    )
    .into_http(&ids)
}

async fn graph(
    State(state): State<Arc<AppState>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    bump(&state.stats.http_requests);
    let ids = RequestIds::new(
        headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok()),
    );
    let delay = state.faults.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let drop = state.faults.draw_drop();
    if drop == DropFault::Before {
        bump(&state.stats.dropped_connections);
        conn.kill();
        return StatusCode::OK.into_response();
    }
    let roles = match state.tokens.check(&headers) {
        TokenCheck::Valid(roles) => roles,
        check => {
            bump(&state.stats.unauthorized);
            return unauthorized(&check, &ids).into_http(&ids);
        }
    };
    let url = uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .strip_prefix("/v1.0")
        .unwrap_or("/")
        .to_string();
    let (mut response, version) = if url == "/$batch" || url.starts_with("/$batch?") {
        if method == Method::POST {
            batch::handle(&state, &roles, &body, &ids)
        } else {
            (method_not_allowed(&ids), None)
        }
    } else {
        match parse_body(&body, &ids) {
            Ok(json) => {
                let call = Call {
                    roles,
                    eventual: is_eventual(
                        headers
                            .iter()
                            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))),
                    ),
                };
                unit(&state, &call, &method, &url, json.as_ref(), &ids)
            }
            Err(e) => (e, None),
        }
    };
    if let Some(v) = version
        && let Err(e) = state.store.wait_durable(v).await
    {
        response = GraphResponse::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            format!("The change could not be saved: {e}"),
            &ids,
        );
    }
    if drop == DropFault::After {
        bump(&state.stats.dropped_connections);
        conn.kill();
    }
    response.into_http(&ids)
}

fn parse_body(body: &[u8], ids: &RequestIds) -> Result<Option<Value>, GraphResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some).map_err(|e| {
        GraphResponse::bad_request(
            "BadRequest",
            format!("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format. ({e})"),
            ids,
        )
    })
}

fn method_not_allowed(ids: &RequestIds) -> GraphResponse {
    GraphResponse::error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
        ids,
    )
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// What a unit brings besides its method, URL and body: the token's `roles`, and whether it
/// asked for eventual consistency (`ConsistencyLevel: eventual`, Graph's advanced queries).
pub struct Call {
    pub roles: std::sync::Arc<Vec<String>>,
    pub eventual: bool,
}

/// `ConsistencyLevel: eventual` among `headers` (names and value in any case).
pub fn is_eventual<'a>(mut headers: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
    headers.any(|(k, v)| {
        k.eq_ignore_ascii_case("ConsistencyLevel") && v.trim().eq_ignore_ascii_case("eventual")
    })
}

/// One unit of work: a top-level request or a `$batch` item. Returns the answer and, for a
/// change, the store version to wait on before the answer may leave. The token's `roles`
/// are checked first: a refused call is not run and takes no write quota.
pub fn unit(
    state: &AppState,
    call: &Call,
    method: &Method,
    url: &str,
    body: Option<&Value>,
    ids: &RequestIds,
) -> (GraphResponse, Option<u64>) {
    if let Some((segments, _)) = parse_url(url) {
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        if let Some(accepted) = permissions::accepted(method, &segs)
            && let Err(refused) = permissions::check(&call.roles, accepted, ids)
        {
            bump(&state.stats.forbidden);
            return (refused, None);
        }
    }
    let write = is_write(method);
    if write && let Err(secs) = state.throttle.try_take() {
        bump(&state.stats.quota_throttled);
        return (throttled(secs, ids), None);
    }
    match state.faults.draw_unit() {
        UnitFault::None => dispatch(state, method, url, body, call.eventual, ids),
        UnitFault::Throttle => {
            bump(&state.stats.injected_throttled);
            (throttled(state.faults.retry_after_secs(), ids), None)
        }
        UnitFault::ErrorBefore => {
            bump(&state.stats.injected_errors);
            let r = GraphResponse::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Please retry later.",
                ids,
            );
            (r, None)
        }
        UnitFault::ErrorAfter => {
            bump(&state.stats.injected_errors);
            let (_, version) = dispatch(state, method, url, body, call.eventual, ids);
            let r = GraphResponse::error(
                StatusCode::GATEWAY_TIMEOUT,
                "UnknownError",
                "The gateway timed out waiting for the service.",
                ids,
            );
            (r, version)
        }
    }
}

fn throttled(secs: u64, ids: &RequestIds) -> GraphResponse {
    GraphResponse::error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        format!("Your request is throttled temporarily. Please try after {secs} seconds."),
        ids,
    )
    .with_header("Retry-After", secs.to_string())
}

/// Splits `/users/x?$top=5` into decoded path segments and query pairs.
fn parse_url(url: &str) -> Option<(Vec<String>, Query)> {
    let path = if url.starts_with('/') {
        url.to_string()
    } else {
        format!("/{url}")
    };
    let parsed = url::Url::parse(&format!("http://graph.invalid{path}")).ok()?;
    let segments = parsed
        .path_segments()?
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let query = parsed.query_pairs().into_owned().collect();
    Some((segments, query))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Routes a unit to its resource. `url` is relative to `/v1.0`.
fn dispatch(
    state: &AppState,
    method: &Method,
    url: &str,
    body: Option<&Value>,
    eventual: bool,
    ids: &RequestIds,
) -> (GraphResponse, Option<u64>) {
    let Some((segments, query)) = parse_url(url) else {
        return (
            GraphResponse::bad_request("BadRequest", format!("Invalid request URL '{url}'."), ids),
            None,
        );
    };
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let Some((response, version)) =
        super::teams::dispatch(state, method, &segs, &query, body, ids)
    {
        if version.is_some() {
            bump(&state.stats.writes);
        }
        return (response, version);
    }
    if let Some((response, version, write)) =
        super::groups::dispatch(state, method, &segs, &query, body, ids)
    {
        if let Some(outcome) = &write {
            bump(&state.stats.writes);
            record(state, outcome, "groupLicensing");
        }
        return (response, version);
    }
    let read = |r: GraphResponse| (r, None);
    match (method.clone(), segs.as_slice()) {
        (Method::GET, ["organization"]) => read(resources::organization(state, &query)),
        (Method::GET, ["subscribedSkus"]) => read(resources::subscribed_skus(state)),
        (Method::GET, ["users"]) => read(users_list::list_users(state, &query, eventual, ids)),
        (Method::GET, ["users", "$count"]) => {
            read(users_list::count_users(state, &query, eventual, ids))
        }
        (Method::GET, ["users", id]) => read(resources::get_user(state, id, &query, ids)),
        (Method::GET, ["communications", "callRecords", f]) => {
            read(super::pstn::get_pstn_calls(state, f, &query, ids))
        }
        (Method::PATCH, ["users", id]) => {
            bump(&state.stats.writes);
            let (outcome, version) = resources::patch_user(state, id, body, ids);
            record(state, &outcome, "usageLocation");
            (outcome.response, version)
        }
        (Method::POST, ["users", id, action]) if action.eq_ignore_ascii_case("assignLicense") => {
            bump(&state.stats.writes);
            let (outcome, version) = resources::assign_license(state, id, body, ids);
            record(state, &outcome, "assignLicense");
            if let Some(user) = &outcome.changed_user {
                state.teams.licensed(user);
            }
            (outcome.response, version)
        }
        (_, ["organization" | "subscribedSkus" | "users"])
        | (_, ["users", _])
        | (_, ["users", _, "assignLicense"]) => (method_not_allowed(ids), None),
        (_, [first, ..]) => read(GraphResponse::bad_request(
            "BadRequest",
            format!("Resource not found for the segment '{first}'."),
            ids,
        )),
        (_, []) => read(GraphResponse::bad_request(
            "BadRequest",
            "Invalid request URL.",
            ids,
        )),
    }
}

fn record(state: &AppState, outcome: &resources::WriteOutcome, kind: &str) {
    if let Some(user) = &outcome.changed_user {
        state.stats.record_change(user, kind);
    } else if outcome.noop {
        bump(&state.stats.noop_writes);
    } else if outcome.response.status.is_client_error() {
        bump(&state.stats.refused_writes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_decoded_segments_and_query() {
        let (segs, q) = parse_url("/users/alice%40contoso.com?$select=id,usageLocation").unwrap();
        assert_eq!(segs, ["users", "alice@contoso.com"]);
        assert_eq!(q, [("$select".to_string(), "id,usageLocation".to_string())]);
        let (segs, _) = parse_url("users").unwrap();
        assert_eq!(segs, ["users"]);
    }
}
