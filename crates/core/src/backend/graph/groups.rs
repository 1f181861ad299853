//! Group-based licensing on Microsoft Graph: reading licensed groups and their members,
//! `POST /groups/{id}/assignLicense`, waiting (bounded, with progress) until Entra ID has
//! processed every member, `POST /users/{id}/reprocessLicenseAssignment`, and removing
//! direct copies only once the group's inherited assignment is active for that member.
//!
//! Graph pages used: "List groups", "List group transitive members", "group: assignLicense"
//! (202 Accepted; members are processed in the background), "user:
//! reprocessLicenseAssignment", "licenseAssignmentState resource type", and "Migrate users
//! with individual licenses to groups" (verify the group's assignments before removing
//! direct ones).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend::{ApplyReport, BackendError, Progress};
use crate::plan::Operation;
use crate::tenant::groups::redundant_direct;
use crate::tenant::{Group, LicenseAssignmentState};

use super::assign::{AddLicense, AssignLicense};
use super::client::{CallError, GraphClient};
use super::read::read_error;

const PAGE: usize = 999;

/// How long apply waits for Entra ID to process a group's members, and how often it looks.
#[derive(Debug, Clone)]
pub struct GroupWait {
    pub deadline: Duration,
    pub first_poll: Duration,
    pub max_poll: Duration,
}

impl Default for GroupWait {
    fn default() -> GroupWait {
        GroupWait {
            deadline: Duration::from_secs(30 * 60),
            first_poll: Duration::from_millis(100),
            max_poll: Duration::from_secs(10),
        }
    }
}

fn members_url(group_id: &str, select: &str) -> String {
    format!(
        "/groups/{group_id}/transitiveMembers/microsoft.graph.user?$select={select}&$top={PAGE}"
    )
}

/// Groups with their licenses; members are read for groups that carry licenses and for
/// those `wanted` names (ids or display names, any case), the only ones a plan can touch.
pub(crate) async fn read_groups(
    client: &GraphClient,
    wanted: &[String],
) -> Result<Vec<Group>, BackendError> {
    let items = client
        .get_all(&format!(
            "/groups?$select=id,displayName,assignedLicenses&$top={PAGE}"
        ))
        .await
        .map_err(|e| read_error("groups", e))?;
    let mut groups = Vec::new();
    for item in items {
        let mut group: Group =
            serde_json::from_value(item).map_err(|source| BackendError::Unexpected {
                what: "Microsoft Graph (groups)".into(),
                source,
            })?;
        let named = wanted.iter().any(|w| {
            w.eq_ignore_ascii_case(&group.id)
                || w.to_lowercase() == group.display_name.to_lowercase()
        });
        if group.assigned_licenses.is_empty() && !named {
            continue;
        }
        group.members = client
            .get_all(&members_url(&group.id, "id"))
            .await
            .map_err(|e| read_error("group members", e))?
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect();
        groups.push(group);
    }
    Ok(groups)
}

/// A write that is safe to repeat (setting a group's licenses, reprocessing a user, removing
/// a license already removed is refused harmlessly), retried on transient failures.
async fn post(client: &GraphClient, url: &str, body: &Value) -> Result<Value, CallError> {
    let mut delays = client.retry.delays();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match client.call(Method::POST, url, Some(body)).await {
            Err(e) if e.is_transient() && attempt < client.retry.max_attempts => {
                let backoff = delays.next().unwrap_or(client.retry.max_delay);
                tokio::time::sleep(e.retry_after().unwrap_or(backoff)).await;
            }
            other => return other,
        }
    }
}

/// Member id -> its license assignment states, for one group.
type MemberStates = HashMap<String, Vec<LicenseAssignmentState>>;

async fn member_states(client: &GraphClient, group_id: &str) -> Result<MemberStates, CallError> {
    let items = client
        .get_all(&members_url(group_id, "id,licenseAssignmentStates"))
        .await?;
    Ok(items
        .into_iter()
        .filter_map(|m| {
            let id = m["id"].as_str()?.to_ascii_lowercase();
            let states =
                serde_json::from_value(m["licenseAssignmentStates"].clone()).unwrap_or_default();
            Some((id, states))
        })
        .collect())
}

/// True when every member has a state from the group for each SKU it adds, and none for
/// each SKU it removes: Entra ID has processed the change.
fn processed(states: &MemberStates, group_id: &str, add: &[String], remove: &[String]) -> usize {
    let from_group = |s: &LicenseAssignmentState, sku: &str| {
        s.sku_id.eq_ignore_ascii_case(sku)
            && s.assigned_by_group
                .as_deref()
                .is_some_and(|g| g.eq_ignore_ascii_case(group_id))
    };
    states
        .values()
        .filter(|st| {
            add.iter().all(|sku| st.iter().any(|s| from_group(s, sku)))
                && remove
                    .iter()
                    .all(|sku| !st.iter().any(|s| from_group(s, sku)))
        })
        .count()
}

