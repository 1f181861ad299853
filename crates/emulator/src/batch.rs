//! `POST /v1.0/$batch`: up to 20 requests in one HTTP call, each answered with its own
//! status, headers (a 429 item carries its own `Retry-After`) and body. `dependsOn` orders
//! items; an item whose dependency did not succeed is answered 424 without running.
//!
//! A batch is either fully parallel (no item has `dependsOn`) or fully sequential (every
//! item but the first has one); Graph refuses a mix with 400 `BadRequest` "Batch should be
//! either fully sequential or fully parallel" (Microsoft Q&A "Regarding Batching response
//! order", answered by Microsoft; the JavaScript SDK refuses to build such a batch).
//!
//! Items run one after another in the order given (a dependency must come earlier), which
//! is one of the orders Graph may choose; responses are listed in request order, and clients
//! must match them by `id` anyway.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::error::{GraphResponse, RequestIds};
use super::routes::{Call, is_eventual, unit};
use super::state::{AppState, bump};

pub const MAX_BATCH: usize = 20;

struct Item {
    id: String,
    method: Method,
    url: String,
    body: Option<Value>,
    has_content_type: bool,
    /// `ConsistencyLevel: eventual` in the item's own headers.
    eventual: bool,
    depends_on: Vec<String>,
}

fn invalid(message: impl Into<String>, ids: &RequestIds) -> GraphResponse {
    GraphResponse::bad_request("BadRequest", message, ids)
}

// Long: validates a `$batch` body field by field, each refusal with Graph's message.
fn parse(body: &[u8], ids: &RequestIds) -> Result<Vec<Item>, GraphResponse> {
    let payload: Value =
        serde_json::from_slice(body).map_err(|_| invalid("Invalid batch payload format.", ids))?;
    let requests = payload
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("Invalid batch payload format.", ids))?;
    if requests.is_empty() {
        return Err(invalid(
            "A batch request must contain at least one request.",
            ids,
        ));
    }
    if requests.len() > MAX_BATCH {
        return Err(invalid(
            format!(
                "The batch holds {} requests; the limit is {MAX_BATCH} requests per batch.",
                requests.len()
            ),
            ids,
        ));
    }
    let mut items: Vec<Item> = Vec::with_capacity(requests.len());
    for r in requests {
        let text = |name: &str| r.get(name).and_then(Value::as_str).map(str::to_string);
        let id = text("id").ok_or_else(|| invalid("Every batch request needs an 'id'.", ids))?;
        if items.iter().any(|i| i.id.eq_ignore_ascii_case(&id)) {
            return Err(invalid(
                format!("Batch request ids must be unique; '{id}' appears more than once."),
                ids,
            ));
        }
        let method = text("method")
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .ok_or_else(|| invalid(format!("Batch request '{id}' has no valid 'method'."), ids))?;
        let url = text("url")
            .ok_or_else(|| invalid(format!("Batch request '{id}' has no 'url'."), ids))?;
        let headers = r.get("headers").and_then(Value::as_object);
        let has_content_type =
            headers.is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("content-type")));
        let eventual = headers.is_some_and(|h| {
            is_eventual(
                h.iter()
                    .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))),
            )
        });
        let depends_on: Vec<String> = match r.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|d| d.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    invalid(
                        format!("Batch request '{id}' has an invalid 'dependsOn'."),
                        ids,
                    )
                })?,
            Some(_) => {
                return Err(invalid(
                    format!("Batch request '{id}' has an invalid 'dependsOn'."),
                    ids,
                ));
            }
        };
        for d in &depends_on {
            if !items.iter().any(|i| i.id.eq_ignore_ascii_case(d)) {
                return Err(invalid(
                    format!(
                        "Batch request '{id}' depends on '{d}', which is not an earlier request of the batch."
                    ),
                    ids,
                ));
            }
        }
        items.push(Item {
            id,
            method,
            url,
            body: r.get("body").filter(|b| !b.is_null()).cloned(),
            has_content_type,
            eventual,
            depends_on,
        });
    }
    let independent = items.iter().filter(|i| i.depends_on.is_empty()).count();
    if independent != items.len() && independent != 1 {
        return Err(invalid(
            "Batch should be either fully sequential or fully parallel",
            ids,
        ));
    }
    Ok(items)
}

