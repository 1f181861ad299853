//! Microsoft 365's licensing rules on the snapshot model: which SKUs a user holds and how,
//! the capabilities they give, and license changes checked the way Graph checks them.
//! The file backend and the emulator both mutate tenants only through these functions.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::base::codes::is_country;
use crate::base::licenses::Capabilities;

use super::capabilities::{AssignmentPath, assignment_paths, held_sku_ids, state_provides};

use super::snapshot::{AssignedLicense, LicenseAssignmentState, Snapshot, User};

/// Why Graph refuses a change, with Graph's error code and a message in Graph's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub kind: RuleKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    InvalidUsageLocation,
    MissingUsageLocation,
    NoLicensesAvailable,
    DependentServicePlan,
    GroupInherited,
    NotApplicableToUser,
    UnknownSku,
    UnknownUser,
}

impl RuleError {
    fn new(kind: RuleKind, message: impl Into<String>) -> RuleError {
        RuleError {
            kind,
            message: message.into(),
        }
    }

    /// The `error.code` Graph sends with this refusal.
    pub fn graph_code(&self) -> &'static str {
        match self.kind {
            RuleKind::UnknownUser => "Request_ResourceNotFound",
            _ => "Request_BadRequest",
        }
    }
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Case-insensitive lookups over a snapshot, built once per plan or apply (O(users)).
pub struct TenantIndex {
    sku_by_id: HashMap<String, usize>,
    user_by_upn: HashMap<String, usize>,
    /// User ids that are GUIDs (all of Graph's), as numbers: no string per user.
    user_by_guid: HashMap<u128, usize>,
    /// Any other user ids (hand-written snapshots), lower case.
    user_by_other_id: HashMap<String, usize>,
    /// Capabilities of each SKU with no plan disabled, by SKU position.
    sku_capabilities: Vec<Capabilities>,
    /// Lower-case SKU ids by SKU position, shared by every plan entry that names them.
    sku_keys: Vec<Arc<str>>,
    /// Whether each SKU gives Microsoft Teams with no plan disabled, by SKU position.
    sku_teams: Vec<bool>,
    /// The groups each member belongs to (positions), built on first use: only group
    /// processing needs it, and the planner never does. Group membership never changes
    /// while an index is in use (no engine adds or removes members).
    groups_of_user: OnceLock<HashMap<usize, Vec<usize>>>,
}

