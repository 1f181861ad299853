//! Desired x live -> Plan for licenses and usage locations. Linear in the number of users:
//! every lookup goes through hash indexes built once.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};

use super::observe::observe_holdings;
use crate::config::{DesiredState, DesiredUser};
use crate::tenant::rules::{
    Holding, check_license_rules, credits_unusable_with, holdings, holdings_after,
};
use crate::tenant::{Snapshot, TenantIndex, User};

use super::credits::plan_credits;
use super::groups::{GroupPlan, plan_groups};
use super::model::{Plan, UsageLocationChange, UserChange};
use super::problems::{PlanErrors, PlanProblem, list_some};
use super::skus::{ResolvedSkus, resolve, sku_ref};

/// Plans the changes that make `live` match `desired`. Every problem is collected; any
/// problem means no plan (and nothing applied).
// Long: the planner's top-level sequence (resolve SKUs, users, prune, seats, credits, collect problems) kept in one place to read.
pub fn plan(
    desired: &DesiredState,
    live: &Snapshot,
    now: DateTime<Utc>,
) -> Result<Plan, PlanErrors> {
    if !desired.tenant.eq_ignore_ascii_case(&live.tenant.domain) {
        return Err(PlanErrors(vec![PlanProblem::new(
            "commcred::plan::tenant_mismatch",
            format!(
                "commcred.yaml is for tenant `{}` but the live tenant is `{}` ({})",
                desired.tenant, live.tenant.domain, live.tenant.id
            ),
            "check --backend / the credentials, or set `tenant:` to the tenant's initial *.onmicrosoft.com domain",
        )]));
    }
    let index = TenantIndex::build(live);
    let (skus, mut problems) = resolve(desired, live);
    let mut groups = plan_groups(desired, live, &index, &skus);
    problems.append(&mut groups.problems);
    let mut seats = SeatLedger::default();
    for &(sku, user) in &groups.gains {
        seats.gain(sku, user);
    }
    for &sku in &groups.releases {
        seats.release(sku);
    }
    let mut users = Vec::with_capacity(desired.users.len());

    let mut listed: HashSet<usize> = HashSet::with_capacity(desired.users.len());
    let mut missing = Vec::new();
    for want in &desired.users {
        let Some(i) = index.user_by_upn(&want.upn) else {
            missing.push(want.upn.clone());
            continue;
        };
        listed.insert(i);
        let ctx = UserContext {
            live,
            index: &index,
            skus: &skus,
            groups: &groups,
            prefer_groups: desired.groups.prefer_groups,
        };
        match plan_listed_user(&ctx, want, desired, i, &mut seats) {
            Ok(Some(change)) => users.push(change),
            Ok(None) => {}
            Err(p) => problems.push(p),
        }
    }
    if !missing.is_empty() {
        problems.push(PlanProblem::new(
            "commcred::plan::user_not_found",
            format!(
                "{} listed user{} not exist in the tenant: {}",
                missing.len(),
                if missing.len() == 1 { " does" } else { "s do" },
                list_some(&missing, 10)
            ),
            "commcred assigns licenses but does not create accounts: create the users first, or fix the UPNs",
        ));
    }
    if desired.prune {
        for i in 0..live.users.len() {
            if listed.contains(&i) {
                continue;
            }
            let ctx = UserContext {
                live,
                index: &index,
                skus: &skus,
                groups: &groups,
                prefer_groups: desired.groups.prefer_groups,
            };
            if let Some(change) = plan_pruned_user(&ctx, i, &mut seats) {
                users.push(change);
            }
        }
    }
    // Members in CountViolation get the seats the rest of the plan leaves free.
    // A SKU the member holds, or gains directly in this plan, takes no second seat.
    groups.plan_reprocessing(live, |needed, user| {
        let held = holdings(&live.users[user], live, &index);
        let new: Vec<usize> = needed
            .iter()
            .copied()
            .filter(|&sku| !seats.gained.contains(&(sku, user)))
            .filter(|&sku| !held.iter().any(|h| h.sku == Some(sku)))
            .collect();
        if new.iter().all(|&sku| seats.free(live, sku) >= 1) {
            new.iter().for_each(|&sku| seats.gain(sku, user));
            true
        } else {
            false
        }
    });
    let shortfalls = seats.shortfalls(live);
    if shortfalls.is_empty() {
        problems.extend(seats.unorderable_swaps(live));
    }
    problems.extend(shortfalls);

    let credits = match &desired.credits {
        Some(want) => match plan_credits(want, live, &index, &users, now) {
            Ok(c) => Some(c),
            Err(p) => {
                problems.push(p);
                None
            }
        },
        None => None,
    };

    if !problems.is_empty() {
        return Err(PlanErrors(problems));
    }
    users.sort_by_cached_key(|u| (u.upn.to_lowercase(), u.user_id.clone()));
    let mut group_changes = groups.changes;
    group_changes.sort_by_cached_key(|g| (g.display_name.to_lowercase(), g.group_id.clone()));
    Ok(Plan {
        tenant_id: live.tenant.id.clone(),
        tenant_domain: live.tenant.domain.clone(),
        planned_at: now,
        config_digest: desired.digest.clone(),
        users,
        credits,
        groups: group_changes,
    })
}

