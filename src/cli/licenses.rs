//! `commcred licenses`: the capability catalog (from Microsoft's SKU table) and, given a
//! tenant, what each of its subscribed SKUs provides and which friendly name resolves to it.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::tenant::capabilities::{describe_catalog, describe_tenant};
use miette::Result;

use super::context::{GlobalArgs, config_path, load_config, open_spec, session};
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  commcred licenses                              the catalog
  commcred licenses --backend file:tenant.json   the catalog's view of a tenant's SKUs
  commcred licenses --tenant                     the tenant of ./commcred.yaml

See docs/licensing.md for the catalog and the rules commcred enforces.")]
pub struct Args {
    /// Read the tenant of this commcred.yaml (its `backend`, or --backend) and show what
    /// each of its subscribed SKUs provides. Implied by --backend.
    #[arg(long)]
    pub tenant: bool,
    /// The commcred.yaml to take the backend from (default ./commcred.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    if !(args.tenant || global.backend.is_some()) {
        out.result(&describe_catalog());
        return Ok(ExitCode::SUCCESS);
    }
    let session = session(global)?;
    let spec = match &session.backend_override {
        Some(spec) => spec.clone(),
        None => session.backend_spec(&load_config(&config_path(args.config))?),
    };
    let mut backend = open_spec(global, &spec)?;
    out.info(&format!(
        "Reading the live tenant from {}...",
        backend.describe()
    ));
    let live = backend.read()?;
    out.result(&describe_tenant(&live));
    Ok(ExitCode::SUCCESS)
}
