//! `commcred emulator`: serve a tenant snapshot as a local Microsoft Graph until Ctrl-C or
//! SIGTERM. The first stdout line is `listening on http://127.0.0.1:PORT`, flushed at once,
//! so scripts and tests can start it on port 0 and read the address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use commcred_emulator::{
    self as emulator, EmulatorConfig, ExpectedClient, FaultConfig, Persistence, WriteQuota,
};
use miette::{Result, miette};

use super::output::Output;

/// The secret the emulator accepts, from the environment only: a flag would show in `ps`.
const ENV_SECRET: &str = "COMMCRED_EMULATOR_CLIENT_SECRET";

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  commcred emulator --tenant examples/quickstart/tenant.json --listen 127.0.0.1:0\n\n\
Then, in another shell (any client id and secret are accepted unless --client-id is given):\n  \
AZURE_TENANT_ID=contoso.onmicrosoft.com AZURE_CLIENT_ID=app AZURE_CLIENT_SECRET=secret \\\n    \
commcred plan examples/quickstart/commcred.yaml --backend graph:http://127.0.0.1:PORT"
)]
pub struct Args {
    /// The tenant snapshot to serve; changes are written back to it.
    #[arg(long, value_name = "FILE")]
    pub tenant: PathBuf,
    /// Address to listen on (loopback only); port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Writes allowed per window before Graph answers 429 (Graph: 3000).
    #[arg(long, value_name = "N", default_value_t = 3000)]
    pub write_limit: u32,
    /// The write quota's window in seconds (Graph: 150).
    #[arg(long, value_name = "SECS", default_value_t = 150.0)]
    pub write_window: f64,
    /// Delay before every response, e.g. `200ms` or `0.2s`: models the link to Graph.
    #[arg(long, value_name = "DURATION", value_parser = super::context::parse_duration, conflicts_with = "latency_ms")]
    pub latency: Option<Duration>,
    /// The same as --latency, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Up to this much more, at random.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_jitter_ms: u64,
    /// Fraction of requests and batch items answered 5xx (half after the change was made).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub error_rate: f64,
    /// Fraction of requests and batch items answered 429, on top of the write quota.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub throttle_rate: f64,
    /// Fraction of connections dropped without an answer (half after the change was made).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub drop_rate: f64,
    /// `Retry-After` of injected 429s, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    pub retry_after: u64,
    /// Seed for reproducible faults.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Accept only this application id, with the secret in COMMCRED_EMULATOR_CLIENT_SECRET.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Register a certificate whose private key may sign client assertions, as uploading it
    /// to the app registration does: a PEM file (a private key in it is ignored, so the
    /// Azure SDK's key+certificate file works). Repeat for several.
    #[arg(long, value_name = "FILE")]
    pub client_certificate: Vec<PathBuf>,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3599)]
    pub token_lifetime: u64,
    /// Application permissions issued tokens carry (`roles`), comma-separated, e.g.
    /// `User.Read.All,Organization.Read.All`; every known one by default, none with "".
    #[arg(long, value_name = "LIST")]
    pub roles: Option<String>,
    /// Milliseconds between `POST /groups/{id}/assignLicense` and Entra ID's processing of
    /// the members (0: before the answer). Clients see members not yet processed meanwhile.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub group_processing_delay: u64,
    /// Milliseconds Teams takes to provision a user after its licenses change (and after
    /// the emulator starts, for a user Teams does not list yet): `assignNumber` orders for it
    /// fail meanwhile with "not provisioned in Microsoft Teams yet". 0: provisioned at once.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub provisioning_delay: u64,
    /// When changes reach the tenant file: `durable` writes the file before each change is
    /// acknowledged; `deferred` acknowledges at once and writes at most every
    /// --persist-every seconds and on shutdown (for benchmarks: Graph charges no disk flush).
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = Persist::Durable)]
    pub persist: Persist,
    /// With `--persist deferred`: the longest a change waits before it reaches the file.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub persist_every: f64,
}

