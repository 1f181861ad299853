//! `commcred recommend`: funding advice (minimumBalance, triggerBelow, rechargeAmount) from
//! real usage, as a YAML snippet with the reasoning in comments.

use std::path::PathBuf;
use std::process::ExitCode;

use commcred::credits::recommend::{recommend, render_yaml};
use commcred::credits::usage::{merge_rows, read_usage_csv};
use miette::Result;

use commcred::workflow;

use super::context::{GlobalArgs, config_path, load_config, session};
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  commcred recommend --usage PSTN.calls.2026-11-25.csv\n  \
                        commcred recommend commcred.yaml   # usage from the ledger and the live tenant"
)]
pub struct Args {
    /// "PSTN and SMS usage" exports from the Teams admin center (repeatable). Without it,
    /// the usage comes from CONFIG's live tenant and credits ledger (and Microsoft Graph's
    /// call log on the graph backend).
    #[arg(long, value_name = "FILE.csv")]
    pub usage: Vec<PathBuf>,
    /// The desired state, when the usage comes from the live tenant (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let session = session(global)?;
    let now = session.now;
    let (rows, first, source) = if args.usage.is_empty() {
        let desired = load_config(&config_path(args.config))?;
        let (mut backend, live) =
            workflow::plan::read_live(&session, &desired, &|note| out.info(note))?;
        let rows = workflow::credits::calls_for_advice(&desired, &live, backend.pstn_calls(), now)?;
        (
            rows,
            None,
            format!("the usage known for {}", desired.tenant),
        )
    } else {
        let mut rows = Vec::new();
        let mut first = None;
        for path in &args.usage {
            let file = read_usage_csv(path)?;
            first = match (first, file.first) {
                (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
                (a, b) => a.or(b),
            };
            merge_rows(&mut rows, file.rows);
        }
        let names: Vec<String> = args.usage.iter().map(|p| p.display().to_string()).collect();
        (rows, first, names.join(", "))
    };
    let recs = recommend(&rows, first, now);
    out.result(&render_yaml(&recs, &source));
    Ok(ExitCode::SUCCESS)
}
