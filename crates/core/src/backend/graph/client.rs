//! The HTTP layer: authenticated Graph calls, `$batch` envelopes, `Retry-After` parsing and
//! the retry policy (exponential backoff with jitter). Reads are retried here, since they
//! are safe to repeat; writes are retried by `write.rs`, which knows what is safe to resend.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::BackoffBuilder;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::auth::TokenSource;

/// How transient failures (5xx, 429, dropped connections) are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request (or per change, for writes) before giving up; 429s with a
    /// `Retry-After` are not counted, since Graph promises the request was not run.
    pub max_attempts: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Exponential delays with jitter, so that many clients (or many batch items) that
    /// failed together do not come back together.
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_jitter()
            .without_max_times()
            .build()
    }
}

/// `Retry-After` as Graph sends it: seconds, possibly fractional (an HTTP date is also
/// accepted). Capped at ten minutes so a bogus value cannot stall a run forever.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after_value)
}

pub(crate) fn retry_after_value(text: &str) -> Option<Duration> {
    let text = text.trim();
    let secs = match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => s,
        Ok(_) => return None,
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .num_milliseconds()
                .max(0) as f64
                / 1000.0
        }
    };
    Some(Duration::from_secs_f64(secs.min(600.0)))
}

#[derive(Debug, Clone)]
pub(crate) enum CallError {
    /// No answer or a cut-off one: a write may or may not have been applied.
    Transport(String),
    /// Graph answered with an error status and its error body.
    Status {
        status: u16,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    },
    /// No token could be had: nothing else will work either.
    Auth(String),
    /// Graph kept throttling reads and the next wait would pass the command's deadline.
    Throttled(ThrottledReads),
}

/// How Graph throttled this command's reads so far, for the diagnostic that ends it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ThrottledReads {
    /// Reads answered 429.
    pub too_many: u64,
    /// Reads answered 503 with a `Retry-After`.
    pub unavailable: u64,
    /// The last `Retry-After` (`None`: Graph gave none and the client backed off).
    pub last_retry_after: Option<Duration>,
    /// Time spent waiting on throttled reads.
    pub waited: Duration,
}

impl CallError {
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            CallError::Transport(_) => true,
            CallError::Status { status, .. } => *status == 429 || *status >= 500,
            CallError::Auth(_) | CallError::Throttled(_) => false,
        }
    }

    /// Graph asks the client to slow down: a 429, or a 503 that says when to come back
    /// ("Microsoft Graph throttling guidance"). Such reads are retried until the deadline,
    /// not a fixed number of times.
    pub(crate) fn is_throttling(&self) -> bool {
        match self {
            CallError::Status { status: 429, .. } => true,
            CallError::Status {
                status: 503,
                retry_after,
                ..
            } => retry_after.is_some(),
            _ => false,
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Transport(m) => write!(f, "no answer from Microsoft Graph: {m}"),
            CallError::Status {
                status,
                code,
                message,
                ..
            } => write!(f, "{status} {code}: {message}"),
            CallError::Auth(m) => write!(f, "cannot get a token: {m}"),
            CallError::Throttled(t) => write!(
                f,
                "Microsoft Graph throttled the reads: {} answered 429 and {} answered 503, the last asking to wait {}; stopped at the deadline (--timeout) after waiting {} s",
                t.too_many,
                t.unavailable,
                describe_wait(t.last_retry_after),
                t.waited.as_secs()
            ),
        }
    }
}

/// `1 s`, `2.5 s`, or `no time` (no `Retry-After`).
pub(crate) fn describe_wait(wait: Option<Duration>) -> String {
    match wait {
        Some(d) if d.subsec_millis() == 0 => format!("{} s", d.as_secs()),
        Some(d) => format!("{:.1} s", d.as_secs_f64()),
        None => "no time (no Retry-After)".to_string(),
    }
}

/// Reads `{"error":{"code","message"}}`, tolerating anything else. Both are echoed in
/// diagnostics and reports, so each is cut to 1,000 characters: an answer Graph (or a proxy
/// in front of it) pads to megabytes must not become a megabyte diagnostic.
pub fn graph_error(body: &Value) -> (String, String) {
    let e = &body["error"];
    let text = |v: &Value| clip(v.as_str().unwrap_or_default(), 1000);
    (text(&e["code"]), text(&e["message"]))
}

/// `text` cut to `limit` characters, saying how long it was.
fn clip(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_string(),
        Some((at, _)) => format!("{}… ({} bytes)", &text[..at], text.len()),
    }
}

/// One request of a `$batch`.
#[derive(Debug, Clone)]
pub(crate) struct BatchItem {
    pub id: String,
    pub method: &'static str,
    /// Relative to the version root, e.g. `/users/{id}/assignLicense`.
    pub url: String,
    pub body: Option<Value>,
    pub depends_on: Option<String>,
}

impl BatchItem {
    fn to_json(&self) -> Value {
        let mut v = json!({ "id": self.id, "method": self.method, "url": self.url });
        if let Some(body) = &self.body {
            v["body"] = body.clone();
            v["headers"] = json!({ "Content-Type": "application/json" });
        }
        if let Some(d) = &self.depends_on {
            v["dependsOn"] = json!([d]);
        }
        v
    }
}

