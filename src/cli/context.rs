//! What most commands need: the config, the backend, the clock.

use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use commcred::backend::Backend;
use commcred::base::fsio::DEFAULT_LOCK_WAIT;
use commcred::config::{BackendSpec, DesiredState};
use commcred::workflow::Session;
use miette::{Result, miette};

use super::output::stdin_is_terminal;

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

/// What the workflows need from the command line and the environment, for a command
/// that changes nothing and has no `--timeout` of its own (the default deadline applies).
pub fn session(global: &GlobalArgs) -> Result<Session> {
    Ok(Session {
        backend_override: backend_override(global)?,
        now: now()?,
        lock_wait: global.lock_wait(),
        credentials: Default::default(),
        deadline: deadline(None, Instant::now()),
        applies: false,
    })
}

/// [`session`] ending by `deadline` (`--timeout`), for a command that applies or not.
pub fn session_until(
    global: &GlobalArgs,
    deadline: Option<Instant>,
    applies: bool,
) -> Result<Session> {
    Ok(Session {
        deadline,
        applies,
        ..session(global)?
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
    let mut backend = commcred::backend::open(spec, global.lock_wait())?;
    backend.set_deadline(deadline(None, Instant::now()));
    Ok(backend)
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

/// The deadline of a non-interactive command when `--timeout` is not given.
pub const DEFAULT_NON_INTERACTIVE_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// `--timeout`: a duration, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    After(Duration),
    Never,
}

/// A duration as `--lock-timeout` takes it (`90s`, `20m`, `2h`), or `none`.
pub fn parse_timeout(text: &str) -> std::result::Result<Timeout, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(Timeout::Never);
    }
    match parse_duration(text)? {
        d if d.is_zero() => Err(format!(
            "`{text}`: a deadline must be longer than zero; use `none` for no deadline"
        )),
        d => Ok(Timeout::After(d)),
    }
}

/// When a command must end: `--timeout`, else the non-interactive default. `apply` stops
/// sending then; every command stops waiting out Graph's throttling of its reads.
pub fn deadline(timeout: Option<Timeout>, started: Instant) -> Option<Instant> {
    let timeout = timeout.unwrap_or(if stdin_is_terminal() {
        Timeout::Never
    } else {
        Timeout::After(DEFAULT_NON_INTERACTIVE_TIMEOUT)
    });
    match timeout {
        Timeout::After(d) => Some(started + d),
        Timeout::Never => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_as_documented() {
        let after = |s| Timeout::After(Duration::from_secs(s));
        assert_eq!(parse_timeout("90s"), Ok(after(90)));
        assert_eq!(parse_timeout("20m"), Ok(after(1200)));
        assert_eq!(parse_timeout("2h"), Ok(after(7200)));
        assert_eq!(parse_timeout("45"), Ok(after(45)));
        assert_eq!(parse_timeout("none"), Ok(Timeout::Never));
        for bad in ["", "5x", "m", "0s"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
