//! Export's promise checked on every run: the exact text about to be written (YAML and
//! users CSV) loads with the real config loader and, planned against the tenant it came from,
//! finds no change and no error. It costs one load and one plan, linear in the users.
//!
//! The rules in `users` and `credits` are meant to make this hold; this check catches any
//! case they miss (or a loader or planner rule added later) and says so instead of quietly
//! handing the admin a file that would change the tenant.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::plan::problems::list_some;
use crate::tenant::Snapshot;

use super::ExportWarning;
use super::codes::Code;

/// `None` when `yaml` (with `csv` as the users CSV it names) plans as a no-op against `live`;
/// else a warning saying what goes wrong.
pub fn check_no_op(
    yaml: &str,
    csv: Option<&str>,
    live: &Snapshot,
    now: DateTime<Utc>,
) -> Option<ExportWarning> {
    // The path only names the file in messages and anchors relative paths; nothing is read
    // from disk: the one CSV export writes comes from memory.
    let path = Path::new("commcred.yaml");
    let mut read_csv = |_: &Path| -> std::io::Result<Vec<u8>> {
        csv.map(|c| c.as_bytes().to_vec())
            .ok_or_else(|| std::io::Error::other("export wrote no users CSV"))
    };
    let desired = match crate::config::load_bytes(path, yaml.as_bytes().to_vec(), &mut read_csv) {
        Ok(loaded) => loaded.desired,
        Err(error) => {
            let problems: Vec<String> = match error.diagnostics() {
                [] => vec![error.to_string()],
                many => many.iter().map(|p| p.to_string()).collect(),
            };
            return Some(not_a_no_op(format!(
                "the exported YAML does not load: {}",
                list_some(&problems, 5)
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
    ExportWarning::warning(
        Code::NotANoOp.as_str(),
        message,
        "this is a bug in commcred export: review those entries before applying the file, and please report it",
    )
}
