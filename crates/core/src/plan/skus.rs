//! Resolving the YAML's license names to the live tenant's SKUs, and the set of SKUs
//! commcred manages (SPEC §2 and §3 "Managed SKUs").

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::base::catalog::catalog;
use crate::base::licenses::{Friendly, LicenseName};
use crate::config::DesiredState;
use crate::tenant::Snapshot;
use crate::tenant::capabilities::friendly_of;

use super::codes::Code;
use super::model::SkuRef;
use super::problems::{PlanProblem, list_some};
use super::rules::PlanRule;

pub struct ResolvedSkus {
    /// License name -> SKU position in `subscribedSkus`.
    pub by_name: BTreeMap<LicenseName, usize>,
    /// SKU positions commcred may add or remove.
    pub managed: HashSet<usize>,
    /// Friendly names wanted only by users that no subscribed SKU sells (a suite-only
    /// tenant: Teams Phone from E5, no `MCOEV`). Judged per user: a user who already holds
    /// the capability needs nothing; the others are one `sku_not_subscribed` error.
    pub unsold: BTreeMap<LicenseName, Friendly>,
    /// How the plan names each SKU, by position, built once and shared.
    refs: Vec<SkuRef>,
}

impl ResolvedSkus {
    pub fn sku_ref(&self, sku: usize) -> SkuRef {
        self.refs[sku].clone()
    }
}

