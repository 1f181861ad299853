//! `commcred man`: manual pages (roff) generated from the clap definitions, so they never
//! drift from `--help`. `commcred man` prints commcred(1), `commcred man plan` prints
//! commcred-plan(1), `commcred man --out-dir DIR` writes every page.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;
use miette::{IntoDiagnostic, Result, miette};

use super::Cli;
use super::output::Output;

/// `man --help` without the global options (they change nothing here); its one option
/// written out, since a template cannot list some options and not others.
const MAN_HELP: &str = "\
{about-with-newline}
{usage-heading} {usage}

Arguments:
{positionals}

Options:
      --out-dir <DIR>  Write commcred.1 and one commcred-COMMAND.1 page per command into DIR
  -h, --help           Print help{after-help}";

#[derive(Debug, clap::Args)]
#[command(help_template = MAN_HELP)]
#[command(after_help = "\
Examples:
  commcred man | man -l -
  commcred man plan | man -l -
  commcred man --out-dir /usr/local/share/man/man1")]
pub struct Args {
    /// The command whose page to print (default: the main page).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
    /// Write commcred.1 and one commcred-COMMAND.1 page per command into DIR instead.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub out_dir: Option<PathBuf>,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    if let Some(dir) = &args.out_dir {
        let cmd = command();
        let pages = std::iter::once(cmd.clone()).chain(cmd.get_subcommands().cloned());
        for page in pages {
            man(page).generate_to(dir).map_err(|e| {
                miette!(
                    code = "commcred::cli::man_write",
                    help = "create the folder first, or choose one you can write to",
                    "cannot write manual pages to {}: {e}",
                    dir.display()
                )
            })?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let roff = page(args.command.as_deref())?;
    out.result(&String::from_utf8_lossy(&roff));
    Ok(ExitCode::SUCCESS)
}

/// The clap command as the pages describe it (built, so subcommands know their full names).
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The roff of the main page, or of one command's page.
fn page(name: Option<&str>) -> Result<Vec<u8>> {
    let cmd = command();
    let target = match name {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let known: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
                return Err(miette!(
                    code = "commcred::cli::unknown_command",
                    help = format!("one of: {}", known.join(", ")),
                    "there is no command `{name}`"
                ));
            }
        },
    };
    let mut roff = Vec::new();
    man(target).render(&mut roff).into_diagnostic()?;
    Ok(roff)
}

/// Every page says which commcred it documents (subcommands carry no version of their own).
fn man(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd)
        .source(format!("commcred {}", env!("CARGO_PKG_VERSION")))
        .manual("commcred manual")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_help_with_an_example() {
        let mut checked = 0;
        for sub in command().get_subcommands() {
            let after = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                after.contains("Example") && after.contains("commcred "),
                "`commcred {}` has no example in its --help",
                sub.get_name()
            );
            assert!(sub.get_about().is_some(), "{} has no about", sub.get_name());
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} commands");
    }

    #[test]
    fn pages_exist_for_every_command() {
        let main = String::from_utf8(page(None).unwrap()).unwrap();
        assert!(main.contains(".TH commcred 1"), "{}", &main[..80]);
        for sub in command().get_subcommands() {
            let text = String::from_utf8(page(Some(sub.get_name())).unwrap()).unwrap();
            assert!(
                text.contains(&format!(".TH commcred-{} 1", sub.get_name())),
                "{}",
                &text[..120]
            );
            assert!(text.contains("EXTRA") || text.contains("Example"));
        }
        let plan = String::from_utf8(page(Some("plan")).unwrap()).unwrap();
        assert!(plan.contains("\\-\\-detailed\\-exitcode"));
        assert!(page(Some("nope")).is_err());
    }

    #[test]
    fn out_dir_writes_one_page_per_command() {
        let dir = tempfile::tempdir().unwrap();
        let out = Output::new(super::super::output::ColorChoice::Never, true);
        run(
            Args {
                command: None,
                out_dir: Some(dir.path().to_path_buf()),
            },
            &out,
        )
        .unwrap();
        assert!(dir.path().join("commcred.1").exists());
        assert!(dir.path().join("commcred-export.1").exists());
    }
}
