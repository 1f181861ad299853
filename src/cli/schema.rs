//! `commcred schema`: prints the JSON Schema of commcred.yaml that this build reads, for
//! editors without network access (the committed `schemas/commcred.schema.json`).

use std::process::ExitCode;

use miette::Result;

use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(help_template = super::OWN_HELP_ONLY)]
#[command(after_help = "\
Example:
  commcred schema > commcred.schema.json
  # then start commcred.yaml with:
  # yaml-language-server: $schema=commcred.schema.json")]
pub struct Args {}

pub fn run(_args: Args, out: &Output) -> Result<ExitCode> {
    out.result(&commcred::config::schema::json_schema_text());
    Ok(ExitCode::SUCCESS)
}
