//! What most commands need: the config, the backend, the clock.

use std::path::{Path, PathBuf};

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use commcred::backend::Backend;
use commcred::base::fsio::DEFAULT_LOCK_WAIT;
use commcred::config::{BackendSpec, DesiredState};
use commcred::workflow::Session;
use miette::{Result, miette};

/// Global options shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Live tenant to use: `file:PATH`, `graph` (Microsoft Graph) or `graph:BASE_URL` (an
    /// emulator). Overrides the YAML's `backend`.
    #[arg(long, global = true, env = "COMMCRED_BACKEND", value_name = "SPEC")]
    pub backend: Option<String>,
    /// How long to wait for a tenant snapshot or ledger that another commcred (an apply,
    /// an emulator) is using before giving up, e.g. `30s`, `2m`, `500ms` (default 5s).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Option<Duration>,
}

impl GlobalArgs {
    /// `--lock-timeout`, or the default.
    pub fn lock_wait(&self) -> Duration {
        self.lock_timeout.unwrap_or(DEFAULT_LOCK_WAIT)
    }
}

/// What the workflows need from the command line and the environment.
pub fn session(global: &GlobalArgs) -> Result<Session> {
    Ok(Session {
        backend_override: backend_override(global)?,
        now: now()?,
        lock_wait: global.lock_wait(),
        credentials: Default::default(),
    })
}

/// `30s`, `2m`, `500ms`, `1h`, or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 30s, 2m or 500ms"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        other => return Err(format!("unknown unit `{other}`: use ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

pub fn load_config(path: &Path) -> Result<DesiredState> {
    Ok(commcred::config::load(path)?)
}

/// `--backend` / `COMMCRED_BACKEND`, when given.
pub fn backend_override(global: &GlobalArgs) -> Result<Option<BackendSpec>> {
    global
        .backend
        .as_deref()
        .map(|text| {
            BackendSpec::parse(text).map_err(|e| {
                miette!(
                    code = "commcred::cli::bad_backend",
                    help = "e.g. --backend file:tenant.json",
                    "{e}"
                )
            })
        })
        .transpose()
}

pub fn open_spec(global: &GlobalArgs, spec: &BackendSpec) -> Result<Box<dyn Backend>> {
    Ok(commcred::backend::open(spec, global.lock_wait())?)
}

/// Now, or `COMMCRED_NOW` (RFC 3339, or YYYY-MM-DD meaning midnight UTC).
pub fn now() -> Result<DateTime<Utc>> {
    match std::env::var("COMMCRED_NOW") {
        Ok(text) if !text.is_empty() => parse_now(&text).ok_or_else(|| {
            miette!(
                code = "commcred::cli::bad_now",
                help = "use RFC 3339 (2026-11-25T10:00:00Z) or a date (2026-11-25)",
                "COMMCRED_NOW=`{text}` is not a date or time"
            )
        }),
        _ => Ok(Utc::now()),
    }
}

fn parse_now(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// CONFIG defaults to `./commcred.yaml`.
pub fn config_path(arg: Option<PathBuf>) -> PathBuf {
    arg.unwrap_or_else(|| PathBuf::from("commcred.yaml"))
}

/// Who confirms manual steps or records the ledger: `--confirmed-by` (or
/// `COMMCRED_CONFIRMED_BY`), else the login name (`USER`, `LOGNAME`, `USERNAME`). `None`
/// when none is known: the ledger is an audit trail, and "unknown" tells nobody anything.
pub fn actor(given: Option<&str>) -> Option<String> {
    given
        .map(str::to_string)
        .into_iter()
        .chain(
            ["USER", "LOGNAME", "USERNAME"]
                .iter()
                .filter_map(|v| std::env::var(v).ok()),
        )
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
}

/// [`actor`], or an error that says which flag to add.
pub fn require_actor(given: Option<&str>) -> Result<String> {
    actor(given).ok_or_else(|| {
        miette!(
            code = "commcred::cli::who_unknown",
            help = "add --confirmed-by NAME (or set COMMCRED_CONFIRMED_BY=NAME); the credits ledger records who did what",
            "commcred does not know who you are: USER, LOGNAME and USERNAME are not set"
        )
    })
}
