//! Reading every user of a large tenant in parallel segments, with a proof that none was
//! missed, and sequential paging when the proof fails.
//!
//! Graph pages users at most 999 at a time, each page one round trip: 100,000 users are 101
//! round trips in a row. Instead the users are split by the first character of their
//! `userPrincipalName` — `$filter=startswith(userPrincipalName,'a')`, which Graph supports
//! on that property by default ("Advanced query capabilities on Microsoft Entra ID
//! objects", filter table) — and the segments are read side by side.
//!
//! A segment of more than two pages is split again by the next character, with no fixed
//! depth, until each part is at most two pages or cannot be split (a name ends there): a
//! tenant whose names share a long prefix (`user1234@`, `ext_…`, `svc-…`) is split past it.
//! The next characters are first those the segment's first page shows; when the parts fall
//! short of the segment's `@odata.count`, the characters of the same kind (digits, letters,
//! symbols) not yet read, then every other character a name can hold; and if the parts still
//! do not add up, the segment is paged to its end instead.
//!
//! The proof, with Graph's advanced query parameters (`ConsistencyLevel: eventual` and
//! `$count`): `GET /users/$count` gives the number of users; each segment's first page
//! gives its `@odata.count`. Every segment must deliver exactly its count, and the segments
//! together exactly the total, each user once. A user whose name starts with a character
//! outside the segments, or a tenant that changes while it is read, breaks the sums: then
//! every user is read again page after page, the way that cannot miss one.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::client::{CallError, GraphClient};
use super::read::{PAGE_SIZE, USER_SELECT};

/// Tenants up to this many users are read page after page: two round trips at most.
pub(crate) const PARALLEL_ABOVE: u64 = 2 * PAGE_SIZE as u64;
/// Requests in flight at the same time.
pub(crate) const REQUESTS_IN_FLIGHT: usize = 16;
/// A segment holding more users than this is split by the next character of the name.
const SPLIT_ABOVE: u64 = 2 * PAGE_SIZE as u64;
/// The characters of a `userPrincipalName`'s user name in Entra ID: letters (matched
/// without regard to case), digits, and `' . - _ ! # ^ ~` ("Password policies and account
/// restrictions in Microsoft Entra ID", user name policies); guests' names carry `#EXT#`.
/// Also the first characters, `.` included: the reads do not depend on a rule that a
/// period cannot lead.
const FIRST_CHARACTERS: &str = "abcdefghijklmnopqrstuvwxyz0123456789'.-_!#^~";
/// What can follow a prefix: the user name's characters and the `@` before the domain
/// (whose characters are letters, digits, `-` and `.`).
const NEXT_CHARACTERS: &str = "abcdefghijklmnopqrstuvwxyz0123456789'.-_!#^~@";
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
        Err(e @ (CallError::Auth(_) | CallError::Transport(_) | CallError::Throttled(_))) => Err(e),
        Err(CallError::Status { status: 403, .. }) => Ok(None),
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            tracing::debug!(error = %e, "Graph would not count users; reading them in sequence");
            Ok(None)
        }
    }
}

/// The characters that follow the first `at` characters of the names on `page`, in lower
/// case, each once, in the order first seen.
fn next_characters(page: &Value, at: usize) -> Vec<char> {
    let mut seen = Vec::new();
    for user in page["value"].as_array().into_iter().flatten() {
        let next = user["userPrincipalName"]
            .as_str()
            .and_then(|upn| upn.chars().nth(at))
            .map(|c| c.to_ascii_lowercase());
        if let Some(c) = next
            && !seen.contains(&c)
        {
            seen.push(c);
        }
    }
    seen
}

/// The URL of one segment, relative to the version root.
fn segment_url(prefix: &str) -> String {
    let literal = prefix.replace('\'', "''");
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
    let permits = Arc::new(Semaphore::new(REQUESTS_IN_FLIGHT));
    let prefixes = FIRST_CHARACTERS.chars().map(String::from);
    let Some(users) = read_prefixes(client, permits, prefixes).await? else {
        return Ok(None);
    };
    let ids: HashSet<&str> = users.iter().filter_map(|u| u["id"].as_str()).collect();
    let complete = users.len() as u64 == total && ids.len() == users.len();
    Ok(complete.then_some(users))
}

type SegmentRead = Result<Option<Vec<Value>>, CallError>;

