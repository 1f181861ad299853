//! The progress bar of `apply` on Microsoft Graph: indicatif behind the library's
//! [`Progress`] trait, drawn on stderr only when it is a terminal.

use std::io::IsTerminal;

use commcred::apply::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar titled `what` ("applying to Microsoft Graph"), hidden unless stderr is a
    /// terminal.
    pub fn new(what: &str) -> Bar {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        if let Ok(style) = ProgressStyle::with_template(&format!(
            "{what} [{{bar:30}}] {{pos}}/{{len}} changes {{msg}} (eta {{eta}})"
        )) {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar { bar }
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.bar.set_length(total);
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    fn status(&self, text: &str) {
        self.bar.set_message(format!("· {text}"));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
