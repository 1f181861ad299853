//! `commcred export`: read the live tenant, write a `commcred.yaml` that reproduces its
//! calling licenses (and, with `--users-csv`, a CSV of its users).

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use commcred::backend;
use commcred::base::fsio::write_atomically;
use commcred::config::BackendSpec;
use commcred::config::schema::{Backend, BackendMap, GraphTarget, SCHEMA_BESIDE};
use commcred::export::{ExportOptions, export};
use miette::{Result, miette};

use super::context::{GlobalArgs, load_config, now};
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  commcred export --backend file:tenant.json --out commcred.yaml
  commcred export --backend graph --out commcred.yaml --users-csv users.csv
  commcred export > exported.yaml        (backend taken from ./commcred.yaml)

The tenant is read from --backend, else from the `backend` of --config (default
./commcred.yaml). Planning the result against the same tenant shows no changes.")]
pub struct Args {
    /// Write the YAML to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the users to this CSV file (columns upn, usageLocation, profile, licenses), which
    /// the YAML reads with `csv:`. Keeps the YAML short for large tenants.
    #[arg(long, value_name = "FILE")]
    pub users_csv: Option<PathBuf>,
    /// Replace --out and --users-csv when they already exist.
    #[arg(long)]
    pub force: bool,
    /// Take the backend from this commcred.yaml when --backend is not given.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The JSON Schema the YAML's `yaml-language-server` modeline points editors to: a path
    /// relative to the YAML, or a URL. The default expects the file `commcred schema` writes,
    /// saved beside the YAML.
    #[arg(long, value_name = "URL|PATH", default_value = SCHEMA_BESIDE)]
    pub schema: String,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let spec = backend_spec(&args, global)?;
    check_outputs(&args)?;
    let yaml_dir = match &args.out {
        Some(path) => absolute(path.parent().unwrap_or(Path::new("")))?,
        None => absolute(Path::new(""))?,
    };

    let mut backend = backend::open(&spec, global.lock_wait())?;
    out.info(&format!(
        "Reading the live tenant from {}...",
        backend.describe()
    ));
    let started = Instant::now();
    let live = backend.read()?;
    tracing::info!(users = live.users.len(), elapsed = ?started.elapsed(), "read the tenant");

    let options = ExportOptions {
        backend: Some(yaml_backend(&spec, &yaml_dir)?),
        users_csv: match &args.users_csv {
            Some(path) => Some(relative_to(&absolute(path)?, &yaml_dir)),
            None => None,
        },
        source: backend.describe(),
        now: now()?,
        schema_ref: args.schema.clone(),
    };
    let started = Instant::now();
    let result = export(&live, &options);
    tracing::info!(elapsed = ?started.elapsed(), "exported and checked");

    if let (Some(path), Some(csv)) = (&args.users_csv, &result.csv) {
        write_file(path, csv)?;
    }
    match &args.out {
        Some(path) => write_file(path, &result.yaml)?,
        None => out.result(&result.yaml),
    }
    if !out.quiet {
        for w in &result.warnings {
            eprintln!("{:?}", miette::Report::new(w.clone()));
        }
    }
    out.info(&format!(
        "Exported {} user{} in {} profile{}{}{}.",
        result.listed,
        plural(result.listed),
        result.document.profiles.len(),
        plural(result.document.profiles.len()),
        match &args.out {
            Some(p) => format!(" to {}", p.display()),
            None => String::new(),
        },
        if result.skipped > 0 {
            format!("; {} left out (see the warnings)", result.skipped)
        } else {
            String::new()
        }
    ));
    if args.schema == SCHEMA_BESIDE {
        out.info(&format!(
            "For completion in editors, save the schema beside it: commcred schema > {}",
            args.out
                .as_deref()
                .and_then(Path::parent)
                .filter(|d| !d.as_os_str().is_empty())
                .map(|d| d.join(SCHEMA_BESIDE).display().to_string())
                .unwrap_or_else(|| SCHEMA_BESIDE.to_string())
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `--backend`, else the backend of `--config` / `./commcred.yaml` (its `backend`, or
/// `tenant.json` beside it, the same default as `plan`).
fn backend_spec(args: &Args, global: &GlobalArgs) -> Result<BackendSpec> {
    if let Some(text) = &global.backend {
        return BackendSpec::parse(text).map_err(|e| {
            miette!(
                code = "commcred::cli::bad_backend",
                help = "e.g. --backend file:tenant.json",
                "{e}"
            )
        });
    }
    let config = match &args.config {
        Some(path) => path.clone(),
        None if Path::new("commcred.yaml").exists() => PathBuf::from("commcred.yaml"),
        None => {
            return Err(miette!(
                code = "commcred::export::no_backend",
                help = "pass --backend file:tenant.json (a snapshot) or --backend graph (Microsoft Graph), or --config FILE",
                "export does not know which tenant to read: no --backend and no ./commcred.yaml"
            ));
        }
    };
    let desired = load_config(&config)?;
    Ok(desired.backend.clone().unwrap_or_else(|| {
        let dir = desired.config_path.parent().unwrap_or(Path::new("."));
        BackendSpec::File(dir.join("tenant.json"))
    }))
}

/// Refuses to overwrite files (an admin's hand-written commcred.yaml, say) without --force,
/// and to write the YAML and the CSV to one file.
fn check_outputs(args: &Args) -> Result<()> {
    if let (Some(out), Some(csv)) = (&args.out, &args.users_csv)
        && absolute(out)? == absolute(csv)?
    {
        return Err(miette!(
            code = "commcred::export::same_file",
            help = "give --users-csv another name, e.g. users.csv",
            "--out and --users-csv name the same file: {}",
            out.display()
        ));
    }
    for path in args.out.iter().chain(args.users_csv.iter()) {
        let dir = absolute(path.parent().unwrap_or(Path::new("")))?;
        if !dir.is_dir() {
            return Err(write_error(format!(
                "cannot write {}: the folder {} does not exist",
                path.display(),
                dir.display()
            )));
        }
    }
    if args.force {
        return Ok(());
    }
    for path in args.out.iter().chain(args.users_csv.iter()) {
        if path.exists() {
            return Err(miette!(
                code = "commcred::export::exists",
                help = "choose another file, or pass --force to replace it",
                "{} already exists; export does not overwrite it",
                path.display()
            ));
        }
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, text.as_bytes()).map_err(|e| write_error(e.to_string()))
}

fn write_error(message: String) -> miette::Report {
    miette!(
        code = "commcred::export::write",
        help = "check that the folder exists and is writable",
        "{message}"
    )
}

/// The `backend` the YAML should carry so that `plan` reads the same tenant: a snapshot path
/// relative to the YAML's folder, or Microsoft Graph / the emulator's URL.
fn yaml_backend(spec: &BackendSpec, yaml_dir: &Path) -> Result<Backend> {
    Ok(Backend::Map(match spec {
        BackendSpec::File(path) => BackendMap::File(relative_to(&absolute(path)?, yaml_dir)),
        BackendSpec::Graph(None) => BackendMap::Graph(GraphTarget::Microsoft),
        BackendSpec::Graph(Some(url)) => BackendMap::Graph(GraphTarget::Url(url.clone())),
    }))
}

fn absolute(path: &Path) -> Result<PathBuf> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let abs =
        std::path::absolute(path).map_err(|e| miette!("cannot resolve {}: {e}", path.display()))?;
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
