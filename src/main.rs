//! The `commcred` binary: parse the command line, run the command, map the outcome to the
//! exit codes of SPEC §5 (0 success, 1 error, 2 changes with `--detailed-exitcode`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
