//! Microsoft Graph's PSTN call log: `GET /communications/callRecords/getPstnCalls(
//! fromDateTime=…,toDateTime=…)`. Both ends are inclusive and may be at most 90 days apart;
//! more than 1,000 rows come in pages linked by `@odata.nextLink`. The client side (windows,
//! paging, de-duplication) and the emulator side (serving a page from the snapshot's
//! `pstnCalls`) live together so that they agree on the wire format.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::error::CreditsError;
use super::usage::{CallRow, merge_rows, parse_time};

/// Graph refuses a longer range.
pub const MAX_WINDOW_DAYS: i64 = 90;
/// Graph's page size for this function.
pub const PAGE_SIZE: usize = 1000;

/// Splits `[from, to]` into consecutive inclusive windows of at most 90 days. Neighbours
/// share their boundary instant (both ends are inclusive on Graph and a call starting
/// exactly there must not fall between two windows); rows are de-duplicated by id.
pub fn windows(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + Duration::days(MAX_WINDOW_DAYS)).min(to);
        out.push((start, end));
        start = end;
    }
    if out.is_empty() {
        out.push((from, to.max(from)));
    }
    out
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The function call path, relative to `/v1.0`.
pub fn function_path(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "/communications/callRecords/getPstnCalls(fromDateTime={},toDateTime={})",
        stamp(from),
        stamp(to)
    )
}

/// Parses the last path segment `getPstnCalls(fromDateTime=…,toDateTime=…)` (dates or
/// date-times, as Graph accepts both). Errors are Graph's `BadRequest` messages.
pub fn parse_function_segment(segment: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let inner = segment
        .strip_prefix("getPstnCalls(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("Resource not found for the segment '{segment}'."))?;
    let mut from = None;
    let mut to = None;
    for part in inner.split(',') {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("Invalid function parameter '{part}'."))?;
        let parsed = parse_time(value.trim().trim_matches('\'')).ok_or_else(|| {
            format!("The parameter '{key}' is not a valid DateTimeOffset: '{value}'.")
        })?;
        match key.trim() {
            "fromDateTime" => from = Some(parsed),
            "toDateTime" => to = Some(parsed),
            other => return Err(format!("Unknown function parameter '{other}'.")),
        }
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err("getPstnCalls needs fromDateTime and toDateTime.".into());
    };
    if to < from {
        return Err("toDateTime must not be before fromDateTime.".into());
    }
    if to - from > Duration::days(MAX_WINDOW_DAYS) {
        return Err(format!(
            "The date range between fromDateTime and toDateTime cannot exceed {MAX_WINDOW_DAYS} days."
        ));
    }
    Ok((from, to))
}

/// The emulator's answer for one page: rows whose `startDateTime` is in `[from, to]`, in
/// start order, `skip` onwards, at most `top`, with a next link when more remain.
/// `base` is the URL of the function call itself (without query).
pub fn serve_page(
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

/// Something that can GET a Graph URL (absolute, or relative to `/v1.0`) with the right
/// token and retries: the Graph backend, or a test client.
pub trait GraphGet {
    fn get_json(&mut self, url: &str) -> Result<Value, String>;
}

/// Every call that started in `[from, to]`, fetched window by window and page by page,
/// de-duplicated by id, in start order.
pub fn fetch_pstn_calls(
    client: &mut dyn GraphGet,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CallRow>, CreditsError> {
    let mut rows = Vec::new();
    for (start, end) in windows(from, to) {
        let mut next = Some(function_path(start, end));
        // A server that keeps sending the same link would loop forever; Graph never does.
        let mut pages = 0usize;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 100_000 {
                return Err(CreditsError::PstnCalls {
                    message: "more than 100000 pages in one window; stopping".into(),
                });
            }
            let body = client
                .get_json(&url)
                .map_err(|message| CreditsError::PstnCalls { message })?;
            let items = body.get("value").and_then(Value::as_array).ok_or_else(|| {
                CreditsError::PstnCalls {
                    message: format!("the answer to {url} has no `value` array"),
                }
            })?;
            let mut page = Vec::with_capacity(items.len());
            for item in items {
                let row: CallRow =
                    serde_json::from_value(item.clone()).map_err(|e| CreditsError::PstnCalls {
                        message: format!("a pstnCallLogRow from {url} does not parse: {e}"),
                    })?;
                page.push(row);
            }
            merge_rows(&mut rows, page);
            next = body
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
    }
    rows.sort_by(|a, b| {
        a.start_date_time
            .cmp(&b.start_date_time)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn windows_are_at_most_ninety_days_and_cover_the_range() {
        let w = windows(at("2026-01-01T00:00:00Z"), at("2026-07-15T00:00:00Z"));
        assert_eq!(w.len(), 3);
        assert_eq!(
            w[0],
            (at("2026-01-01T00:00:00Z"), at("2026-04-01T00:00:00Z"))
        );
        assert_eq!(w[1].0, w[0].1);
        assert_eq!(w[2].1, at("2026-07-15T00:00:00Z"));
        assert!(w.iter().all(|(a, b)| *b - *a <= Duration::days(90)));
    }

    #[test]
    fn function_segment_round_trips_and_refuses_long_ranges() {
        let path = function_path(at("2026-01-01T00:00:00Z"), at("2026-03-31T00:00:00Z"));
        let segment = path.rsplit('/').next().unwrap();
        assert_eq!(
            parse_function_segment(segment).unwrap(),
            (at("2026-01-01T00:00:00Z"), at("2026-03-31T00:00:00Z"))
        );
        assert!(
            parse_function_segment("getPstnCalls(fromDateTime=2026-01-01,toDateTime=2026-04-02)")
                .unwrap_err()
                .contains("90 days")
        );
        assert!(parse_function_segment("getPstnCalls(fromDateTime=2026-01-01)").is_err());
    }
}
