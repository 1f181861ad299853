//! The Microsoft Graph backend (`--backend graph`, or `graph:BASE_URL` for an emulator).
//!
//! - Credentials: the Azure SDK's `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, then
//!   `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH` or `AZURE_FEDERATED_TOKEN_FILE`
//!   (`auth.rs`), `AZURE_AUTHORITY_HOST` (default `https://login.microsoftonline.com`;
//!   with `graph:BASE_URL` and no authority host, BASE_URL is the authority too).
//! - Reads: organization, subscribed SKUs and every user (paged at 999, `$select`ed), and,
//!   when the command uses phone numbers, the number inventory and the Teams user
//!   configurations beside the users (`numbers/`), into the shared [`Snapshot`] model. Credits: Graph has none, so they are `None` here; the
//!   credits ledger (`crate::credits::live`) fills them in before planning.
//! - Changes (driven by the apply layer): `begin` re-reads the tenant for the staleness
//!   check, `execute` writes through `$batch` (see `write.rs`), paced under the write quota
//!   (`pacer.rs`), with retries that never apply a change twice. Credits changes are manual
//!   steps ([`Backend::manual_step`]).
//!
//! The [`Backend`] trait is synchronous; the backend owns a small Tokio runtime.

mod assign;
mod auth;
mod auth_cert;
mod auth_federated;
mod client;
mod diagnose;
mod groups;
mod numbers;
mod pacer;
pub mod permissions;
pub mod pstn;
mod read;
mod read_users;
mod schedule;
mod write;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use auth::{
    ClientCredential, CredentialEnv, Credentials, DEFAULT_AUTHORITY, ENV_AUTHORITY,
    ENV_CLIENT_CERTIFICATE_PASSWORD, ENV_CLIENT_CERTIFICATE_PATH, ENV_CLIENT_ID, ENV_CLIENT_SECRET,
    ENV_FEDERATED_TOKEN_FILE, ENV_TENANT, GRAPH_SCOPE, Secret,
};
pub use auth_cert::ClientCertificate;
pub use auth_federated::FederatedTokenFile;
pub use client::RetryPolicy;

/// How the client reads Graph's answer bodies that are not resources: `$batch` answers and
/// error bodies. Public so tests hold them to Microsoft's examples
/// (`tests/fixtures/graph/`).
pub mod wire {
    pub use super::client::{BatchAnswer, batch_answers, graph_error};
}
pub use read_users::UsersRead;

use crate::plan::Operation;
use crate::tenant::Snapshot;

use super::{ApplyContext, ApplyReport, Backend, BackendError, Progress};

/// Microsoft Graph's public endpoint.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
/// Overrides the write quota the client paces itself under, as `WRITES/SECONDS`.
pub const ENV_WRITE_QUOTA: &str = "COMMCRED_GRAPH_WRITE_QUOTA";
/// Seconds apply waits for Entra ID to process a group's members (default 1800).
pub const ENV_GROUP_WAIT: &str = "COMMCRED_GROUP_WAIT";

pub use groups::GroupWait;

#[derive(Debug, Clone)]
pub struct GraphOptions {
    /// Graph's root, without the version (`https://graph.microsoft.com`, or an emulator).
    pub graph_url: String,
    /// Entra ID's authority host; the token endpoint is `{authority}/{tenant}/oauth2/v2.0/token`.
    pub authority: String,
    pub credentials: Credentials,
    /// The write quota to pace under: `writes` per `window` (Graph: 3,000 per 150 s).
    pub quota_writes: u32,
    pub quota_window: Duration,
    /// `$batch` calls in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// Per HTTP request.
    pub request_timeout: Duration,
    /// Read a large tenant's users in parallel segments (`read_users.rs`); `false` reads
    /// them page after page (for comparison in the read benchmark).
    pub parallel_reads: bool,
    /// How long apply waits for Entra ID to process group members (`COMMCRED_GROUP_WAIT`,
    /// seconds).
    pub group_wait: GroupWait,
}

impl GraphOptions {
    /// Defaults for `graph` (`graph_url` = `None`) or `graph:BASE_URL`. With a BASE_URL the
    /// authority is BASE_URL as well, as the emulator serves both.
    pub fn new(graph_url: Option<&str>, credentials: Credentials) -> GraphOptions {
        let root = graph_url
            .map(|u| {
                u.trim_end_matches('/')
                    .trim_end_matches("/v1.0")
                    .to_string()
            })
            .unwrap_or_else(|| DEFAULT_GRAPH_URL.to_string());
        let authority = match graph_url {
            Some(_) => root.clone(),
            None => DEFAULT_AUTHORITY.to_string(),
        };
        GraphOptions {
            graph_url: root,
            authority,
            credentials,
            quota_writes: 3000,
            quota_window: Duration::from_secs(150),
            concurrency: 4,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(100),
            parallel_reads: true,
            group_wait: GroupWait::default(),
        }
    }

