//! Where the live tenant lives: the [`Backend`] trait and its implementations.

use std::path::PathBuf;
use std::sync::Arc;

use crate::base::fsio::FsError;
use crate::plan::Operation;
use crate::tenant::Snapshot;

pub mod file;
pub mod graph;
mod key_order;
pub mod ledger;

/// A live tenant that can be read into the shared model and changed step by step. The
/// apply layer (`src/apply`) drives it: [`Backend::begin`], a staleness check against the
/// state it returns, [`Backend::execute`], then [`Backend::commit`] or [`Backend::abort`].
pub trait Backend {
    /// A short human name, e.g. `file:examples/quickstart/tenant.json`.
    fn describe(&self) -> String;

    /// Reads the live state. Credits come from wherever the backend keeps them.
    fn read(&mut self) -> Result<Snapshot, BackendError>;

    /// Starts a change: takes whatever keeps other writers out until [`Backend::commit`] or
    /// [`Backend::abort`] (the file backend's lock) and returns the live state as of now.
    fn begin(&mut self) -> Result<Snapshot, BackendError>;

    /// The instructions for a person when this backend cannot make `op` itself (credits on
    /// Microsoft Graph, which has no credits API); `None` when it can.
    /// The groups the desired state names (ids or display names), read before `read` so
    /// that a backend that reads group members lazily reads theirs too.
    fn want_groups(&mut self, _keys: Vec<String>) {}

    /// What the command will do beyond reading the tenant, declared before the first read
    /// so that a backend with permissions (Microsoft Graph) checks every one the command
    /// needs at once, before anything is read or written.
    fn declare(&mut self, _intent: Intent) {}

    /// When the command must end (`--timeout`): a backend that waits on the network (Graph
    /// answering 429) stops waiting by then and says why. `None`: no deadline.
    fn set_deadline(&mut self, _deadline: Option<std::time::Instant>) {}

    fn manual_step(&self, _op: &Operation) -> Option<String> {
        None
    }

    /// Executes `ops` (those it can make), telling `progress` as each one settles.
    fn execute(
        &mut self,
        ops: Vec<Operation>,
        ctx: &ApplyContext,
        progress: Arc<dyn Progress>,
    ) -> Result<ApplyReport, BackendError>;

    /// Makes what [`Backend::execute`] did durable and lets go of what `begin` took.
    fn commit(&mut self) -> Result<(), BackendError>;

    /// Lets go of what `begin` took; a backend that can (the file) keeps nothing.
    fn abort(&mut self);

    /// Where the PSTN call log (Graph `getPstnCalls`) can be read, for backends that have
    /// one; the credits forecast uses it (`graph::pstn`).
    fn pstn_calls(&mut self) -> Option<&mut dyn graph::pstn::GraphGet> {
        None
    }
}

/// What a command will ask of a backend besides reading the tenant (see
/// [`Backend::declare`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Intent {
    /// It reads the PSTN call log (Communications Credits usage).
    pub pstn_calls: bool,
    /// The kinds of change an apply of this configuration can make; all `false` for a
    /// command that changes nothing.
    pub changes: Changes,
}

/// Kinds of change, as far as the configuration tells before the tenant is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Users' licenses (assign, remove, direct copies a group also gives).
    pub user_licenses: bool,
    /// Users' `usageLocation`.
    pub usage_locations: bool,
    /// Groups' licenses, and reprocessing members' group licenses.
    pub group_licenses: bool,
}

/// Told how far an apply has come. The CLI draws a progress bar with it; the library has
/// no terminal code. Defined here because backends report to it, and re-exported by
/// the apply layer, whose driver hands it to them.
pub trait Progress: Send + Sync {
    /// `total` steps are about to run.
    fn start(&self, _total: u64) {}
    /// `n` more steps have settled (applied, failed or given up).
    fn advance(&self, _n: u64) {}
    /// How the run is going beyond the count: the current write rate, or a pause and its
    /// cause ("paused 3 s: Microsoft Graph answered 429 to a $batch").
    fn status(&self, _text: &str) {}
    /// The run is over.
    fn finish(&self) {}
}

