//! The `groups` section of an export: every group that holds a managed license, named by its
//! display name when no other group shares it (else by id), with the licenses commcred can
//! name. Planning it changes nothing: listed groups keep exactly these managed licenses, and
//! unmanaged ones (a suite like E5 on the group) are never touched.

use crate::config::schema::{GroupEntry, GroupLicense, License};
use crate::tenant::{Snapshot, TenantIndex};

use super::ExportWarning;
use super::codes::Code;
use super::naming::{SkuNames, SkuStatus};

/// The entries, and warnings for groups that cannot be written.
pub fn export_groups(
    live: &Snapshot,
    index: &TenantIndex,
    names: &SkuNames,
) -> (Vec<GroupEntry>, Vec<ExportWarning>) {
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    let mut groups: Vec<&crate::tenant::Group> = live.groups.iter().collect();
    groups.sort_by_cached_key(|g| (g.display_name.to_lowercase(), g.id.clone()));
    'group: for g in groups {
        let mut licenses = Vec::new();
        let mut skus = Vec::new();
        for a in &g.assigned_licenses {
            let Some(i) = index.sku(&a.sku_id) else {
                continue;
            };
            match names.status(i) {
                SkuStatus::Export(name) => {
                    skus.push(i);
                    let plans: Vec<String> = a
                        .disabled_plans
                        .iter()
                        .map(|id| {
                            live.subscribed_skus[i]
                                .service_plans
                                .iter()
                                .find(|p| p.service_plan_id.eq_ignore_ascii_case(id))
                                .map_or(id.clone(), |p| p.service_plan_name.clone())
                        })
                        .collect();
                    licenses.push((name.clone(), plans));
                }
                SkuStatus::Unmanaged => {}
                SkuStatus::Unnameable(why) => {
                    warnings.push(ExportWarning::new(
                        Code::GroupSkipped.as_str(),
                        format!(
                            "group \"{}\" ({}) is left out: it holds {}, which commcred.yaml cannot name: {why}",
                            g.display_name, g.id, live.subscribed_skus[i].sku_part_number
                        ),
                        "write that group's entry by hand once the tenant's SKUs are unambiguous",
                    ));
                    continue 'group;
                }
            }
        }
        if licenses.is_empty() {
            continue;
        }
        // The profile order of the names, with the disabled plans kept beside each.
        let ordered = names.names(&skus);
        licenses.sort_by_key(|(n, _)| ordered.iter().position(|o| o == n));
        let unique = !g.display_name.is_empty()
            && live
                .groups
                .iter()
                .filter(|o| o.display_name.to_lowercase() == g.display_name.to_lowercase())
                .count()
                == 1;
        entries.push(GroupEntry {
            id: (!unique).then(|| g.id.clone()),
            display_name: unique.then(|| g.display_name.clone()),
            profile: None,
            licenses: licenses
                .into_iter()
                .map(|(name, plans)| match plans.is_empty() {
                    true => GroupLicense::Name(License(name)),
                    false => GroupLicense::WithPlans {
                        license: License(name),
                        disabled_plans: plans,
                    },
                })
                .collect(),
        });
    }
    (entries, warnings)
}