    /// [`GraphOptions::new`] with credentials, authority host and quota from the
    /// environment (`AZURE_*`, `COMMCRED_GRAPH_WRITE_QUOTA`).
    pub fn from_env(graph_url: Option<&str>) -> Result<GraphOptions, BackendError> {
        GraphOptions::from_lookup(graph_url, |n| std::env::var(n).ok())
    }

    /// [`GraphOptions::from_env`] with credentials from the variables `names` gives.
    pub fn from_names(
        graph_url: Option<&str>,
        names: &CredentialEnv,
    ) -> Result<GraphOptions, BackendError> {
        GraphOptions::from_lookup_names(graph_url, names, |n| std::env::var(n).ok())
    }

    pub fn from_lookup(
        graph_url: Option<&str>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<GraphOptions, BackendError> {
        GraphOptions::from_lookup_names(graph_url, &CredentialEnv::default(), get)
    }

    pub fn from_lookup_names(
        graph_url: Option<&str>,
        names: &CredentialEnv,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<GraphOptions, BackendError> {
        let credentials = Credentials::from_names(names, &get)?;
        let mut options = GraphOptions::new(graph_url, credentials);
        if let Some(host) = get(ENV_AUTHORITY).filter(|h| !h.trim().is_empty()) {
            options.authority = host.trim().trim_end_matches('/').to_string();
        }
        if let Some(q) = get(ENV_WRITE_QUOTA).filter(|q| !q.trim().is_empty()) {
            let (writes, window) = parse_quota(&q).ok_or_else(|| {
                BackendError::Settings(format!(
                    "{ENV_WRITE_QUOTA}={q} is not WRITES/SECONDS, e.g. 3000/150"
                ))
            })?;
            options.quota_writes = writes;
            options.quota_window = window;
        }
        if let Some(w) = get(ENV_GROUP_WAIT).filter(|w| !w.trim().is_empty()) {
            let secs: f64 = w
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| {
                    BackendError::Settings(format!(
                        "{ENV_GROUP_WAIT}={w} is not a number of seconds"
                    ))
                })?;
            options.group_wait.deadline = Duration::from_secs_f64(secs);
        }
        Ok(options)
    }
}

/// `3000/150` or `3000/150s`.
fn parse_quota(text: &str) -> Option<(u32, Duration)> {
    let (writes, secs) = text.trim().split_once('/')?;
    let writes: u32 = writes.trim().parse().ok().filter(|&w| w > 0)?;
    let secs: f64 = secs
        .trim()
        .trim_end_matches('s')
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0)?;
    Some((writes, Duration::from_secs_f64(secs)))
}

/// Sending a client secret in clear text is only acceptable to this machine.
fn check_transport(url: &str, what: &str) -> Result<(), BackendError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| BackendError::Settings(format!("{what} `{url}` is not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_matches(|c| c == '[' || c == ']')
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(BackendError::Settings(format!(
                    "refusing to send credentials over plain http to {host}: use https, or an emulator on 127.0.0.1"
                )))
            }
        }
        other => Err(BackendError::Settings(format!(
            "{what} `{url}` uses `{other}`; expected https"
        ))),
    }
}

pub struct GraphBackend {
    spec: String,
    client: Arc<client::GraphClient>,
    pacer: Arc<pacer::Pacer>,
    concurrency: usize,
    requests: Arc<AtomicU64>,
    /// The tenant as `begin` read it, for `execute` (it resolves SKUs on read-back).
    live: Option<Snapshot>,
    parallel_reads: bool,
    /// How the last read fetched the users.
    users_read: std::sync::Mutex<Option<UsersRead>>,
    /// What the last read left out (`Backend::read_notes`).
    notes: std::sync::Mutex<Vec<String>>,
    /// Groups whose members are read even without licenses (the YAML names them).
    wanted_groups: Vec<String>,
    group_wait: groups::GroupWait,
    /// What the command declared it will do (the permission preflight checks it all).
    intent: super::Intent,
    /// Always `Some` until dropped (taken out so dropping never blocks, see `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
}

