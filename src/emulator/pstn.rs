//! `GET /communications/callRecords/getPstnCalls(fromDateTime=…,toDateTime=…)`: the PSTN
//! call log, served from the snapshot's `pstnCalls` (Graph `pstnCallLogRow` objects) with
//! Graph's rules: both ends inclusive, at most 90 days apart, pages of 1,000 linked by
//! `@odata.nextLink`. `$top` (1 to 1,000) is an emulator convenience for paging tests.

use crate::credits::pstn::{PAGE_SIZE, parse_function_segment, serve_page};

use super::error::{GraphResponse, RequestIds};
use super::resources::Query;
use super::state::AppState;

pub fn get_pstn_calls(
    state: &AppState,
    segment: &str,
    query: &Query,
    ids: &RequestIds,
) -> GraphResponse {
    let (from, to) = match parse_function_segment(segment) {
        Ok(range) => range,
        Err(message) => return GraphResponse::bad_request("BadRequest", message, ids),
    };
    let number = |name: &str, default: usize, max: usize| -> Result<usize, GraphResponse> {
        match query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            None => Ok(default),
            Some((_, v)) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= max && (name != "$top" || *n > 0))
                .ok_or_else(|| {
                    GraphResponse::bad_request(
                        "BadRequest",
                        format!("Invalid value '{v}' for query option '{name}'."),
                        ids,
                    )
                }),
        }
    };
    let (skip, top) = match (
        number("$skip", 0, usize::MAX),
        number("$top", PAGE_SIZE, PAGE_SIZE),
    ) {
        (Ok(s), Ok(t)) => (s, t),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let base = format!(
        "{}/v1.0/communications/callRecords/{segment}",
        state.base_url
    );
    let body = state.store.read(|snapshot, _| {
        serve_page(snapshot.extra.get("pstnCalls"), from, to, skip, top, &base)
    });
    GraphResponse::json(axum::http::StatusCode::OK, body)
}
