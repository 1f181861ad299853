//! One Teams number order: `POST .../numberAssignments/assignNumber` (or `unassignNumber`),
//! which "creates an asynchronous order" and answers `202 Accepted` with a `Location` of
//! `.../telephoneNumberManagement/operations('{id}')`; then `GET` that location ("Get
//! telephoneNumberLongRunningOperation": "This link is returned in the Location response
//! header found in assign or unassign operation result") until the order's `status` is
//! `succeeded` or `failed` (`notStarted` and `running` mean: ask again later). Graph v1.0
//! pages read 2026-12-07, listed in docs/graph.md.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::time::Instant;

use super::super::client::{CallError, GraphClient};

/// The first poll waits this long, each later one twice as long as the one before, up to
/// [`POLL_MAX`]: an order usually ends within seconds, and Teams' provisioning is retried
/// elsewhere (`write.rs`), not by polling faster.
const POLL_FIRST: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_secs(5);

/// How an order ended, as far as commcred saw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OrderEnd {
    Succeeded,
    /// `failed`, with the numbers' `statusDetail` (Teams' reason).
    Failed(String),
    /// Still `notStarted` or `running` when the deadline came.
    StillRunning,
    /// Graph would not say (the poll failed): whether the order ran is unknown.
    Unknown(String),
}

/// Places an order: `Ok(location)` when Graph accepted it.
pub(crate) async fn place(
    client: &GraphClient,
    action: &str,
    body: &Value,
) -> Result<String, CallError> {
    let url = format!("/admin/teams/telephoneNumberManagement/numberAssignments/{action}");
    let (_, location) = client
        .call_full(Method::POST, &url, Some(body), &[])
        .await?;
    location.ok_or_else(|| {
        CallError::Transport(format!(
            "Microsoft Graph accepted the {action} order but sent no Location to follow it"
        ))
    })
}

/// The path of `location` relative to `/v1.0`, so that the poll goes to the Graph root
/// commcred signs in to and nowhere else (the access token never leaves for another host).
pub(crate) fn relative(location: &str) -> Option<String> {
    if location.starts_with("/admin/teams/") {
        return Some(location.to_string());
    }
    let at = location.find("/v1.0/")?;
    let path = &location[at + "/v1.0".len()..];
    path.starts_with("/admin/teams/telephoneNumberManagement/operations")
        .then(|| path.to_string())
}

/// Polls the order at `location` until it ends or `until` passes.
pub(crate) async fn wait(client: &GraphClient, location: &str, until: Option<Instant>) -> OrderEnd {
    let Some(url) = relative(location) else {
        return OrderEnd::Unknown(format!(
            "the order's Location `{location}` is not a Teams operation under this Graph root"
        ));
    };
    let mut delay = POLL_FIRST;
    loop {
        if until.is_some_and(|t| Instant::now() + delay >= t) {
            return OrderEnd::StillRunning;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(POLL_MAX);
        let answer = match client.get(&url).await {
            Ok(v) => v,
            Err(e) => return OrderEnd::Unknown(e.to_string()),
        };
        if let Some(end) = order_end(&answer) {
            return end;
        }
    }
}

/// The end the operation shows, `None` while it runs. The page's example wraps the
/// operation in `value`; a bare operation is read too.
pub(crate) fn order_end(answer: &Value) -> Option<OrderEnd> {
    let op = match answer.get("value") {
        Some(v) if v.is_object() => v,
        _ => answer,
    };
    let status = op["status"].as_str().unwrap_or_default();
    if status.eq_ignore_ascii_case("succeeded") {
        return Some(OrderEnd::Succeeded);
    }
    if !status.eq_ignore_ascii_case("failed") {
        return None;
    }
    let details: Vec<&str> = op["numbers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["statusDetail"].as_str())
        .filter(|d| !d.is_empty())
        .collect();
    Some(OrderEnd::Failed(if details.is_empty() {
        "the order failed and Teams gave no reason".to_string()
    } else {
        details.join("; ")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_operation_says_when_it_ended_and_why() {
        let running = json!({"value": {"status": "running", "numbers": []}});
        assert_eq!(order_end(&running), None);
        assert_eq!(order_end(&json!({"status": "notStarted"})), None);
        let done = json!({"value": {"status": "succeeded"}});
        assert_eq!(order_end(&done), Some(OrderEnd::Succeeded));
        let failed = json!({"status": "failed", "numbers": [
            {"status": "failed", "statusDetail": "User 'u' is not provisioned"}
        ]});
        assert_eq!(
            order_end(&failed),
            Some(OrderEnd::Failed("User 'u' is not provisioned".into()))
        );
    }

    #[test]
    fn polls_stay_on_the_graph_root() {
        let l = "https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/operations('QXNz')";
        assert_eq!(
            relative(l).as_deref(),
            Some("/admin/teams/telephoneNumberManagement/operations('QXNz')")
        );
        assert_eq!(relative("https://evil.example/steal"), None);
        assert_eq!(relative("https://evil.example/v1.0/users"), None);
    }
}
