//! Live tenant -> `commcred.yaml` (`commcred export`). Pure: the snapshot and the clock come
//! in, a document, its comments and the warnings go out; the CLI reads and writes files.
//!
//! - `naming`: how each SKU is written, and profile names
//! - `users`: which users are listed, with which licenses, and who must be left out
//! - `credits`: the `communicationsCredits` section
//! - `yaml`: the document as YAML text with comments
//! - `verify`: the promise, checked: planning the export against the tenant changes nothing

pub mod codes;
pub mod credits;
pub mod groups;
pub mod naming;
pub mod users;
pub mod verify;
pub mod yaml;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::config::schema::{
    ApiVersion, Backend, Country, CsvSource, Document, License, User, UserEntry,
};
use crate::plan::problems::list_some;
use crate::tenant::{NumberIndex, Snapshot, TenantIndex};

use codes::Code;
use users::{Decision, Listed, Skip, SkipKind};
pub use yaml::Comments;

/// What the caller decides: where the YAML says the tenant is, and where users go.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The `backend` to write, already relative to the YAML's folder.
    pub backend: Option<Backend>,
    /// Users go to this CSV (path as the YAML writes it) instead of inline.
    pub users_csv: Option<String>,
    /// Where the tenant was read from, for the header comment (e.g. `file:tenant.json`).
    pub source: String,
    /// The clock: the balance comment and the self-check use it.
    pub now: DateTime<Utc>,
    /// What the yaml-language-server modeline points editors to.
    pub schema_ref: String,
}

/// One row of the users CSV (columns `upn,usageLocation,profile,licenses,phoneNumber,
/// numberType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub upn: String,
    pub usage_location: Option<String>,
    pub profile: String,
    pub phone: Option<(String, crate::base::phone::NumberType)>,
}

/// The result of an export: the document, and the exact text to write.
#[derive(Debug, Clone)]
pub struct Export {
    pub document: Document,
    /// `commcred.yaml`, modeline and comments included.
    pub yaml: String,
    /// The users CSV, when `users_csv` was asked for.
    pub csv: Option<String>,
    pub warnings: Vec<ExportWarning>,
    pub listed: usize,
    pub skipped: usize,
}

/// The users CSV text (header and one row per user).
fn csv_text(rows: &[CsvRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 48));
    let _ = w.write_record([
        "upn",
        "usageLocation",
        "profile",
        "licenses",
        "phoneNumber",
        "numberType",
    ]);
    for row in rows {
        let (number, kind) = match &row.phone {
            Some((number, kind)) => (number.as_str(), kind.as_str()),
            None => ("", ""),
        };
        let _ = w.write_record([
            row.upn.as_str(),
            row.usage_location.as_deref().unwrap_or(""),
            row.profile.as_str(),
            "",
            number,
            kind,
        ]);
    }
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the rows are UTF-8")
}

/// Exports `live` as a desired state that plans as a no-op against it, and checks that the
/// text does (see `verify`).
// Long: the export's steps in order (users, groups, credits, verify), each a call; the
// account-enabled and billing fields merged in from two branches pushed it just over.
pub fn export(live: &Snapshot, opts: &ExportOptions) -> Export {
    let index = TenantIndex::build(live);
    let numbers = NumberIndex::build(live);
    let names = naming::SkuNames::build(live);
    let mut listed: Vec<Listed> = Vec::new();
    let mut skipped: Vec<Skip> = Vec::new();
    for user in &live.users {
        match users::decide(user, live, &index, &numbers, &names) {
            Decision::Unlisted => {}
            Decision::Listed(l) => listed.push(l),
            Decision::Skipped(s) => skipped.push(s),
        }
    }
    listed.sort_by_cached_key(|l| (l.upn.to_lowercase(), l.upn.clone()));
    skipped.sort_by_cached_key(|s| s.upn.to_lowercase());

    // Profiles: one per distinct license set, named after its licenses.
    let sets: std::collections::BTreeSet<Vec<String>> =
        listed.iter().map(|l| l.licenses.clone()).collect();
    let profile_of: HashMap<&Vec<String>, String> = sets
        .iter()
        .zip(naming::profile_names(sets.iter()))
        .collect();
    let profiles: BTreeMap<String, Vec<License>> = profile_of
        .iter()
        .map(|(set, name)| (name.clone(), set.iter().cloned().map(License).collect()))
        .collect();

    let default_location = most_common_location(&listed);
    let (user_entries, csv_rows) = user_entries(
        &listed,
        &profile_of,
        default_location.as_deref(),
        opts.users_csv.as_deref(),
    );

    let credits = credits::export_credits(live.communications_credits.as_ref(), opts.now);
    let (group_entries, group_warnings) = groups::export_groups(live, &index, &names);
    let mut warnings = skip_warnings(&skipped);
    warnings.extend(group_warnings);
    warnings.extend(credits.warnings);

    let document = Document {
        api_version: ApiVersion,
        tenant: live.tenant.domain.clone(),
        backend: opts.backend.clone(),
        default_usage_location: default_location.map(Country),
        billing_account: None, // the live credits account says it
        communications_credits: credits.section,
        profiles_from: None,
        profiles,
        users: user_entries,
        groups: group_entries,
        prefer: None,
        prune: false,
        prices: None,
    };
    let comments = Comments {
        header: vec![
            format!(
                "Exported by commcred {} from {} ({}) on {}.",
                env!("CARGO_PKG_VERSION"),
                opts.source,
                live.tenant.domain,
                opts.now.format("%Y-%m-%d %H:%M UTC")
            ),
            "Planning this file against the same tenant shows no changes.".into(),
        ],
        credits: credits.comments,
        users: users_comment(listed.len(), &skipped, opts.users_csv.as_deref()),
    };
    let yaml = yaml::to_yaml(&document, &opts.schema_ref, &comments);
    let csv = opts.users_csv.as_ref().map(|_| csv_text(&csv_rows));
    warnings.extend(verify::check_no_op(&yaml, csv.as_deref(), live, opts.now));
    Export {
        document,
        yaml,
        csv,
        warnings,
        listed: listed.len(),
        skipped: skipped.len(),
    }
}

