//! Resolving the YAML's license names to the live tenant's SKUs, and the set of SKUs
//! commcred manages (SPEC §2 and §3 "Managed SKUs").

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::base::licenses::{Friendly, LicenseName, PAYG_PREFIX};
use crate::config::DesiredState;
use crate::tenant::Snapshot;

use super::model::SkuRef;
use super::problems::PlanProblem;

pub struct ResolvedSkus {
    /// License name -> SKU position in `subscribedSkus`.
    pub by_name: BTreeMap<LicenseName, usize>,
    /// SKU positions commcred may add or remove.
    pub managed: HashSet<usize>,
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
    let mut wanted: BTreeMap<&LicenseName, usize> = BTreeMap::new();
    for user in &desired.users {
        for name in &user.licenses {
            *wanted.entry(name).or_default() += 1;
        }
    }
    for group in &desired.groups.list {
        for license in &group.licenses {
            wanted.entry(&license.name).or_default();
        }
    }
    let mut problems = Vec::new();
    let mut by_name = BTreeMap::new();
    for (name, users) in wanted {
        match resolve_one(name, live) {
            Ok(i) => {
                by_name.insert(name.clone(), i);
            }
            Err(mut p) => {
                if users > 0 {
                    p.message = format!("{} (wanted by {users} user{})", p.message, plural(users));
                }
                problems.push(p);
            }
        }
    }
    let mut managed: HashSet<usize> = by_name.values().copied().collect();
    for (i, sku) in live.subscribed_skus.iter().enumerate() {
        if Friendly::for_part_number(&sku.sku_part_number).is_some() {
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
            refs,
        },
        problems,
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn resolve_one(name: &LicenseName, live: &Snapshot) -> Result<usize, PlanProblem> {
    let skus = &live.subscribed_skus;
    let found: Vec<usize> = match name {
        LicenseName::Friendly(Friendly::PayAsYouGoCallingPlan) => skus
            .iter()
            .enumerate()
            .filter(|(_, s)| s.sku_part_number.starts_with(PAYG_PREFIX))
            .map(|(i, _)| i)
            .collect(),
        LicenseName::Friendly(f) => skus
            .iter()
            .enumerate()
            .filter(|(_, s)| f.matches_part_number(&s.sku_part_number))
            .map(|(i, _)| i)
            .collect(),
        LicenseName::PartNumber(p) => skus
            .iter()
            .enumerate()
            .filter(|(_, s)| s.sku_part_number.eq_ignore_ascii_case(p))
            .map(|(i, _)| i)
            .collect(),
    };
    match found.as_slice() {
        [] => Err(PlanProblem::new(
            "commcred::plan::sku_not_subscribed",
            format!(
                "the tenant has no subscription for license `{name}`{}",
                match name {
                    LicenseName::Friendly(f) => f
                        .part_number()
                        .map(|p| format!(" (SKU {p})"))
                        .unwrap_or_else(|| format!(" (a SKU named {PAYG_PREFIX}…)")),
                    LicenseName::PartNumber(_) => String::new(),
                }
            ),
            "buy the license in the Microsoft 365 admin center, or remove it from commcred.yaml; `subscribedSkus` lists what the tenant has",
        )),
        [one] => {
            let sku = &skus[*one];
            if sku.applies_to_users() {
                Ok(*one)
            } else {
                Err(PlanProblem::new(
                    "commcred::plan::sku_not_for_users",
                    format!(
                        "license `{name}` ({}) applies to {}, not to users",
                        sku.sku_part_number, sku.applies_to
                    ),
                    "only SKUs with appliesTo: User can be assigned to users; remove it from the user's licenses",
                ))
            }
        }
        several => Err(PlanProblem::new(
            "commcred::plan::ambiguous_license",
            format!(
                "`{name}` matches several SKUs in the tenant: {}",
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

/// How the plan names a SKU.
pub fn sku_ref(live: &Snapshot, sku: usize) -> SkuRef {
    let s = &live.subscribed_skus[sku];
    SkuRef {
        sku_id: s.sku_id.as_str().into(),
        part_number: s.sku_part_number.as_str().into(),
        friendly: Friendly::for_part_number(&s.sku_part_number).map(|f| f.name().into()),
    }
}
