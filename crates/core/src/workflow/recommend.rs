//! `recommend`'s input without the terminal: the PSTN usage to advise on, from usage
//! exports or from the live tenant and the credits ledger (and, on Microsoft Graph, its
//! call log).

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::DesiredState;
use crate::credits::usage::{CallRow, merge_rows, read_usage_csv};

use super::{Session, WorkflowError};

/// The calls to advise on.
#[derive(Debug, Clone)]
pub struct AdviceUsage {
    pub rows: Vec<CallRow>,
    /// The earliest day the exports cover (`None` for the live tenant's usage).
    pub first: Option<DateTime<Utc>>,
    /// Where the calls come from, for the advice's header.
    pub source: String,
    /// The live tenant's billing account type, when the usage came from it and it has a
    /// credits account (or ledger) that says.
    pub billing: Option<crate::tenant::BillingAccountType>,
}

/// The rows of every export in `files`, merged; the earliest day any file covers; and the
/// files' names.
pub fn from_files(files: &[PathBuf]) -> Result<AdviceUsage, WorkflowError> {
    let mut rows = Vec::new();
    let mut first = None;
    for path in files {
        let file = read_usage_csv(path)?;
        first = match (first, file.first) {
            (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
            (a, b) => a.or(b),
        };
        merge_rows(&mut rows, file.rows);
    }
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    Ok(AdviceUsage {
        rows,
        first,
        source: names.join(", "),
        billing: None,
    })
}

/// Every call known for `desired`'s tenant in the last 12 months: the live snapshot's, the
/// ledger's and, on Microsoft Graph, the call log's. `note` hears what is being read.
pub fn from_tenant(
    session: &Session,
    desired: &DesiredState,
    note: &dyn Fn(&str),
) -> Result<AdviceUsage, WorkflowError> {
    let (mut backend, live) = super::plan::read_live_with(session, desired, true, note)?;
    let rows = super::credits::calls_for_advice(desired, &live, backend.pstn_calls(), session.now)?;
    Ok(AdviceUsage {
        rows,
        first: None,
        source: format!("the usage known for {}", desired.tenant),
        billing: live
            .communications_credits
            .as_ref()
            .map(|a| a.billing_account_type),
    })
}
