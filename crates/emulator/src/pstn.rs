//! `GET /communications/callRecords/getPstnCalls(fromDateTime=…,toDateTime=…)`: the PSTN
//! call log, served from the snapshot's `pstnCalls` (Graph `pstnCallLogRow` objects) with
//! Graph's rules: both ends inclusive, at most 90 days apart, pages of 1,000 linked by
//! `@odata.nextLink`. `$top` (1 to 1,000) is an emulator convenience for paging tests.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use super::error::{GraphResponse, RequestIds};
use super::resources::Query;
use super::state::AppState;

/// Graph's page size for this function.
pub const PAGE_SIZE: usize = 1000;
/// Graph refuses a longer range (Graph reference, "callRecord: getPstnCalls").
const MAX_DAYS: i64 = 90;

pub fn get_pstn_calls(
    state: &AppState,
    segment: &str,
    query: &Query,
    ids: &RequestIds,
) -> GraphResponse {
    let (from, to) = match parse_call(segment) {
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

/// Parses the path segment `getPstnCalls(fromDateTime=…,toDateTime=…)` (or
/// `microsoft.graph.callRecords.getPstnCalls(…)`, the namespace-qualified name): both parameters,
/// each a DateTimeOffset (RFC 3339) or a date, at most 90 days apart. Errors are Graph's
/// `BadRequest` messages.
fn parse_call(segment: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    // Graph accepts the function bound to callRecords with or without its namespace
    // (OData: a bound function may be namespace-qualified).
    let unqualified = segment
        .strip_prefix("microsoft.graph.callRecords.")
        .unwrap_or(segment);
    let arguments = unqualified
        .strip_prefix("getPstnCalls(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("Resource not found for the segment '{segment}'."))?;
    let (mut from, mut to) = (None, None);
    for argument in arguments.split(',') {
        let Some((name, value)) = argument.split_once('=') else {
            return Err(format!("Invalid function parameter '{argument}'."));
        };
        let instant = parse_instant(value.trim().trim_matches('\'')).ok_or_else(|| {
            format!("The parameter '{name}' is not a valid DateTimeOffset: '{value}'.")
        })?;
        match name.trim() {
            "fromDateTime" => from = Some(instant),
            "toDateTime" => to = Some(instant),
            other => return Err(format!("Unknown function parameter '{other}'.")),
        }
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err("getPstnCalls needs fromDateTime and toDateTime.".into());
    };
    if to < from {
        return Err("toDateTime must not be before fromDateTime.".into());
    }
    if to - from > Duration::days(MAX_DAYS) {
        return Err(format!(
            "The date range between fromDateTime and toDateTime cannot exceed {MAX_DAYS} days."
        ));
    }
    Ok((from, to))
}

/// An OData DateTimeOffset (`2026-01-01T00:00:00Z`) or a date (midnight UTC).
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

/// One page: rows whose `startDateTime` is in `[from, to]`, in
/// start order, `skip` onwards, at most `top`, with a next link when more remain.
/// `base` is the URL of the function call itself (without query).
fn serve_page(
    rows: Option<&Value>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    skip: usize,
    top: usize,
    base: &str,
) -> Value {
    let mut matching: Vec<(DateTime<Utc>, &Value)> = match rows {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|row| {
                let start = row.get("startDateTime")?.as_str()?;
                let start = DateTime::parse_from_rfc3339(start)
                    .ok()?
                    .with_timezone(&Utc);
                (from <= start && start <= to).then_some((start, row))
            })
            .collect(),
        _ => Vec::new(),
    };
    matching.sort_by_key(|(start, _)| *start);
    let page: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(top)
        .map(|(_, row)| (*row).clone())
        .collect();
    let mut body = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.callRecords.pstnCallLogRow)",
        "@odata.count": page.len(),
        "value": page,
    });
    if skip + top < matching.len() {
        let top_param = if top == PAGE_SIZE {
            String::new()
        } else {
            format!("&$top={top}")
        };
        body["@odata.nextLink"] = Value::String(format!("{base}?$skip={}{top_param}", skip + top));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_call_takes_dates_or_instants_and_refuses_long_or_partial_ranges() {
        assert_eq!(
            parse_call("getPstnCalls(fromDateTime=2026-01-01T00:00:00Z,toDateTime=2026-03-31)")
                .unwrap(),
            (at("2026-01-01T00:00:00Z"), at("2026-03-31T00:00:00Z"))
        );
        assert!(
            parse_call("getPstnCalls(fromDateTime=2026-01-01,toDateTime=2026-04-02)")
                .unwrap_err()
                .contains("90 days")
        );
        assert!(parse_call("getPstnCalls(fromDateTime=2026-01-01)").is_err());
        assert!(parse_call("getPstnCalls(fromDateTime=x,toDateTime=2026-01-02)").is_err());
        assert!(parse_call("getDirectRoutingCalls(fromDateTime=2026-01-01)").is_err());
    }
}