impl TenantIndex {
    pub fn build(snapshot: &Snapshot) -> TenantIndex {
        let sku_by_id = snapshot
            .subscribed_skus
            .iter()
            .enumerate()
            .map(|(i, s)| (s.sku_id.to_ascii_lowercase(), i))
            .collect();
        let user_by_upn = snapshot
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.user_principal_name.to_lowercase(), i))
            .collect();
        let mut user_by_guid = HashMap::with_capacity(snapshot.users.len());
        let mut user_by_other_id = HashMap::new();
        for (i, u) in snapshot.users.iter().enumerate() {
            match guid_key(&u.id) {
                Some(key) => user_by_guid.insert(key, i),
                None => user_by_other_id.insert(u.id.to_ascii_lowercase(), i),
            };
        }
        let sku_capabilities = snapshot
            .subscribed_skus
            .iter()
            .map(|s| sku_capabilities(s, &[]))
            .collect();
        let sku_keys = snapshot
            .subscribed_skus
            .iter()
            .map(|s| Arc::from(s.sku_id.to_ascii_lowercase()))
            .collect();
        let sku_teams = snapshot
            .subscribed_skus
            .iter()
            .map(|s| sku_has_teams(s, &[]))
            .collect();
        TenantIndex {
            sku_teams,
            sku_keys,
            sku_by_id,
            user_by_upn,
            user_by_guid,
            user_by_other_id,
            sku_capabilities,
            groups_of_user: OnceLock::new(),
        }
    }

    /// The positions of the groups `user` is a member of, in `snapshot.groups` order; one
    /// pass over every membership the first time, a lookup afterwards. `snapshot` must be
    /// the one the index was built from (or a copy with the same groups and users).
    pub fn groups_of(&self, snapshot: &Snapshot, user: usize) -> &[usize] {
        let by_user = self.groups_of_user.get_or_init(|| {
            let mut by_user: HashMap<usize, Vec<usize>> = HashMap::new();
            for (g, group) in snapshot.groups.iter().enumerate() {
                for m in &group.members {
                    if let Some(u) = self.user_by_id(m) {
                        let groups = by_user.entry(u).or_default();
                        if groups.last() != Some(&g) {
                            groups.push(g);
                        }
                    }
                }
            }
            by_user
        });
        by_user.get(&user).map_or(&[], Vec::as_slice)
    }

    pub fn sku(&self, sku_id: &str) -> Option<usize> {
        self.sku_by_id.get(&sku_id.to_ascii_lowercase()).copied()
    }

    pub fn user_by_upn(&self, upn: &str) -> Option<usize> {
        self.user_by_upn.get(&upn.to_lowercase()).copied()
    }

    pub fn user_by_id(&self, id: &str) -> Option<usize> {
        match guid_key(id) {
            Some(key) => self.user_by_guid.get(&key).copied(),
            None => self.user_by_other_id.get(&id.to_ascii_lowercase()).copied(),
        }
    }

    /// The SKU's id in lower case (the form plans record), shared.
    pub fn sku_key(&self, sku: usize) -> Arc<str> {
        Arc::clone(&self.sku_keys[sku])
    }

    pub fn capabilities_of_sku(&self, sku: usize) -> Capabilities {
        self.sku_capabilities[sku]
    }

    /// True when the SKU gives Microsoft Teams (all its plans enabled).
    pub fn sku_gives_teams(&self, sku: usize) -> bool {
        self.sku_teams[sku]
    }
}

/// A GUID (`8-4-4-4-12` hex digits, any case) as a number; `None` for anything else.
fn guid_key(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut key: u128 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        key = (key << 4) | u128::from((b as char).to_digit(16)?);
    }
    Some(key)
}

pub use super::capabilities::{sku_capabilities, sku_has_teams};

/// How a user holds one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// Position of the SKU in `subscribedSkus`; `None` for a SKU the tenant does not list.
    pub sku: Option<usize>,
    pub sku_id: String,
    pub direct: bool,
    /// Group ids the SKU is inherited from (in any state).
    pub groups: Vec<String>,
    /// Every assignment of the SKU to the user, with Graph's state and error.
    pub paths: Vec<AssignmentPath>,
    /// What the holding gives: the enabled plans' capabilities when an assignment is
    /// `Active` (or has no state), nothing when every assignment is in error.
    pub capabilities: Capabilities,
    /// The enabled plans' capabilities whatever the state.
    pub enabled: Capabilities,
    /// Service plan ids switched off in this assignment (`disabledPlans`).
    pub disabled_plans: Vec<String>,
    /// The enabled plans include Microsoft Teams (whatever the state).
    pub teams: bool,
}

impl Holding {
    pub fn provides(&self) -> bool {
        self.paths.iter().any(AssignmentPath::provides)
    }

    /// Assignments that Microsoft flags (`Error`, `ActiveWithError`, ...): they give nothing.
    pub fn failed_paths(&self) -> impl Iterator<Item = &AssignmentPath> {
        self.paths.iter().filter(|p| !p.provides())
    }
}

