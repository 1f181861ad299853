//! Group-based licensing as Microsoft Entra ID processes it, on the snapshot model. The file
//! backend and the emulator both change group licenses and process members only here.
//!
//! Microsoft's rules, each from a Microsoft page (named in docs/groups.md):
//! - "group: assignLicense" (Graph v1.0): licenses assigned to a group are assigned to all
//!   users in the group; the call is accepted (202) and members are processed afterwards.
//! - "What is group-based licensing in Microsoft Entra ID" and "Migrate users with individual
//!   licenses to groups": a user assigned the same product directly and through groups
//!   consumes one license; members leaving the group, or the group losing the license, lose
//!   the inherited assignment.
//! - "Identify and resolve license assignment problems for a group in Microsoft Entra ID":
//!   processing errors are recorded on the member (`licenseAssignmentStates[].state = Error`
//!   with `error` `CountViolation` when no seat is left, `DependencyViolation` when a plan's
//!   prerequisite is missing, ...). Graph's other kinds (`MutuallyExclusiveViolation`, ...)
//!   are read and reported, never produced here: no Microsoft page states which Teams
//!   calling plans exclude each other;
//!   the intent is kept, and the member is processed again when the group or the user is
//!   reprocessed ("user: reprocessLicenseAssignment").
//! - "licenseAssignmentState resource type": `assignedByGroup`, `state`, `error`,
//!   `disabledPlans`; an assignment in error gives nothing.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::base::licenses::Capabilities;

use super::rules::{RuleError, RuleKind, TenantIndex, check_license_rules, sku_capabilities};
use super::snapshot::{AssignedLicense, LicenseAssignmentState, Snapshot};

/// A group as Graph shows it for licensing (SPEC §4): `members` are user ids (transitive
/// members, as Entra ID licenses them).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which assignments in error a processing run evaluates again (new ones always are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRetry<'a> {
    /// Only members never processed (the group changed, a member joined).
    NewOnly,
    /// Also the errors of every member of this group (the group's licenses changed).
    Group(&'a str),
    /// Also every error of this user ("user: reprocessLicenseAssignment").
    User(usize),
}

/// The error kinds of `licenseAssignmentState.error`.
pub const COUNT_VIOLATION: &str = "CountViolation";
pub const MUTUALLY_EXCLUSIVE_VIOLATION: &str = "MutuallyExclusiveViolation";
pub const DEPENDENCY_VIOLATION: &str = "DependencyViolation";

/// Graph's refusal of a group whose add-on lacks its prerequisite in the same group, in
/// Graph's words ("Identify and resolve license assignment problems for a group in
/// Microsoft Entra ID", "Manage licenses for products with prerequisites").
pub const GROUP_DEPENDENCY_MESSAGE: &str = "License operation failed. Make sure that the group has necessary services before adding or removing a dependent service.";

/// Entra ID's rule for add-ons in groups: "the system requires that both the prerequisite
/// and add-on service plans be present in the same group" (same page). The one add-on
/// prerequisite commcred knows is Graph's: a calling plan needs Teams Phone. Returns the
/// part numbers of the group's calling plans when the group's licenses (with their
/// `disabledPlans`) give no Teams Phone; what members hold elsewhere does not count.
pub fn group_missing_prerequisite(
    snapshot: &Snapshot,
    index: &TenantIndex,
    licenses: &[AssignedLicense],
) -> Option<Vec<String>> {
    let mut all = Capabilities::default();
    let mut dependents = Vec::new();
    for l in licenses {
        let Some(i) = index.sku(&l.sku_id) else {
            continue;
        };
        let caps = sku_capabilities(&snapshot.subscribed_skus[i], &l.disabled_plans);
        if caps.calling_plan() {
            dependents.push(snapshot.subscribed_skus[i].sku_part_number.clone());
        }
        all = all.union(caps);
    }
    (!dependents.is_empty() && !all.as_held().teams_phone()).then_some(dependents)
}

/// What fixes a member's error, for plans and reports.
pub fn error_fix(error: &str) -> &'static str {
    match error {
        COUNT_VIOLATION => {
            "free or buy seats of this license; the next apply reprocesses the member"
        }
        MUTUALLY_EXCLUSIVE_VIOLATION => {
            "remove the conflicting license Entra ID names (held directly or through another group), then reprocess"
        }
        DEPENDENCY_VIOLATION => {
            "give the user Teams Phone (phoneSystem), in this group or directly, then reprocess"
        }
        "ProhibitedInUsageLocationViolation" => {
            "set the user's usageLocation to a country where the service is sold, then reprocess"
        }
        "UniquenessViolation" => {
            "fix the duplicate attribute (proxy address) named in the Entra admin center, then reprocess"
        }
        _ => "see the user's licenses in the Entra admin center, fix the cause, then reprocess",
    }
}