struct UserContext<'a> {
    live: &'a Snapshot,
    index: &'a TenantIndex,
    skus: &'a ResolvedSkus,
    groups: &'a GroupPlan,
    prefer_groups: bool,
}

/// Per-SKU seat arithmetic over the whole plan.
#[derive(Default)]
struct SeatLedger {
    /// SKU -> (net seats needed, positions of the users gaining it). Positions, not names:
    /// names are only needed for the error message.
    delta: BTreeMap<usize, (i64, Vec<usize>)>,
    /// Seats freed by users who only lose licenses: apply runs them first.
    freed_first: BTreeMap<usize, i64>,
    /// Users who gain and lose in one change (a calling-plan swap), in planning order.
    swaps: Vec<Swap>,
    /// (SKU, user) already counted: a user gaining a SKU directly and through a group
    /// takes one seat (one seat per user and SKU however many paths assign it).
    gained: HashSet<(usize, usize)>,
}

/// One user's atomic license change that both takes and frees seats.
struct Swap {
    user: usize,
    gains: Vec<usize>,
    releases: Vec<usize>,
}

impl SeatLedger {
    fn gain(&mut self, sku: usize, user: usize) {
        if !self.gained.insert((sku, user)) {
            return;
        }
        let e = self.delta.entry(sku).or_default();
        e.0 += 1;
        e.1.push(user);
    }
    /// Swaps are applied one user at a time, each needing its new seats free at that moment
    /// (Graph checks every assignLicense on its own). Replays the order apply uses (users who
    /// only free seats first, then any swap that fits, until none is left) and reports the
    /// swaps that can never go through, e.g. two users trading calling plans with no seat
    /// spare. Run only when the totals fit.
    fn unorderable_swaps(&self, live: &Snapshot) -> Option<PlanProblem> {
        let mut free: Vec<i64> = live
            .subscribed_skus
            .iter()
            .map(|s| s.available_seats())
            .collect();
        for (&sku, n) in &self.freed_first {
            free[sku] += n;
        }
        let mut pending: Vec<&Swap> = self.swaps.iter().collect();
        loop {
            let before = pending.len();
            pending.retain(|swap| {
                if swap.gains.iter().all(|&g| free[g] >= 1) {
                    swap.gains.iter().for_each(|&g| free[g] -= 1);
                    swap.releases.iter().for_each(|&r| free[r] += 1);
                    false
                } else {
                    true
                }
            });
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        if pending.is_empty() {
            return None;
        }
        let upns: Vec<String> = pending
            .iter()
            .map(|s| live.users[s.user].user_principal_name.clone())
            .collect();
        let skus: BTreeSet<&str> = pending
            .iter()
            .flat_map(|s| s.gains.iter())
            .filter(|&&g| free[g] < 1)
            .map(|&g| live.subscribed_skus[g].sku_part_number.as_str())
            .collect();
        Some(PlanProblem::new(
            "commcred::plan::swaps_unorderable",
            format!(
                "license swaps cannot be ordered: {} each need a free {} seat that only another swap would free (users: {})",
                if upns.len() == 1 {
                    "the swap"
                } else {
                    "the swaps"
                },
                skus.into_iter().collect::<Vec<_>>().join(", "),
                list_some(&upns, 10)
            ),
            "free or buy one seat of that license, or apply the swaps in two steps (first move one user off the license)",
        ))
    }

    /// Seats of `sku` still free after everything counted so far.
    fn free(&self, live: &Snapshot, sku: usize) -> i64 {
        live.subscribed_skus[sku].available_seats() - self.delta.get(&sku).map_or(0, |e| e.0)
    }

    fn release(&mut self, sku: usize) {
        self.delta.entry(sku).or_default().0 -= 1;
    }
    fn shortfalls(&self, live: &Snapshot) -> Vec<PlanProblem> {
        let mut out = Vec::new();
        for (&sku, (needed, users)) in &self.delta {
            let s = &live.subscribed_skus[sku];
            // Not clamped at zero: an over-assigned SKU (negative availability) must first
            // be brought back under its seat count before Graph accepts another assignment.
            let available = s.available_seats();
            if !users.is_empty() && *needed > available {
                let upns: Vec<String> = users
                    .iter()
                    .map(|&u| live.users[u].user_principal_name.clone())
                    .collect();
                out.push(PlanProblem::new(
                    "commcred::plan::seat_shortfall",
                    format!(
                        "not enough {} seats: the plan needs {needed} more, {available} available, short by {} (users: {})",
                        sku_ref(live, sku).label(),
                        needed - available,
                        list_some(&upns, 10)
                    ),
                    format!(
                        "buy at least {} more {} license{}, or assign it to fewer users",
                        needed - available,
                        s.sku_part_number,
                        if needed - available == 1 { "" } else { "s" }
                    ),
                ));
            }
        }
        out
    }
}

// Long: one listed user's rules in SPEC §3's order, sharing the user's holdings.
fn plan_listed_user(
    ctx: &UserContext,
    want: &DesiredUser,
    desired: &DesiredState,
    i: usize,
    seats: &mut SeatLedger,
) -> Result<Option<UserChange>, PlanProblem> {
    let live = ctx.live;
    let user = &live.users[i];
    let held = holdings(user, live, ctx.index);
    // A friendly name and its part number may both be written: each SKU once, in order.
    let mut wanted: Vec<usize> = Vec::with_capacity(want.licenses.len());
    for sku in want
        .licenses
        .iter()
        .filter_map(|n| ctx.skus.by_name.get(n).copied())
    {
        if !wanted.contains(&sku) {
            wanted.push(sku);
        }
    }

    let mut change = empty_change(user, &held, ctx.index);
    for &sku in &wanted {
        let mine = held.iter().find(|h| h.sku == Some(sku));
        match mine {
            Some(h) if h.direct => {}
            Some(h) => change.notes.push(format!(
                "{} is inherited from group {}",
                sku_ref(live, sku).label(),
                h.groups.join(", ")
            )),
            None => match provided_by_other(live, &held, sku) {
                Some(by) => change.notes.push(format!(
                    "{} is already provided by {by}",
                    sku_ref(live, sku).label()
                )),
                None => match ctx
                    .groups
                    .gives
                    .get(&(i, sku))
                    .filter(|_| ctx.prefer_groups)
                {
                    Some(group) => change.notes.push(format!(
                        "{} will be inherited from group \"{group}\" (prefer: groups)",
                        sku_ref(live, sku).label()
                    )),
                    None => change.add.push(ctx.skus.sku_ref(sku)),
                },
            },
        }
    }
    for h in &held {
        let Some(sku) = h.sku else { continue };
        if h.direct && ctx.groups.deferred.contains(&(i, sku)) {
            change.notes.push(format!(
                "direct {} is removed once group \"{}\" provides it",
                sku_ref(live, sku).label(),
                ctx.groups.gives.get(&(i, sku)).map_or("", String::as_str)
            ));
        } else if h.direct && ctx.skus.managed.contains(&sku) && !wanted.contains(&sku) {
            change.remove.push(ctx.skus.sku_ref(sku));
        } else if !h.direct && ctx.skus.managed.contains(&sku) && !wanted.contains(&sku) {
            change.notes.push(format!(
                "keeps {} through group {} (group licenses are never removed by commcred)",
                sku_ref(live, sku).label(),
                h.groups.join(", ")
            ));
        }
    }

    let target_location = want
        .usage_location
        .clone()
        .or_else(|| user.usage_location.clone())
        .or_else(|| {
            (!change.add.is_empty())
                .then(|| desired.default_usage_location.clone())
                .flatten()
        });
    if !change.add.is_empty() && target_location.is_none() {
        return Err(PlanProblem::new(
            "commcred::plan::usage_location_missing",
            format!(
                "{} ({}) needs a usage location before licenses can be assigned, and has none",
                want.upn, want.origin
            ),
            "set `usageLocation` on the user, or `defaultUsageLocation` at the top of commcred.yaml",
        ));
    }
    if let Some(to) = target_location
        && user.usage_location.as_deref() != Some(to.as_str())
    {
        change.usage_location = Some(UsageLocationChange {
            from: user.usage_location.clone(),
            to,
        });
    }

    let from_groups: Vec<usize> = wanted
        .iter()
        .copied()
        .filter(|&sku| ctx.groups.gives.contains_key(&(i, sku)))
        .collect();
    check_after(live, ctx.index, &held, &change, &from_groups, &want.upn)?;
    record_seats(ctx.index, i, &held, &change, seats);
    Ok(keep_if_changed(change))
}

fn plan_pruned_user(ctx: &UserContext, i: usize, seats: &mut SeatLedger) -> Option<UserChange> {
    let user = &ctx.live.users[i];
    let held = holdings(user, ctx.live, ctx.index);
    let mut change = empty_change(user, &held, ctx.index);
    change.pruned = true;
    for h in &held {
        if let Some(sku) = h.sku
            && h.direct
            && ctx.skus.managed.contains(&sku)
            && !ctx.groups.deferred.contains(&(i, sku))
        {
            change.remove.push(ctx.skus.sku_ref(sku));
        }
    }
    record_seats(ctx.index, i, &held, &change, seats);
    keep_if_changed(change)
}

fn empty_change(user: &User, held: &[Holding], index: &TenantIndex) -> UserChange {
    UserChange {
        user_id: user.id.clone(),
        upn: user.user_principal_name.clone(),
        observed: observe_holdings(user, held, index),
        usage_location: None,
        add: Vec::new(),
        remove: Vec::new(),
        notes: Vec::new(),
        pruned: false,
    }
}

fn keep_if_changed(change: UserChange) -> Option<UserChange> {
    change.has_changes().then_some(change)
}

/// The part number of another SKU the user holds whose enabled service plans include every
/// service plan of `sku` (an E5 provides MCOMEETADV and MCOEV, for instance). Plans switched
/// off in that assignment (`disabledPlans`) do not count.
fn provided_by_other(live: &Snapshot, held: &[Holding], sku: usize) -> Option<String> {
    let wanted_plans = &live.subscribed_skus[sku].service_plans;
    if wanted_plans.is_empty() {
        return None;
    }
    for h in held {
        let Some(other) = h.sku else { continue };
        let s = &live.subscribed_skus[other];
        let covers = wanted_plans.iter().all(|w| {
            s.service_plans.iter().any(|p| {
                p.service_plan_name == w.service_plan_name
                    && !h
                        .disabled_plans
                        .iter()
                        .any(|d| d.eq_ignore_ascii_case(&p.service_plan_id))
            })
        });
        if covers {
            return Some(s.sku_part_number.clone());
        }
    }
    None
}

/// Checks the user's licenses after the change: Graph's rules (calling plan needs Teams
/// Phone, one calling plan at most) and commcred's (credits need audio conferencing, or
/// Teams Phone and a calling plan).
fn check_after(
    live: &Snapshot,
    index: &TenantIndex,
    held: &[Holding],
    change: &UserChange,
    from_groups: &[usize],
    upn: &str,
) -> Result<(), PlanProblem> {
    let removing: Vec<&str> = change.remove.iter().map(|r| &*r.sku_id).collect();
    let mut adding: Vec<usize> = change
        .add
        .iter()
        .map(|a| {
            index
                .sku(&a.sku_id)
                .expect("planned SKUs come from the tenant")
        })
        .collect();
    adding.extend(
        from_groups
            .iter()
            .filter(|s| !adding.contains(s))
            .copied()
            .collect::<Vec<_>>(),
    );
    let after = holdings_after(live, index, held, &removing, &adding);
    if let Err(e) = check_license_rules(&after, upn) {
        let code = match e.kind {
            crate::tenant::RuleKind::MutuallyExclusive => "commcred::plan::calling_plan_conflict",
            _ => "commcred::plan::prerequisite_missing",
        };
        let help = match e.kind {
            crate::tenant::RuleKind::MutuallyExclusive => {
                "a user can hold one calling plan: keep one of them in the user's licenses"
            }
            _ => "add phoneSystem (Teams Phone) to the user's licenses or profile",
        };
        return Err(PlanProblem::new(code, e.message, help));
    }
    if credits_unusable_with(&after) {
        return Err(PlanProblem::new(
            "commcred::plan::prerequisite_missing",
            format!(
                "{upn} would hold communicationsCredits (MCOPSTNC) without audio conferencing or Teams Phone with a calling plan, so the credits could never be used"
            ),
            "add audioConferencing, or phoneSystem plus a calling plan, to the user's licenses or profile",
        ));
    }
    Ok(())
}

/// Counts the seats a user's change takes and frees. Adding a SKU the user also holds through
/// a group takes no seat; removing a direct assignment the group still provides frees none.
fn record_seats(
    index: &TenantIndex,
    user: usize,
    held: &[Holding],
    change: &UserChange,
    seats: &mut SeatLedger,
) {
    let gains: Vec<usize> = change
        .add
        .iter()
        .filter_map(|add| index.sku(&add.sku_id))
        .collect();
    let mut releases = Vec::new();
    for rem in &change.remove {
        let still_held = held
            .iter()
            .any(|h| h.sku_id.eq_ignore_ascii_case(&rem.sku_id) && !h.groups.is_empty());
        if !still_held && let Some(sku) = index.sku(&rem.sku_id) {
            releases.push(sku);
        }
    }
    for &sku in &gains {
        seats.gain(sku, user);
    }
    for &sku in &releases {
        seats.release(sku);
    }
    match (gains.is_empty(), releases.is_empty()) {
        (true, false) => releases
            .iter()
            .for_each(|&sku| *seats.freed_first.entry(sku).or_default() += 1),
        (false, false) => seats.swaps.push(Swap {
            user,
            gains,
            releases,
        }),
        _ => {}
    }
}