impl GraphBackend {
    pub fn new(options: GraphOptions) -> Result<GraphBackend, BackendError> {
        check_transport(&options.graph_url, "the Graph URL")?;
        check_transport(&options.authority, "the authority host")?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("commcred/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(options.request_timeout)
            .build()
            .map_err(|e| BackendError::Http(Box::new(e)))?;
        let requests = Arc::new(AtomicU64::new(0));
        let tokens = auth::TokenSource::new(
            http.clone(),
            &options.authority,
            options.credentials.clone(),
            options.retry.clone(),
            requests.clone(),
        );
        let client = client::GraphClient::new(
            http,
            format!("{}/v1.0", options.graph_url),
            tokens,
            options.retry.clone(),
            requests.clone(),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| BackendError::Http(Box::new(e)))?;
        let spec = if options.graph_url == DEFAULT_GRAPH_URL {
            "graph".to_string()
        } else {
            format!("graph:{}", options.graph_url)
        };
        Ok(GraphBackend {
            wanted_groups: Vec::new(),
            intent: super::Intent::default(),
            group_wait: options.group_wait.clone(),
            spec,
            client: Arc::new(client),
            pacer: Arc::new(pacer::Pacer::new(
                options.quota_writes,
                options.quota_window,
            )),
            concurrency: options.concurrency.max(1),
            requests,
            live: None,
            parallel_reads: options.parallel_reads,
            users_read: std::sync::Mutex::new(None),
            notes: std::sync::Mutex::new(Vec::new()),
            runtime: Some(runtime),
        })
    }

    /// `graph` or `graph:BASE_URL`, configured from the environment.
    pub fn from_env(graph_url: Option<&str>) -> Result<GraphBackend, BackendError> {
        GraphBackend::new(GraphOptions::from_env(graph_url)?)
    }

    /// How the last read fetched the users: in parallel segments, page after page, or page
    /// after page after the segments did not add up.
    pub fn last_users_read(&self) -> Option<UsersRead> {
        *self.users_read.lock().expect("users_read lock")
    }

    /// HTTP requests sent so far (token requests included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Runs a future on the backend's runtime, also from inside another runtime (where
    /// blocking the caller's thread would panic), by moving to a scoped thread.
    fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the backend");
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| runtime.block_on(future))
                    .join()
                    .expect("graph backend thread panicked")
            })
        } else {
            runtime.block_on(future)
        }
    }

    fn read_tenant(&self) -> Result<Snapshot, BackendError> {
        let with_numbers = self.reads_numbers()?;
        let client = &*self.client;
        let wanted = &self.wanted_groups;
        self.block_on(async move {
            let tenant = read::organization(client).await?;
            let subscribed_skus = read::subscribed_skus(client).await?;
            let read_numbers = async {
                match with_numbers {
                    true => numbers::read::numbers_and_configs(client).await,
                    false => Ok((Vec::new(), Vec::new())),
                }
            };
            let (users, numbers) = tokio::join!(
                read::users(self.client.clone(), self.parallel_reads),
                read_numbers
            );
            let (users, how) = users?;
            let (number_assignments, user_configurations) = numbers?;
            *self.users_read.lock().expect("users_read lock") = Some(how);
            let groups = groups::read_groups(client, wanted).await?;
            Ok(Snapshot {
                tenant,
                subscribed_skus,
                users,
                communications_credits: None,
                groups,
                number_assignments,
                user_configurations,
                extra: Default::default(),
            })
        })
    }

    /// Whether this read includes the phone numbers: when the command uses them, or (for
    /// `export`) when the token allows it.
    fn reads_numbers(&self) -> Result<bool, BackendError> {
        Ok(match self.intent.numbers {
            super::NumbersRead::Skip => false,
            super::NumbersRead::Required => true,
            super::NumbersRead::IfGranted => {
                let granted = self.grants(&permissions::NUMBER_READS)?;
                if !granted {
                    let note = format!(
                        "Phone numbers left out: the application lacks {} or {} (docs/graph.md, \"Permissions\"); grant them to include each user's number.",
                        permissions::READ_NUMBERS.permission,
                        permissions::READ_TEAMS_USERS.permission
                    );
                    tracing::warn!("{note}");
                    self.notes.lock().expect("notes lock").push(note);
                }
                granted
            }
        })
    }
}

impl Drop for GraphBackend {
    /// Dropping a runtime blocks, which panics inside another runtime (a `#[tokio::test]`,
    /// an async caller); shutting it down in the background never blocks.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Backend for GraphBackend {
    fn describe(&self) -> String {
        self.spec.clone()
    }

    fn pstn_calls(&mut self) -> Option<&mut dyn pstn::GraphGet> {
        Some(self)
    }

