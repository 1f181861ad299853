//! `drift`: plan the config against the live tenant and report what differs, per user and
//! per credits setting (see [`crate::drift`]).

use std::path::Path;

use crate::drift::Drift;

use super::{Session, WorkflowError};

/// The drift, and how the report names its two sides.
pub struct DriftReport {
    pub drift: Drift,
    /// The config as the user named it (`commcred.yaml`).
    pub config_name: String,
    /// `live tenant (file:tenant.json)`.
    pub live_name: String,
}

/// Loads the config, reads the live tenant (and credits ledger), and compares them.
pub fn drift(
    config_path: &Path,
    session: &Session,
    note: &dyn Fn(&str),
) -> Result<DriftReport, WorkflowError> {
    let (planned, live) = super::plan::make_plan_with_live(config_path, session, note)?;
    Ok(DriftReport {
        drift: crate::drift::drift(&planned.plan, &live),
        config_name: config_path.display().to_string(),
        live_name: format!("live tenant ({})", planned.backend.describe()),
    })
}