/// Every SKU the user holds, once each, saying whether directly, through groups, or both,
/// and in which state. Without `licenseAssignmentStates` every assignment counts as direct
/// and active (SPEC §4).
pub fn holdings(user: &User, snapshot: &Snapshot, index: &TenantIndex) -> Vec<Holding> {
    let ids = held_sku_ids(user);
    let mut out: Vec<Holding> = Vec::with_capacity(ids.len());
    for sku_id in ids {
        let sku = index.sku(sku_id);
        let paths = assignment_paths(user, sku_id);
        let direct = paths.iter().any(|p| p.group.is_none());
        let groups: Vec<String> = paths.iter().filter_map(|p| p.group.clone()).collect();
        let disabled_plans = user
            .assigned_licenses
            .iter()
            .find(|a| a.sku_id.eq_ignore_ascii_case(sku_id))
            .map(|a| a.disabled_plans.clone())
            .unwrap_or_default();
        let enabled = match sku {
            Some(i) if disabled_plans.is_empty() => index.capabilities_of_sku(i),
            Some(i) => sku_capabilities(&snapshot.subscribed_skus[i], &disabled_plans),
            None => Capabilities::default(),
        };
        let provides = paths.iter().any(AssignmentPath::provides);
        let teams = match sku {
            Some(i) if disabled_plans.is_empty() => index.sku_gives_teams(i),
            Some(i) => sku_has_teams(&snapshot.subscribed_skus[i], &disabled_plans),
            None => false,
        };
        out.push(Holding {
            teams,
            sku,
            sku_id: sku_id.to_string(),
            direct,
            groups,
            paths,
            capabilities: if provides {
                enabled
            } else {
                Capabilities::default()
            },
            enabled,
            disabled_plans,
        });
    }
    out
}

/// Graph's per-user rule on a proposed set of holdings: a calling plan needs Teams Phone
/// (Microsoft: "Teams add-on licensing"; Graph refuses with a dependency error). Calling
/// plans are not checked against each other: Microsoft documents no such rule, so Graph's
/// own answer at apply time speaks.
pub fn check_license_rules(
    held: &[(String, Capabilities)],
    user_upn: &str,
) -> Result<(), RuleError> {
    let all = held
        .iter()
        .fold(Capabilities::default(), |acc, (_, c)| acc.union(*c));
    if all.calling_plan() && !all.teams_phone() {
        let calling_plans: Vec<&str> = held
            .iter()
            .filter(|(_, c)| c.calling_plan())
            .map(|(name, _)| name.as_str())
            .collect();
        return Err(RuleError::new(
            RuleKind::DependentServicePlan,
            format!(
                "License assignment failed for user {user_upn} because service plan {} depends on the service plan(s) MCOEV (Teams Phone).",
                calling_plans.join(", ")
            ),
        ));
    }
    Ok(())
}

/// What a user would hold after a license change, by part number with the capabilities each
/// then gives: the state the per-user rules and "already provided" are judged on. `remove`
/// are SKU ids, `add` SKU positions. A removed SKU that a group still assigns keeps what
/// that group's assignment gives; an added SKU gives all its plans (a new direct
/// assignment is active).
pub fn holdings_after(
    snapshot: &Snapshot,
    index: &TenantIndex,
    held: &[Holding],
    remove: &[&str],
    add: &[usize],
) -> Vec<(String, Capabilities)> {
    let part_number = |i: usize| snapshot.subscribed_skus[i].sku_part_number.clone();
    let mut after = Vec::with_capacity(held.len() + add.len());
    for h in held {
        let name = h.sku.map_or(h.sku_id.clone(), part_number);
        if h.sku.is_some_and(|i| add.contains(&i)) {
            after.push((
                name,
                h.enabled.union(index.capabilities_of_sku(h.sku.unwrap())),
            ));
            continue;
        }
        let removed = remove.iter().any(|r| r.eq_ignore_ascii_case(&h.sku_id));
        let provides = h
            .paths
            .iter()
            .filter(|p| !(removed && p.group.is_none()))
            .any(AssignmentPath::provides);
        if !removed || !h.groups.is_empty() {
            let caps = if provides {
                h.enabled
            } else {
                Capabilities::default()
            };
            after.push((name, caps));
        }
    }
    for &i in add {
        if !held.iter().any(|h| h.sku == Some(i)) {
            after.push((part_number(i), index.capabilities_of_sku(i)));
        }
    }
    after
}

