//! `commcred export`: read the live tenant, write a `commcred.yaml` that reproduces its
//! calling licenses (and, with `--users-csv`, a CSV of its users).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use commcred::config::schema::SCHEMA_BESIDE;
use commcred::workflow::export::{ExportRequest, export};
use miette::Result;

use super::context::{GlobalArgs, Timeout, deadline, parse_timeout, session_until};
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
    /// Give up after DURATION (`90s`, `20m`, `2h`) when Microsoft Graph keeps throttling
    /// the reads, exiting 1 with nothing written. Default: none on a terminal (Ctrl-C
    /// stops), 2h without one (CI); `none` for no deadline.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Timeout>,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let until = deadline(args.timeout, std::time::Instant::now());
    let session = session_until(global, until, false)?;
    let request = ExportRequest {
        out: args.out.clone(),
        users_csv: args.users_csv.clone(),
        force: args.force,
        config: args.config.clone(),
        schema_ref: args.schema.clone(),
    };
    let result = export(&request, &session, &|note| out.info(note))?;
    if args.out.is_none() {
        out.result(&result.yaml);
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
