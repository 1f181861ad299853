//! Microsoft Graph's PSTN call log, client side: `GET /communications/callRecords/
//! getPstnCalls(fromDateTime=…,toDateTime=…)`. Both ends are inclusive and may be at most
//! 90 days apart; more than 1,000 rows come in pages linked by `@odata.nextLink`. Here:
//! the windows, the paging and the de-duplication, and the Graph backend as a
//! [`GraphGet`] (with its token, retries and `Retry-After` handling).

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;

use crate::credits::CreditsError;
use crate::credits::usage::{CallRow, merge_rows};

use super::GraphBackend;

/// Graph refuses a longer range.
pub const MAX_WINDOW_DAYS: i64 = 90;

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

impl GraphGet for GraphBackend {
    fn get_json(&mut self, url: &str) -> Result<Value, String> {
        self.require(&[&super::permissions::READ_PSTN_CALLS])
            .map_err(|e| e.to_string())?;
        let client = &*self.client;
        self.block_on(async move { client.get(url).await })
            .map_err(|e| e.to_string())
    }
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
}