impl Snapshot {
    /// The position of the group with this id (case-insensitive).
    pub fn group_by_id(&self, id: &str) -> Option<usize> {
        self.groups
            .iter()
            .position(|g| g.id.eq_ignore_ascii_case(id))
    }

    /// Graph's `POST /groups/{id}/assignLicense`: changes the group's licenses only (members
    /// are processed afterwards, see [`Snapshot::process_group_licenses`]). Adding a license
    /// the group has updates its disabled plans. Unknown SKUs, user-inapplicable SKUs and
    /// removing a license the group does not have are refused, all or nothing; so is a
    /// result whose calling plan lacks Teams Phone in the group ([`group_missing_prerequisite`]).
    // Long: Graph's checks on the request, then on the group's resulting licenses, before anything is changed.
    pub fn set_group_licenses(
        &mut self,
        index: &TenantIndex,
        group: usize,
        add: &[AssignedLicense],
        remove: &[String],
    ) -> Result<bool, RuleError> {
        for a in add {
            let Some(i) = index.sku(&a.sku_id) else {
                return Err(rule(
                    RuleKind::UnknownSku,
                    format!(
                        "License {} does not correspond to a valid company License.",
                        a.sku_id
                    ),
                ));
            };
            let sku = &self.subscribed_skus[i];
            if !sku.applies_to_users() {
                return Err(rule(
                    RuleKind::NotApplicableToUser,
                    format!(
                        "License {} ({}) applies to {} and cannot be assigned to a group.",
                        sku.sku_part_number, sku.sku_id, sku.applies_to
                    ),
                ));
            }
            if let Some(bad) = a.disabled_plans.iter().find(|p| {
                !sku.service_plans
                    .iter()
                    .any(|sp| sp.service_plan_id.eq_ignore_ascii_case(p))
            }) {
                return Err(rule(
                    RuleKind::UnknownSku,
                    format!(
                        "Subscription {} does not have a service plan with id {bad}.",
                        sku.sku_part_number
                    ),
                ));
            }
        }
        let g = &mut self.groups[group];
        for r in remove {
            if !g
                .assigned_licenses
                .iter()
                .any(|a| a.sku_id.eq_ignore_ascii_case(r))
            {
                return Err(rule(
                    RuleKind::UnknownSku,
                    format!("Group {} does not have license {r} to remove.", g.id),
                ));
            }
        }
        let mut after = g.assigned_licenses.clone();
        after.retain(|a| !remove.iter().any(|r| r.eq_ignore_ascii_case(&a.sku_id)));
        for a in add {
            match after
                .iter_mut()
                .find(|x| x.sku_id.eq_ignore_ascii_case(&a.sku_id))
            {
                Some(x) => x.disabled_plans = a.disabled_plans.clone(),
                None => after.push(AssignedLicense {
                    sku_id: a.sku_id.clone(),
                    disabled_plans: a.disabled_plans.clone(),
                    extra: Default::default(),
                }),
            }
        }
        if let Some(dependents) = group_missing_prerequisite(self, index, &after) {
            return Err(rule(
                RuleKind::DependentServicePlan,
                format!(
                    "{GROUP_DEPENDENCY_MESSAGE} The service {} requires Teams Phone (MCOEV) to be enabled as well.",
                    dependents.join(", ")
                ),
            ));
        }
        let g = &mut self.groups[group];
        let changed = g.assigned_licenses != after;
        g.assigned_licenses = after;
        Ok(changed)
    }

    /// Entra ID's processing of group licenses: every member of every group gets one
    /// inherited assignment per group license, removed when it no longer applies; new ones
    /// (and the errors `retry` names) are judged now: `Active` when the user already holds
    /// the SKU (one seat per user and SKU) or a seat is free, else `Error` with the reason.
    /// Returns true when anything changed.
    pub fn process_group_licenses(&mut self, index: &TenantIndex, retry: GroupRetry) -> bool {
        if let GroupRetry::User(user) = retry {
            return self.process_user(index, user);
        }
        let mut changed = self.drop_stale_inherited(index);
        for g in 0..self.groups.len() {
            let group_id = self.groups[g].id.clone();
            let retry_group =
                matches!(retry, GroupRetry::Group(id) if id.eq_ignore_ascii_case(&group_id));
            let licenses = self.groups[g].assigned_licenses.clone();
            let members: Vec<usize> = self.groups[g]
                .members
                .iter()
                .filter_map(|m| index.user_by_id(m))
                .collect();
            for user in members {
                let retry_errors = retry_group || retry == GroupRetry::User(user);
                changed |= self.process_member(index, user, &group_id, &licenses, retry_errors);
            }
        }
        changed
    }

