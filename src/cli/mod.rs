//! The command line (SPEC §5): one file per command, each an `Args` struct beside its `run`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod apply;
mod context;
mod emulator;
mod output;
mod plan;
mod validate;

use context::GlobalArgs;
use output::{ColorChoice, Output};

#[derive(Debug, Parser)]
#[command(
    name = "commcred",
    version,
    about = "Declarative Teams calling licenses and Communications Credits for Microsoft 365",
    after_help = "Start with:\n  commcred plan examples/quickstart/commcred.yaml"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Print only results and errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the YAML and its CSV files alone (no live tenant); report every problem.
    Validate(validate::Args),
    /// Show the changes that would make the tenant match the YAML.
    Plan(plan::Args),
    /// Make the tenant match the YAML (asks for `yes` unless --auto-approve).
    Apply(apply::Args),
    /// Serve a tenant snapshot as a local Microsoft Graph, for tests and trials.
    Emulator(emulator::Args),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are successes; usage errors are errors (1), never 2, which
            // `--detailed-exitcode` reserves for "the plan has changes".
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let out = Output::new(cli.color, cli.quiet);
    out.install_error_renderer();
    let result = match cli.command {
        Command::Validate(args) => validate::run(args, &out),
        Command::Plan(args) => plan::run(args, &cli.global, &out),
        Command::Apply(args) => apply::run(args, &cli.global, &out),
        Command::Emulator(args) => emulator::run(args, &out),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
