//! Planning group licenses: managed groups converge to their declared licenses, with the seats
//! each change takes (members who would newly consume one), the members in error with what
//! fixes them, members to reprocess once seats are free, and (with `prefer: groups`, or for
//! direct copies the YAML no longer wants) direct assignments to remove once the group's
//! inherited assignment is active for that member. Microsoft's rules are in
//! `tenant::groups`; this module only decides what to ask for.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::base::licenses::Friendly;
use crate::config::{DesiredState, GroupKey};
use crate::tenant::capabilities::friendly_of;
use crate::tenant::groups::{
    COUNT_VIOLATION, DEPENDENCY_VIOLATION, GROUP_DEPENDENCY_MESSAGE, error_fix,
    group_missing_prerequisite,
};
use crate::tenant::rules::{Holding, holdings};
use crate::tenant::{AssignedLicense, Group, Snapshot, TenantIndex};

use super::codes::Code;
use super::model::SkuRef;
use super::problems::PlanProblem;
use super::rules::PlanRule;
use super::skus::ResolvedSkus;

/// One group the plan changes or reports on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupChange {
    pub group_id: String,
    pub display_name: String,
    /// The group's license SKU ids when planned (lower case, sorted), for staleness.
    pub observed_sku_ids: Vec<Arc<str>>,
    /// Members (transitive, as Entra ID licenses them).
    pub members: usize,
    pub add: Vec<GroupLicenseRef>,
    pub remove: Vec<SkuRef>,
    /// Per added SKU: members who would newly consume a seat.
    pub seats: Vec<SeatImpact>,
    /// Members whose inherited assignment from this group is in error.
    pub errors: Vec<MemberError>,
    /// Members in `CountViolation` that the plan's free seats let Entra ID process again.
    pub reprocess: Vec<MemberRef>,
    /// Direct copies removed once this group's assignment is active for the member.
    pub migrate: Vec<Migration>,
}

impl GroupChange {
    pub fn has_changes(&self) -> bool {
        !self.add.is_empty()
            || !self.remove.is_empty()
            || !self.reprocess.is_empty()
            || !self.migrate.is_empty()
    }

