//! Which users export lists, with which licenses, and which it must leave out.
//!
//! The rule that makes "plan the export, see no changes" hold: a user is listed with exactly
//! the managed SKUs it holds *directly*. Group-inherited SKUs are never listed (the planner
//! never removes or adds them), suites like E5 are never listed (they only provide
//! capabilities), and a user with no direct managed SKU is not listed at all (with
//! `prune: false`, unlisted users are untouched).

use crate::base::codes::is_country;
use crate::base::licenses::Capabilities;
use crate::base::phone::{NumberType, is_e164};
use crate::config::upn_problem;
use crate::tenant::numbers::{is_resource_account, number_problems, voice_capabilities};
use crate::tenant::rules::{check_license_rules, credits_unusable_with, holdings};
use crate::tenant::{NumberIndex, Snapshot, TenantIndex, User};

use super::naming::{SkuNames, SkuStatus};

/// What export does with one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No managed license held directly: not listed.
    Unlisted,
    Listed(Listed),
    /// Would be listed, but listing it would make the plan fail or change something.
    Skipped(Skip),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub upn: String,
    /// The user's usage location when it is one the YAML accepts; otherwise left out, and
    /// the planner keeps whatever the user has.
    pub usage_location: Option<String>,
    /// YAML names of the directly held managed SKUs, in profile order.
    pub licenses: Vec<String>,
    /// The user's phone number and its type, when it holds one that passes the planner's
    /// number rules (otherwise it is left out, and the planner keeps the number as it is).
    pub phone: Option<(String, NumberType)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub upn: String,
    pub kind: SkipKind,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipKind {
    /// The user's current licenses break a rule the planner checks on every listed user.
    BreaksRule,
    /// The user holds a managed SKU that no YAML name can designate.
    Unnameable,
    /// The UPN is not one the YAML loader accepts (possible in hand-made snapshots).
    InvalidUpn,
}

pub fn decide(
    user: &User,
    live: &Snapshot,
    index: &TenantIndex,
    numbers: &NumberIndex,
    names: &SkuNames,
) -> Decision {
    let held = holdings(user, live, index);
    let mut skus = Vec::new();
    for h in held.iter().filter(|h| h.direct) {
        let Some(i) = h.sku else { continue };
        match names.status(i) {
            SkuStatus::Export(_) => skus.push(i),
            SkuStatus::Unmanaged => {}
            SkuStatus::Unnameable(why) => {
                return Decision::Skipped(Skip {
                    upn: user.user_principal_name.clone(),
                    kind: SkipKind::Unnameable,
                    reason: format!(
                        "{} holds {} directly, which commcred.yaml cannot name: {why}",
                        user.user_principal_name, live.subscribed_skus[i].sku_part_number
                    ),
                });
            }
        }
    }
    if skus.is_empty() {
        return Decision::Unlisted;
    }
    if let Some(why) = upn_problem(&user.user_principal_name) {
        return Decision::Skipped(Skip {
            upn: user.user_principal_name.clone(),
            kind: SkipKind::InvalidUpn,
            reason: format!(
                "`{}` is not a user principal name commcred.yaml accepts: {why}",
                user.user_principal_name
            ),
        });
    }

    // The planner checks every listed user's licenses after the plan, which here are the
    // current ones: a user that breaks a rule today would turn the export into a failing plan.
    let current: Vec<(String, Capabilities)> = held
        .iter()
        .map(|h| {
            let name = h.sku.map_or(h.sku_id.clone(), |i| {
                live.subscribed_skus[i].sku_part_number.clone()
            });
            (name, h.capabilities)
        })
        .collect();
    let upn = &user.user_principal_name;
    let broken = match check_license_rules(&current, upn) {
        Err(e) => Some(e.message),
        Ok(()) => credits_unusable_with(&current).then(|| {
            format!(
                "{upn} holds communicationsCredits without audio conferencing or Teams Phone with a calling plan"
            )
        }),
    };
    if let Some(reason) = broken {
        return Decision::Skipped(Skip {
            upn: upn.clone(),
            kind: SkipKind::BreaksRule,
            reason,
        });
    }

    let usage_location = user.usage_location.clone().filter(|l| is_country(l));
    let caps = current
        .iter()
        .fold(Capabilities::default(), |acc, (_, c)| acc.union(*c));
    Decision::Listed(Listed {
        upn: upn.clone(),
        phone: phone_of(user, live, numbers, caps, usage_location.as_deref()),
        usage_location,
        licenses: names.names(&skus),
    })
}

/// The user's number as commcred.yaml writes it, when planning it back changes nothing and
/// breaks no rule.
fn phone_of(
    user: &User,
    live: &Snapshot,
    numbers: &NumberIndex,
    caps: Capabilities,
    location: Option<&str>,
) -> Option<(String, NumberType)> {
    let &n = numbers.of_target(&user.id).first()?;
    let entry = &live.number_assignments[n];
    let kind = entry.kind()?;
    let voice = voice_capabilities(caps, is_resource_account(live, numbers, &user.id));
    let fine = is_e164(&entry.telephone_number)
        && number_problems(entry, kind, voice, location).is_empty();
    fine.then(|| (entry.telephone_number.clone(), kind))
}

#[cfg(test)]
mod tests {
    use crate::config::upn_problem;

    #[test]
    fn upns_follow_microsoft_rules() {
        assert_eq!(upn_problem("alice@contoso.com"), None);
        assert_eq!(
            upn_problem("ann_fabrikam.com#EXT#@contoso.onmicrosoft.com"),
            None
        );
        assert!(upn_problem("alice").is_some());
        assert!(upn_problem("a+b@contoso.com").is_some());
        assert!(upn_problem(".a@contoso.com").is_some());
        assert!(upn_problem("a@contoso").is_some());
        assert!(upn_problem("a@-contoso.com").is_some());
    }
}
