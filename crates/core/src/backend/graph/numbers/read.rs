//! Reading the tenant's phone number inventory and its users' Teams voice configuration
//! into the snapshot model (`tenant::numbers`), page by page, with the same retries,
//! `Retry-After` waits and deadline as every other read (`GraphClient::get`).
//!
//! - `GET /admin/teams/telephoneNumberManagement/numberAssignments?$top=1000` ("List
//!   numberAssignments": "Default number of results is 500 entries and maximum 1,000
//!   entries allowed per query"), following `@odata.nextLink`;
//! - `GET /admin/teams/userConfigurations?$top=999` ("List userConfigurations" supports
//!   `$top` but names no maximum: 999, Graph's usual largest page for directory objects),
//!   following `@odata.nextLink`.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::backend::BackendError;
use crate::tenant::{NumberAssignment, TeamsUserConfiguration};

use super::super::client::GraphClient;
use super::super::read::read_error;

pub(crate) const NUMBERS_URL: &str =
    "/admin/teams/telephoneNumberManagement/numberAssignments?$top=1000";
pub(crate) const CONFIGS_URL: &str = "/admin/teams/userConfigurations?$top=999";

/// The inventory and the Teams user configurations, read side by side.
pub(crate) async fn numbers_and_configs(
    client: &GraphClient,
) -> Result<(Vec<NumberAssignment>, Vec<TeamsUserConfiguration>), BackendError> {
    let (numbers, configs) = tokio::join!(
        collection(client, "numberAssignments", NUMBERS_URL),
        collection(client, "userConfigurations", CONFIGS_URL)
    );
    let numbers: Vec<NumberAssignment> = numbers?;
    let configs: Vec<TeamsUserConfiguration> = configs?;
    tracing::debug!(
        numbers = numbers.len(),
        configurations = configs.len(),
        "read the phone numbers"
    );
    Ok((numbers, configs))
}

/// Every item of a paged collection, without Graph's `@odata.*` annotations (they are not
/// part of the objects, and the model keeps unknown fields).
async fn collection<T: DeserializeOwned>(
    client: &GraphClient,
    what: &str,
    url: &str,
) -> Result<Vec<T>, BackendError> {
    let items = client.get_all(url).await.map_err(|e| read_error(what, e))?;
    items
        .into_iter()
        .map(|mut item| {
            if let Value::Object(map) = &mut item {
                map.retain(|k, _| !k.starts_with("@odata."));
            }
            serde_json::from_value(item).map_err(|e| BackendError::Read {
                what: format!("Microsoft Graph ({what})"),
                message: format!("unexpected answer: {e}"),
            })
        })
        .collect()
}
