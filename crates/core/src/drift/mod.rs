//! The drift report: how the live tenant differs from commcred.yaml, per user and per
//! credits setting, as two YAML documents (what the config says, what the tenant has) and
//! a unified diff between them. It is the daily "what changed in the portal since the last
//! apply" that a GitOps pipeline runs on a schedule.
//!
//! Drift is read from a plan: a plan lists exactly what differs between desired and live,
//! with Microsoft's rules applied (a license an E5 already provides is not drift), so the
//! report and `apply` can never disagree. The plan's user changes give the per-user view
//! (the live side is what the plan observed, the config side that plus the plan's changes);
//! its credits settings give the per-setting view.

mod render;

use std::collections::HashMap;

use serde::Serialize;

use crate::base::licenses::Friendly;
use crate::plan::{Plan, UserChange};
use crate::tenant::Snapshot;
use crate::tenant::capabilities::friendly_of;

pub use render::FORMAT_VERSION;

/// Everything that differs, in the plan's order (users as listed, then credits).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub tenant: String,
    pub users: Vec<UserDrift>,
    pub communications_credits: Vec<SettingDrift>,
}

/// One user whose managed licenses or usage location differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDrift {
    pub upn: String,
    /// The usage location the config wants and the one the tenant has.
    pub usage_location: Side<Option<String>>,
    /// Managed licenses, as `friendlyName (PART_NUMBER)`, sorted.
    pub licenses: Side<Vec<String>>,
    /// In the config, not held in the tenant.
    pub missing: Vec<String>,
    /// Held directly in the tenant, not in the config.
    pub unexpected: Vec<String>,
    /// True when the user is not listed and `prune: true` would remove its licenses.
    pub unlisted: bool,
    /// The phone number the config wants and the one the tenant has (E.164 and type), when
    /// they differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<Side<Option<String>>>,
}

/// One credits setting (`autoRecharge.triggerBelow`, `payment.method`, `usableBalance`…).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingDrift {
    pub setting: String,
    pub config: Option<String>,
    pub live: Option<String>,
}

/// A value as the config wants it and as the tenant has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side<T> {
    pub config: T,
    pub live: T,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.communications_credits.is_empty()
    }
}

/// The drift between `live` and the desired state `plan` was made from.
pub fn drift(plan: &Plan, live: &Snapshot) -> Drift {
    // Each SKU's part number and the friendly name that resolves to it (by capability).
    let part_numbers: HashMap<String, SkuName> = live
        .subscribed_skus
        .iter()
        .map(|s| {
            let name = (s.sku_part_number.as_str(), friendly_of(s));
            (s.sku_id.to_ascii_lowercase(), name)
        })
        .collect();
    let users = plan
        .users
        .iter()
        .filter(|u| u.has_changes())
        .map(|u| user_drift(u, &part_numbers))
        .collect();
    let mut credits = Vec::new();
    if let Some(c) = plan.credits.as_ref().filter(|c| c.has_changes()) {
        for s in &c.settings {
            credits.push(SettingDrift {
                setting: s.key.clone(),
                config: s.after.clone(),
                live: s.before.clone(),
            });
        }
        if c.add_funds.is_some() {
            credits.push(SettingDrift {
                setting: "usableBalance".into(),
                config: c
                    .minimum_balance
                    .map(|m| format!("at least {} (minimumBalance)", c.money(m))),
                live: Some(c.money(c.observed.usable_balance).to_string()),
            });
        }
    }
    Drift {
        tenant: plan.tenant_domain.clone(),
        users,
        communications_credits: credits,
    }
}

/// A SKU's part number and friendly name, if any.
type SkuName<'a> = (&'a str, Option<Friendly>);

fn user_drift(change: &UserChange, part_numbers: &HashMap<String, SkuName>) -> UserDrift {
    let key = |id: &str| id.to_ascii_lowercase();
    let touched = |id: &str| {
        change
            .add
            .iter()
            .chain(&change.remove)
            .any(|s| key(&s.sku_id) == key(id))
    };
    // The live side: direct assignments of SKUs commcred manages (the friendly names of
    // SPEC §2, or a part number the plan touches). E5 and the rest are not commcred's.
    let mut live: Vec<String> = change
        .observed
        .direct_sku_ids
        .iter()
        .filter_map(|id| {
            let (part, friendly) = part_numbers.get(&key(id)).copied()?;
            (friendly.is_some() || touched(id)).then(|| match friendly {
                Some(f) => format!("{} ({part})", f.name()),
                None => part.to_string(),
            })
        })
        .collect();
    live.sort();
    live.dedup();
    let removed: Vec<String> = change.remove.iter().map(|s| s.label()).collect();
    let added: Vec<String> = change.add.iter().map(|s| s.label()).collect();
    let mut config: Vec<String> = live
        .iter()
        .filter(|l| !removed.contains(l))
        .cloned()
        .chain(added.iter().cloned())
        .collect();
    config.sort();
    config.dedup();
    let observed = change.observed.usage_location.clone();
    UserDrift {
        upn: change.upn.clone(),
        usage_location: Side {
            config: change
                .usage_location
                .as_ref()
                .map(|u| Some(u.to.clone()))
                .unwrap_or_else(|| observed.clone()),
            live: observed,
        },
        licenses: Side { config, live },
        missing: added,
        unexpected: removed,
        unlisted: change.pruned,
        phone_number: change.number.as_ref().map(|n| {
            let shown =
                |p: &crate::plan::PlannedNumber| format!("{} ({})", p.number, p.number_type);
            Side {
                config: n.to.as_ref().map(shown),
                live: n.from.as_ref().map(shown),
            }
        }),
    }
}