/// The `users` entries: one per listed user, or one CSV source and its rows. A user's own
/// usage location is written only when it differs from `defaultUsageLocation`.
fn user_entries(
    listed: &[Listed],
    profile_of: &HashMap<&Vec<String>, String>,
    default_location: Option<&str>,
    users_csv: Option<&str>,
) -> (Vec<UserEntry>, Vec<CsvRow>) {
    let own_location = |l: &Listed| {
        l.usage_location
            .clone()
            .filter(|loc| Some(loc.as_str()) != default_location)
    };
    match users_csv {
        Some(path) => {
            let rows = listed
                .iter()
                .map(|l| CsvRow {
                    upn: l.upn.clone(),
                    usage_location: own_location(l),
                    profile: profile_of[&l.licenses].clone(),
                    phone: l.phone.clone(),
                })
                .collect();
            let source = UserEntry::Csv(CsvSource {
                csv: path.to_string(),
                profile: None,
                usage_location: None,
                licenses: None,
                number_type: None,
            });
            (vec![source], rows)
        }
        None => {
            let entries = listed
                .iter()
                .map(|l| {
                    UserEntry::User(User {
                        upn: l.upn.clone(),
                        usage_location: own_location(l).map(Country),
                        profile: Some(profile_of[&l.licenses].clone()),
                        licenses: None,
                        phone_number: l.phone.as_ref().map(|(n, _)| n.clone()),
                        number_type: l.phone.as_ref().map(|(_, k)| (*k).into()),
                    })
                })
                .collect();
            (entries, Vec::new())
        }
    }
}

/// The usage location most listed users have (ties: the first alphabetically), used as
/// `defaultUsageLocation` so that only the others need one of their own.
fn most_common_location(listed: &[Listed]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for loc in listed.iter().filter_map(|l| l.usage_location.as_deref()) {
        *counts.entry(loc).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(loc, _)| loc.to_string())
}

fn users_comment(listed: usize, skipped: &[Skip], csv: Option<&str>) -> Vec<String> {
    let mut lines = vec![
        format!(
            "{listed} user{} with directly assigned calling licenses{}. Licenses inherited from",
            if listed == 1 { "" } else { "s" },
            csv.map(|c| format!(" (in {c})")).unwrap_or_default()
        ),
        "groups or included in suites such as E5 are not listed: commcred never removes them,"
            .into(),
        "and users not listed here are left alone (prune: false).".into(),
    ];
    if !skipped.is_empty() {
        const SHOWN: usize = 20;
        lines.push(format!(
            "Left out because listing them would not plan cleanly ({}):",
            skipped.len()
        ));
        for s in skipped.iter().take(SHOWN) {
            lines.push(format!("  {}", s.reason));
        }
        if skipped.len() > SHOWN {
            lines.push(format!("  ... and {} more", skipped.len() - SHOWN));
        }
    }
    lines
}

fn skip_warnings(skipped: &[Skip]) -> Vec<ExportWarning> {
    let mut out = Vec::new();
    for kind in [
        SkipKind::BreaksRule,
        SkipKind::Unnameable,
        SkipKind::InvalidUpn,
    ] {
        let these: Vec<&Skip> = skipped.iter().filter(|s| s.kind == kind).collect();
        let Some(first) = these.first() else { continue };
        let upns: Vec<String> = these.iter().map(|s| s.upn.clone()).collect();
        let (what, help) = match kind {
            SkipKind::BreaksRule => (
                "their current licenses break a rule commcred checks, so the plan would fail",
                "fix those users' licenses in the admin center, or add them to commcred.yaml by hand with the licenses they should have",
            ),
            SkipKind::Unnameable => (
                "they hold a calling license that commcred.yaml cannot name",
                "write their entries by hand once the tenant's SKUs are unambiguous",
            ),
            SkipKind::InvalidUpn => (
                "their user principal name cannot be written in commcred.yaml",
                "correct the UPN in the tenant (or the snapshot), then export again",
            ),
        };
        out.push(ExportWarning::warning(
            Code::UserSkipped.as_str(),
            format!(
                "{} user{} left out: {what} (e.g. {}): {}",
                these.len(),
                if these.len() == 1 { "" } else { "s" },
                first.reason,
                list_some(&upns, 10)
            ),
            help,
        ));
    }
    out
}

/// Something export could not reproduce: a warning [`Notice`] (`Notice::warning`).
pub type ExportWarning = crate::base::notice::Notice;

#[cfg(test)]
mod tests;