/// One answer of a `$batch`.
#[derive(Debug, Clone)]
pub struct BatchAnswer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Value,
}

impl BatchAnswer {
    /// The answer's Graph error `(code, message)` (empty when it has none).
    pub fn error(&self) -> (String, String) {
        graph_error(&self.body)
    }
}

pub(crate) struct GraphClient {
    http: reqwest::Client,
    /// e.g. `https://graph.microsoft.com/v1.0`.
    root: String,
    tokens: TokenSource,
    pub(crate) retry: RetryPolicy,
    /// Every HTTP request sent, token requests included.
    pub(crate) requests: Arc<AtomicU64>,
    /// When reads stop waiting out throttling (the command's `--timeout`).
    deadline: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// How Graph throttled the reads so far (all reads of the command together).
    throttled: std::sync::Mutex<ThrottledReads>,
}

impl GraphClient {
    pub(crate) fn new(
        http: reqwest::Client,
        root: String,
        tokens: TokenSource,
        retry: RetryPolicy,
        requests: Arc<AtomicU64>,
    ) -> GraphClient {
        GraphClient {
            http,
            root,
            tokens,
            retry,
            requests,
            deadline: std::sync::Mutex::new(None),
            throttled: std::sync::Mutex::new(ThrottledReads::default()),
        }
    }

    /// Reads wait out throttling until `deadline`, then fail with [`CallError::Throttled`].
    pub(crate) fn set_deadline(&self, deadline: Option<std::time::Instant>) {
        *self.deadline.lock().expect("deadline lock") =
            deadline.map(tokio::time::Instant::from_std);
    }