/// Runs the plan's group operations (after the users' own changes), in order: group
/// licenses, a bounded wait for processing, reprocessing, redundant direct copies.
pub(crate) async fn run(
    client: Arc<GraphClient>,
    ops: Vec<Operation>,
    wait: &GroupWait,
    progress: Arc<dyn Progress>,
    report: &mut ApplyReport,
) {
    // Group id (lower case) -> (added SKUs, removed SKUs) changed in this run.
    let mut changed: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    let mut rest = Vec::new();
    for op in ops {
        let Operation::AssignGroupLicenses {
            group_id,
            name,
            add,
            remove,
        } = &op
        else {
            rest.push(op);
            continue;
        };
        let body = AssignLicense {
            add_licenses: add
                .iter()
                .map(|a| AddLicense {
                    sku_id: a.sku.sku_id.to_string(),
                    disabled_plans: a.disabled_plans.clone(),
                })
                .collect(),
            remove_licenses: remove.iter().map(|s| s.sku_id.to_string()).collect(),
        }
        .to_value();
        match post(&client, &format!("/groups/{group_id}/assignLicense"), &body).await {
            Ok(_) => {
                changed.push((
                    group_id.to_ascii_lowercase(),
                    add.iter().map(|a| a.sku.sku_id.to_string()).collect(),
                    remove.iter().map(|s| s.sku_id.to_string()).collect(),
                ));
                report.applied.push(op.clone());
            }
            Err(e) => report
                .failed
                .push((op.clone(), format!("group \"{name}\": {e}"))),
        }
        progress.advance(1);
    }
    let states = Arc::new(wait_for_processing(&client, &changed, wait, progress.clone()).await);
    // Reprocessing comes before removals: a kept direct copy is judged on fresh states.
    let (reprocess, removals): (Vec<Operation>, Vec<Operation>) = rest
        .into_iter()
        .partition(|op| matches!(op, Operation::ReprocessLicenses { .. }));
    for batch in [reprocess, removals] {
        // Independent per-user requests, a few in flight at once.
        for chunk in batch.chunks(IN_FLIGHT) {
            let mut tasks = tokio::task::JoinSet::new();
            for op in chunk.iter().cloned() {
                let (client, states) = (client.clone(), states.clone());
                tasks.spawn(async move {
                    let mut one = ApplyReport::default();
                    user_step(&client, op, &states, &mut one).await;
                    one
                });
            }
            while let Some(done) = tasks.join_next().await {
                let one = done.expect("group step task panicked");
                report.applied.extend(one.applied);
                report.failed.extend(one.failed);
                report.manual.extend(one.manual);
                progress.advance(1);
            }
        }
    }
}

/// Per-user requests in flight at once (well under Graph's per-app limits).
const IN_FLIGHT: usize = 16;

async fn user_step(
    client: &GraphClient,
    op: Operation,
    states: &HashMap<String, MemberStates>,
    report: &mut ApplyReport,
) {
    match &op {
        Operation::ReprocessLicenses { user_id, upn } => {
            let url = format!("/users/{user_id}/reprocessLicenseAssignment");
            match post(client, &url, &json!({})).await {
                Ok(_) => report.applied.push(op.clone()),
                Err(e) => report.failed.push((op.clone(), format!("{upn}: {e}"))),
            }
        }
        Operation::RemoveRedundantDirect { .. } => {
            remove_redundant(client, &op, states, report).await;
        }
        _ => report
            .failed
            .push((op.clone(), "not a group operation".to_string())),
    }
}

/// Polls the changed groups' members until each is processed or the deadline passes.
/// Returns the last states seen, by group.
async fn wait_for_processing(
    client: &GraphClient,
    changed: &[(String, Vec<String>, Vec<String>)],
    wait: &GroupWait,
    progress: Arc<dyn Progress>,
) -> HashMap<String, MemberStates> {
    let mut seen: HashMap<String, MemberStates> = HashMap::new();
    let started = tokio::time::Instant::now();
    let mut pause = wait.first_poll;
    for (group_id, add, remove) in changed {
        let mut reported = 0;
        loop {
            match member_states(client, group_id).await {
                Ok(states) => {
                    let done = processed(&states, group_id, add, remove);
                    if reported == 0 {
                        progress.start(states.len() as u64);
                    }
                    progress.advance(done.saturating_sub(reported) as u64);
                    reported = reported.max(done);
                    let all = done == states.len();
                    seen.insert(group_id.clone(), states);
                    if all {
                        break;
                    }
                }
                Err(e) => tracing::warn!(group = %group_id, error = %e, "cannot read members yet"),
            }
            if started.elapsed() >= wait.deadline {
                tracing::warn!(group = %group_id, "Entra ID has not processed every member in time");
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(wait.max_poll);
        }
    }
    seen
}

async fn remove_redundant(
    client: &GraphClient,
    op: &Operation,
    states: &HashMap<String, MemberStates>,
    report: &mut ApplyReport,
) {
    let Operation::RemoveRedundantDirect {
        user_id,
        upn,
        group_id,
        group_name,
        remove,
    } = op
    else {
        return;
    };
    let group = group_id.to_ascii_lowercase();
    // The states seen while waiting, or fresh ones (a group this run did not change).
    let mine = match states
        .get(&group)
        .and_then(|m| m.get(&user_id.to_ascii_lowercase()))
    {
        Some(s) => s.clone(),
        None => match client
            .get(&format!(
                "/users/{user_id}?$select=id,licenseAssignmentStates"
            ))
            .await
        {
            Ok(v) => {
                serde_json::from_value(v["licenseAssignmentStates"].clone()).unwrap_or_default()
            }
            Err(e) => {
                report.failed.push((op.clone(), format!("{upn}: {e}")));
                return;
            }
        },
    };
    let skus: Vec<&str> = remove.iter().map(|s| &*s.sku_id).collect();
    let (ready, kept) = redundant_direct(&mine, group_id, &skus);
    if !ready.is_empty() {
        let body = AssignLicense::new::<&str, _>(&[], &ready).to_value();
        if let Err(e) = post(client, &format!("/users/{user_id}/assignLicense"), &body).await {
            report.failed.push((op.clone(), format!("{upn}: {e}")));
            return;
        }
    }
    report.applied.push(op.clone());
    if let Some(note) = crate::plan::groups::kept_note(upn, group_name, &kept) {
        report.manual.push((op.clone(), note));
    }
}