/// No progress display.
pub struct NoProgress;

impl Progress for NoProgress {}

/// What an apply may need beyond the plan.
pub struct ApplyContext {
    /// The clock (for `purchasedAt` of new funds).
    pub now: chrono::DateTime<chrono::Utc>,
    /// When a backend that writes over the network (Graph) stops sending, reads back what
    /// its last calls did, and reports (`apply --timeout`). `None`: no deadline.
    pub deadline: Option<std::time::Instant>,
}

impl ApplyContext {
    /// An apply at `now` with no deadline.
    pub fn new(now: chrono::DateTime<chrono::Utc>) -> ApplyContext {
        ApplyContext {
            now,
            deadline: None,
        }
    }
}

/// Why a backend could not read or change the live tenant. Each variant is one problem
/// with one diagnostic code (docs/diagnostics.md); the underlying error is its source.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BackendError {
    /// The tenant snapshot file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    #[diagnostic(code(commcred::backend::read), help("{READ_HELP}"))]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The tenant snapshot file is not a snapshot.
    #[error("cannot read {}:{line}:{column}: not a valid tenant snapshot: {source}", .path.display())]
    #[diagnostic(code(commcred::backend::read), help("{READ_HELP}"))]
    Snapshot {
        path: PathBuf,
        line: usize,
        column: usize,
        source: serde_json::Error,
    },
    /// Microsoft Graph answered a read with an error or with something that does not parse.
    #[error("cannot read {what}: {message}")]
    #[diagnostic(code(commcred::backend::read), help("{GRAPH_READ_HELP}"))]
    Read { what: String, message: String },
    /// Microsoft Graph kept answering reads 429 (or 503) until the command's deadline.
    #[error(
        "Microsoft Graph throttled the reads ({what}): {too_many} answer{} 429 Too Many Requests{}, the last asking to wait {last_retry_after}; commcred waited {waited_secs} s in all and stopped at the deadline (--timeout); nothing was changed",
        if *.too_many == 1 { "" } else { "s" },
        if *.unavailable > 0 { format!(" and {} answer{} 503 Service Unavailable", .unavailable, if *.unavailable == 1 { "" } else { "s" }) } else { String::new() }
    )]
    #[diagnostic(
        code(commcred::graph::read_throttled),
        help(
            "Graph limits the requests of each application and of the whole tenant, which other applications share: run the command again later, or give it longer with --timeout (e.g. --timeout 30m); -v logs each wait"
        )
    )]
    ReadThrottled {
        /// What was being read (`users`, `organization`, ...).
        what: String,
        /// Reads answered 429 in this command.
        too_many: u64,
        /// Reads answered 503 in this command.
        unavailable: u64,
        /// The last `Retry-After`, e.g. `1 s`, or `no time` when Graph gave none.
        last_retry_after: String,
        /// Seconds spent waiting on throttled reads.
        waited_secs: u64,
    },
    /// Microsoft Graph answered a read with JSON that is not what its reference documents.
    #[error("cannot read {what}: unexpected answer: {source}")]
    #[diagnostic(code(commcred::backend::read), help("{GRAPH_READ_HELP}"))]
    Unexpected {
        what: String,
        source: serde_json::Error,
    },
    /// Writing the tenant file failed; the file is as it was.
    #[error(transparent)]
    #[diagnostic(
        code(commcred::backend::write),
        help("nothing was changed; check permissions and free space, then apply again")
    )]
    Write(FsError),
    /// Another process holds the data's lock for longer than commcred waits.
    #[error(transparent)]
    #[diagnostic(
        code(commcred::backend::locked),
        help(
            "nothing was changed; wait for it to finish (or stop it), or pass --lock-timeout 60s to wait longer"
        )
    )]
    Locked(FsError),
    /// A setting the backend cannot work with (missing credentials, a bad URL or quota).
    #[error("{0}")]
    #[diagnostic(code(commcred::backend::error))]
    Settings(String),
    /// The HTTP client or its runtime could not be set up.
    #[error("cannot set up HTTP: {0}")]
    #[diagnostic(code(commcred::backend::error))]
    Http(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// `execute` or `commit` without `begin`: a bug in the caller.
    #[error("the backend was asked to {0} before `begin`")]
    #[diagnostic(code(commcred::backend::error))]
    NotBegun(&'static str),
    /// The live tenant refused commcred's credentials (Microsoft Graph).
    #[error("{0}")]
    #[diagnostic(
        code(commcred::backend::auth),
        help(
            "check the tenant id, the client id and the credential (a secret's value, not its id; a certificate uploaded to the app registration; a federated credential matching the token's issuer, subject and audience), and that the app has admin consent; docs/graph.md shows each"
        )
    )]
    Auth(String),
    /// The credential commcred was pointed at cannot be used: a certificate file that is
    /// unreadable, not PEM, encrypted without a password, or whose key is not its
    /// certificate's; found before anything is sent.
    #[error("{0}")]
    #[diagnostic(
        code(commcred::graph::credential),
        help(
            "fix the file the message names (docs/graph.md, \"Signing in\", shows how to make one), or sign in another way"
        )
    )]
    Credential(String),
    /// The access token lacks Graph application permissions the command needs; found
    /// before anything was sent that needs them.
    #[error("{0}; nothing was changed")]
    #[diagnostic(
        code(commcred::graph::missing_permissions),
        help(
            "grant the application these Microsoft Graph application permissions and admin consent (Entra admin center > App registrations > API permissions), then run the command again; docs/graph.md lists what each command needs"
        )
    )]
    MissingPermissions(String),
}