/// Reads the segments of `prefixes` side by side; `None` when one did not add up.
async fn read_prefixes(
    client: Arc<GraphClient>,
    permits: Arc<Semaphore>,
    prefixes: impl Iterator<Item = String>,
) -> SegmentRead {
    let mut tasks = JoinSet::new();
    for (n, prefix) in prefixes.enumerate() {
        let (client, permits) = (client.clone(), permits.clone());
        tasks.spawn(async move { (n, read_segment(client, permits, prefix).await) });
    }
    let mut parts: Vec<(usize, Vec<Value>)> = Vec::new();
    let mut complete = true;
    while let Some(joined) = tasks.join_next().await {
        let (n, read) = joined.expect("a segment read does not panic");
        match read? {
            Some(users) => parts.push((n, users)),
            None => complete = false,
        }
    }
    parts.sort_by_key(|(n, _)| *n);
    Ok(complete.then(|| parts.into_iter().flat_map(|(_, u)| u).collect()))
}

/// The kind of a character, to guess which characters of a segment the first page's
/// sample missed: names that share digits usually differ in digits.
fn kind(c: char) -> u8 {
    if c.is_ascii_digit() {
        0
    } else if c.is_ascii_alphabetic() {
        1
    } else {
        2
    }
}

/// The users whose name starts with `prefix`, proven by the segment's `@odata.count`; a
/// segment of more than two pages is split by the next character first, its parts proven
/// each and together. Boxed: it calls itself.
fn read_segment(
    client: Arc<GraphClient>,
    permits: Arc<Semaphore>,
    prefix: String,
) -> Pin<Box<dyn Future<Output = SegmentRead> + Send>> {
    Box::pin(async move {
        let mut page = {
            let _permit = permits.acquire().await.expect("never closed");
            client.get_with(&segment_url(&prefix), &EVENTUAL).await?
        };
        let Some(count) = page.get("@odata.count").and_then(Value::as_u64) else {
            return Ok(None);
        };
        if count > SPLIT_ABOVE
            && let Some(users) =
                split(client.clone(), permits.clone(), &prefix, &page, count).await?
        {
            return Ok(Some(users));
        }
        let mut users = Vec::new();
        loop {
            if let Some(Value::Array(values)) = page.get_mut("value").map(Value::take) {
                users.extend(values);
            }
            let Some(next) = page["@odata.nextLink"].as_str().map(str::to_string) else {
                break;
            };
            let _permit = permits.acquire().await.expect("never closed");
            page = client.get_with(&next, &EVENTUAL).await?;
        }
        Ok((users.len() as u64 == count).then_some(users))
    })
}

/// The `count` users of the segment `prefix`, read as its parts one character longer;
/// `None` when the parts do not add up to `count` (then the caller pages the segment).
async fn split(
    client: Arc<GraphClient>,
    permits: Arc<Semaphore>,
    prefix: &str,
    first_page: &Value,
    count: u64,
) -> SegmentRead {
    let at = prefix.chars().count();
    // A name that ends here is in no part: it is on this first page, or the parts fall
    // short and the segment is paged.
    let mut users: Vec<Value> = first_page["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| {
            u["userPrincipalName"]
                .as_str()
                .is_some_and(|n| n.chars().count() == at)
        })
        .cloned()
        .collect();
    let sampled = next_characters(first_page, at);
    let kinds: Vec<u8> = sampled.iter().map(|c| kind(*c)).collect();
    let same_kind: Vec<char> = NEXT_CHARACTERS
        .chars()
        .filter(|c| !sampled.contains(c) && kinds.contains(&kind(*c)))
        .collect();
    let others: Vec<char> = NEXT_CHARACTERS
        .chars()
        .filter(|c| !sampled.contains(c) && !same_kind.contains(c))
        .collect();
    for round in [sampled, same_kind, others] {
        if users.len() as u64 >= count {
            break;
        }
        let parts = round.into_iter().map(|c| format!("{prefix}{c}"));
        match read_prefixes(client.clone(), permits.clone(), parts).await? {
            Some(part) => users.extend(part),
            None => return Ok(None),
        }
    }
    if users.len() as u64 != count {
        tracing::debug!(
            prefix,
            count,
            read = users.len(),
            "the parts of a segment do not add up to its count; paging it instead"
        );
        return Ok(None);
    }
    Ok(Some(users))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_names_the_next_characters_once_each() {
        let page = serde_json::json!({"value": [
            {"userPrincipalName": "Mary@x"}, {"userPrincipalName": "mike@x"},
            {"userPrincipalName": "MARK@x"}, {"userPrincipalName": "m@x"}
        ]});
        assert_eq!(next_characters(&page, 1), ['a', 'i', '@']);
        assert_eq!(next_characters(&page, 2), ['r', 'k', 'x']);
    }

    #[test]
    fn segment_urls_escape_quotes_and_ask_for_a_count() {
        let url = segment_url("o'");
        let query: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x{url}"))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(query[0].1, "startswith(userPrincipalName,'o''')");
        assert!(query.contains(&("$count".into(), "true".into())));
        assert!(query.contains(&("$top".into(), "999".into())));
    }
}
