//! Reading a tenant from Graph into the shared snapshot model: the organization (id and
//! initial domain), the subscribed SKUs (ids resolved from the tenant, never hard-coded)
//! and every user, paged at Graph's maximum of 999, with only the properties commcred uses.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::backend::BackendError;
use crate::tenant::{SubscribedSku, TenantInfo, User};

use super::client::{CallError, GraphClient};
use super::read_users::UsersRead;

/// The user properties commcred needs: `licenseAssignmentStates` tells direct assignments
/// from group-inherited ones, which commcred must never try to remove; `accountEnabled`
/// (returned only on `$select`, Graph's user resource) finds licenses on disabled accounts.
pub(crate) const USER_SELECT: &str =
    "id,userPrincipalName,usageLocation,accountEnabled,assignedLicenses,licenseAssignmentStates";

pub(crate) const PAGE_SIZE: usize = 999;

/// A failed read as the user sees it: sign-in problems apart, 403s with the permission list.
pub(super) fn read_error(what: &str, e: CallError) -> BackendError {
    match &e {
        CallError::Auth(message) => {
            return BackendError::Auth(format!("cannot sign in to Microsoft Graph: {message}"));
        }
        CallError::Throttled(t) => {
            return BackendError::ReadThrottled {
                what: what.to_string(),
                too_many: t.too_many,
                unavailable: t.unavailable,
                last_retry_after: super::client::describe_wait(t.last_retry_after),
                waited_secs: t.waited.as_secs(),
            };
        }
        _ => {}
    }
    BackendError::Read {
        what: format!("Microsoft Graph ({what})"),
        message: match &e {
            CallError::Status { status: 403, .. } => {
                format!("{e}. Permissions: {}", super::permissions::hint())
            }
            _ => e.to_string(),
        },
    }
}

fn parse<T: DeserializeOwned>(what: &str, v: Value) -> Result<T, BackendError> {
    serde_json::from_value(v).map_err(|source| BackendError::Unexpected {
        what: format!("Microsoft Graph ({what})"),
        source,
    })
}

pub(crate) async fn organization(client: &GraphClient) -> Result<TenantInfo, BackendError> {
    let org = client
        .get("/organization?$select=id,verifiedDomains")
        .await
        .map_err(|e| read_error("organization", e))?;
    let first = &org["value"][0];
    let id = first["id"].as_str().unwrap_or_default().to_string();
    let initial = first["verifiedDomains"]
        .as_array()
        .and_then(|ds| {
            ds.iter()
                .find(|d| d["isInitial"].as_bool() == Some(true))
                .and_then(|d| d["name"].as_str())
        })
        .unwrap_or_default()
        .to_string();
    if id.is_empty() || initial.is_empty() {
        return Err(BackendError::Read {
            what: "Microsoft Graph (organization)".into(),
            message: "the organization has no id or no initial domain".into(),
        });
    }
    Ok(TenantInfo {
        id,
        domain: initial,
        extra: Default::default(),
    })
}

pub(crate) async fn subscribed_skus(
    client: &GraphClient,
) -> Result<Vec<SubscribedSku>, BackendError> {
    let items = client
        .get_all("/subscribedSkus")
        .await
        .map_err(|e| read_error("subscribedSkus", e))?;
    parse("subscribedSkus", Value::Array(items))
}

/// Every user: in parallel segments for a large tenant (see `read_users.rs`).
pub(crate) async fn users(
    client: Arc<GraphClient>,
    parallel: bool,
) -> Result<(Vec<User>, UsersRead), BackendError> {
    let (items, how) = super::read_users::all_users(client, parallel)
        .await
        .map_err(|e| read_error("users", e))?;
    tracing::debug!(users = items.len(), ?how, "read the users");
    Ok((parse("users", Value::Array(items))?, how))
}

/// One user's current state, for checking what a write whose answer was lost did.
pub(crate) fn user_url(user_id: &str) -> String {
    format!("/users/{user_id}?$select={USER_SELECT}")
}