/// Resolves every license name the desired state uses. Names that cannot be resolved are
/// reported once each, with how many users want them.
pub fn resolve(desired: &DesiredState, live: &Snapshot) -> (ResolvedSkus, Vec<PlanProblem>) {
    // Each name with how many users want it and where the first of them is written.
    let mut wanted: BTreeMap<&LicenseName, (usize, &crate::config::Origin)> = BTreeMap::new();
    for user in &desired.users {
        for name in &user.licenses {
            wanted.entry(name).or_insert((0, &user.origin)).0 += 1;
        }
    }
    // A group's license is assigned to the group itself: nothing it "already holds".
    let mut for_groups: HashSet<&LicenseName> = HashSet::new();
    for group in &desired.groups.list {
        for license in &group.licenses {
            wanted.entry(&license.name).or_insert((0, &group.origin));
            for_groups.insert(&license.name);
        }
    }
    let mut problems = Vec::new();
    let mut by_name = BTreeMap::new();
    let mut unsold = BTreeMap::new();
    for (name, (users, origin)) in wanted {
        match resolve_one(name, live) {
            Ok(i) => {
                by_name.insert(name.clone(), i);
            }
            Err(p)
                if p.code == Code::SkuNotSubscribed.as_str()
                    && !for_groups.contains(name)
                    && let LicenseName::Friendly(f) = name =>
            {
                unsold.insert(name.clone(), *f);
            }
            Err(mut p) => {
                p.message = if users > 0 {
                    format!(
                        "{origin}: {} (wanted by {users} user{})",
                        p.message,
                        plural(users)
                    )
                } else {
                    format!("{origin}: {}", p.message)
                };
                problems.push(p);
            }
        }
    }
    let mut managed: HashSet<usize> = by_name.values().copied().collect();
    for (i, sku) in live.subscribed_skus.iter().enumerate() {
        if friendly_of(sku).is_some() {
            managed.insert(i);
        }
    }
    let refs = (0..live.subscribed_skus.len())
        .map(|i| sku_ref(live, i))
        .collect();
    (
        ResolvedSkus {
            by_name,
            managed,
            unsold,
            refs,
        },
        problems,
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A friendly name resolves by capability to the one subscribed SKU that sells it; a part
/// number to the SKU of that name.
fn resolve_one(name: &LicenseName, live: &Snapshot) -> Result<usize, PlanProblem> {
    let skus = &live.subscribed_skus;
    let found: Vec<usize> = match name {
        LicenseName::Friendly(f) => users_first(
            skus.iter()
                .enumerate()
                .filter(|(_, s)| friendly_of(s) == Some(*f))
                .map(|(i, _)| i)
                .collect(),
            live,
        ),
        LicenseName::PartNumber(p) => skus
            .iter()
            .enumerate()
            .filter(|(_, s)| s.sku_part_number.eq_ignore_ascii_case(p))
            .map(|(i, _)| i)
            .collect(),
    };
    match found.as_slice() {
        [] => Err(not_subscribed(name, Some(live))),
        [one] => {
            let sku = &skus[*one];
            if sku.applies_to_users() {
                Ok(*one)
            } else {
                Err(PlanRule::UserSkusOnly.problem(
                    Code::SkuNotForUsers,
                    format!(
                        "license `{name}` ({}) applies to {}, not to users",
                        sku.sku_part_number, sku.applies_to
                    ),
                    "only SKUs with appliesTo: User can be assigned to users; remove it from the user's licenses",
                ))
            }
        }
        several => Err(PlanProblem::new(
            Code::AmbiguousLicense.as_str(),
            format!(
                "`{name}` matches several SKUs of the tenant that sell {}: {}",
                match name {
                    LicenseName::Friendly(f) => f.capabilities()[0].label(),
                    LicenseName::PartNumber(_) => "it",
                },
                several
                    .iter()
                    .map(|&i| skus[i].sku_part_number.as_str())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "write the exact skuPartNumber in commcred.yaml instead of the friendly name",
        )),
    }
}

/// The users who want `name`, which no subscribed SKU sells, and do not hold it from
/// another license (each with where it is written): one error naming them and what to buy.
pub fn unsold_for_users(
    name: Friendly,
    wanting: &[(String, &crate::config::Origin)],
) -> PlanProblem {
    let users: Vec<String> = wanting
        .iter()
        .map(|(upn, origin)| format!("{upn} at {origin}"))
        .collect();
    let not_sold = not_subscribed(&LicenseName::Friendly(name), None);
    let mut p = PlanRule::ProvidedNotBought.problem(Code::SkuNotSubscribed, "", "");
    p.message = format!(
        "{}: {}, and {} user{} who want{} it hold{} it from no other license: {}",
        wanting[0].1,
        not_sold.message,
        users.len(),
        plural(users.len()),
        if users.len() == 1 { "s" } else { "" },
        if users.len() == 1 { "s" } else { "" },
        list_some(&users, 10)
    );
    p.help = format!(
        "buy one of {} in the Microsoft 365 admin center, or give {} a license that includes {}",
        list_some(&sellers(name), 8),
        if users.len() == 1 {
            "that user"
        } else {
            "those users"
        },
        name.capabilities()[0].label()
    );
    p
}

/// The SKUs of Microsoft's table that sell a friendly name's capability (what to buy).
fn sellers(f: Friendly) -> Vec<String> {
    catalog()
        .skus
        .iter()
        .filter(|s| s.sells.is_some_and(|c| f.capabilities().contains(&c)))
        .map(|s| s.sku_part_number.clone())
        .collect()
}

/// Among several SKUs selling one capability, only those Graph lets be assigned to users
/// (`appliesTo: User`, "subscribedSku resource type") are candidates for a friendly name: a
/// GCC High tenant holds both the Audio Conferencing user license and the tenant license
/// (`appliesTo: Company`, "Audio Conferencing with Direct Routing for GCC High and DoD"), and
/// `audioConferencing` means the user license. One seller, or none for users: unchanged, so
/// a tenant-only seller is still reported as `sku_not_for_users`.
fn users_first(found: Vec<usize>, live: &Snapshot) -> Vec<usize> {
    if found.len() < 2 {
        return found;
    }
    let for_users: Vec<usize> = found
        .iter()
        .copied()
        .filter(|&i| live.subscribed_skus[i].applies_to_users())
        .collect();
    if for_users.is_empty() {
        found
    } else {
        for_users
    }
}

/// The service plan of the GCC High Audio Conferencing user license, and of the tenant
/// license it needs ("Audio Conferencing with Direct Routing for GCC High and DoD": "A tenant
/// license and at least one user license are required to enable the service"; names from
/// Microsoft's licensing table).
const GCCH_AUDIO_USER_PLAN: &str = "MCOMEETADV_AR_GCCHigh";
const GCCH_AUDIO_TENANT_PLAN: &str = "MCOACBYOT_GCCHigh";

/// A warning when the plan assigns the GCC High Audio Conferencing user license and the
/// tenant has no enabled GCC High Audio Conferencing tenant license: Microsoft says the
/// service cannot be enabled with user licenses alone. Dial-out then goes over Direct
/// Routing, not Communications Credits (same page).
pub fn tenant_license_warnings(
    live: &Snapshot,
    resolved: &ResolvedSkus,
) -> Vec<super::model::PlanWarning> {
    let has_plan = |sku: &crate::tenant::SubscribedSku, plan: &str| {
        sku.service_plans
            .iter()
            .any(|p| p.service_plan_name.eq_ignore_ascii_case(plan))
    };
    let Some(&user_sku) = resolved
        .by_name
        .values()
        .find(|&&i| has_plan(&live.subscribed_skus[i], GCCH_AUDIO_USER_PLAN))
    else {
        return Vec::new();
    };
    let tenant_license = live
        .subscribed_skus
        .iter()
        .find(|s| has_plan(s, GCCH_AUDIO_TENANT_PLAN) && s.prepaid_units.enabled > 0);
    if tenant_license.is_some() {
        return Vec::new();
    }
    let sellers: Vec<String> = catalog()
        .skus
        .iter()
        .filter(|s| {
            s.calling_service_plans
                .iter()
                .any(|p| p.eq_ignore_ascii_case(GCCH_AUDIO_TENANT_PLAN))
        })
        .map(|s| s.sku_part_number.clone())
        .collect();
    vec![super::model::PlanWarning {
        code: Code::TenantLicenseMissing.as_str().into(),
        upn: None,
        message: format!(
            "{} is the GCC High Audio Conferencing user license, but the tenant has no enabled Audio Conferencing - GCC High Tenant license ({}): Microsoft requires the tenant license and user licenses together (\"Audio Conferencing with Direct Routing for GCC High and DoD\"); the user licenses can be assigned, but the service is not enabled until the tenant license is there",
            live.subscribed_skus[user_sku].sku_part_number,
            list_some(&sellers, 4)
        ),
        assignment: None,
    }]
}

/// No SKU of the tenant answers to `name`: say what to buy (the SKUs of Microsoft's table
/// that sell the capability) or, for a part number, the nearest one the tenant has.
fn not_subscribed(name: &LicenseName, live: Option<&Snapshot>) -> PlanProblem {
    match name {
        LicenseName::Friendly(f) => {
            let sellers = sellers(*f);
            PlanProblem::new(
                Code::SkuNotSubscribed.as_str(),
                format!(
                    "the tenant has no subscription that sells {} for `{name}`",
                    f.capabilities()[0].label()
                ),
                format!(
                    "buy one of {} in the Microsoft 365 admin center, or remove `{name}` from commcred.yaml",
                    list_some(&sellers, 8)
                ),
            )
        }
        LicenseName::PartNumber(p) => {
            let parts: Vec<&str> = live
                .iter()
                .flat_map(|l| l.subscribed_skus.iter())
                .map(|s| s.sku_part_number.as_str())
                .collect();
            let help = match nearest(p, &parts) {
                Some(near) => format!("did you mean `{near}`? `subscribedSkus` lists what the tenant has"),
                None => "buy the license in the Microsoft 365 admin center, or remove it from commcred.yaml; `subscribedSkus` lists what the tenant has".to_string(),
            };
            PlanProblem::new(
                Code::SkuNotSubscribed.as_str(),
                format!("the tenant has no subscription for license `{name}`"),
                help,
            )
        }
    }
}

/// The candidate closest to `text` (case-insensitive), when it is close enough to be a typo.
pub fn nearest<'a>(text: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = text.to_lowercase();
    let length = lower.chars().count();
    candidates
        .iter()
        // The distance is at least the difference in length: skip, before the quadratic
        // distance, the candidates that cannot be within the limit below.
        .filter(|c| length.abs_diff(c.chars().count()) <= 3.max(c.len() / 5))
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), *c))
        .filter(|(d, c)| *d > 0 && *d <= 3.max(c.len() / 5))
        .min()
        .map(|(_, c)| c)
}

/// How the plan names a SKU.
pub fn sku_ref(live: &Snapshot, sku: usize) -> SkuRef {
    let s = &live.subscribed_skus[sku];
    SkuRef {
        sku_id: s.sku_id.as_str().into(),
        part_number: s.sku_part_number.as_str().into(),
        friendly: friendly_of(s).map(|f| f.name().into()),
    }
}
