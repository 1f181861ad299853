//! Communications Credits where Microsoft has no API (SPEC §1): what commcred knows of the
//! account, where that knowledge comes from, and what it says about next month.
//!
//! - `usage`: PSTN calls (Graph `pstnCallLogRow`), read from the Teams admin center export
//! - `ledger`: the file that holds the account's known state on Microsoft Graph, and its
//!   replay (funds consumed first in, first out by charged calls)
//! - `steps`: the admin-center steps a person does for a credits change, and their recording
//! - `forecast`: balance, money about to expire, and warnings shown with the plan
//! - `recommend`: funding advice from real usage
//!
//! Everything here is pure (the ledger's file is `crate::backend::ledger`, fetching usage
//! is the Graph backend's, and bringing them together is `crate::workflow::credits`); the
//! clock is always an argument.

pub mod error;
pub mod forecast;
pub mod ledger;
pub mod recommend;
pub mod steps;
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
