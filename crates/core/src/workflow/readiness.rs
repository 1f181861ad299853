//! `readiness`: for each user commcred.yaml means to place PSTN calls, whether it can now
//! and, if not, the first thing missing (see [`crate::tenant::readiness`]). Reads the config
//! and the live tenant (numbers and Teams configurations included); plans nothing, so it
//! answers even when the plan has errors.
//!
//! A user is meant to call when the config gives it a `phoneNumber`, Teams Phone or a
//! calling plan (by friendly name), or it holds Teams Phone or a calling plan now.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::base::catalog::Capability;
use crate::base::licenses::LicenseName;
use crate::config::DesiredUser;
use crate::tenant::readiness::{holds_calling, readiness};
use crate::tenant::{NumberIndex, Snapshot, TenantIndex};

use super::{Session, WorkflowError};

/// Every calling user's readiness, in the order commcred.yaml lists them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessReport {
    /// Where the tenant was read (`file:tenant.json`, `graph`).
    pub backend: String,
    pub users: Vec<UserReadiness>,
    /// Users the config lists that are not meant to place PSTN calls (not judged).
    pub not_calling: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserReadiness {
    pub upn: String,
    pub ready: bool,
    /// The user's number, if it has one.
    pub phone_number: Option<String>,
    /// The first thing missing (`teamsLicense`, `teamsPhone`, `callingPlanOrDirectRouting`,
    /// `usageLocation`, `phoneNumber`, `teamsProvisioning`, `numberActivation`,
    /// `enterpriseVoice`, `credits`, or `account` when the user does not exist).
    pub missing: Option<String>,
    /// What is missing and what to do.
    pub help: Option<String>,
}

impl ReadinessReport {
    pub fn all_ready(&self) -> bool {
        self.users.iter().all(|u| u.ready)
    }

    fn summary(&self) -> String {
        let ready = self.users.iter().filter(|u| u.ready).count();
        let mut text = format!(
            "{ready} of {} calling users can place a PSTN call now.",
            self.users.len()
        );
        if self.not_calling > 0 {
            let _ = write!(
                text,
                " {} listed user(s) are not meant to call (no phoneNumber, Teams Phone or calling plan) and were not judged.",
                self.not_calling
            );
        }
        text
    }

    /// One line per user: `ready` or the first thing missing.
    pub fn human(&self) -> String {
        let mut out = String::new();
        let width = self.users.iter().map(|u| u.upn.len()).max().unwrap_or(0);
        for u in &self.users {
            let number = u.phone_number.as_deref().unwrap_or("-");
            let state = match (&u.missing, &u.help) {
                (Some(key), Some(help)) => format!("NOT READY ({key}): {help}"),
                _ => "ready".to_string(),
            };
            let _ = writeln!(out, "{:width$}  {number:<16}  {state}", u.upn);
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }

    /// A Markdown table (for a pull-request comment or a wiki page).
    pub fn markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut out = String::from(
            "| user | number | ready | first thing missing |\n| --- | --- | --- | --- |\n",
        );
        for u in &self.users {
            let missing = match (&u.missing, &u.help) {
                (Some(key), Some(help)) => format!("`{key}`: {}", cell(help)),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {missing} |",
                cell(&u.upn),
                cell(u.phone_number.as_deref().unwrap_or("")),
                if u.ready { "yes" } else { "no" },
            );
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }
}

/// Loads the config, reads the live tenant with its numbers, and judges every calling user.
pub fn readiness_report(
    config_path: &Path,
    session: &Session,
    note: &dyn Fn(&str),
) -> Result<ReadinessReport, WorkflowError> {
    let desired = crate::config::load(config_path)?;
    let backend_spec = session.backend_spec(&desired);
    let mut backend = session.open(&backend_spec)?;
    backend.declare(crate::backend::Intent {
        numbers: crate::backend::NumbersRead::Required,
        ..session.intent(&desired, false)
    });
    note(&format!(
        "Reading the live tenant from {}...",
        backend.describe()
    ));
    let mut live = backend.read()?;
    super::plan::prepare_credits(
        &desired,
        &backend_spec,
        backend.as_mut(),
        &mut live,
        session.now,
    )?;
    let index = TenantIndex::build(&live);
    let numbers = NumberIndex::build(&live);
    let mut users = Vec::new();
    let mut not_calling = 0;
    for want in &desired.users {
        let at = index.user_by_upn(&want.upn);
        let calling = meant_to_call(want) || at.is_some_and(|i| holds_calling(&live, &index, i));
        if !calling {
            not_calling += 1;
            continue;
        }
        users.push(judge(want, at, &live, &index, &numbers, session));
    }
    Ok(ReadinessReport {
        backend: backend.describe(),
        users,
        not_calling,
    })
}

fn judge(
    want: &DesiredUser,
    at: Option<usize>,
    live: &Snapshot,
    index: &TenantIndex,
    numbers: &NumberIndex,
    session: &Session,
) -> UserReadiness {
    let Some(i) = at else {
        return UserReadiness {
            upn: want.upn.clone(),
            ready: false,
            phone_number: None,
            missing: Some("account".into()),
            help: Some(format!(
                "the user does not exist in the tenant ({})",
                want.origin
            )),
        };
    };
    let r = readiness(live, index, numbers, i, session.now);
    UserReadiness {
        upn: want.upn.clone(),
        ready: r.missing.is_none(),
        phone_number: r.phone_number,
        missing: r.missing.map(|m| m.key().to_string()),
        help: r.missing.map(|m| m.explain().to_string()),
    }
}

/// The config gives the user a number, Teams Phone or a calling plan.
fn meant_to_call(want: &DesiredUser) -> bool {
    want.phone.is_some()
        || want.licenses.iter().any(|l| match l {
            LicenseName::Friendly(f) => f
                .capabilities()
                .iter()
                .any(|c| *c == Capability::TeamsPhone || c.is_calling_plan()),
            LicenseName::PartNumber(_) => false,
        })
}
