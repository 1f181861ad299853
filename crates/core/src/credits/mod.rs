//! Communications Credits where Microsoft has no API (SPEC §1): what commcred knows of the
//! account, where that knowledge comes from, and what it says about next month.
//!
//! - `usage`: PSTN calls (Graph `pstnCallLogRow`), read from the Teams admin center export
//! - `forecast`: balance, money about to expire, and warnings shown with the plan
//! - `recommend`: funding advice from real usage
//!
//! Everything here is pure and below the planner, which uses it: the ledger (the account's
//! known state on Microsoft Graph, its file and its replay) is `crate::backend::ledger`, the
//! admin-center steps of a plan are `crate::plan::steps`, fetching usage is the Graph
//! backend's, and bringing them together is `crate::workflow::credits`. The clock is always
//! an argument.

pub mod codes;
pub mod error;
pub mod forecast;
pub mod recommend;
pub mod usage;

pub use error::CreditsError;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Months, Utc};

/// How long commcred looks back for "the recent rate of spend".
pub const RECENT_DAYS: i64 = 90;

/// Funds bought before this instant have expired by `now` (they last 12 months), and
/// usage older than it says nothing about funding.
pub fn twelve_months_before(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(12))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Midnight UTC at the start of `t`'s day.
pub fn start_of_day(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

/// Days from `from` to `to`, rounded up and at least one: a window that started this
/// morning is one day long, not zero.
pub fn whole_days(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    let seconds = (to - from).num_seconds().max(0);
    ((seconds + 86_399) / 86_400).max(1)
}
