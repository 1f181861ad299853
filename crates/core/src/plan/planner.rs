//! Desired x live -> Plan for licenses and usage locations. Linear in the number of users:
//! every lookup goes through hash indexes built once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::observe::observe_holdings;
use crate::base::licenses::{Capabilities, Capability, Friendly};
use crate::config::{DesiredState, DesiredUser, Origin};
use crate::tenant::numbers::voice_capabilities;
use crate::tenant::rules::{
    Holding, capabilities_of, check_license_rules, credits_unusable_with, holdings, holdings_after,
};
use crate::tenant::{Snapshot, TenantIndex, User};

use super::codes::Code;
use super::credits::plan_credits;
use super::groups::{GroupPlan, plan_groups};
use super::model::{
    CreditsChange, FailedAssignment, Plan, PlanWarning, SeatChange, UsageLocationChange, UserChange,
};
use super::numbers::{NumberPlan, UserAfter};
use super::problems::{PlanErrors, PlanProblem, list_some};
use super::rules::PlanRule;
use super::skus::{ResolvedSkus, nearest, resolve, sku_ref, unsold_for_users};

/// Plans the changes that make `live` match `desired`. Every problem is collected; any
/// problem means no plan (and nothing applied).
// Long: the planner's top-level sequence (resolve SKUs, users, prune, seats, credits, collect problems) kept in one place to read.
pub fn plan(
    desired: &DesiredState,
    live: &Snapshot,
    now: DateTime<Utc>,
) -> Result<Plan, PlanErrors> {
    if !desired.tenant.eq_ignore_ascii_case(&live.tenant.domain) {
        return Err(PlanErrors(vec![PlanRule::TenantMatches.problem(
            Code::TenantMismatch,
            format!(
                "{}commcred.yaml is for tenant `{}` but the live tenant is `{}` ({})",
                desired
                    .tenant_origin
                    .as_ref()
                    .map(|o| format!("{o}: "))
                    .unwrap_or_default(),
                desired.tenant,
                live.tenant.domain,
                live.tenant.id
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
    // `prune` takes numbers away only from a configuration that manages numbers (declares
    // one): one without any is read without the tenant's numbers on Microsoft Graph (no
    // Teams permission asked), and plans the same on every backend.
    let manages_numbers = desired.users.iter().any(|u| u.phone.is_some());
    let mut numbers = NumberPlan::new(live, desired.prune && manages_numbers);

    let mut listed: HashSet<usize> = HashSet::with_capacity(desired.users.len());
    // Where each listed user is written, by position in the tenant: seat errors name it.
    let mut origins: HashMap<usize, &Origin> = HashMap::with_capacity(desired.users.len());
    let mut warnings = Vec::new();
    let mut missing = Vec::new();
    // Per friendly name no SKU sells: the users who want it and hold it from nothing else.
    let mut unsold_missing: BTreeMap<Friendly, Vec<(String, &Origin)>> = BTreeMap::new();
    for want in &desired.users {
        let Some(i) = index.user_by_upn(&want.upn) else {
            missing.push(want);
            continue;
        };
        listed.insert(i);
        origins.insert(i, &want.origin);
        let ctx = UserContext {
            live,
            index: &index,
            skus: &skus,
            groups: &groups,
            prefer_groups: desired.groups.prefer_groups,
        };
        match plan_listed_user(
            &ctx,
            want,
            desired,
            i,
            &mut seats,
            &mut numbers,
            &mut warnings,
            &mut unsold_missing,
        ) {
            Ok(Some(change)) => users.push(change),
            Ok(None) => {}
            Err(p) => problems.extend(p),
        }
    }
    problems.extend(missing_users(&missing, live));
    problems.extend(
        unsold_missing
            .into_iter()
            .map(|(name, users)| unsold_for_users(name, &users)),
    );
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
            if let Some(change) = plan_pruned_user(&ctx, i, &mut seats, &mut numbers) {
                users.push(change);
            }
        }
    }
    problems.extend(numbers.finish(&index));
    // Members in CountViolation get the seats the rest of the plan leaves free.
    // A SKU the member holds, or gains directly in this plan, takes no second seat.
    groups.plan_reprocessing(live, |needed, user| {
        let held = holdings(&live.users[user], live, &index);
        let new: Vec<usize> = needed
            .iter()
            .copied()
            .filter(|&sku| !seats.gained.contains(&(sku, user)))
            .filter(|&sku| !held.iter().any(|h| h.sku == Some(sku) && h.provides()))
            .collect();
        if new.iter().all(|&sku| seats.free(live, sku) >= 1) {
            new.iter().for_each(|&sku| seats.gain(sku, user));
            true
        } else {
            false
        }
    });
    let shortfalls = seats.shortfalls(live, &origins);
    if shortfalls.is_empty() {
        problems.extend(seats.unorderable_swaps(live, &origins));
    }
    problems.extend(shortfalls);

    let billing = match super::billing::billing_account(desired, live) {
        Ok(kind) => kind,
        Err(p) => {
            problems.push(p);
            None
        }
    };
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
    warnings.extend(funding_warnings(
        desired,
        live,
        &index,
        &users,
        credits.as_ref(),
        now,
    ));
    super::billing::warnings_for_account(billing, &mut warnings);
    warnings.extend(super::countries::country_warnings(&index, &users));
    warnings.extend(super::skus::tenant_license_warnings(live, &skus));
    let seat_changes = seats.changes(live);
    let cost = desired.prices.as_ref().map(|prices| {
        warnings.extend(super::cost::prices_not_in_tenant(prices, live));
        super::cost::price(&seat_changes, prices)
    });
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
        warnings,
        groups: group_changes,
        seats: seat_changes,
        cost,
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
    /// SKU -> seats freed (users losing their last active assignment of it).
    freed: BTreeMap<usize, usize>,
}

/// A user as seat errors name it: the UPN and, for a listed user, where it is written.
fn user_at(live: &Snapshot, origins: &HashMap<usize, &Origin>, user: usize) -> String {
    let upn = &live.users[user].user_principal_name;
    match origins.get(&user) {
        Some(origin) => format!("{upn} at {origin}"),
        None => upn.clone(),
    }
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
    fn unorderable_swaps(
        &self,
        live: &Snapshot,
        origins: &HashMap<usize, &Origin>,
    ) -> Option<PlanProblem> {
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
            .map(|s| user_at(live, origins, s.user))
            .collect();
        let skus: BTreeSet<&str> = pending
            .iter()
            .flat_map(|s| s.gains.iter())
            .filter(|&&g| free[g] < 1)
            .map(|&g| live.subscribed_skus[g].sku_part_number.as_str())
            .collect();
        Some(PlanRule::SeatsAvailable.problem(
            Code::SwapsUnorderable,
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
        *self.freed.entry(sku).or_default() += 1;
    }

    /// Seats taken and freed per SKU, for the plan's cost.
    fn changes(&self, live: &Snapshot) -> Vec<SeatChange> {
        let mut out: Vec<SeatChange> = self
            .delta
            .iter()
            .map(|(&sku, (_, users))| SeatChange {
                sku: sku_ref(live, sku),
                added: users.len(),
                freed: self.freed.get(&sku).copied().unwrap_or(0),
            })
            .filter(|c| c.added > 0 || c.freed > 0)
            .collect();
        out.sort_by(|a, b| a.sku.part_number.cmp(&b.sku.part_number));
        out
    }
    fn shortfalls(&self, live: &Snapshot, origins: &HashMap<usize, &Origin>) -> Vec<PlanProblem> {
        let mut out = Vec::new();
        for (&sku, (needed, users)) in &self.delta {
            let s = &live.subscribed_skus[sku];
            // Not clamped at zero: an over-assigned SKU (negative availability) must first
            // be brought back under its seat count before Graph accepts another assignment.
            let available = s.available_seats();
            if !users.is_empty() && *needed > available {
                let upns: Vec<String> = users.iter().map(|&u| user_at(live, origins, u)).collect();
                out.push(PlanRule::SeatsAvailable.problem(
                    Code::SeatShortfall,
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

// Long: one listed user's rules in SPEC §3's order (removals, the state after them, each
// wanted SKU, usage location, the checks on the result), sharing the user's holdings.
// Eight: the planner's accumulators (seats, numbers, warnings, capabilities no SKU sells) each
// arrived with an issue; folding them into one struct is left for the next round.
#[allow(clippy::too_many_arguments)]
fn plan_listed_user<'a>(
    ctx: &UserContext,
    want: &'a DesiredUser,
    desired: &DesiredState,
    i: usize,
    seats: &mut SeatLedger,
    numbers: &mut NumberPlan,
    warnings: &mut Vec<PlanWarning>,
    unsold_missing: &mut BTreeMap<Friendly, Vec<(String, &'a Origin)>>,
) -> Result<Option<UserChange>, Vec<PlanProblem>> {
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
    change.observed.numbers = numbers.observed(i);
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
            change.notes.push(PlanRule::GroupLicenseKept.note(format!(
                "keeps {} through group {} (group licenses are never removed by commcred)",
                sku_ref(live, sku).label(),
                h.groups.join(", ")
            )));
        }
    }
    // "Already provided" is judged on what the user keeps after the removals (SPEC §3), so
    // one apply converges: a user losing E5 gets the Audio Conferencing E5 gave.
    let removing: Vec<&str> = change.remove.iter().map(|r| &*r.sku_id).collect();
    let kept = holdings_after(live, ctx.index, &held, &removing, &[]);
    // Rule `provided-not-bought`: a name no SKU of the tenant sells (Teams Phone only from
    // E5) needs nothing for a user who already holds it; the others are named in one error.
    for name in &want.licenses {
        let Some(&f) = ctx.skus.unsold.get(name) else {
            continue;
        };
        let held_by: Vec<&str> = kept
            .iter()
            .filter(|(_, caps)| f.capabilities().iter().any(|c| caps.as_held().has(*c)))
            .map(|(n, _)| n.as_str())
            .collect();
        if held_by.is_empty() {
            // Named in one `PlanRule::ProvidedNotBought` error after every user is planned.
            unsold_missing
                .entry(f)
                .or_default()
                .push((want.upn.clone(), &want.origin));
        } else if !change.notes.iter().any(|n| n.starts_with(f.name())) {
            change.notes.push(format!(
                "{f} is already provided by {} (the tenant sells it in no other SKU)",
                held_by.join(" + ")
            ));
        }
    }
    for &sku in &wanted {
        let mine = held.iter().find(|h| h.sku == Some(sku));
        match mine {
            Some(h) if h.direct => {}
            Some(h) if h.provides() => change.notes.push(format!(
                "{} is inherited from group {}",
                sku_ref(live, sku).label(),
                h.groups.join(", ")
            )),
            // In error from a group commcred.yaml manages: the group's plan reprocesses it
            // (reported with the group's members in error); a direct copy would hide it.
            Some(h) if ctx.groups.fixes(i, sku, h) => change.notes.push(format!(
                "{} from group \"{}\" is in error: fixed through the group, not a direct copy",
                sku_ref(live, sku).label(),
                ctx.groups.gives.get(&(i, sku)).map_or("", String::as_str)
            )),
            _ => match provided_by(live, ctx.index, &kept, sku, numbers.is_known_person(i)) {
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
    warnings.extend(failed_assignments(
        live,
        &held,
        &user.user_principal_name,
        ctx.groups,
    ));

    let target_location = want
        .usage_location
        .clone()
        .or_else(|| user.usage_location.clone())
        .or_else(|| {
            // A number needs the user's usage location as much as a license does ("make
            // sure the phone number and the usage location of the user are of the same
            // country/region"), so the default applies to a user gaining either.
            (!change.add.is_empty() || want.phone.is_some())
                .then(|| desired.default_usage_location.clone())
                .flatten()
        });
    let mut problems = Vec::new();
    if !change.add.is_empty() && target_location.is_none() {
        problems.push(PlanRule::UsageLocationFirst.problem(
            Code::UsageLocationMissing,
            format!(
                "{}: {} needs a usage location before licenses can be assigned, and has none",
                want.origin, want.upn
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
    let after = after_change(live, ctx.index, &held, &change, &from_groups);
    problems.extend(check_after(&after, want));
    let added = change
        .add
        .iter()
        .filter_map(|a| ctx.index.sku(&a.sku_id))
        .fold(Capabilities::default(), |acc, sku| {
            acc.union(ctx.index.capabilities_of_sku(sku))
        });
    let location_after = change
        .usage_location
        .as_ref()
        .map(|l| l.to.clone())
        .or_else(|| user.usage_location.clone());
    let location = location_after.as_deref();
    let user_after = UserAfter {
        caps: capabilities_of(&after),
        added,
        location,
    };
    numbers.plan_listed(want, i, &user_after, &mut change, &mut problems, warnings);
    if !problems.is_empty() {
        return Err(problems);
    }
    warnings.extend(unpaid_capabilities(&after, &want.upn));
    warnings.extend(teams_missing(
        ctx.index,
        &held,
        &change,
        &from_groups,
        &after,
        &want.upn,
    ));
    record_seats(ctx.index, i, &held, &change, seats);
    Ok(keep_if_changed(change))
}

fn plan_pruned_user(
    ctx: &UserContext,
    i: usize,
    seats: &mut SeatLedger,
    numbers: &mut NumberPlan,
) -> Option<UserChange> {
    let user = &ctx.live.users[i];
    let held = holdings(user, ctx.live, ctx.index);
    let mut change = empty_change(user, &held, ctx.index);
    change.observed.numbers = numbers.observed(i);
    change.pruned = true;
    numbers.plan_pruned(i, &mut change);
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
        number: None,
    }
}

fn keep_if_changed(change: UserChange) -> Option<UserChange> {
    change.has_changes().then_some(change)
}

/// The part number of a SKU the user keeps after the removals whose active, enabled
/// service plans give every capability `sku` gives (an E5 gives audio conferencing and Teams
/// Phone; `disabledPlans` and assignments in error give nothing). A SKU with no calling
/// capability is never provided by another. The Teams Phone Resource Account license gives
/// Teams Phone to a resource account only ("Manage resource accounts"), so a user Teams
/// lists as a person (`person`) holding it still gets Teams Phone.
fn provided_by(
    live: &Snapshot,
    index: &TenantIndex,
    kept: &[(String, Capabilities)],
    sku: usize,
    person: bool,
) -> Option<String> {
    let wanted = index.capabilities_of_sku(sku);
    if wanted.is_empty() {
        return None;
    }
    let own = &live.subscribed_skus[sku].sku_part_number;
    let gives = |caps: Capabilities| voice_capabilities(caps, !person);
    let all = gives(capabilities_of(kept));
    if !all.covers(wanted) {
        return None;
    }
    let by: Vec<&str> = kept
        .iter()
        .filter(|(name, caps)| name != own && gives(*caps).iter().any(|c| wanted.has(c)))
        .map(|(name, _)| name.as_str())
        .collect();
    Some(by.join(" + "))
}

/// The user's holdings after the whole change.
fn after_change(
    live: &Snapshot,
    index: &TenantIndex,
    held: &[Holding],
    change: &UserChange,
    from_groups: &[usize],
) -> Vec<(String, Capabilities)> {
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
    holdings_after(live, index, held, &removing, &adding)
}

/// The rules checked on the user's licenses after the change (docs/licensing.md): a calling
/// plan needs Teams Phone ("Teams add-on licensing"); the Communications Credits license
/// needs audio conferencing, or Teams Phone with a calling plan ("Communications Credits").
/// Every broken rule is reported, at the user's entry in the YAML or CSV.
fn check_after(after: &[(String, Capabilities)], want: &DesiredUser) -> Vec<PlanProblem> {
    let upn = &want.upn;
    let mut out = Vec::new();
    if let Err(e) = check_license_rules(after, upn) {
        out.push(PlanRule::CallingPlanNeedsTeamsPhone.problem(
            Code::PrerequisiteMissing,
            format!("{}: {}", want.origin, e.message),
            "add phoneSystem (Teams Phone) to the user's licenses or profile",
        ));
    }
    if credits_unusable_with(after) {
        out.push(PlanRule::CreditsNeedAWayToCall.problem(
            Code::PrerequisiteMissing,
            format!(
                "{}: {upn} would hold communicationsCredits without audio conferencing or Teams Phone with a calling plan, so the credits could never be used",
                want.origin
            ),
            "add audioConferencing, or phoneSystem plus a calling plan, to the user's licenses or profile",
        ));
    }
    out
}

/// Pay-as-you-go calling plans and pay-per-minute audio conferencing have no included
/// minutes: without the Communications Credits license the user cannot make those calls.
fn unpaid_capabilities(after: &[(String, Capabilities)], upn: &str) -> Vec<PlanWarning> {
    let caps = capabilities_of(after);
    if caps.credits() {
        return Vec::new();
    }
    caps.needing_credits()
        .map(|c| PlanRule::NeedsCredits.warning(
            Code::NeedsCredits,
            Some(upn),
            format!(
                "{upn} will hold {} but not communicationsCredits: every such call is paid from Communications Credits, so {upn} cannot make it",
                c.label()
            ),
        ))
        .collect()
}

/// Rule `teams-phone-needs-teams` (a warning): Teams Phone works only for a user who also
/// has Microsoft Teams ("Teams Phone licensing"; the "(no Teams)" suites carry `MCOEV` and
/// `MCOMEETADV` but not `TEAMS1`, so they need Teams Enterprise or Teams EEA beside them).
/// No Microsoft page says Graph refuses such an assignment, so the plan warns. A resource
/// account's Teams Phone is not judged: resource accounts are not Teams users.
fn teams_missing(
    index: &TenantIndex,
    held: &[Holding],
    change: &UserChange,
    from_groups: &[usize],
    after: &[(String, Capabilities)],
    upn: &str,
) -> Option<PlanWarning> {
    if !capabilities_of(after).has(Capability::TeamsPhone) {
        return None;
    }
    let removed = |h: &Holding| {
        change
            .remove
            .iter()
            .any(|r| r.sku_id.eq_ignore_ascii_case(&h.sku_id))
    };
    // Teams from what the user keeps (an active path that is not a removed direct one) or
    // from what the plan adds (directly or through a managed group).
    let kept = held.iter().any(|h| {
        h.teams
            && h.paths
                .iter()
                .filter(|p| !(removed(h) && p.group.is_none()))
                .any(|p| p.provides())
    });
    let added = change
        .add
        .iter()
        .filter_map(|a| index.sku(&a.sku_id))
        .chain(from_groups.iter().copied())
        .any(|i| index.sku_gives_teams(i));
    if kept || added {
        return None;
    }
    let by: Vec<&str> = after
        .iter()
        .filter(|(_, caps)| caps.has(Capability::TeamsPhone))
        .map(|(name, _)| name.as_str())
        .collect();
    Some(PlanRule::TeamsPhoneNeedsTeams.warning(
        Code::TeamsMissing,
        Some(upn),
        format!(
            "{upn} will hold Teams Phone ({}) but no license with Microsoft Teams (TEAMS1): Teams Phone works only inside Teams, so {upn} cannot make or take calls until a license with Teams (such as Microsoft Teams Enterprise or Teams EEA beside a \"(no Teams)\" suite) is assigned",
            by.join(" + ")
        ),
    ))
}

/// One warning per assignment Microsoft reports in error: it gives the user nothing. An
/// assignment from a group commcred.yaml manages is reported with that group's members in
/// error instead.
fn failed_assignments(
    live: &Snapshot,
    held: &[Holding],
    upn: &str,
    groups: &GroupPlan,
) -> Vec<PlanWarning> {
    let mut out = Vec::new();
    for h in held {
        for p in h
            .failed_paths()
            .filter(|p| !p.group.as_deref().is_some_and(|g| groups.manages(g)))
        {
            let (part_number, friendly) = match h.sku {
                Some(i) => {
                    let r = sku_ref(live, i);
                    (r.part_number.to_string(), r.friendly.map(|f| f.to_string()))
                }
                None => (h.sku_id.clone(), None),
            };
            let group_name = p.group.as_deref().and_then(|g| group_name(live, g));
            let state = p.state.clone().unwrap_or_default();
            let by = match (&p.group, &group_name) {
                (Some(_), Some(name)) => format!("group {name}"),
                (Some(id), None) => format!("group {id}"),
                (None, _) => "a direct assignment".to_string(),
            };
            let mut warning = PlanRule::AssignmentInError.warning(
                Code::AssignmentFailed,
                Some(upn),
                format!(
                    "{upn}: {part_number} from {by} is in state {state}{}: it gives the user nothing until that is fixed",
                    p.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
                ),
            );
            warning.assignment = Some(FailedAssignment {
                sku_id: h.sku_id.to_ascii_lowercase(),
                part_number,
                friendly,
                group_id: p.group.clone(),
                group_name,
                state,
                error: p.error.clone(),
            });
            out.push(warning);
        }
    }
    out
}

/// A group's `displayName` from the snapshot's typed `groups`, when it lists the group.
fn group_name(live: &Snapshot, id: &str) -> Option<String> {
    live.group_by_id(id)
        .map(|g| live.groups[g].display_name.clone())
        .filter(|name| !name.is_empty())
}

/// Users of the YAML that the tenant does not have: one problem each, at the user's entry,
/// with the nearest UPN of the tenant when one is close (a typo).
fn missing_users(missing: &[&DesiredUser], live: &Snapshot) -> Vec<PlanProblem> {
    // Suggestions compare every missing UPN with every tenant UPN: bounded so that a
    // config pointed at the wrong tenant stays fast.
    let suggest = missing.len().saturating_mul(live.users.len()) <= 5_000_000;
    let upns: Vec<&str> = if suggest {
        live.users
            .iter()
            .map(|u| u.user_principal_name.as_str())
            .collect()
    } else {
        Vec::new()
    };
    missing
        .iter()
        .map(|want| {
            let help = match nearest(&want.upn, &upns) {
                Some(near) => format!("did you mean `{near}`? commcred assigns licenses but does not create accounts"),
                None => "commcred assigns licenses but does not create accounts: create the user first, or fix the UPN".to_string(),
            };
            PlanRule::UserExists.problem(
                Code::UserNotFound,
                format!("{}: user {} does not exist in the tenant", want.origin, want.upn),
                help,
            )
        })
        .collect()
}

/// Credits licenses with no money behind them: commcred.yaml does not manage funding, or
/// the usable balance after the plan is zero (calls paid from credits then stop).
fn funding_warnings(
    desired: &DesiredState,
    live: &Snapshot,
    index: &TenantIndex,
    users: &[UserChange],
    credits: Option<&CreditsChange>,
    now: DateTime<Utc>,
) -> Vec<PlanWarning> {
    let adds_credits = users.iter().any(|u| {
        u.add.iter().any(|a| {
            index
                .sku(&a.sku_id)
                .is_some_and(|i| index.capabilities_of_sku(i).credits())
        })
    });
    let holds_credits = adds_credits
        || live.users.iter().any(|u| {
            holdings(u, live, index)
                .iter()
                .any(|h| h.capabilities.credits())
        });
    if !holds_credits {
        return Vec::new();
    }
    let warning = |message: String| {
        vec![PlanRule::CreditsFunded.warning(Code::CreditsUnfunded, None, message)]
    };
    match credits {
        None if desired.credits.is_none() => {
            let balance = live
                .communications_credits
                .as_ref()
                .map(|a| crate::tenant::credits::usable_balance(a, now));
            match balance {
                Some(b) if !b.is_zero() => Vec::new(),
                _ => warning("users hold the Communications Credits license, but the tenant has no usable credits and commcred.yaml does not manage funding (no `communicationsCredits` section): calls paid from credits will fail".into()),
            }
        }
        Some(c) if c.balance_after.0.is_zero() => warning(format!(
            "users hold the Communications Credits license, but the usable balance after this plan is {}: calls paid from credits will fail",
            c.money(c.balance_after)
        )),
        _ => Vec::new(),
    }
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
        // A group's active assignment keeps the seat; one in error holds none.
        let still_held = held.iter().any(|h| {
            h.sku_id.eq_ignore_ascii_case(&rem.sku_id)
                && h.paths.iter().any(|p| p.group.is_some() && p.provides())
        });
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