/// `--persist`: see [`Persistence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Persist {
    Durable,
    Deferred,
}

/// `--persist` and `--persist-every`.
fn persistence(args: &Args) -> Result<Persistence> {
    if !(args.persist_every.is_finite() && args.persist_every > 0.0) {
        return Err(miette!(
            code = "commcred::emulator::bad_flag",
            "--persist-every must be a positive number of seconds"
        ));
    }
    Ok(match args.persist {
        Persist::Durable => Persistence::Durable,
        Persist::Deferred => Persistence::Deferred {
            every: Duration::from_secs_f64(args.persist_every),
        },
    })
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    if !(args.write_window.is_finite() && args.write_window > 0.0) {
        return Err(miette!(
            code = "commcred::emulator::bad_flag",
            "--write-window must be a positive number of seconds"
        ));
    }
    let persistence = persistence(&args)?;
    let client = expected_client(&args)?;
    let roles = match &args.roles {
        None => None,
        Some(list) => Some(emulator::parse_roles(list).map_err(|e| {
            miette!(
                code = "commcred::emulator::bad_flag",
                help = "give --roles a comma-separated list of Graph application permissions",
                "--roles: {e}"
            )
        })?),
    };
    let mut config = config_from(&args, client, roles);
    config.persistence = persistence;
    let running = emulator::serve(config).map_err(|e| {
        miette!(
            code = "commcred::emulator::start",
            help = "check the tenant file and the address",
            "{e}"
        )
    })?;
    out.result(&format!("listening on {}\n", running.base_url()));
    out.info(&format!(
        "Serving {} as Microsoft Graph v1.0 (write quota {} per {} s). Ctrl-C stops.",
        args.tenant.display(),
        args.write_limit,
        args.write_window
    ));
    emulator::wait_for_shutdown_signal().map_err(|e| miette!("cannot wait for a signal: {e}"))?;
    running
        .shutdown()
        .map_err(|e| miette!(code = "commcred::emulator::stop", "{e}"))?;
    out.info("Emulator stopped; the tenant file is up to date.");
    Ok(ExitCode::SUCCESS)
}

/// The client `--client-id` and the secret in the environment name, if any.
fn expected_client(args: &Args) -> Result<Option<ExpectedClient>> {
    Ok(match &args.client_id {
        None => None,
        Some(id) => {
            let secret = std::env::var(ENV_SECRET).ok().filter(|s| !s.is_empty());
            let Some(secret) = secret else {
                return Err(miette!(
                    code = "commcred::emulator::no_secret",
                    help = "export COMMCRED_EMULATOR_CLIENT_SECRET=... (not a flag, so it stays out of `ps`)",
                    "--client-id needs the secret to accept"
                ));
            };
            Some(ExpectedClient {
                client_id: id.clone(),
                client_secret: secret,
            })
        }
    })
}

/// The emulator's configuration from the flags.
fn config_from(
    args: &Args,
    client: Option<ExpectedClient>,
    roles: Option<Vec<String>>,
) -> EmulatorConfig {
    EmulatorConfig {
        tenant: args.tenant.clone(),
        listen: args.listen,
        quota: WriteQuota {
            limit: args.write_limit,
            window: Duration::from_secs_f64(args.write_window),
        },
        faults: FaultConfig {
            latency: args
                .latency
                .unwrap_or(Duration::from_millis(args.latency_ms)),
            latency_jitter: Duration::from_millis(args.latency_jitter_ms),
            error_rate: args.error_rate,
            throttle_rate: args.throttle_rate,
            drop_rate: args.drop_rate,
            retry_after_secs: args.retry_after,
            seed: args.seed,
        },
        client,
        client_certificates: args.client_certificate.clone(),
        token_lifetime: Duration::from_secs(args.token_lifetime),
        roles,
        group_processing_delay: Duration::from_millis(args.group_processing_delay),
        provisioning_delay: Duration::from_millis(args.provisioning_delay),
        observer: None,
        persistence: Persistence::Durable,
    }
}