    /// Reprocessing one user: only the groups it belongs to, errors included. Members
    /// never processed elsewhere wait for their group's next run, as on Entra ID.
    fn process_user(&mut self, index: &TenantIndex, user: usize) -> bool {
        let mut changed = self.drop_stale_for(index, user);
        for &g in index.groups_of(self, user) {
            let group_id = self.groups[g].id.clone();
            let licenses = self.groups[g].assigned_licenses.clone();
            changed |= self.process_member(index, user, &group_id, &licenses, true);
        }
        changed
    }

    /// [`Snapshot::drop_stale_inherited`] for one user.
    fn drop_stale_for(&mut self, index: &TenantIndex, user: usize) -> bool {
        let wanted: Vec<(String, String)> = index
            .groups_of(self, user)
            .iter()
            .map(|&g| &self.groups[g])
            .flat_map(|g| {
                g.assigned_licenses
                    .iter()
                    .map(|a| (g.id.to_ascii_lowercase(), a.sku_id.to_ascii_lowercase()))
            })
            .collect();
        let mut touched = Vec::new();
        if let Some(states) = &mut self.users[user].license_assignment_states {
            states.retain(|s| match &s.assigned_by_group {
                None => true,
                Some(g) => {
                    let keep = wanted.iter().any(|(wg, ws)| {
                        g.eq_ignore_ascii_case(wg) && s.sku_id.eq_ignore_ascii_case(ws)
                    });
                    if !keep {
                        touched.push(s.sku_id.clone());
                    }
                    keep
                }
            });
        }
        for sku_id in &touched {
            self.sync_assigned(index, user, sku_id);
        }
        !touched.is_empty()
    }

    /// Removes inherited assignments whose group is gone, no longer has the license, or no
    /// longer has the user as a member; frees the seats nothing else holds.
    fn drop_stale_inherited(&mut self, index: &TenantIndex) -> bool {
        let mut wanted: HashSet<(usize, String, String)> = HashSet::new();
        for g in &self.groups {
            for m in &g.members {
                let Some(u) = index.user_by_id(m) else {
                    continue;
                };
                for a in &g.assigned_licenses {
                    wanted.insert((u, g.id.to_ascii_lowercase(), a.sku_id.to_ascii_lowercase()));
                }
            }
        }
        let mut touched = Vec::new();
        for (u, user) in self.users.iter_mut().enumerate() {
            let Some(states) = &mut user.license_assignment_states else {
                continue;
            };
            states.retain(|s| match &s.assigned_by_group {
                None => true,
                Some(g) => {
                    let keep = wanted.contains(&(
                        u,
                        g.to_ascii_lowercase(),
                        s.sku_id.to_ascii_lowercase(),
                    ));
                    if !keep {
                        touched.push((u, s.sku_id.clone()));
                    }
                    keep
                }
            });
        }
        for (u, sku_id) in &touched {
            self.sync_assigned(index, *u, sku_id);
        }
        !touched.is_empty()
    }

