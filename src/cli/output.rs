//! The one place that decides how output looks: colour (terminal, `NO_COLOR`, `--color`),
//! verbosity, and how errors are rendered. Commands print through it.

use std::io::{IsTerminal, Write};

use clap::ValueEnum;
use commcred::plan::render::Style;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    Always,
    Never,
}

pub struct Output {
    pub style: Style,
    pub quiet: bool,
}

impl Output {
    pub fn new(choice: ColorChoice, quiet: bool) -> Output {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Output {
            style: Style { color },
            quiet,
        }
    }

    /// The main result of a command (a plan, a report): always printed.
    pub fn result(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// A large result (the human plan of 100,000 users) written straight to stdout through a
    /// buffer, never held whole in memory.
    pub fn stream(&self, write: impl FnOnce(&mut dyn std::fmt::Write)) {
        let mut sink = FmtToIo(std::io::BufWriter::new(std::io::stdout().lock()));
        write(&mut sink);
        let _ = sink.0.flush();
    }

    /// Progress and remarks: on stderr, silenced by `-q`.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// Installs miette's renderer with the same colour decision, for error reports.
    pub fn install_error_renderer(&self) {
        let color = self.style.color && std::io::stderr().is_terminal();
        let _ = miette::set_hook(Box::new(move |_| {
            let opts = miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .terminal_links(false)
                .context_lines(1)
                .width(100);
            Box::new(opts.build())
        }));
    }
}

/// Logs to stderr with `-v` (info), `-vv` (debug), `-vvv` (trace); off by default, so that
/// output stays what scripts expect. Coloured like the rest of stderr.
pub fn init_tracing(verbose: u8, color: bool) {
    let level = match verbose {
        0 => return,
        1 => "commcred=info",
        2 => "commcred=debug",
        _ => "trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_writer(std::io::stderr)
        .with_ansi(color && std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// True when a person can answer a prompt.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Lets `fmt::Write` renderers write to an `io::Write` (stdout).
struct FmtToIo<W: Write>(W);

impl<W: Write> std::fmt::Write for FmtToIo<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|_| std::fmt::Error)
    }
}
