//! The command line (SPEC §5): one file per command, each an `Args` struct beside its `run`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod apply;
mod common;
mod completions;
mod context;
mod drift;
mod emulator;
mod export;
mod ledger;
mod licenses;
mod man;
mod manual_steps;
mod output;
mod plan;
mod progress;
mod prompt;
mod recommend;
mod schema;
mod show;
mod usage;
mod validate;
mod waste;
mod workspace;

use context::GlobalArgs;

/// `--help` of commands that read no tenant and print no plan (`schema`): the global
/// options (`--backend`, `--color`, `-q`, `-v`…) change nothing there, so their help leaves
/// them out (they are still accepted).
const OWN_HELP_ONLY: &str = "\
{about-with-newline}
{usage-heading} {usage}

Options:
  -h, --help  Print help{after-help}";

/// [`OWN_HELP_ONLY`] for a command whose only arguments are positional (`completions`).
const POSITIONALS_ONLY: &str = "\
{about-with-newline}
{usage-heading} {usage}

Arguments:
{positionals}

Options:
  -h, --help  Print help{after-help}";
use output::{ColorChoice, Output};

#[derive(Debug, Parser)]
#[command(
    name = "commcred",
    version,
    about = "Declarative Teams calling licenses and Communications Credits for Microsoft 365",
    after_help = "Start with:\n  commcred plan examples/quickstart/commcred.yaml\n\nAdopt an existing tenant:\n  commcred export --backend graph --out commcred.yaml"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Print only results and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Log what commcred does to stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the YAML and its CSV files alone (no live tenant); report every problem.
    Validate(validate::Args),
    /// Show the changes that would make the tenant match the YAML.
    Plan(plan::Args),
    /// Make the tenant match the YAML (asks for `yes` unless --auto-approve), or apply a
    /// saved plan exactly as it was reviewed.
    Apply(apply::Args),
    /// PSTN usage: import the Teams admin center export into the credits ledger.
    Usage(usage::Args),
    /// Funding advice (minimumBalance, triggerBelow, rechargeAmount) from real usage.
    Recommend(recommend::Args),
    /// The Communications Credits ledger kept for Microsoft Graph, which has no credits API.
    Ledger(ledger::Args),
    /// Serve a tenant snapshot as a local Microsoft Graph, for tests and trials.
    Emulator(emulator::Args),
    /// How the live tenant differs from the YAML, as a unified diff (exit 2 when it does):
    /// the daily report of what was changed in the portal since the last apply.
    Drift(drift::Args),
    /// Licenses paid for and wasted: unassigned seats, licenses another SKU already gives,
    /// calling licenses on disabled accounts or without calls; priced, with the fix (exit 2
    /// when there is waste).
    Waste(waste::Args),
    /// Print a plan saved by `plan --out` (human, json, markdown or powershell).
    Show(show::Args),
    /// Write a commcred.yaml that reproduces the live tenant's calling licenses.
    Export(export::Args),
    /// The license capability catalog, and what a tenant's SKUs provide.
    Licenses(licenses::Args),
    /// Print the JSON Schema of commcred.yaml (for editors).
    Schema(schema::Args),
    /// Print a shell completion script.
    Completions(completions::Args),
    /// Print the manual page (roff).
    Man(man::Args),
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
    output::init_tracing(cli.verbose, out.color);
    let result = match cli.command {
        Command::Validate(args) => validate::run(args, &out),
        Command::Plan(args) => plan::run(args, &cli.global, &out),
        Command::Apply(args) => apply::run(args, &cli.global, &out),
        Command::Usage(args) => usage::run(args, &cli.global, &out),
        Command::Recommend(args) => recommend::run(args, &cli.global, &out),
        Command::Ledger(args) => ledger::run(args, &cli.global, &out),
        Command::Emulator(args) => emulator::run(args, &out),
        Command::Drift(args) => drift::run(args, &cli.global, &out),
        Command::Waste(args) => waste::run(args, &cli.global, &out),
        Command::Show(args) => show::run(args, &out),
        Command::Export(args) => export::run(args, &cli.global, &out),
        Command::Licenses(args) => licenses::run(args, &cli.global, &out),
        Command::Schema(args) => schema::run(args, &out),
        Command::Completions(args) => completions::run(args, &out),
        Command::Man(args) => man::run(args, &out),
    };
    match result {
        Ok(code) => out.finish(code),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
