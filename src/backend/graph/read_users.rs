//! Reading every user of a large tenant in parallel segments, with a proof that none was
//! missed, and sequential paging when the proof fails.
//!
//! Graph pages users at most 999 at a time, each page one round trip: 100,000 users are 101
//! round trips in a row. Instead the users are split by the first character of their
//! `userPrincipalName` — `$filter=startswith(userPrincipalName,'a')`, which Graph supports
//! on that property by default ("Advanced query capabilities on Microsoft Entra ID
//! objects", filter table) — and the segments are read side by side.
//!
//! The proof, with Graph's advanced query parameters (`ConsistencyLevel: eventual` and
//! `$count`): `GET /users/$count` gives the number of users; each segment's first page
//! gives its `@odata.count`. Every segment must deliver exactly its count, and the segments
//! together exactly the total, each user once. A user whose name starts with a character
//! outside the segments, or a tenant that changes while it is read, breaks the sums: then
//! every user is read again page after page, the way that cannot miss one.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::client::{CallError, GraphClient};
use super::read::{PAGE_SIZE, USER_SELECT};

/// Tenants up to this many users are read page after page: two round trips at most.
pub(crate) const PARALLEL_ABOVE: u64 = 2 * PAGE_SIZE as u64;
/// Segments read at the same time.
pub(crate) const SEGMENTS_IN_FLIGHT: usize = 16;
/// What a `userPrincipalName` can start with in Entra ID: letters (matched without regard
/// to case), digits, and `' - _ ! # ^ ~` (a period cannot lead).
const FIRST_CHARACTERS: &str = "abcdefghijklmnopqrstuvwxyz0123456789'-_!#^~";
const EVENTUAL: [(&str, &str); 1] = [("ConsistencyLevel", "eventual")];

/// How the users were read, for the log and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersRead {
    Sequential,
    Parallel,
    /// Parallel segments did not add up; read again page after page.
    FellBack,
}

/// `GET /users/$count` with `ConsistencyLevel: eventual`; `None` when Graph will not count.
async fn count(client: &GraphClient) -> Result<Option<u64>, CallError> {
    match client.get_with("/users/$count", &EVENTUAL).await {
        Ok(v) => Ok(v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))),
        Err(e @ (CallError::Auth(_) | CallError::Transport(_))) => Err(e),
        Err(CallError::Status { status: 403, .. }) => Ok(None),
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            tracing::debug!(error = %e, "Graph would not count users; reading them in sequence");
            Ok(None)
        }
    }
}

/// The URL of one segment, relative to the version root.
fn segment_url(first: char) -> String {
    let literal = first.to_string().replace('\'', "''");
    let mut url = reqwest::Url::parse("http://graph.invalid/users").expect("a valid URL");
    url.query_pairs_mut()
        .append_pair(
            "$filter",
            &format!("startswith(userPrincipalName,'{literal}')"),
        )
        .append_pair("$select", USER_SELECT)
        .append_pair("$top", &PAGE_SIZE.to_string())
        .append_pair("$count", "true");
    format!("/users?{}", url.query().unwrap_or_default())
}

/// Every user, in parallel segments when the tenant is large and the counts prove the
/// segments complete; else page after page.
pub(crate) async fn all_users(
    client: Arc<GraphClient>,
    parallel: bool,
) -> Result<(Vec<Value>, UsersRead), CallError> {
    let sequential = format!("/users?$select={USER_SELECT}&$top={PAGE_SIZE}");
    if !parallel {
        return Ok((client.get_all(&sequential).await?, UsersRead::Sequential));
    }
    let total = match count(&client).await? {
        Some(n) if n > PARALLEL_ABOVE => n,
        _ => return Ok((client.get_all(&sequential).await?, UsersRead::Sequential)),
    };
    if let Some(users) = segments(client.clone(), total).await? {
        return Ok((users, UsersRead::Parallel));
    }
    tracing::warn!(
        total,
        "the parallel read of users did not add up to Graph's count; reading them again in sequence"
    );
    Ok((client.get_all(&sequential).await?, UsersRead::FellBack))
}

/// Reads every segment; `None` when the counts do not prove that nothing was missed.
async fn segments(client: Arc<GraphClient>, total: u64) -> Result<Option<Vec<Value>>, CallError> {
    let permits = Arc::new(Semaphore::new(SEGMENTS_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for (n, first) in FIRST_CHARACTERS.chars().enumerate() {
        let (client, permits) = (client.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            let read = client.get_all_with(&segment_url(first), &EVENTUAL).await;
            (n, read)
        });
    }
    let mut parts: Vec<Option<Vec<Value>>> = vec![None; FIRST_CHARACTERS.len()];
    let mut complete = true;
    while let Some(joined) = tasks.join_next().await {
        let (n, read) = joined.expect("a segment read does not panic");
        let (items, count) = read?;
        // Each segment must hold exactly what Graph counted for it.
        complete &= count == Some(items.len() as u64);
        parts[n] = Some(items);
    }
    let users: Vec<Value> = parts.into_iter().flatten().flatten().collect();
    let ids: HashSet<&str> = users.iter().filter_map(|u| u["id"].as_str()).collect();
    complete &= users.len() as u64 == total && ids.len() == users.len();
    Ok(complete.then_some(users))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_urls_escape_quotes_and_ask_for_a_count() {
        let url = segment_url('\'');
        let query: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x{url}"))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(query[0].1, "startswith(userPrincipalName,'''')");
        assert!(query.contains(&("$count".into(), "true".into())));
        assert!(query.contains(&("$top".into(), "999".into())));
    }
}
