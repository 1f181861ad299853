//! The one place that decides how output looks: colour (terminal, `NO_COLOR`, `--color`),
//! verbosity, and how errors are rendered. Commands print through it.

use std::cell::RefCell;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::ValueEnum;
use commcred::plan::render::{Style, Tone};

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
    /// Whether output is coloured (decided once, in [`Output::new`]).
    pub color: bool,
    pub quiet: bool,
    /// The first error writing stdout (a full disk, a closed pipe). Later results are not
    /// attempted; `main` turns it into the exit status (see [`Output::finish`]).
    stdout_error: RefCell<Option<io::Error>>,
}

/// `text` in the terminal colour of `tone` (SGR codes): the only place that writes them.
pub fn ansi(tone: Tone, text: &str) -> String {
    let code = match tone {
        Tone::Added => "32",
        Tone::Removed => "31",
        Tone::Changed => "33",
        Tone::Note => "2",
        Tone::Bold => "1",
        Tone::Hunk => "36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
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
            style: if color {
                Style::painted(ansi)
            } else {
                Style::default()
            },
            color,
            quiet,
            stdout_error: RefCell::new(None),
        }
    }

    /// The main result of a command (a plan, a report): always printed.
    pub fn result(&self, text: &str) {
        self.write_stdout(|out| out.write_all(text.as_bytes()));
    }

    /// A large result (the human plan of 100,000 users) written straight to stdout through a
    /// buffer, never held whole in memory.
    pub fn stream(&self, write: impl FnOnce(&mut dyn std::fmt::Write)) {
        self.write_stdout(|out| {
            let mut sink = FmtToIo {
                inner: out,
                error: None,
            };
            write(&mut sink);
            sink.error.map_or(Ok(()), Err)
        });
    }

    /// Runs `write` on a buffered stdout and flushes, keeping the first error.
    fn write_stdout(&self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if self.stdout_error.borrow().is_some() {
            return;
        }
        let mut out = io::BufWriter::new(io::stdout().lock());
        let result = write(&mut out).and_then(|()| out.flush());
        if let Err(e) = result {
            *self.stdout_error.borrow_mut() = Some(e);
        }
    }

    /// Fails when stdout could not be written: a command that is about to change something
    /// (apply) stops rather than act on output nobody saw.
    pub fn check_stdout(&self) -> miette::Result<()> {
        match &*self.stdout_error.borrow() {
            None => Ok(()),
            Some(e) => Err(stdout_error(e, "nothing was changed")),
        }
    }

    /// The exit status once the command is done: a closed pipe (`| head -1`) ends quietly
    /// with the command's status; any other write error is reported and fails (exit 1), so
    /// `plan > /dev/full` does not pass for a success.
    pub fn finish(&self, code: ExitCode) -> ExitCode {
        match &*self.stdout_error.borrow() {
            None => code,
            Some(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
            Some(e) => {
                eprintln!("{:?}", stdout_error(e, "the output is incomplete"));
                ExitCode::FAILURE
            }
        }
    }

    /// Progress and remarks: on stderr, silenced by `-q`.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// Installs miette's renderer with the same colour decision, for error reports.
    /// Without the cause chain: every message already says its cause (`cannot read x: No
    /// such file`), and the typed source behind it would repeat it on a line of its own.
    pub fn install_error_renderer(&self) {
        let color = self.color && std::io::stderr().is_terminal();
        let _ = miette::set_hook(Box::new(move |_| {
            let opts = miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .terminal_links(false)
                .context_lines(1)
                .without_cause_chain()
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
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

fn stdout_error(e: &io::Error, consequence: &str) -> miette::Report {
    miette::miette!(
        code = "commcred::cli::stdout",
        help = "check the disk or the file stdout is redirected to, then run again",
        "cannot write to stdout: {e}; {consequence}"
    )
}

/// Lets `fmt::Write` renderers write to an `io::Write` (stdout), keeping the I/O error
/// that `fmt::Error` cannot carry.
struct FmtToIo<'a> {
    inner: &'a mut dyn Write,
    error: Option<io::Error>,
}

impl std::fmt::Write for FmtToIo<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.error.is_some() {
            return Err(std::fmt::Error);
        }
        self.inner.write_all(s.as_bytes()).map_err(|e| {
            self.error = Some(e);
            std::fmt::Error
        })
    }
}
