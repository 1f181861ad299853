//! A local Microsoft Graph (v1.0 wire protocol) serving a tenant snapshot (SPEC §4), for
//! tests and trials: Entra ID's client-credentials token endpoint (a secret, a certificate's
//! signed assertion or a federated token; JWT-shaped tokens whose
//! `roles` each call is checked against, Graph's 403 without them), `organization`,
//! `subscribedSkus`, `users` (paged, `$select`, `startswith` `$filter`, `$count` with
//! `ConsistencyLevel: eventual`), `PATCH` of `usageLocation`, `assignLicense`, `$batch`
//! (fully parallel or one chain), `getPstnCalls`, Graph's licensing rules (from
//! [`commcred::tenant`], the one model of the tenant) in Graph's own words, Graph's write
//! throttling, and faults that `POST /_emulator/faults` changes while it runs. Changes are
//! written back to the snapshot file atomically before they are acknowledged. Written from
//! Graph's documentation (docs/graph.md names each source); it shares no code with the
//! Graph backend it tests.
//!
//! It is a library so that tests start it in-process on `127.0.0.1:0`:
//!
//! ```no_run
//! let mut config = commcred_emulator::EmulatorConfig::new("tenant.json");
//! config.quota.limit = 100;
//! let emulator = commcred_emulator::serve(config).unwrap();
//! println!("{}", emulator.base_url());
//! emulator.shutdown().unwrap();
//! ```
//!
//! The server runs on its own thread and Tokio runtime, so callers need no runtime.

mod auth;
mod auth_assertion;
mod batch;
mod error;
mod faults;
mod groups;
mod net;
mod permissions;
mod pstn;
mod refusals;
mod resources;
mod routes;
mod state;
mod store;
mod teams;
mod throttle;
mod users_list;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

pub use auth::ExpectedClient;
pub use auth_assertion::{FEDERATION_AUDIENCE, RegisteredCertificate};
pub use batch::MAX_BATCH;
pub use faults::{FaultConfig, LiveFaults};
pub use permissions::{KNOWN_ROLES, accepted_for, parse_roles};
pub use resources::{DEFAULT_PAGE, MAX_PAGE};
pub use state::StatsSnapshot;
pub use store::Persistence;
pub use throttle::WriteQuota;

use commcred::tenant::Snapshot;

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The tenant snapshot file, read at start and rewritten on every change.
    pub tenant: PathBuf,
    /// Where to listen; port 0 picks a free port. Loopback only.
    pub listen: SocketAddr,
    pub quota: WriteQuota,
    pub faults: FaultConfig,
    /// The only application accepted; `None` accepts any non-empty id and secret.
    pub client: Option<ExpectedClient>,
    /// PEM files whose certificates may sign client assertions (the app registration's
    /// uploaded certificates); a private key in the same file is ignored.
    pub client_certificates: Vec<PathBuf>,
    /// `expires_in` of issued tokens.
    pub token_lifetime: Duration,
    /// The application permissions (`roles`) issued tokens carry; `None` grants every one
    /// the emulator knows ([`KNOWN_ROLES`]).
    pub roles: Option<Vec<String>>,
    /// How long after `POST /groups/{id}/assignLicense` Entra ID processes the members
    /// (zero: before the answer).
    pub group_processing_delay: Duration,
    /// How long Teams takes to provision a user after its licenses change (see
    /// `teams::TeamsState::provisioning_delay`; zero: at once).
    pub provisioning_delay: Duration,
    /// Called with the tenant after every change, in order (tests check invariants on
    /// every intermediate state, not only on what reached the file).
    pub observer: Option<Observer>,
    /// When changes reach the tenant file (durable before each answer by default).
    pub persistence: Persistence,
}

/// A callback on every changed tenant state (see [`EmulatorConfig::observer`]).
#[derive(Clone)]
pub struct Observer(pub Arc<dyn Fn(&Snapshot) + Send + Sync>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer")
    }
}

