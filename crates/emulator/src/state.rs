//! What every request handler shares, and the counters that tests and the benchmark read
//! (`GET /_emulator/stats`, or `Emulator::stats` in-process).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::auth::{ExpectedClient, Tokens};
use super::faults::Faults;
use super::store::Store;
use super::throttle::Throttle;

pub struct AppState {
    pub store: Arc<Store>,
    pub throttle: Throttle,
    pub faults: Faults,
    pub tokens: Tokens,
    pub expected_client: Option<ExpectedClient>,
    /// Certificates whose keys may sign client assertions (`--client-certificate`).
    pub client_certificates: Vec<super::auth_assertion::RegisteredCertificate>,
    /// `http://127.0.0.1:PORT`, for `@odata.nextLink` and `@odata.context`.
    pub base_url: String,
    pub stats: Stats,
    /// See `EmulatorConfig::group_processing_delay`.
    pub group_processing_delay: std::time::Duration,
    /// Teams' number orders and provisioning (see `teams`).
    pub teams: super::teams::TeamsState,
}

#[derive(Default)]
pub struct Stats {
    pub http_requests: AtomicU64,
    pub token_requests: AtomicU64,
    pub batch_requests: AtomicU64,
    pub batch_items: AtomicU64,
    /// Writes that reached the tenant (after throttling and injected faults).
    pub writes: AtomicU64,
    pub quota_throttled: AtomicU64,
    pub injected_throttled: AtomicU64,
    pub injected_errors: AtomicU64,
    pub dropped_connections: AtomicU64,
    pub unauthorized: AtomicU64,
    /// Calls refused 403 because the token's `roles` lack the permission.
    pub forbidden: AtomicU64,
    /// Writes that changed the tenant.
    pub effective_changes: AtomicU64,
    /// Writes accepted that found nothing to change: a client repeating itself.
    pub noop_writes: AtomicU64,
    /// Writes refused by Graph's rules or validation (4xx other than 401/429).
    pub refused_writes: AtomicU64,
    /// Effective changes per `userid:kind` (id in lower case).
    pub changes_by_user: Mutex<HashMap<String, u32>>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    pub http_requests: u64,
    pub token_requests: u64,
    pub batch_requests: u64,
    pub batch_items: u64,
    pub writes: u64,
    pub quota_throttled: u64,
    pub injected_throttled: u64,
    pub injected_errors: u64,
    pub dropped_connections: u64,
    pub unauthorized: u64,
    pub forbidden: u64,
    pub effective_changes: u64,
    pub noop_writes: u64,
    pub refused_writes: u64,
    /// Users changed more than once the same way (two effective `assignLicense`s, say):
    /// a change applied twice shows up here.
    pub users_changed_more_than_once: u64,
}

pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Stats {
    /// Counts an effective change of one kind (`usageLocation`, `assignLicense`) to a user.
    pub fn record_change(&self, user_id: &str, kind: &str) {
        bump(&self.effective_changes);
        *self
            .changes_by_user
            .lock()
            .expect("stats lock")
            .entry(format!("{}:{kind}", user_id.to_ascii_lowercase()))
            .or_default() += 1;
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            http_requests: get(&self.http_requests),
            token_requests: get(&self.token_requests),
            batch_requests: get(&self.batch_requests),
            batch_items: get(&self.batch_items),
            writes: get(&self.writes),
            quota_throttled: get(&self.quota_throttled),
            injected_throttled: get(&self.injected_throttled),
            injected_errors: get(&self.injected_errors),
            dropped_connections: get(&self.dropped_connections),
            unauthorized: get(&self.unauthorized),
            forbidden: get(&self.forbidden),
            effective_changes: get(&self.effective_changes),
            noop_writes: get(&self.noop_writes),
            refused_writes: get(&self.refused_writes),
            users_changed_more_than_once: self
                .changes_by_user
                .lock()
                .expect("stats lock")
                .values()
                .filter(|&&n| n > 1)
                .count() as u64,
        }
    }
}