/// The union of what a set of holdings gives.
pub fn capabilities_of(held: &[(String, Capabilities)]) -> Capabilities {
    held.iter()
        .fold(Capabilities::default(), |acc, (_, c)| acc.union(*c))
}

/// Microsoft's rule ("Communications Credits", Microsoft Teams docs): the Communications
/// Credits license is for users with Audio Conferencing, or Teams Phone and a Calling Plan.
/// True when `held` has credits it cannot use.
pub fn credits_unusable_with(held: &[(String, Capabilities)]) -> bool {
    let caps = capabilities_of(held);
    caps.credits() && !(caps.audio_conferencing() || (caps.teams_phone() && caps.calling_plan()))
}

impl Snapshot {
    /// Graph's `PATCH /users/{id}` of `usageLocation`.
    pub fn set_usage_location(
        &mut self,
        user: usize,
        location: Option<&str>,
    ) -> Result<(), RuleError> {
        if let Some(loc) = location
            && !is_country(loc)
        {
            return Err(RuleError::new(
                RuleKind::InvalidUsageLocation,
                format!(
                    "Invalid value specified for property 'usageLocation' of resource 'User': '{loc}' is not an ISO 3166-1 alpha-2 country code."
                ),
            ));
        }
        self.users[user].usage_location = location.map(str::to_string);
        Ok(())
    }

    /// Graph's `assignLicense`: adds and removes together, all or nothing, with Graph's
    /// checks (usage location, seats, user-applicable SKUs, group-inherited removals,
    /// dependent and mutually exclusive plans). Updates `consumedUnits`.
    // Long: Graph's assignLicense checks in Graph's order, all or nothing, before anything is changed.
    pub fn assign_license(
        &mut self,
        index: &TenantIndex,
        user: usize,
        add: &[String],
        remove: &[String],
    ) -> Result<(), RuleError> {
        let upn = self.users[user].user_principal_name.clone();
        let current = holdings(&self.users[user], self, index);
        let mut add_skus = Vec::new();
        for sku_id in add {
            let Some(i) = index.sku(sku_id) else {
                return Err(RuleError::new(
                    RuleKind::UnknownSku,
                    format!("License {sku_id} does not correspond to a valid company License."),
                ));
            };
            let sku = &self.subscribed_skus[i];
            if !sku.applies_to_users() {
                return Err(RuleError::new(
                    RuleKind::NotApplicableToUser,
                    format!(
                        "License {} ({}) applies to {} and cannot be assigned to a user.",
                        sku.sku_part_number, sku.sku_id, sku.applies_to
                    ),
                ));
            }
            let already_direct = current.iter().any(|h| h.sku == Some(i) && h.direct);
            if !already_direct {
                add_skus.push(i);
            }
        }
        if !add_skus.is_empty() && self.users[user].usage_location.is_none() {
            return Err(RuleError::new(
                RuleKind::MissingUsageLocation,
                format!(
                    "License assignment cannot be done for user {upn} with invalid usage location."
                ),
            ));
        }
        let mut remove_skus = Vec::new();
        for sku_id in remove {
            let held = current
                .iter()
                .find(|h| h.sku_id.eq_ignore_ascii_case(sku_id));
            match held {
                Some(h) if h.direct => remove_skus.push(h.sku_id.clone()),
                Some(_) => {
                    return Err(RuleError::new(
                        RuleKind::GroupInherited,
                        format!(
                            "User license for {sku_id} is inherited from a group membership and it cannot be removed directly from user {upn}."
                        ),
                    ));
                }
                None => {
                    return Err(RuleError::new(
                        RuleKind::UnknownSku,
                        format!("User {upn} does not have license {sku_id} to remove."),
                    ));
                }
            }
        }
        for &i in &add_skus {
            let sku = &self.subscribed_skus[i];
            // A seat is taken per user and SKU: none more when an active assignment (a
            // group's) already holds one; an assignment in error holds none.
            let seat_held = current.iter().any(|h| h.sku == Some(i) && h.provides());
            if !seat_held && sku.available_seats() < 1 {
                return Err(RuleError::new(
                    RuleKind::NoLicensesAvailable,
                    format!(
                        "License assignment failed because subscription {} ({}) does not have any available licenses.",
                        sku.sku_part_number, sku.sku_id
                    ),
                ));
            }
        }

        // The state after the change, checked as a whole (so a calling-plan swap is valid).
        let removing: Vec<&str> = remove_skus.iter().map(String::as_str).collect();
        let after = holdings_after(self, index, &current, &removing, &add_skus);
        check_license_rules(&after, &upn)?;

        // Commit.
        for sku_id in &remove_skus {
            self.remove_direct(index, user, sku_id);
        }
        for &i in &add_skus {
            let seat_held = current.iter().any(|h| h.sku == Some(i) && h.provides());
            self.add_direct(user, i, !seat_held);
        }
        Ok(())
    }

