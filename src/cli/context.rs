//! What most commands need: the config, the backend, the clock.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use commcred::backend::{self, Backend};
use commcred::config::{BackendSpec, DesiredState};
use miette::{Result, miette};

/// Global options shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Live tenant to use: `file:PATH`, `graph` (Microsoft Graph) or `graph:BASE_URL` (an
    /// emulator). Overrides the YAML's `backend`.
    #[arg(long, global = true, env = "COMMCRED_BACKEND", value_name = "SPEC")]
    pub backend: Option<String>,
}

pub fn load_config(path: &Path) -> Result<DesiredState> {
    Ok(commcred::config::load(path)?)
}

/// The backend: `--backend`, else the YAML's `backend`, else `tenant.json` beside the YAML.
pub fn open_backend(global: &GlobalArgs, desired: &DesiredState) -> Result<Box<dyn Backend>> {
    open_spec(&backend_spec(global, desired)?)
}

/// Which backend [`open_backend`] opens (a saved plan records it).
pub fn backend_spec(global: &GlobalArgs, desired: &DesiredState) -> Result<BackendSpec> {
    Ok(match backend_override(global)? {
        Some(spec) => spec,
        None => desired.backend.clone().unwrap_or_else(|| {
            let dir = desired.config_path.parent().unwrap_or(Path::new("."));
            BackendSpec::File(dir.join("tenant.json"))
        }),
    })
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

pub fn open_spec(spec: &BackendSpec) -> Result<Box<dyn Backend>> {
    Ok(backend::open(spec)?)
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