    /// Processes one member's inherited assignments of all of one group's licenses, as one
    /// unit: Entra ID "attempts to assign all licenses that are specified in the group to
    /// each user. If Microsoft Entra ID can't assign one of the products because of business
    /// logic problems, it won't assign the other licenses in the group either" ("Identify and
    /// resolve license assignment problems for a group"). So either every license of the
    /// group is `Active` for the member, or every one is `Error` (and holds no seat).
    // Long: one member x one group in Entra ID's order (what is judged, the verdict, the states written).
    fn process_member(
        &mut self,
        index: &TenantIndex,
        user: usize,
        group_id: &str,
        licenses: &[AssignedLicense],
        retry_errors: bool,
    ) -> bool {
        if licenses.is_empty() {
            return false;
        }
        self.make_states_explicit(user);
        let states = self.users[user]
            .license_assignment_states
            .as_ref()
            .expect("made explicit above");
        let existing: Vec<Option<usize>> = licenses
            .iter()
            .map(|l| {
                states.iter().position(|s| {
                    s.sku_id.eq_ignore_ascii_case(&l.sku_id)
                        && s.assigned_by_group
                            .as_deref()
                            .is_some_and(|g| g.eq_ignore_ascii_case(group_id))
                })
            })
            .collect();
        let all_active = existing
            .iter()
            .all(|e| e.is_some_and(|p| states[p].is_active()));
        if all_active {
            // Processed and active: only a changed `disabledPlans` is written through.
            let mut changed = false;
            for (license, pos) in licenses.iter().zip(&existing) {
                let pos = pos.expect("all active");
                let states = self.users[user].license_assignment_states.as_mut().unwrap();
                if states[pos].disabled_plans.as_deref().unwrap_or_default()
                    != license.disabled_plans
                {
                    states[pos].disabled_plans = Some(license.disabled_plans.clone());
                    self.sync_assigned(index, user, &license.sku_id);
                    changed = true;
                }
            }
            return changed;
        }
        if existing.iter().all(Option::is_some) && !retry_errors {
            return false; // errors stay until the group or the user is reprocessed
        }
        let verdicts = self.judge(index, user, group_id, licenses);
        let blocking = verdicts.iter().flatten().next().copied();
        let mut changed = false;
        for ((license, pos), verdict) in licenses.iter().zip(&existing).zip(&verdicts) {
            // A license that could be assigned on its own is held back by the one that
            // cannot: it carries that one's error.
            let error = blocking.map(|b| verdict.unwrap_or(b));
            let new_state = LicenseAssignmentState {
                sku_id: license.sku_id.clone(),
                assigned_by_group: Some(group_id.to_string()),
                state: Some(if error.is_none() { "Active" } else { "Error" }.to_string()),
                error: Some(error.unwrap_or("None").to_string()),
                disabled_plans: Some(license.disabled_plans.clone()),
                extra: Default::default(),
            };
            let states = self.users[user].license_assignment_states.as_mut().unwrap();
            changed |= match *pos {
                Some(p)
                    if states[p].state == new_state.state && states[p].error == new_state.error =>
                {
                    false
                }
                Some(p) => {
                    states[p] = new_state;
                    true
                }
                None => {
                    states.push(new_state);
                    true
                }
            };
            self.sync_assigned(index, user, &license.sku_id);
        }
        changed
    }