    fn read_notes(&self) -> Vec<String> {
        self.notes.lock().expect("notes lock").clone()
    }

    fn declare(&mut self, intent: super::Intent) {
        self.intent = intent;
    }

    fn set_deadline(&mut self, deadline: Option<std::time::Instant>) {
        self.client.set_deadline(deadline);
    }

    /// One preflight before the first read: every permission the reads and the declared
    /// PSTN call log need, and (when one is missing) those the declared changes will need.
    fn read(&mut self) -> Result<Snapshot, BackendError> {
        self.require(&permissions::read_needs(&self.intent))?;
        self.read_tenant()
    }

    fn begin(&mut self) -> Result<Snapshot, BackendError> {
        self.require(&permissions::read_needs(&self.intent))?;
        let live = self.read_tenant()?;
        self.live = Some(live.clone());
        Ok(live)
    }

    /// Graph has no credits API: credits changes are steps for a person.
    fn manual_step(&self, op: &Operation) -> Option<String> {
        match op {
            Operation::SetUsageLocation { .. } | Operation::AssignLicenses { .. } => None,
            Operation::AssignGroupLicenses { .. }
            | Operation::ReprocessLicenses { .. }
            | Operation::RemoveRedundantDirect { .. } => None,
            Operation::UnassignNumber { .. } | Operation::AssignNumber { .. } => None,
            credits => Some(diagnose::manual_credits(credits)),
        }
    }

    /// The users' license changes (then the groups'), then the phone numbers
    /// (`numbers/write.rs`).
    fn execute(
        &mut self,
        ops: Vec<Operation>,
        ctx: &ApplyContext,
        progress: Arc<dyn Progress>,
    ) -> Result<ApplyReport, BackendError> {
        // Before any write: a missing permission changes nothing.
        self.require(&permissions::needs_of(&ops))?;
        let (number_ops, ops): (Vec<Operation>, Vec<Operation>) =
            ops.into_iter().partition(Operation::is_number);
        let mut report = self.execute_licenses(ops, ctx, progress.clone())?;
        if report.stopped.is_some() {
            // The deadline (or Graph's throttling) stopped the licenses: no order is placed.
            report.not_attempted.extend(number_ops);
        } else if !number_ops.is_empty() {
            self.execute_numbers(number_ops, ctx, progress, &mut report);
        }
        Ok(report)
    }

    /// Every acknowledged Graph write is already made; there is nothing to hold or flush.
    fn want_groups(&mut self, keys: Vec<String>) {
        self.wanted_groups.extend(keys);
    }

    fn commit(&mut self) -> Result<(), BackendError> {
        self.live = None;
        Ok(())
    }

    fn abort(&mut self) {
        self.live = None;
    }
}

impl GraphBackend {
    /// Users' usage locations and licenses, then groups' licenses.
    fn execute_licenses(
        &mut self,
        ops: Vec<Operation>,
        ctx: &ApplyContext,
        progress: Arc<dyn Progress>,
    ) -> Result<ApplyReport, BackendError> {
        let live = match self.live.take() {
            Some(live) => live,
            None => self.read_tenant()?,
        };
        let mut report = ApplyReport::default();
        // Group operations run after the users' own changes (see `groups::run`).
        let (group_ops, ops): (Vec<Operation>, Vec<Operation>) =
            ops.into_iter().partition(Operation::is_group);
        if !group_ops.is_empty() {
            self.live = Some(live);
            return self.execute_with_groups(ops, group_ops, ctx, progress);
        }
        if ops.is_empty() {
            return Ok(report);
        }
        let engine = Arc::new(write::Engine::new(
            self.client.clone(),
            self.pacer.clone(),
            live,
            ops.clone(),
            progress,
            ctx.deadline.map(tokio::time::Instant::from_std),
        ));
        let concurrency = self.concurrency;
        let result = self.block_on(engine.run(concurrency));
        report.stopped = result.stopped;
        for (op, outcome) in ops.into_iter().zip(result.outcomes) {
            match outcome {
                write::Outcome::Applied => report.applied.push(op),
                write::Outcome::Failed(why) => report.failed.push((op, why)),
                write::Outcome::NotAttempted => report.not_attempted.push(op),
            }
        }
        Ok(report)
    }

