//! `commcred validate`: check the YAML (and its CSV files) alone, without the live tenant.

use std::path::PathBuf;
use std::process::ExitCode;

use miette::Result;

use super::context::config_path;
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  commcred validate examples/quickstart/commcred.yaml")]
pub struct Args {
    /// The desired state (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
}

/// Prints a one-line summary and exits 0, or returns every problem (the caller prints them
/// on stderr and exits 1).
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let path = config_path(args.config);
    let loaded = commcred::config::load_config(&path)?;
    let users = loaded.desired.users.len();
    let profiles = loaded.profiles.len();
    let credits = if loaded.desired.credits.is_some() {
        "credits managed"
    } else {
        "credits not managed"
    };
    let prices = match &loaded.desired.prices {
        Some(p) => format!(
            ", {} in {} from {}",
            count(p.skus.len(), "price"),
            p.currency,
            p.path.display()
        ),
        None => String::new(),
    };
    out.result(&format!(
        "{} is valid: {}, {}, {credits}{prices}\n",
        path.display(),
        count(users, "user"),
        count(profiles, "profile"),
    ));
    Ok(ExitCode::SUCCESS)
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