const GRAPH_READ_HELP: &str = "nothing was changed; Microsoft Graph's answer is above: check the Graph URL (--backend graph or graph:BASE_URL) and the network, then run the command again";
const READ_HELP: &str = "check the path given by --backend or the YAML's `backend`";

impl From<FsError> for BackendError {
    fn from(e: FsError) -> BackendError {
        match e {
            FsError::Busy { .. } => BackendError::Locked(e),
            other => BackendError::Write(other),
        }
    }
}

/// What happened to each operation of an apply.
#[derive(Debug, Default, Clone)]
pub struct ApplyReport {
    pub applied: Vec<Operation>,
    /// Operations refused or failed, with the reason in words naming the user.
    pub failed: Vec<(Operation, String)>,
    /// Operations skipped because an earlier one failed or the run stopped.
    pub not_attempted: Vec<Operation>,
    /// Operations that need a person (credits on Microsoft Graph), with the instructions.
    pub manual: Vec<(Operation, String)>,
    /// Why the apply stopped before every operation was tried (a deadline, persistent
    /// throttling), if it did.
    pub stopped: Option<String>,
}

impl ApplyReport {
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.not_attempted.is_empty() && self.stopped.is_none()
    }
}

/// Opens the backend a spec names; a file backend waits at most `lock_wait` for its lock.
pub fn open(
    spec: &crate::config::BackendSpec,
    lock_wait: std::time::Duration,
) -> Result<Box<dyn Backend>, BackendError> {
    open_with(spec, lock_wait, &graph::CredentialEnv::default())
}

/// [`open`], with Microsoft Graph's credentials read from the environment variables
/// `names` gives (a workspace tenant's own; the Azure SDK's by default).
pub fn open_with(
    spec: &crate::config::BackendSpec,
    lock_wait: std::time::Duration,
    names: &graph::CredentialEnv,
) -> Result<Box<dyn Backend>, BackendError> {
    match spec {
        crate::config::BackendSpec::File(path) => Ok(Box::new(
            file::FileBackend::new(path).with_lock_wait(lock_wait),
        )),
        crate::config::BackendSpec::Graph(url) => Ok(Box::new(graph::GraphBackend::new(
            graph::GraphOptions::from_names(url.as_deref(), names)?,
        )?)),
    }
}