    /// `"Sales Phones" (5a1e…)`.
    pub fn label(&self) -> String {
        format!("\"{}\" ({})", self.display_name, self.group_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLicenseRef {
    pub sku: SkuRef,
    /// Service plan ids switched off in the group's assignment.
    pub disabled_plans: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatImpact {
    pub sku: SkuRef,
    pub new_seats: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRef {
    pub user_id: String,
    pub upn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberError {
    pub user_id: String,
    pub upn: String,
    pub sku: SkuRef,
    /// Graph's `licenseAssignmentState.error`, e.g. `CountViolation`.
    pub error: String,
    /// What fixes it.
    pub fix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    pub user_id: String,
    pub upn: String,
    pub remove: Vec<SkuRef>,
}

/// The group side of a plan, and what the user side must know of it.
#[derive(Default)]
pub struct GroupPlan {
    pub changes: Vec<GroupChange>,
    pub problems: Vec<PlanProblem>,
    /// (user, SKU) a managed group gives after the plan -> that group's display name.
    pub gives: HashMap<(usize, usize), String>,
    /// (user, SKU) whose direct copy waits for the group (never removed up front).
    pub deferred: HashSet<(usize, usize)>,
    /// (SKU, user): a seat a group addition takes.
    pub gains: Vec<(usize, usize)>,
    /// SKUs whose seat a group removal frees (one entry per seat).
    pub releases: Vec<usize>,
    /// Ids (lower case) of the groups planned here, whose members in error are reported
    /// with the group rather than as the user's `assignment_failed` warnings.
    managed: HashSet<String>,
    /// (change, user, SKUs in CountViolation or DependencyViolation, at least one of the
    /// former): candidates for reprocessing.
    count_errors: Vec<(usize, usize, Vec<usize>)>,
}

/// The SKUs a group should hold, each with its disabled service plan ids.
type Target = Vec<(usize, Vec<String>)>;

/// The live group a YAML entry names, or the problem.
fn find_group(live: &Snapshot, key: &GroupKey) -> Result<usize, PlanProblem> {
    let found: Vec<usize> = live
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| match key {
            GroupKey::Id(id) => g.id.eq_ignore_ascii_case(id),
            GroupKey::DisplayName(n) => g.display_name.to_lowercase() == n.to_lowercase(),
        })
        .map(|(i, _)| i)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(PlanProblem::new(
            Code::GroupNotFound.as_str(),
            format!("{key} does not exist in the tenant"),
            "create the group first (commcred licenses groups, it does not create them), or fix its name or id",
        )),
        many => Err(PlanProblem::new(
            Code::AmbiguousGroup.as_str(),
            format!(
                "{key} names {} groups: {}",
                many.len(),
                many.iter()
                    .map(|&i| live.groups[i].id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "several groups share this display name: name the group by `id` instead",
        )),
    }
}

/// Service plan names or ids -> the SKU's service plan ids.
fn disabled_plan_ids(
    live: &Snapshot,
    sku: usize,
    plans: &[String],
    key: &GroupKey,
) -> Result<Vec<String>, PlanProblem> {
    let s = &live.subscribed_skus[sku];
    let mut out = Vec::new();
    for p in plans {
        let found = s.service_plans.iter().find(|sp| {
            sp.service_plan_id.eq_ignore_ascii_case(p)
                || sp.service_plan_name.eq_ignore_ascii_case(p)
        });
        match found {
            Some(sp) => out.push(sp.service_plan_id.to_ascii_lowercase()),
            None => {
                return Err(PlanProblem::new(
                    Code::UnknownServicePlan.as_str(),
                    format!(
                        "{key}: {} has no service plan `{p}` to disable",
                        s.sku_part_number
                    ),
                    format!(
                        "use a service plan name or id of {}: {}",
                        s.sku_part_number,
                        s.service_plans
                            .iter()
                            .map(|sp| sp.service_plan_name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn same_plans(a: &[String], b: &[String]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|x| b.iter().any(|y| y.eq_ignore_ascii_case(x)))
}

/// Plans every managed group (and, with `prune`, strips managed licenses from unlisted ones).
pub fn plan_groups(
    desired: &DesiredState,
    live: &Snapshot,
    index: &TenantIndex,
    skus: &ResolvedSkus,
) -> GroupPlan {
    let mut out = GroupPlan::default();
    // Which listed users want which SKUs (to know whether a direct copy is still wanted).
    let mut wanted: HashMap<usize, Vec<usize>> = HashMap::new();
    for u in &desired.users {
        if let Some(i) = index.user_by_upn(&u.upn) {
            let list = u
                .licenses
                .iter()
                .filter_map(|n| skus.by_name.get(n).copied())
                .collect();
            wanted.insert(i, list);
        }
    }
    let mut targets: Vec<(usize, Target, Option<&crate::config::Origin>)> = Vec::new();
    let mut listed: HashSet<usize> = HashSet::new();
    for want in &desired.groups.list {
        let g = match find_group(live, &want.key) {
            Ok(g) => g,
            Err(mut p) => {
                p.message = format!("{} ({})", p.message, want.origin);
                out.problems.push(p);
                continue;
            }
        };
        listed.insert(g);
        let mut target: Vec<(usize, Vec<String>)> = Vec::new();
        for license in &want.licenses {
            let Some(&sku) = skus.by_name.get(&license.name) else {
                continue; // reported by `resolve`
            };
            match disabled_plan_ids(live, sku, &license.disabled_plans, &want.key) {
                Ok(plans) => match target.iter_mut().find(|(s, _)| *s == sku) {
                    Some((_, p)) => p.retain(|x| plans.contains(x)),
                    None => target.push((sku, plans)),
                },
                Err(p) => out.problems.push(p),
            }
        }
        targets.push((g, target, Some(&want.origin)));
    }
    if desired.prune {
        for g in 0..live.groups.len() {
            if !listed.contains(&g) {
                targets.push((g, Vec::new(), None));
            }
        }
    }
    for (g, target, origin) in targets {
        out.managed.insert(live.groups[g].id.to_ascii_lowercase());
        let change = plan_one(live, index, skus, g, &target, &wanted, desired, &mut out);
        if let Some(p) = missing_prerequisite(live, index, g, &change, origin) {
            out.problems.push(p);
        }
        // A change without errors records no reprocessing candidates, so dropping it
        // leaves `count_errors` pointing at the right changes.
        if change.has_changes() || !change.errors.is_empty() {
            out.changes.push(change);
        }
    }
    out
}

/// The group's licenses after `change`, with their disabled plans.
fn licenses_after(live: &Snapshot, g: usize, change: &GroupChange) -> Vec<AssignedLicense> {
    let mut after: Vec<AssignedLicense> = live.groups[g]
        .assigned_licenses
        .iter()
        .filter(|a| {
            !change
                .remove
                .iter()
                .any(|r| r.sku_id.eq_ignore_ascii_case(&a.sku_id))
        })
        .cloned()
        .collect();
    for add in &change.add {
        after.retain(|a| !a.sku_id.eq_ignore_ascii_case(&add.sku.sku_id));
        after.push(AssignedLicense {
            sku_id: add.sku.sku_id.to_string(),
            disabled_plans: add.disabled_plans.clone(),
            extra: Default::default(),
        });
    }
    after
}

/// Rule `group-prerequisite-in-group`: a group whose calling plan has no Teams Phone in
/// the same group after the plan is refused by Graph ([`GROUP_DEPENDENCY_MESSAGE`]); a plan
/// error at the group's entry naming what to add.
fn missing_prerequisite(
    live: &Snapshot,
    index: &TenantIndex,
    g: usize,
    change: &GroupChange,
    origin: Option<&crate::config::Origin>,
) -> Option<PlanProblem> {
    let after = licenses_after(live, g, change);
    let dependents = group_missing_prerequisite(live, index, &after)?;
    let group = &live.groups[g];
    let phone = live
        .subscribed_skus
        .iter()
        .find(|s| friendly_of(s) == Some(Friendly::PhoneSystem));
    let add = match phone {
        Some(s) => format!("phoneSystem ({})", s.sku_part_number),
        None => "a license that gives Teams Phone (MCOEV, or a suite with it such as SPE_E5)"
            .to_string(),
    };
    Some(PlanRule::GroupPrerequisiteInGroup.problem(
        Code::GroupPrerequisiteMissing,
        format!(
            "{}group \"{}\" ({}) would carry {} without Teams Phone in the same group: Entra ID needs an add-on's prerequisite in the group itself, whatever its members hold elsewhere, and Graph refuses it (\"{GROUP_DEPENDENCY_MESSAGE}\")",
            origin.map(|o| format!("{o}: ")).unwrap_or_default(),
            group.display_name,
            group.id,
            dependents.join(", "),
        ),
        format!("add {add} to this group's licenses, or remove the calling plan from the group"),
    ))
}

/// What planning one group needs to read.
struct GroupCx<'a> {
    live: &'a Snapshot,
    index: &'a TenantIndex,
    skus: &'a ResolvedSkus,
    group: &'a Group,
    /// Member positions, and what each holds now.
    members: Vec<usize>,
    held: Vec<Vec<Holding>>,
}

impl GroupCx<'_> {
    /// The group's current assignment of `sku`, if any.
    fn on_group(&self, sku: usize) -> Option<&AssignedLicense> {
        self.group
            .assigned_licenses
            .iter()
            .find(|a| self.index.sku(&a.sku_id) == Some(sku))
    }

    fn sku_of(&self, r: &SkuRef) -> usize {
        self.index
            .sku(&r.sku_id)
            .expect("planned SKUs come from the tenant")
    }
}

/// One group: license changes, seats, errors, direct copies that wait for the group.
#[allow(clippy::too_many_arguments)]
fn plan_one(
    live: &Snapshot,
    index: &TenantIndex,
    skus: &ResolvedSkus,
    g: usize,
    target: &[(usize, Vec<String>)],
    wanted: &HashMap<usize, Vec<usize>>,
    desired: &DesiredState,
    out: &mut GroupPlan,
) -> GroupChange {
    let group: &Group = &live.groups[g];
    let members: Vec<usize> = group
        .members
        .iter()
        .filter_map(|m| index.user_by_id(m))
        .collect();
    let held = members
        .iter()
        .map(|&u| holdings(&live.users[u], live, index))
        .collect();
    let cx = GroupCx {
        live,
        index,
        skus,
        group,
        members,
        held,
    };
    let mut observed: Vec<Arc<str>> = group
        .assigned_licenses
        .iter()
        .map(|a| Arc::from(a.sku_id.to_ascii_lowercase()))
        .collect();
    observed.sort();
    let mut change = GroupChange {
        group_id: group.id.clone(),
        display_name: group.display_name.clone(),
        observed_sku_ids: observed,
        members: cx.members.len(),
        add: Vec::new(),
        remove: Vec::new(),
        seats: Vec::new(),
        errors: Vec::new(),
        reprocess: Vec::new(),
        migrate: Vec::new(),
    };
    license_changes(&cx, target, &mut change);
    seat_impact(&cx, &mut change, out);
    change.migrate = migrations(&cx, target, wanted, desired, out);
    member_errors(&cx, &mut change, out);
    change
}

/// Licenses to add (or whose disabled plans change) and managed ones to remove.
fn license_changes(cx: &GroupCx, target: &[(usize, Vec<String>)], change: &mut GroupChange) {
    for (sku, plans) in target {
        match cx.on_group(*sku) {
            Some(a) if same_plans(&a.disabled_plans, plans) => {}
            _ => change.add.push(GroupLicenseRef {
                sku: cx.skus.sku_ref(*sku),
                disabled_plans: plans.clone(),
            }),
        }
    }
    for a in &cx.group.assigned_licenses {
        if let Some(sku) = cx.index.sku(&a.sku_id)
            && cx.skus.managed.contains(&sku)
            && !target.iter().any(|(s, _)| *s == sku)
        {
            change.remove.push(cx.skus.sku_ref(sku));
        }
    }
}

/// An added SKU costs one seat per member not already holding it (any active path); a
/// removed one frees the seats of members who hold it only through this group.
fn seat_impact(cx: &GroupCx, change: &mut GroupChange, out: &mut GroupPlan) {
    for add in &change.add {
        let sku = cx.sku_of(&add.sku);
        if cx.on_group(sku).is_some() {
            continue; // only the disabled plans change
        }
        let mut new_seats = 0;
        for (k, &u) in cx.members.iter().enumerate() {
            // An assignment in error holds no seat: processing the group takes one.
            if !cx.held[k]
                .iter()
                .any(|h| h.sku == Some(sku) && h.provides())
            {
                new_seats += 1;
                out.gains.push((sku, u));
            }
        }
        change.seats.push(SeatImpact {
            sku: add.sku.clone(),
            new_seats,
        });
    }
    for rem in &change.remove {
        let sku = cx.sku_of(rem);
        for h in cx
            .held
            .iter()
            .filter_map(|h| h.iter().find(|h| h.sku == Some(sku)))
        {
            // The seat is freed when this group's assignment is the only active one.
            let mut active = h.paths.iter().filter(|p| p.provides());
            let only_here = active.next().is_some_and(|p| {
                p.group
                    .as_deref()
                    .is_some_and(|g| g.eq_ignore_ascii_case(&cx.group.id))
            }) && active.next().is_none();
            if only_here {
                out.releases.push(sku);
            }
        }
    }
}

/// Direct copies of what this group gives after the plan, removed once it is active:
/// all of them with `prefer: groups`, else those the YAML no longer wants.
fn migrations(
    cx: &GroupCx,
    target: &[(usize, Vec<String>)],
    wanted: &HashMap<usize, Vec<usize>>,
    desired: &DesiredState,
    out: &mut GroupPlan,
) -> Vec<Migration> {
    let prefer = desired.groups.prefer_groups;
    let mut migrate = Vec::new();
    for (k, &u) in cx.members.iter().enumerate() {
        let mut redundant = Vec::new();
        for (sku, _) in target {
            out.gives.insert((u, *sku), cx.group.display_name.clone());
            let direct = cx.held[k].iter().any(|h| h.sku == Some(*sku) && h.direct);
            let still_wanted = wanted.get(&u).is_some_and(|w| w.contains(sku));
            let unlisted_kept = !wanted.contains_key(&u) && !desired.prune;
            if direct && (prefer || (!still_wanted && !unlisted_kept)) {
                out.deferred.insert((u, *sku));
                redundant.push(cx.skus.sku_ref(*sku));
            }
        }
        if !redundant.is_empty() {
            let user = &cx.live.users[u];
            migrate.push(Migration {
                user_id: user.id.clone(),
                upn: user.user_principal_name.clone(),
                remove: redundant,
            });
        }
    }
    migrate
}

/// Members whose assignment from this group is in error, and the reprocessing candidates.
fn member_errors(cx: &GroupCx, change: &mut GroupChange, out: &mut GroupPlan) {
    let change_index = out.changes.len();
    for &u in &cx.members {
        let user = &cx.live.users[u];
        let mut counted = Vec::new();
        for s in user
            .license_assignment_states
            .as_deref()
            .unwrap_or_default()
        {
            let from_here = s
                .assigned_by_group
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(&cx.group.id));
            let (true, Some(error), Some(sku)) =
                (from_here, s.error_kind(), cx.index.sku(&s.sku_id))
            else {
                continue;
            };
            // A missing seat also leaves the group's calling plan without its Teams Phone:
            // both come back when the member is reprocessed with seats free.
            if error == COUNT_VIOLATION || error == DEPENDENCY_VIOLATION {
                counted.push((sku, error == COUNT_VIOLATION));
            }
            change.errors.push(MemberError {
                user_id: user.id.clone(),
                upn: user.user_principal_name.clone(),
                sku: cx.skus.sku_ref(sku),
                error: error.to_string(),
                fix: error_fix(error).to_string(),
            });
        }
        if counted.iter().any(|(_, count)| *count) {
            let skus = counted.into_iter().map(|(sku, _)| sku).collect();
            out.count_errors.push((change_index, u, skus));
        }
    }
}

impl GroupPlan {
    /// True when this plan manages the group with this id (its members in error are
    /// reported with it).
    pub fn manages(&self, group_id: &str) -> bool {
        self.managed.contains(&group_id.to_ascii_lowercase())
    }

    /// True when `user`'s holding `h` of `sku` is in error from a managed group that still
    /// gives `sku` after the plan: the group fixes it (reprocessing), not a direct copy.
    pub fn fixes(&self, user: usize, sku: usize, h: &Holding) -> bool {
        self.gives.contains_key(&(user, sku))
            && h.failed_paths()
                .any(|p| p.group.as_deref().is_some_and(|g| self.manages(g)))
    }

    /// Members in `CountViolation` are reprocessed when the plan leaves a seat for each of
    /// their SKUs: `take(skus, user)` grants those seats and says whether it could. Run
    /// after every other seat is counted.
    pub fn plan_reprocessing(
        &mut self,
        live: &Snapshot,
        mut take: impl FnMut(&[usize], usize) -> bool,
    ) {
        for (c, u, skus) in std::mem::take(&mut self.count_errors) {
            if take(&skus, u) {
                let user = &live.users[u];
                self.changes[c].reprocess.push(MemberRef {
                    user_id: user.id.clone(),
                    upn: user.user_principal_name.clone(),
                });
            }
        }
    }
}

/// The group operations of a plan, in the order they run after the users' own changes:
/// group license changes, then reprocessing of members in error, then the direct copies
/// that the groups now provide.
pub fn group_operations(groups: &[GroupChange], ops: &mut Vec<super::Operation>) {
    use super::Operation;
    for g in groups {
        if !g.add.is_empty() || !g.remove.is_empty() {
            ops.push(Operation::AssignGroupLicenses {
                group_id: g.group_id.clone(),
                name: g.display_name.clone(),
                add: g.add.clone(),
                remove: g.remove.clone(),
            });
        }
    }
    for g in groups {
        ops.extend(g.reprocess.iter().map(|m| Operation::ReprocessLicenses {
            user_id: m.user_id.clone(),
            upn: m.upn.clone(),
        }));
    }
    for g in groups {
        ops.extend(g.migrate.iter().map(|m| Operation::RemoveRedundantDirect {
            user_id: m.user_id.clone(),
            upn: m.upn.clone(),
            group_id: g.group_id.clone(),
            group_name: g.display_name.clone(),
            remove: m.remove.clone(),
        }));
    }
}

/// Groups the plan changes whose licenses differ from what it observed (or that are gone).
pub fn stale_groups(plan: &super::Plan, snapshot: &Snapshot) -> Vec<String> {
    let mut stale = Vec::new();
    for g in plan.groups.iter().filter(|g| g.has_changes()) {
        let Some(i) = snapshot.group_by_id(&g.group_id) else {
            stale.push(format!("group {} (no longer exists)", g.label()));
            continue;
        };
        let mut now: Vec<String> = snapshot.groups[i]
            .assigned_licenses
            .iter()
            .map(|a| a.sku_id.to_ascii_lowercase())
            .collect();
        now.sort();
        let then: Vec<&str> = g.observed_sku_ids.iter().map(|s| &**s).collect();
        if now != then {
            stale.push(format!("group {}", g.label()));
        }
    }
    stale
}

/// The report line for direct copies kept because the group did not take over.
pub fn kept_note(upn: &str, group: &str, kept: &[(String, String)]) -> Option<String> {
    if kept.is_empty() {
        return None;
    }
    let parts: Vec<String> = kept
        .iter()
        .map(|(sku, why)| format!("{sku} ({why})"))
        .collect();
    Some(format!(
        "{upn} keeps its direct license {}: the inherited assignment from group \"{group}\" is not active; fix the member's error (see `commcred plan`) and apply again",
        parts.join(", ")
    ))
}