impl EmulatorConfig {
    pub fn new(tenant: impl Into<PathBuf>) -> EmulatorConfig {
        EmulatorConfig {
            tenant: tenant.into(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            quota: WriteQuota::default(),
            faults: FaultConfig::default(),
            client: None,
            client_certificates: Vec::new(),
            token_lifetime: Duration::from_secs(3599),
            roles: None,
            group_processing_delay: Duration::ZERO,
            provisioning_delay: Duration::ZERO,
            observer: None,
            persistence: Persistence::Durable,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {addr}: {message}")]
    Listen { addr: SocketAddr, message: String },
    #[error(transparent)]
    Tenant(#[from] store::StoreError),
    #[error("the emulator stopped with an error: {0}")]
    Server(String),
}

/// A running emulator. Dropping it stops it too (and saves the tenant).
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<state::AppState>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

/// Starts the emulator: binds, then serves on a background thread until shut down.
pub fn serve(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
    if !config.listen.ip().is_loopback() {
        return Err(EmulatorError::Config(format!(
            "the emulator listens on loopback only (127.0.0.1 or [::1]), not {}",
            config.listen.ip()
        )));
    }
    config.faults.validate().map_err(EmulatorError::Config)?;
    if config.quota.limit == 0 || config.quota.window.is_zero() {
        return Err(EmulatorError::Config(
            "the write quota needs at least one write per non-zero window".into(),
        ));
    }
    let client_certificates = config
        .client_certificates
        .iter()
        .map(|p| RegisteredCertificate::from_pem_file(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(EmulatorError::Config)?;
    let mut store = store::Store::open(&config.tenant, config.persistence)?;
    store.observer = config.observer.clone();
    let store = Arc::new(store);
    let listen_err = |e: std::io::Error| EmulatorError::Listen {
        addr: config.listen,
        message: e.to_string(),
    };
    let std_listener = std::net::TcpListener::bind(config.listen).map_err(listen_err)?;
    std_listener.set_nonblocking(true).map_err(listen_err)?;
    let addr = std_listener.local_addr().map_err(listen_err)?;
    let state = Arc::new(state::AppState {
        store: store.clone(),
        throttle: throttle::Throttle::new(config.quota),
        faults: faults::Faults::new(config.faults.clone()),
        tokens: auth::Tokens::new(
            config.token_lifetime,
            config
                .roles
                .clone()
                .unwrap_or_else(|| KNOWN_ROLES.iter().map(|r| r.to_string()).collect()),
        ),
        expected_client: config.client.clone(),
        client_certificates,
        base_url: format!("http://{addr}"),
        stats: state::Stats::default(),
        group_processing_delay: config.group_processing_delay,
        teams: teams::TeamsState::new(config.provisioning_delay),
    });
    let (stop, stop_rx) = watch::channel(false);
    let app = routes::router(state.clone());
    let thread = std::thread::Builder::new()
        .name("graph-emulator".into())
        .spawn(move || run(std_listener, app, store, stop_rx))
        .map_err(|e| EmulatorError::Server(e.to_string()))?;
    tracing::info!(%addr, quota = ?config.quota, "graph emulator listening");
    Ok(Emulator {
        addr,
        state,
        stop,
        thread: Some(thread),
    })
}

fn run(
    listener: std::net::TcpListener,
    app: axum::Router,
    store: Arc<store::Store>,
    stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("graph-emulator-worker")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = net::KillableListener(
            tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?,
        );
        let flusher = tokio::spawn(store.clone().run_flusher(stop.clone()));
        let mut graceful = stop.clone();
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<net::ConnHandle>(),
        )
        .with_graceful_shutdown(async move {
            let _ = graceful.wait_for(|s| *s).await;
        });
        // Graceful shutdown waits for open requests; a client stuck mid-request must not
        // keep the emulator alive forever.
        let mut deadline = stop.clone();
        tokio::select! {
            r = server => r.map_err(|e| e.to_string())?,
            _ = async {
                let _ = deadline.wait_for(|s| *s).await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            } => {}
        }
        let _ = flusher.await;
        store.flush().map_err(|e| e.to_string())
    })
}

impl Emulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the Graph root and, with it, the token authority.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.state.stats.snapshot()
    }

    /// Effective changes per `userid:kind` (kind `usageLocation` or `assignLicense`).
    pub fn changes_by_user(&self) -> std::collections::HashMap<String, u32> {
        self.state
            .stats
            .changes_by_user
            .lock()
            .expect("stats lock")
            .clone()
    }

    /// The tenant as the emulator holds it now.
    pub fn snapshot(&self) -> Snapshot {
        self.state.store.read(|s, _| s.clone())
    }

    /// Stops serving, saves the tenant and waits for the server thread.
    pub fn shutdown(mut self) -> Result<(), EmulatorError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), EmulatorError> {
        let _ = self.stop.send(true);
        match self.thread.take() {
            Some(t) => match t.join() {
                Ok(r) => r.map_err(EmulatorError::Server),
                Err(_) => Err(EmulatorError::Server("the server thread panicked".into())),
            },
            None => Ok(()),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// Blocks until SIGINT (Ctrl-C) or SIGTERM, for `commcred emulator`.
pub fn wait_for_shutdown_signal() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await
        }
    })
}
