//! How export names things: each SKU as the YAML must write it so that the planner resolves
//! it back to that very SKU, and each license set as a readable profile name.

use std::collections::{BTreeSet, HashSet};

use crate::base::licenses::{Friendly, LicenseName, PAYG_PREFIX};
use crate::tenant::Snapshot;
use crate::tenant::capabilities::{friendly_of, sold_by};

/// What export does with a SKU held directly by a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkuStatus {
    /// Listed under this YAML name.
    Export(String),
    /// Not managed by commcred (a suite such as E5, or anything outside calling): never
    /// listed, and the planner leaves it alone because no YAML names it.
    Unmanaged,
    /// Managed by the planner whatever the YAML says (it has a friendly name), but no YAML
    /// name resolves to exactly this SKU. A user holding it directly cannot be listed without
    /// the plan removing it or failing, so such users are left out.
    Unnameable(String),
}

/// The status of every SKU of the tenant, by position in `subscribedSkus`.
pub struct SkuNames {
    status: Vec<SkuStatus>,
    /// Sort key of each SKU inside a profile: friendly order, raw part numbers, credits last.
    rank: Vec<(u8, String)>,
}

impl SkuNames {
    pub fn build(live: &Snapshot) -> SkuNames {
        let skus = &live.subscribed_skus;
        let mut status = Vec::with_capacity(skus.len());
        let mut rank = Vec::with_capacity(skus.len());
        for sku in skus {
            let part = sku.sku_part_number.as_str();
            let friendly = friendly_of(sku);
            let unique_part = skus
                .iter()
                .filter(|s| s.sku_part_number.eq_ignore_ascii_case(part))
                .count()
                == 1;
            let part_name = matches!(
                LicenseName::classify(part),
                Some(LicenseName::PartNumber(_))
            ) && unique_part;
            let s = if !sku.applies_to_users() {
                match friendly {
                    Some(_) => SkuStatus::Unnameable(format!(
                        "{part} applies to {}, not to users",
                        sku.applies_to
                    )),
                    None => SkuStatus::Unmanaged,
                }
            } else if let Some(f) = friendly {
                let same_name = skus.iter().filter(|s| friendly_of(s) == Some(f)).count();
                if same_name == 1 {
                    SkuStatus::Export(f.name().to_string())
                } else if part_name {
                    // Two pay-as-you-go zones, say: the exact part number is unambiguous.
                    SkuStatus::Export(part.to_string())
                } else {
                    SkuStatus::Unnameable(format!(
                        "`{}` matches several SKUs and the part number {part} cannot be written as a license name",
                        f.name()
                    ))
                }
            } else if part_name && is_calling_add_on(sku) {
                SkuStatus::Export(part.to_string())
            } else {
                SkuStatus::Unmanaged
            };
            rank.push(match friendly {
                Some(Friendly::CommunicationsCredits) => (2, String::new()),
                Some(f) => (0, format!("{:02}", f as u8)),
                None => (1, part.to_ascii_lowercase()),
            });
            status.push(s);
        }
        SkuNames { status, rank }
    }

    pub fn status(&self, sku: usize) -> &SkuStatus {
        &self.status[sku]
    }

    /// The YAML names of a set of SKUs in profile order. Every SKU must be exported.
    pub fn names(&self, skus: &[usize]) -> Vec<String> {
        let mut sorted = skus.to_vec();
        sorted.sort_by(|a, b| self.rank[*a].cmp(&self.rank[*b]));
        sorted
            .into_iter()
            .map(|i| match &self.status[i] {
                SkuStatus::Export(name) => name.clone(),
                other => unreachable!("only exported SKUs are listed, not {other:?}"),
            })
            .collect()
    }
}

/// A calling add-on: it sells one capability (e.g. `MCOPSTN_6`, `PHONESYSTEM_VIRTUALUSER`).
/// Such SKUs are exported by part number so that the YAML reproduces them; suites (E5,
/// Business Voice) only provide capabilities.
fn is_calling_add_on(sku: &crate::tenant::SubscribedSku) -> bool {
    sold_by(sku).is_some()
}

/// A readable profile name from the names of its licenses: `phone+domestic-calling+credits`.
pub fn profile_base_name(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names.iter().map(|n| token(n)).collect::<Vec<_>>().join("+")
}

fn token(name: &str) -> String {
    match Friendly::from_name(name) {
        Some(Friendly::AudioConferencing) => "audio-conferencing".into(),
        Some(Friendly::PhoneSystem) => "phone".into(),
        Some(Friendly::DomesticCallingPlan) => "domestic-calling".into(),
        Some(Friendly::InternationalCallingPlan) => "international-calling".into(),
        Some(Friendly::DomesticCallingPlan120) => "domestic-calling-120".into(),
        Some(Friendly::PayAsYouGoCallingPlan) => "payg-calling".into(),
        Some(Friendly::CommunicationsCredits) => "credits".into(),
        None => match name.strip_prefix(PAYG_PREFIX) {
            Some(zone) => format!("payg-calling{}", slug(zone)),
            None => slug(name).trim_start_matches('-').to_string(),
        },
    }
}

/// Lower case, runs of anything but letters and digits as one `-` (leading `-` kept, so a
/// suffix reads `-country-zone-1`).
fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Gives every distinct license set a distinct profile name, in the order of the sets.
pub fn profile_names<'a>(sets: impl IntoIterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut used = HashSet::new();
    let mut out = Vec::new();
    for names in sets {
        let base = profile_base_name(names);
        let mut name = base.clone();
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        out.push(name);
    }
    out
}

/// The distinct license sets, sorted, for deterministic profile order.
pub type LicenseSets = BTreeSet<Vec<String>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn profile_names_read_like_the_licenses() {
        assert_eq!(
            profile_base_name(&names(&[
                "phoneSystem",
                "internationalCallingPlan",
                "communicationsCredits"
            ])),
            "phone+international-calling+credits"
        );
        assert_eq!(
            profile_base_name(&names(&["audioConferencing", "communicationsCredits"])),
            "audio-conferencing+credits"
        );
        assert_eq!(
            profile_base_name(&names(&[
                "phoneSystem",
                "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1)"
            ])),
            "phone+payg-calling-country-zone-1"
        );
        assert_eq!(profile_base_name(&names(&["MCOPSTN_6"])), "mcopstn-6");
    }

    #[test]
    fn colliding_profile_names_get_a_suffix() {
        let a = names(&["MCOPSTN_6"]);
        let b = names(&["MCOPSTN-6"]);
        assert_eq!(profile_names([&a, &b]), vec!["mcopstn-6", "mcopstn-6-2"]);
    }

    #[test]
    fn tenant_skus_are_classified() {
        let live = crate::testkit::tenant(1, 1);
        let names = SkuNames::build(&live);
        let by_part = |p: &str| {
            let i = live
                .subscribed_skus
                .iter()
                .position(|s| s.sku_part_number == p)
                .unwrap();
            names.status(i).clone()
        };
        assert_eq!(
            by_part("MCOMEETADV"),
            SkuStatus::Export("audioConferencing".into())
        );
        assert_eq!(by_part("ENTERPRISEPREMIUM"), SkuStatus::Unmanaged);
    }
}