/// Accepts `/users`, `users` and absolute `https://host/v1.0/users` item URLs.
fn relative_url(url: &str) -> String {
    if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
        let path = rest.find('/').map_or("/", |i| &rest[i..]);
        return path.strip_prefix("/v1.0").unwrap_or(path).to_string();
    }
    if url.starts_with('/') {
        url.to_string()
    } else {
        format!("/{url}")
    }
}

pub fn handle(
    state: &AppState,
    roles: &std::sync::Arc<Vec<String>>,
    body: &[u8],
    ids: &RequestIds,
) -> (GraphResponse, Option<u64>) {
    bump(&state.stats.batch_requests);
    let items = match parse(body, ids) {
        Ok(items) => items,
        Err(e) => return (e, None),
    };
    let mut statuses: HashMap<String, StatusCode> = HashMap::new();
    let mut responses = Vec::with_capacity(items.len());
    let mut version: Option<u64> = None;
    for item in &items {
        bump(&state.stats.batch_items);
        let item_ids = RequestIds::new(Some(&ids.client_request_id));
        let failed_dependency = item.depends_on.iter().find(|d| {
            !statuses
                .get(&d.to_ascii_lowercase())
                .is_some_and(|s| s.is_success())
        });
        let url = relative_url(&item.url);
        let response = if let Some(d) = failed_dependency {
            GraphResponse::error(
                StatusCode::FAILED_DEPENDENCY,
                "FailedDependency",
                format!("The request depends on request '{d}', which failed."),
                &item_ids,
            )
        } else if item.body.is_some() && !item.has_content_type {
            invalid(
                "A request with a body must have a Content-Type header.",
                &item_ids,
            )
        } else if url == "/$batch" || url.starts_with("/$batch?") {
            invalid("A batch cannot contain another batch.", &item_ids)
        } else {
            let call = Call {
                roles: roles.clone(),
                eventual: item.eventual,
            };
            let (r, v) = unit(
                state,
                &call,
                &item.method,
                &url,
                item.body.as_ref(),
                &item_ids,
            );
            version = version.max(v);
            r
        };
        statuses.insert(item.id.to_ascii_lowercase(), response.status);
        responses.push(response.to_batch_item(&item.id));
    }
    (
        GraphResponse::json(StatusCode::OK, json!({ "responses": responses })),
        version,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_urls_become_relative_to_the_version() {
        assert_eq!(relative_url("/users/a"), "/users/a");
        assert_eq!(relative_url("users?$top=1"), "/users?$top=1");
        assert_eq!(
            relative_url("https://graph.microsoft.com/v1.0/users/a/assignLicense"),
            "/users/a/assignLicense"
        );
    }

    #[test]
    fn batches_over_twenty_and_forward_dependencies_are_refused() {
        let ids = RequestIds::new(None);
        let many: Vec<Value> = (0..21)
            .map(|n| json!({"id": n.to_string(), "method": "GET", "url": "/users"}))
            .collect();
        let body = serde_json::to_vec(&json!({ "requests": many })).unwrap();
        assert!(parse(&body, &ids).is_err());
        let forward = json!({"requests": [
            {"id": "1", "method": "GET", "url": "/users", "dependsOn": ["2"]},
            {"id": "2", "method": "GET", "url": "/users"}
        ]});
        assert!(parse(&serde_json::to_vec(&forward).unwrap(), &ids).is_err());
    }

    #[test]
    fn a_batch_is_fully_parallel_or_one_chain() {
        let ids = RequestIds::new(None);
        let batch = |deps: &[Option<&str>]| {
            let requests: Vec<Value> = deps
                .iter()
                .enumerate()
                .map(|(n, d)| {
                    let mut r = json!({"id": n.to_string(), "method": "GET", "url": "/users"});
                    if let Some(d) = d {
                        r["dependsOn"] = json!([d]);
                    }
                    r
                })
                .collect();
            parse(
                &serde_json::to_vec(&json!({ "requests": requests })).unwrap(),
                &ids,
            )
        };
        assert!(batch(&[None, None, None]).is_ok());
        assert!(batch(&[None, Some("0"), Some("1")]).is_ok());
        // Two chains side by side, or a chain beside an independent item: refused.
        let mixed = batch(&[None, Some("0"), None, Some("2")]).err().unwrap();
        assert_eq!(mixed.status, StatusCode::BAD_REQUEST);
        let error = &mixed.body.unwrap()["error"];
        assert_eq!(error["code"], "BadRequest");
        assert_eq!(
            error["message"],
            "Batch should be either fully sequential or fully parallel"
        );
        assert!(batch(&[None, Some("0"), None]).is_err());
    }
}