    /// Why each of the group's licenses cannot be active for the member (`None`: it can),
    /// judged on what the member holds through every other path plus the whole group.
    fn judge(
        &self,
        index: &TenantIndex,
        user: usize,
        group_id: &str,
        licenses: &[AssignedLicense],
    ) -> Vec<Option<&'static str>> {
        let u = &self.users[user];
        let states = u.license_assignment_states.as_deref().unwrap_or_default();
        let from_here = |s: &LicenseAssignmentState| {
            s.assigned_by_group
                .as_deref()
                .is_some_and(|g| g.eq_ignore_ascii_case(group_id))
        };
        // Graph's per-user rules on what the member would hold: other paths' active
        // assignments, plus every license of this group.
        let mut after: Vec<(String, Capabilities)> = Vec::new();
        for s in states.iter().filter(|s| s.is_active() && !from_here(s)) {
            if let Some(i) = index.sku(&s.sku_id) {
                let plans = s.disabled_plans.as_deref().unwrap_or_default();
                after.push((
                    self.subscribed_skus[i].sku_part_number.clone(),
                    sku_capabilities(&self.subscribed_skus[i], plans),
                ));
            }
        }
        for l in licenses {
            if let Some(i) = index.sku(&l.sku_id) {
                after.push((
                    self.subscribed_skus[i].sku_part_number.clone(),
                    sku_capabilities(&self.subscribed_skus[i], &l.disabled_plans),
                ));
            }
        }
        // The one per-user rule Microsoft documents here: a calling plan needs Teams Phone.
        let dependency_broken = check_license_rules(&after, &u.user_principal_name).is_err();
        licenses
            .iter()
            .map(|l| {
                let Some(sku) = index.sku(&l.sku_id) else {
                    return Some("Other");
                };
                if dependency_broken
                    && sku_capabilities(&self.subscribed_skus[sku], &l.disabled_plans)
                        .calling_plan()
                {
                    return Some(DEPENDENCY_VIOLATION);
                }
                // One seat per user and SKU: none more when any active assignment (this
                // group's included) already holds it.
                let held = states
                    .iter()
                    .any(|s| s.sku_id.eq_ignore_ascii_case(&l.sku_id) && s.is_active());
                (!held && self.subscribed_skus[sku].available_seats() < 1)
                    .then_some(COUNT_VIOLATION)
            })
            .collect()
    }

    /// A snapshot may leave `licenseAssignmentStates` out (every assignment direct, SPEC
    /// §4); before an inherited state is added, the direct ones are written out.
    fn make_states_explicit(&mut self, user: usize) {
        let u = &mut self.users[user];
        if u.license_assignment_states.is_some() {
            return;
        }
        u.license_assignment_states = Some(
            u.assigned_licenses
                .iter()
                .map(|a| LicenseAssignmentState {
                    sku_id: a.sku_id.clone(),
                    state: Some("Active".into()),
                    error: Some("None".into()),
                    disabled_plans: Some(a.disabled_plans.clone()),
                    ..Default::default()
                })
                .collect(),
        );
    }

    /// Makes `assignedLicenses` and `consumedUnits` agree with the user's states for one
    /// SKU: listed (one seat) while any assignment of it is active, whatever the paths.
    fn sync_assigned(&mut self, index: &TenantIndex, user: usize, sku_id: &str) {
        let u = &mut self.users[user];
        let present = u
            .assigned_licenses
            .iter()
            .position(|a| a.sku_id.eq_ignore_ascii_case(sku_id));
        let states = u.license_assignment_states.as_deref().unwrap_or_default();
        let active: Vec<&LicenseAssignmentState> = states
            .iter()
            .filter(|s| s.sku_id.eq_ignore_ascii_case(sku_id) && s.is_active())
            .collect();
        // A plan is on when any active assignment enables it.
        let current = present.map(|p| u.assigned_licenses[p].disabled_plans.clone());
        let mut disabled: Option<Vec<String>> = None;
        for s in &active {
            let plans = match (&s.disabled_plans, &s.assigned_by_group, &current) {
                (Some(p), _, _) => p.clone(),
                (None, None, Some(c)) => c.clone(),
                _ => Vec::new(),
            };
            disabled = Some(match disabled {
                None => plans,
                Some(d) => d
                    .into_iter()
                    .filter(|x| plans.iter().any(|p| p.eq_ignore_ascii_case(x)))
                    .collect(),
            });
        }
        let delta = match (present, disabled) {
            (None, Some(plans)) => {
                u.assigned_licenses.push(AssignedLicense {
                    sku_id: active[0].sku_id.clone(),
                    disabled_plans: plans,
                    extra: Default::default(),
                });
                1
            }
            (Some(p), None) => {
                u.assigned_licenses.remove(p);
                -1
            }
            (Some(p), Some(plans)) => {
                u.assigned_licenses[p].disabled_plans = plans;
                0
            }
            (None, None) => 0,
        };
        if delta != 0
            && let Some(i) = index.sku(sku_id)
        {
            self.subscribed_skus[i].consumed_units += delta;
        }
    }

    /// Every inherited assignment in error, as (user position, group id, SKU id, error).
    pub fn group_errors(&self) -> Vec<(usize, &str, &str, &str)> {
        let mut out = Vec::new();
        for (u, user) in self.users.iter().enumerate() {
            for s in user
                .license_assignment_states
                .as_deref()
                .unwrap_or_default()
            {
                if let (Some(g), Some(e)) = (&s.assigned_by_group, s.error_kind()) {
                    out.push((u, g.as_str(), s.sku_id.as_str(), e));
                }
            }
        }
        out
    }
}

/// Of the direct copies `skus` a user holds, those that can go because the inherited
/// assignment from `group_id` is active ("Migrate users with individual licenses to groups":
/// remove direct assignments only once the group's are applied), and those kept with why
/// (the inherited assignment's error, or "not processed yet").
pub fn redundant_direct(
    states: &[LicenseAssignmentState],
    group_id: &str,
    skus: &[&str],
) -> (Vec<String>, Vec<(String, String)>) {
    let mut ready = Vec::new();
    let mut kept = Vec::new();
    for sku in skus {
        let inherited = states.iter().find(|s| {
            s.sku_id.eq_ignore_ascii_case(sku)
                && s.assigned_by_group
                    .as_deref()
                    .is_some_and(|g| g.eq_ignore_ascii_case(group_id))
        });
        let direct = states
            .iter()
            .any(|s| s.sku_id.eq_ignore_ascii_case(sku) && s.assigned_by_group.is_none());
        match inherited {
            Some(s) if s.is_active() && direct => ready.push(sku.to_string()),
            Some(s) if s.is_active() => {} // the direct copy is already gone
            Some(s) => kept.push((
                sku.to_string(),
                s.error_kind().unwrap_or("Other").to_string(),
            )),
            None => kept.push((sku.to_string(), "not processed yet".to_string())),
        }
    }
    (ready, kept)
}

fn rule(kind: RuleKind, message: String) -> RuleError {
    RuleError { kind, message }
}

#[cfg(test)]
mod tests;
