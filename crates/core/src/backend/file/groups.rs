//! The group operations of a plan on an in-memory snapshot (the file backend's engine):
//! Graph's group `assignLicense` followed by Entra ID's processing of the members (done at
//! once here: a file has no background service), reprocessing of members, and the removal
//! of direct copies that a group now provides.

use crate::plan::Operation;
use crate::tenant::{GroupRetry, Snapshot, TenantIndex};

/// Applies a group operation. `None` when `op` is not one; `Ok(Some(note))` when it ran
/// but kept something on purpose (a direct copy whose group assignment is not active).
pub fn apply_group_op(
    snapshot: &mut Snapshot,
    index: &TenantIndex,
    op: &Operation,
) -> Option<Result<Option<String>, String>> {
    Some(match op {
        Operation::AssignGroupLicenses {
            group_id,
            name,
            add,
            remove,
        } => assign_group(snapshot, index, group_id, name, add, remove),
        Operation::ReprocessLicenses { user_id, upn } => match index.user_by_id(user_id) {
            Some(u) => {
                snapshot.process_group_licenses(index, GroupRetry::User(u));
                Ok(None)
            }
            None => Err(format!("user {upn} no longer exists")),
        },
        Operation::RemoveRedundantDirect {
            user_id,
            upn,
            group_id,
            group_name,
            remove,
        } => {
            let Some(u) = index.user_by_id(user_id) else {
                return Some(Err(format!("user {upn} no longer exists")));
            };
            let ids: Vec<&str> = remove.iter().map(|s| &*s.sku_id).collect();
            let (ready, kept) = redundant_direct(snapshot, u, group_id, &ids);
            let result = snapshot
                .assign_license(index, u, &[], &ready)
                .map_err(|e| format!("{upn}: {e}"));
            result.map(|()| crate::plan::groups::kept_note(upn, group_name, &kept))
        }
        _ => return None,
    })
}

fn assign_group(
    snapshot: &mut Snapshot,
    index: &TenantIndex,
    group_id: &str,
    name: &str,
    add: &[crate::plan::groups::GroupLicenseRef],
    remove: &[crate::plan::SkuRef],
) -> Result<Option<String>, String> {
    let Some(g) = snapshot.group_by_id(group_id) else {
        return Err(format!("group \"{name}\" ({group_id}) no longer exists"));
    };
    let add: Vec<crate::tenant::AssignedLicense> = add
        .iter()
        .map(|a| crate::tenant::AssignedLicense {
            sku_id: a.sku.sku_id.to_string(),
            disabled_plans: a.disabled_plans.clone(),
            extra: Default::default(),
        })
        .collect();
    let remove: Vec<String> = remove.iter().map(|s| s.sku_id.to_string()).collect();
    snapshot
        .set_group_licenses(index, g, &add, &remove)
        .map_err(|e| format!("group \"{name}\": {e}"))?;
    snapshot.process_group_licenses(index, GroupRetry::Group(group_id));
    Ok(None)
}

/// Splits `skus` into the direct copies that can go and those kept (see
/// [`crate::tenant::groups::redundant_direct`]).
pub fn redundant_direct(
    snapshot: &Snapshot,
    user: usize,
    group_id: &str,
    skus: &[&str],
) -> (Vec<String>, Vec<(String, String)>) {
    let states = snapshot.users[user]
        .license_assignment_states
        .as_deref()
        .unwrap_or_default();
    crate::tenant::groups::redundant_direct(states, group_id, skus)
}