    /// The number changes, after every license change; a user whose license changes did
    /// not all go through gets no number change (`numbers/write.rs` says what stays).
    fn execute_numbers(
        &mut self,
        ops: Vec<Operation>,
        ctx: &ApplyContext,
        progress: Arc<dyn Progress>,
        report: &mut ApplyReport,
    ) {
        let held_back = report
            .failed
            .iter()
            .map(|(op, _)| op)
            .chain(&report.not_attempted)
            .filter_map(user_of)
            .map(str::to_ascii_lowercase)
            .collect();
        let run = Arc::new(numbers::NumberRun::new(
            self.client.clone(),
            self.pacer.clone(),
            progress,
            ctx.deadline.map(tokio::time::Instant::from_std),
            held_back,
        ));
        let outcomes = self.block_on(run.run(&ops));
        for (op, outcome) in ops.into_iter().zip(outcomes) {
            match outcome {
                write::Outcome::Applied => report.applied.push(op),
                write::Outcome::Failed(why) => report.failed.push((op, why)),
                write::Outcome::NotAttempted => report.not_attempted.push(op),
            }
        }
    }

    /// The users' own changes first, then the group operations (see `groups::run`), which
    /// start only when every user change went through.
    fn execute_with_groups(
        &mut self,
        ops: Vec<Operation>,
        group_ops: Vec<Operation>,
        ctx: &ApplyContext,
        progress: Arc<dyn Progress>,
    ) -> Result<ApplyReport, BackendError> {
        let mut report = if ops.is_empty() {
            ApplyReport::default()
        } else {
            self.execute_licenses(ops, ctx, progress.clone())?
        };
        if !report.is_success() {
            report.not_attempted.extend(group_ops);
            return Ok(report);
        }
        // `apply --timeout` bounds the group steps too: the wait for Entra ID's
        // processing ends by the deadline, and none start once it has passed.
        let mut wait = self.group_wait.clone();
        if let Some(deadline) = ctx.deadline {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                report.not_attempted.extend(group_ops);
                report.stopped =
                    Some("the deadline (--timeout) passed before the group changes".into());
                return Ok(report);
            }
            wait.deadline = wait.deadline.min(left);
        }
        let mut group_report = ApplyReport::default();
        let client = self.client.clone();
        self.block_on(groups::run(
            client,
            group_ops,
            &wait,
            progress,
            &mut group_report,
        ));
        report.applied.extend(group_report.applied);
        report.failed.extend(group_report.failed);
        report.manual.extend(group_report.manual);
        Ok(report)
    }
}

/// The user a user's own change is for (`None` for groups and credits).
fn user_of(op: &Operation) -> Option<&str> {
    match op {
        Operation::SetUsageLocation { user_id, .. }
        | Operation::AssignLicenses { user_id, .. }
        | Operation::ReprocessLicenses { user_id, .. }
        | Operation::RemoveRedundantDirect { user_id, .. } => Some(user_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials::with_secret("contoso.onmicrosoft.com", "app", Secret::new("s"))
    }

    #[test]
    fn emulator_url_is_also_the_authority() {
        let o = GraphOptions::new(Some("http://127.0.0.1:8080/v1.0/"), creds());
        assert_eq!(o.graph_url, "http://127.0.0.1:8080");
        assert_eq!(o.authority, "http://127.0.0.1:8080");
        let o = GraphOptions::new(None, creds());
        assert_eq!(o.graph_url, DEFAULT_GRAPH_URL);
        assert_eq!(o.authority, DEFAULT_AUTHORITY);
    }

    #[test]
    fn environment_sets_authority_and_quota() {
        let env = |n: &str| {
            Some(
                match n {
                    ENV_TENANT => "t",
                    ENV_CLIENT_ID => "c",
                    ENV_CLIENT_SECRET => "s",
                    ENV_AUTHORITY => "https://login.example/",
                    ENV_WRITE_QUOTA => "60/10s",
                    _ => return None,
                }
                .to_string(),
            )
        };
        let o = GraphOptions::from_lookup(Some("http://127.0.0.1:1"), env).unwrap();
        assert_eq!(o.authority, "https://login.example");
        assert_eq!(
            (o.quota_writes, o.quota_window),
            (60, Duration::from_secs(10))
        );
        assert!(parse_quota("0/10").is_none() && parse_quota("5").is_none());
    }

    #[test]
    fn credentials_travel_in_clear_only_to_this_machine() {
        assert!(check_transport("http://127.0.0.1:9", "x").is_ok());
        assert!(check_transport("http://[::1]:9", "x").is_ok());
        assert!(check_transport("http://localhost:9", "x").is_ok());
        assert!(check_transport("https://graph.microsoft.com", "x").is_ok());
        assert!(check_transport("http://10.0.0.5:9", "x").is_err());
    }
}