    fn remove_direct(&mut self, index: &TenantIndex, user: usize, sku_id: &str) {
        let u = &mut self.users[user];
        let (inherited, seated) = match &mut u.license_assignment_states {
            Some(states) => {
                states.retain(|s| {
                    !(s.sku_id.eq_ignore_ascii_case(sku_id) && s.assigned_by_group.is_none())
                });
                let mine = || {
                    states
                        .iter()
                        .filter(|s| s.sku_id.eq_ignore_ascii_case(sku_id))
                };
                let seated = mine().any(|s| state_provides(s.state.as_deref()));
                (mine().next().is_some(), seated)
            }
            None => (false, false),
        };
        if !inherited {
            u.assigned_licenses
                .retain(|a| !a.sku_id.eq_ignore_ascii_case(sku_id));
        }
        // A seat is consumed per user and SKU, however many ways the user holds it; an
        // assignment in error holds none.
        if !seated && let Some(i) = index.sku(sku_id) {
            self.subscribed_skus[i].consumed_units -= 1;
        }
    }

    fn add_direct(&mut self, user: usize, sku: usize, takes_seat: bool) {
        let sku_id = self.subscribed_skus[sku].sku_id.clone();
        let u = &mut self.users[user];
        let already_held = u
            .assigned_licenses
            .iter()
            .any(|a| a.sku_id.eq_ignore_ascii_case(&sku_id));
        if !already_held {
            u.assigned_licenses.push(AssignedLicense {
                sku_id: sku_id.clone(),
                disabled_plans: Vec::new(),
                extra: Default::default(),
            });
        }
        if let Some(states) = &mut u.license_assignment_states {
            states.push(LicenseAssignmentState {
                sku_id,
                assigned_by_group: None,
                state: Some("Active".to_string()),
                ..Default::default()
            });
        }
        if takes_seat {
            self.subscribed_skus[sku].consumed_units += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_keys_in_any_case_and_other_ids_still_resolve() {
        assert_eq!(
            guid_key("0C266DFF-15dd-4b49-8397-2bb16070ed52"),
            guid_key("0c266dff-15dd-4b49-8397-2bb16070ed52")
        );
        assert!(guid_key("0c266dff-15dd-4b49-8397-2bb16070ed5z").is_none());
        assert!(guid_key("0c266dff15dd-4b49-8397-2bb16070ed52a").is_none());
        let snapshot: Snapshot = serde_json::from_value(serde_json::json!({
            "tenant": {"id": "t", "domain": "contoso.onmicrosoft.com"},
            "users": [
                {"id": "B1E2A3C4-0001-4000-8000-000000000001", "userPrincipalName": "a@contoso.com"},
                {"id": "user-two", "userPrincipalName": "b@contoso.com"}
            ]
        }))
        .unwrap();
        let index = TenantIndex::build(&snapshot);
        assert_eq!(
            index.user_by_id("b1e2a3c4-0001-4000-8000-000000000001"),
            Some(0)
        );
        assert_eq!(index.user_by_id("USER-TWO"), Some(1));
        assert_eq!(
            index.user_by_id("b1e2a3c4-0001-4000-8000-000000000002"),
            None
        );
    }
}
