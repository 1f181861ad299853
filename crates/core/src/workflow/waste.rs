//! `waste`: load the config (backend, prices, who is listed), read the live tenant and the
//! PSTN usage of the window, find and price the waste. Changes nothing.

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};

use crate::backend::graph::pstn::fetch_pstn_calls;
use crate::backend::ledger;
use crate::credits::usage::{CallRow, read_usage_csv, rows_from_json};
use crate::tenant::waste::{WasteScope, find_waste};
use crate::tenant::{Snapshot, TenantIndex};
use crate::waste::{UsageWindow, WasteReport, report};

use super::{Session, WorkflowError};

/// The usage window when `--usage-window` is not given: the longest period the Teams admin
/// center's PSTN usage report offers, and one `getPstnCalls` window.
pub const DEFAULT_WINDOW_DAYS: i64 = 90;

/// What `commcred waste` was asked.
#[derive(Debug, Clone)]
pub struct WasteRequest {
    pub config: PathBuf,
    /// A Teams admin center "PSTN and SMS usage" export (every call, free ones too).
    pub usage_csv: Option<PathBuf>,
    /// Days before now in which a calling plan or credits license must have seen a call.
    pub window_days: i64,
}

/// Reads everything and reports the waste. `note` hears what is being read.
pub fn waste(
    request: &WasteRequest,
    session: &Session,
    note: &dyn Fn(&str),
) -> Result<WasteReport, WorkflowError> {
    let desired = crate::config::load(&request.config)?;
    let (mut backend, live) = super::plan::read_live(session, &desired, note)?;
    let now = session.now;
    let from = now - Duration::days(request.window_days);
    let mut calls = Calls::new(from, now);
    if live.extra.contains_key("pstnCalls") {
        let (rows, _) = rows_from_json(live.extra.get("pstnCalls"));
        calls.add(format!("pstnCalls of {}", backend.describe()), &rows);
    }
    let ledger_path = ledger::ledger_path(&desired);
    if let Some(l) = ledger::load(&ledger_path)?
        && !l.usage_imports.is_empty()
    {
        l.check_tenant(&ledger_path, &live.tenant.domain)?;
        calls.add(
            format!("charged calls imported in {}", ledger_path.display()),
            &l.pstn_calls,
        );
    }
    if let Some(client) = backend.pstn_calls() {
        note("Reading the PSTN call log (getPstnCalls)...");
        let rows = fetch_pstn_calls(client, from, now)?;
        calls.add("Microsoft Graph getPstnCalls".to_string(), &rows);
    }
    if let Some(path) = &request.usage_csv {
        let file = read_usage_csv(path)?;
        calls.add(path.display().to_string(), &file.rows);
    }
    Ok(find(&desired, &live, calls, request.window_days, now))
}

/// The waste of `live` with the calls known (pure: benchmarks and tests call it directly).
pub fn find(
    desired: &crate::config::DesiredState,
    live: &Snapshot,
    calls: Calls,
    window_days: i64,
    now: DateTime<Utc>,
) -> WasteReport {
    let index = TenantIndex::build(live);
    let prices = desired.prices.as_ref();
    // Unassigned seats count for SKUs with a calling capability, and for any SKU priced.
    let unassigned = |sku: usize| {
        !index.capabilities_of_sku(sku).is_empty()
            || prices.is_some_and(|p| {
                p.price_of(&live.subscribed_skus[sku].sku_part_number)
                    .is_some()
            })
    };
    let checked = !calls.sources.is_empty();
    let scope = WasteScope {
        unassigned: &unassigned,
        callers: checked.then_some(&calls.callers),
    };
    let waste = find_waste(live, &index, &scope);
    let usage = UsageWindow {
        checked,
        from: calls.from,
        to: calls.to,
        days: window_days,
        sources: calls.sources,
        calls: calls.in_window.len(),
    };
    report(&waste, live, &index, desired, usage, now)
}

/// Who placed or received a PSTN call in the window, from every source read.
pub struct Calls {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    sources: Vec<String>,
    /// Lower-case UPNs and user ids.
    callers: HashSet<String>,
    /// Call ids in the window (each call once across sources).
    in_window: HashSet<String>,
}

impl Calls {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Calls {
        Calls {
            from,
            to,
            sources: Vec::new(),
            callers: HashSet::new(),
            in_window: HashSet::new(),
        }
    }

    /// Adds a source of calls (even one with none in the window: it was still checked).
    pub fn add(&mut self, source: String, rows: &[CallRow]) {
        self.sources.push(source);
        for row in rows
            .iter()
            .filter(|r| r.start_date_time >= self.from && r.start_date_time <= self.to)
        {
            self.in_window.insert(row.id.clone());
            if let Some(upn) = &row.user_principal_name {
                self.callers.insert(upn.to_lowercase());
            }
            if let Some(id) = &row.user_id {
                self.callers.insert(id.to_ascii_lowercase());
            }
        }
    }
}
