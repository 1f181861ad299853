//! `export` without the terminal: choose the tenant, refuse to overwrite, read the live
//! tenant, turn it into a `commcred.yaml` (and a users CSV), and write the files. What to
//! print (the YAML on stdout, the warnings, the summary) is the caller's.

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use crate::base::fsio::{FsError, write_atomically};
use crate::config::BackendSpec;
use crate::config::schema::{Backend, BackendMap, GraphTarget};
use crate::export::{Export, ExportOptions};

use super::{Session, WorkflowError};

/// What to export, and where to.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// The YAML's file; `None`: the caller writes [`Export::yaml`] itself (stdout).
    pub out: Option<PathBuf>,
    /// The users go to this CSV, which the YAML reads with `csv:`.
    pub users_csv: Option<PathBuf>,
    /// Replace `out` and `users_csv` when they exist.
    pub force: bool,
    /// The commcred.yaml whose `backend` to read when the session has no override
    /// (`None`: `./commcred.yaml`, when it exists).
    pub config: Option<PathBuf>,
    /// What the YAML's `yaml-language-server` modeline points editors to.
    pub schema_ref: String,
}

/// Why an export stopped before writing anything (or while writing a file).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ExportError {
    #[error("export does not know which tenant to read: no --backend and no ./commcred.yaml")]
    #[diagnostic(
        code(commcred::export::no_backend),
        help(
            "pass --backend file:tenant.json (a snapshot) or --backend graph (Microsoft Graph), or --config FILE"
        )
    )]
    NoBackend,
    #[error("--out and --users-csv name the same file: {}", .0.display())]
    #[diagnostic(
        code(commcred::export::same_file),
        help("give --users-csv another name, e.g. users.csv")
    )]
    SameFile(PathBuf),
    #[error("{} already exists; export does not overwrite it", .0.display())]
    #[diagnostic(
        code(commcred::export::exists),
        help("choose another file, or pass --force to replace it")
    )]
    Exists(PathBuf),
    #[error("cannot write {}: the folder {} does not exist", .path.display(), .folder.display())]
    #[diagnostic(
        code(commcred::export::write),
        help("check that the folder exists and is writable")
    )]
    NoFolder { path: PathBuf, folder: PathBuf },
    #[error(transparent)]
    #[diagnostic(
        code(commcred::export::write),
        help("check that the folder exists and is writable")
    )]
    Write(FsError),
    /// The working directory is gone, so relative paths mean nothing.
    #[error("cannot resolve {}: {source}", .path.display())]
    #[diagnostic(
        code(commcred::export::path),
        help("run export from a folder that exists")
    )]
    Resolve {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads the tenant the request names and writes what [`crate::export::export`] makes of
/// it: the users CSV, then the YAML when `out` is given. `note` hears what is being read.
pub fn export(
    request: &ExportRequest,
    session: &Session,
    note: &dyn Fn(&str),
) -> Result<Export, WorkflowError> {
    let spec = backend_spec(request, session)?;
    check_outputs(request)?;
    let yaml_dir = match &request.out {
        Some(path) => absolute(path.parent().unwrap_or(Path::new("")))?,
        None => absolute(Path::new(""))?,
    };

    let mut backend = session.open(&spec)?;
    // Numbers are exported when the application may read them (least privilege: an export
    // never fails for want of Teams permissions).
    backend.declare(crate::backend::Intent {
        numbers: crate::backend::NumbersRead::IfGranted,
        ..Default::default()
    });
    note(&format!(
        "Reading the live tenant from {}...",
        backend.describe()
    ));
    let started = Instant::now();
    let live = backend.read()?;
    for left_out in backend.read_notes() {
        note(&left_out);
    }
    tracing::info!(users = live.users.len(), elapsed = ?started.elapsed(), "read the tenant");

    let options = ExportOptions {
        backend: Some(yaml_backend(&spec, &yaml_dir)?),
        users_csv: match &request.users_csv {
            Some(path) => Some(relative_to(&absolute(path)?, &yaml_dir)),
            None => None,
        },
        source: backend.describe(),
        now: session.now,
        schema_ref: request.schema_ref.clone(),
    };
    let started = Instant::now();
    let result = crate::export::export(&live, &options);
    tracing::info!(elapsed = ?started.elapsed(), "exported and checked");

    if let (Some(path), Some(csv)) = (&request.users_csv, &result.csv) {
        write_atomically(path, csv.as_bytes()).map_err(ExportError::Write)?;
    }
    if let Some(path) = &request.out {
        write_atomically(path, result.yaml.as_bytes()).map_err(ExportError::Write)?;
    }
    Ok(result)
}

/// The session's backend override, else the backend of `config` / `./commcred.yaml` (its
/// `backend`, or `tenant.json` beside it, the same default as `plan`).
fn backend_spec(request: &ExportRequest, session: &Session) -> Result<BackendSpec, WorkflowError> {
    if let Some(spec) = &session.backend_override {
        return Ok(spec.clone());
    }
    let config = match &request.config {
        Some(path) => path.clone(),
        None if Path::new("commcred.yaml").exists() => PathBuf::from("commcred.yaml"),
        None => return Err(ExportError::NoBackend.into()),
    };
    let desired = crate::config::load(&config)?;
    Ok(session.backend_spec(&desired))
}

/// Refuses to overwrite files (an admin's hand-written commcred.yaml, say) without `force`,
/// and to write the YAML and the CSV to one file.
fn check_outputs(request: &ExportRequest) -> Result<(), ExportError> {
    if let (Some(out), Some(csv)) = (&request.out, &request.users_csv)
        && absolute(out)? == absolute(csv)?
    {
        return Err(ExportError::SameFile(out.clone()));
    }
    let outputs = || request.out.iter().chain(request.users_csv.iter());
    for path in outputs() {
        let folder = absolute(path.parent().unwrap_or(Path::new("")))?;
        if !folder.is_dir() {
            return Err(ExportError::NoFolder {
                path: path.clone(),
                folder,
            });
        }
    }
    if request.force {
        return Ok(());
    }
    match outputs().find(|path| path.exists()) {
        Some(path) => Err(ExportError::Exists(path.clone())),
        None => Ok(()),
    }
}

/// The `backend` the YAML should carry so that `plan` reads the same tenant: a snapshot path
/// relative to the YAML's folder, or Microsoft Graph / the emulator's URL.
fn yaml_backend(spec: &BackendSpec, yaml_dir: &Path) -> Result<Backend, ExportError> {
    Ok(Backend::Map(match spec {
        BackendSpec::File(path) => BackendMap::File(relative_to(&absolute(path)?, yaml_dir)),
        BackendSpec::Graph(None) => BackendMap::Graph(GraphTarget::Microsoft),
        BackendSpec::Graph(Some(url)) => BackendMap::Graph(GraphTarget::Url(url.clone())),
    }))
}

fn absolute(path: &Path) -> Result<PathBuf, ExportError> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let abs = std::path::absolute(path).map_err(|source| ExportError::Resolve {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(normalize(&abs))
}

/// Removes `.` and folds `..` lexically (the paths need not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `target` relative to `base` (both absolute), with `/` separators as YAML files use; the
/// absolute path when they share no root.
fn relative_to(target: &Path, base: &Path) -> String {
    let t: Vec<Component> = target.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return target.display().to_string();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            relative_to(&p("/a/b/tenant.json"), &p("/a/b")),
            "tenant.json"
        );
        assert_eq!(
            relative_to(&p("/a/x/tenant.json"), &p("/a/b/c")),
            "../../x/tenant.json"
        );
        assert_eq!(normalize(&p("/a/./b/../c")), p("/a/c"));
    }
}
