//! `commcred completions SHELL`: shell completion scripts, generated from the clap definitions
//! so that they never drift from the real flags.

use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;
use miette::Result;

use super::Cli;
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(help_template = super::POSITIONALS_ONLY)]
#[command(after_help = "\
Examples:
  commcred completions bash > ~/.local/share/bash-completion/completions/commcred
  commcred completions zsh > \"${fpath[1]}/_commcred\"
  commcred completions fish > ~/.config/fish/completions/commcred.fish
  commcred completions powershell >> $PROFILE")]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "commcred", &mut script);
    out.result(&String::from_utf8_lossy(&script));
    Ok(ExitCode::SUCCESS)
}
