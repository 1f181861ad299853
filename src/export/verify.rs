//! Export's promise checked on every run: planning the exported document against the tenant
//! it came from finds no change and no error. The document is turned into the planner's
//! input in memory (no YAML round trip), which costs one plan, linear in the users.
//!
//! The rules in `users` and `credits` are meant to make this hold; this check catches any
//! case they miss (or a planner rule added later) and says so instead of handing the admin a
//! file that would change the tenant.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::schema::{self, Document, UserEntry};
use crate::config::{
    DesiredAutoRecharge, DesiredCredits, DesiredPayment, DesiredState, DesiredUser, Origin,
};
use crate::licenses::LicenseName;
use crate::money::Amount;
use crate::plan::problems::list_some;
use crate::tenant::{PaymentMethod, Snapshot};

use super::{CsvRow, ExportWarning};

/// `None` when the export plans as a no-op; else a warning saying what would happen.
pub fn check_no_op(
    doc: &Document,
    csv_rows: &[CsvRow],
    live: &Snapshot,
    now: DateTime<Utc>,
) -> Option<ExportWarning> {
    let desired = match desired_state(doc, csv_rows) {
        Ok(d) => d,
        Err(why) => {
            return Some(not_a_no_op(format!(
                "the export cannot be read back: {why}"
            )));
        }
    };
    match crate::plan::plan(&desired, live, now) {
        Err(errors) => Some(not_a_no_op(format!(
            "planning the export against the same tenant fails: {}",
            list_some(
                &errors
                    .0
                    .iter()
                    .map(|p| p.message.clone())
                    .collect::<Vec<_>>(),
                5
            )
        ))),
        Ok(plan) if plan.has_changes() => {
            let mut what: Vec<String> = plan
                .users
                .iter()
                .filter(|u| u.has_changes())
                .map(|u| u.upn.clone())
                .collect();
            if plan.credits.as_ref().is_some_and(|c| c.has_changes()) {
                what.push("communicationsCredits".into());
            }
            Some(not_a_no_op(format!(
                "planning the export against the same tenant would change {}",
                list_some(&what, 10)
            )))
        }
        Ok(_) => None,
    }
}

fn not_a_no_op(message: String) -> ExportWarning {
    ExportWarning::new(
        "commcred::export::not_a_no_op",
        message,
        "this is a bug in commcred export: review those entries before applying the file, and please report it",
    )
}

/// The planner's input for `doc`, with the semantics of SPEC §3 (profile ∪ licenses).
fn desired_state(doc: &Document, csv_rows: &[CsvRow]) -> Result<DesiredState, String> {
    let origin = Origin {
        file: PathBuf::from("<export>"),
        line: 0,
        column: 0,
    };
    let mut profiles: BTreeMap<&str, BTreeSet<LicenseName>> = BTreeMap::new();
    for (name, licenses) in &doc.profiles {
        profiles.insert(name, license_set(licenses.iter().map(|l| l.0.as_str()))?);
    }
    let profile = |name: Option<&str>| -> Result<BTreeSet<LicenseName>, String> {
        match name {
            None => Ok(BTreeSet::new()),
            Some(n) => profiles
                .get(n)
                .cloned()
                .ok_or_else(|| format!("unknown profile `{n}`")),
        }
    };
    let mut users = Vec::new();
    for entry in &doc.users {
        match entry {
            UserEntry::User(u) => {
                let mut licenses = profile(u.profile.as_deref())?;
                licenses.extend(license_set(
                    u.licenses.iter().flatten().map(|l| l.0.as_str()),
                )?);
                users.push(DesiredUser {
                    upn: u.upn.clone(),
                    usage_location: u.usage_location.as_ref().map(|c| c.0.clone()),
                    licenses,
                    origin: origin.clone(),
                });
            }
            UserEntry::Csv(source) => {
                let extra = license_set(source.licenses.iter().flatten().map(|l| l.0.as_str()))?;
                for row in csv_rows {
                    let mut licenses = profile(Some(row.profile.as_str()))?;
                    licenses.extend(extra.iter().cloned());
                    users.push(DesiredUser {
                        upn: row.upn.clone(),
                        usage_location: row
                            .usage_location
                            .clone()
                            .or_else(|| source.usage_location.as_ref().map(|c| c.0.clone())),
                        licenses,
                        origin: origin.clone(),
                    });
                }
            }
        }
    }
    let credits = doc
        .communications_credits
        .as_ref()
        .map(|c| desired_credits(c, &origin))
        .transpose()?;
    Ok(DesiredState {
        config_path: origin.file.clone(),
        digest: String::new(),
        tenant: doc.tenant.clone(),
        backend: None,
        default_usage_location: doc.default_usage_location.as_ref().map(|c| c.0.clone()),
        credits,
        users,
        prune: doc.prune,
    })
}

fn license_set<'a>(names: impl Iterator<Item = &'a str>) -> Result<BTreeSet<LicenseName>, String> {
    names
        .map(|n| LicenseName::classify(n).ok_or_else(|| format!("`{n}` is not a license name")))
        .collect()
}

fn desired_credits(c: &schema::Credits, origin: &Origin) -> Result<DesiredCredits, String> {
    let money = |a: &Option<schema::Amount>| -> Result<_, String> {
        a.as_ref()
            .map(|a| Amount::parse(&a.0).map(|a| a.0))
            .transpose()
    };
    Ok(DesiredCredits {
        currency: c.currency.0.clone(),
        minimum_balance: money(&c.minimum_balance)?,
        auto_recharge: c
            .auto_recharge
            .as_ref()
            .map(|ar| -> Result<_, String> {
                Ok(DesiredAutoRecharge {
                    enabled: ar.enabled,
                    trigger_below: money(&ar.trigger_below)?,
                    recharge_amount: money(&ar.recharge_amount)?,
                })
            })
            .transpose()?,
        payment: c.payment.as_ref().map(|p| DesiredPayment {
            method: match p.method {
                schema::PaymentMethod::CreditCard => PaymentMethod::CreditCard,
                schema::PaymentMethod::EnterpriseAgreement => PaymentMethod::EnterpriseAgreement,
            },
            agreement_number: p.agreement_number.clone(),
            purchase_order: p.purchase_order.clone(),
        }),
        origin: origin.clone(),
    })
}