    /// Counts a throttled read and decides: `Ok(wait)` to wait and retry, or the error that
    /// ends the read because the wait would pass the deadline.
    fn throttled_read(&self, e: &CallError, backoff: Duration) -> Result<Duration, CallError> {
        let wait = e.retry_after().unwrap_or(backoff);
        let mut t = self.throttled.lock().expect("throttle lock");
        match e {
            CallError::Status { status: 429, .. } => t.too_many += 1,
            _ => t.unavailable += 1,
        }
        t.last_retry_after = e.retry_after();
        let deadline = *self.deadline.lock().expect("deadline lock");
        if deadline.is_some_and(|d| tokio::time::Instant::now() + wait >= d) {
            return Err(CallError::Throttled(t.clone()));
        }
        t.waited += wait;
        Ok(wait)
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_string()
        } else {
            format!("{}{url}", self.root)
        }
    }

    /// One call, with one token refresh if Graph says the token is no longer valid.
    pub(crate) async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        self.call_with(method, url, body, &[]).await
    }

    /// [`GraphClient::call`] with extra request headers (e.g. `ConsistencyLevel`).
    pub(crate) async fn call_with(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Value, CallError> {
        Ok(self.call_full(method, url, body, headers).await?.0)
    }

    /// [`GraphClient::call_with`], also returning the answer's `Location` header (where
    /// Graph's asynchronous actions say to poll, e.g. Teams' `assignNumber`).
    pub(crate) async fn call_full(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<(Value, Option<String>), CallError> {
        let url = self.absolute(url);
        let mut refreshed = false;
        loop {
            let token = self.tokens.token().await.map_err(CallError::Auth)?;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&token)
                .header("client-request-id", new_request_id());
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(b) = body {
                request = request.json(b);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let response = request
                .send()
                .await
                .map_err(|e| CallError::Transport(describe_transport(&e)))?;
            let status = response.status();
            let retry_after = parse_retry_after(response.headers());
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            // A body cut off mid-way is as ambiguous as no answer at all.
            let bytes = response
                .bytes()
                .await
                .map_err(|e| CallError::Transport(describe_transport(&e)))?;
            // Graph has sent a UTF-8 BOM before a body (microsoft-graph-docs issue #679), and
            // OData warns clients of one before text/plain `/$count` answers.
            let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
            let value: Value = if bytes.is_empty() {
                Value::Null
            } else {
                match serde_json::from_slice(bytes) {
                    Ok(v) => v,
                    Err(e) if status.is_success() => {
                        return Err(CallError::Transport(format!("unreadable answer: {e}")));
                    }
                    Err(_) => Value::Null,
                }
            };
            if status.is_success() {
                return Ok((value, location));
            }
            if status.as_u16() == 401 && !refreshed {
                refreshed = true;
                self.tokens.invalidate().await;
                continue;
            }
            let (code, message) = graph_error(&value);
            return Err(CallError::Status {
                status: status.as_u16(),
                code,
                message,
                retry_after,
            });
        }
    }

    /// The application permissions the current access token grants (`None`: not a JWT).
    pub(crate) async fn granted_roles(&self) -> Result<Option<Vec<String>>, String> {
        let token = self.tokens.token().await?;
        Ok(super::permissions::granted_roles(&token))
    }

    /// A GET, retried on transient failures (reads are always safe to repeat).
    pub(crate) async fn get(&self, url: &str) -> Result<Value, CallError> {
        self.get_with(url, &[]).await
    }

    /// [`GraphClient::get`] with extra request headers.
    pub(crate) async fn get_with(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Value, CallError> {
        let mut delays = self.retry.delays();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.call_with(Method::GET, url, None, headers).await {
                Ok(v) => return Ok(v),
                // Throttling is retried until the deadline (Graph's guidance: wait the
                // Retry-After and retry, as long as 429s come back), not a number of times.
                Err(e) if e.is_throttling() => {
                    attempt -= 1;
                    let backoff = delays.next().unwrap_or(self.retry.max_delay);
                    let wait = self.throttled_read(&e, backoff)?;
                    tracing::info!(
                        url,
                        "Microsoft Graph answered {e}; waiting {} before reading again",
                        describe_wait(Some(wait))
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(e) if e.is_transient() && attempt < self.retry.max_attempts => {
                    let backoff = delays.next().unwrap_or(self.retry.max_delay);
                    tracing::debug!(url, error = %e, "retrying a Graph read");
                    tokio::time::sleep(e.retry_after().unwrap_or(backoff)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Every item of a collection, following `@odata.nextLink`.
    pub(crate) async fn get_all(&self, url: &str) -> Result<Vec<Value>, CallError> {
        let mut items = Vec::new();
        let mut next = Some(url.to_string());
        while let Some(url) = next {
            let mut page = self.get(&url).await?;
            if let Some(Value::Array(values)) = page.get_mut("value").map(Value::take) {
                items.extend(values);
            }
            next = page
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        Ok(items)
    }

    /// One `$batch` call, not retried: the caller decides item by item.
    pub(crate) async fn batch(
        &self,
        items: &[BatchItem],
    ) -> Result<Vec<(String, BatchAnswer)>, CallError> {
        let payload =
            json!({ "requests": items.iter().map(BatchItem::to_json).collect::<Vec<_>>() });
        let value = self.call(Method::POST, "/$batch", Some(&payload)).await?;
        batch_answers(&value).map_err(CallError::Transport)
    }
}

/// The answers of a `$batch` response body ("Combine multiple HTTP requests using JSON
/// batching": `responses`, each with `id`, `status`, `headers`, `body`), by id; an answer
/// without an id or a status is left out (its request then counts as unanswered).
pub fn batch_answers(value: &Value) -> Result<Vec<(String, BatchAnswer)>, String> {
    let Some(responses) = value.get("responses").and_then(Value::as_array) else {
        return Err("the $batch answer has no `responses`".into());
    };
    Ok(responses
        .iter()
        .filter_map(|r| {
            let id = r.get("id")?.as_str()?.to_string();
            let status = r.get("status")?.as_u64()? as u16;
            let body = r.get("body").cloned().unwrap_or(Value::Null);
            Some((
                id,
                BatchAnswer {
                    status,
                    retry_after: answer_retry_after(r),
                    body,
                },
            ))
        })
        .collect())
}

/// An answer's `Retry-After` header (any case; a string or a number of seconds).
fn answer_retry_after(answer: &Value) -> Option<Duration> {
    answer
        .get("headers")
        .and_then(Value::as_object)
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                .map(|(_, v)| v)
        })
        .and_then(|v| match v {
            Value::String(s) => retry_after_value(s),
            Value::Number(n) => n.as_f64().and_then(|f| retry_after_value(&f.to_string())),
            _ => None,
        })
}

/// A random GUID for `client-request-id`, which Graph echoes in its logs and errors.
fn new_request_id() -> String {
    let h = hex::encode(rand::random::<[u8; 16]>());
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn describe_transport(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "the connection failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut root = String::new();
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    if root.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({root})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_error_texts_are_cut_to_a_thousand_characters() {
        let huge = "é".repeat(5_000_000);
        let body = json!({"error": {"code": "Request_BadRequest", "message": huge}});
        let (code, message) = graph_error(&body);
        assert_eq!(code, "Request_BadRequest");
        assert!(message.chars().count() < 1100, "{}", message.len());
        assert!(
            message.ends_with("… (10000000 bytes)"),
            "{}",
            &message[1990..]
        );
    }

    #[test]
    fn retry_after_accepts_fractional_seconds_and_dates() {
        assert_eq!(retry_after_value("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(retry_after_value("7"), Some(Duration::from_secs(7)));
        assert_eq!(retry_after_value("-1"), None);
        assert_eq!(retry_after_value("soon"), None);
        assert_eq!(retry_after_value("99999"), Some(Duration::from_secs(600)));
        let past = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(retry_after_value(past), Some(Duration::ZERO));
    }

    #[test]
    fn delays_grow_and_stay_bounded() {
        let policy = RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let d: Vec<Duration> = policy.delays().take(8).collect();
        assert!(d[0] >= Duration::from_millis(100) && d[0] < Duration::from_millis(200));
        assert!(d.iter().all(|x| *x <= Duration::from_secs(2)));
    }
}
