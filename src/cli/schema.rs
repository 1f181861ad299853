//! `commcred schema`: prints the JSON Schema of commcred.yaml that this build reads (or, with
//! `--prices`, of a price list), for editors without network access (the committed
//! `schemas/commcred.schema.json` and `schemas/prices.schema.json`).

use std::process::ExitCode;

use miette::Result;

use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(help_template = super::OWN_HELP_ONLY)]
#[command(after_help = "\
Examples:
  commcred schema > commcred.schema.json
  # then start commcred.yaml with:
  # yaml-language-server: $schema=commcred.schema.json
  commcred schema --prices > prices.schema.json    # the price list named by `prices:`")]
pub struct Args {
    /// The schema of a price list file (`prices: FILE` in commcred.yaml) instead.
    #[arg(long)]
    pub prices: bool,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    if args.prices {
        out.result(&commcred::config::price_schema::json_schema_text());
    } else {
        out.result(&commcred::config::schema::json_schema_text());
    }
    Ok(ExitCode::SUCCESS)
}
