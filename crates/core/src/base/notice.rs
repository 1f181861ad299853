//! One problem or warning for a person: a stable code (`commcred::<area>::<name>`,
//! documented in docs/diagnostics.md), what is wrong, and what to do. The planner's
//! problems and export's warnings are both this type; config problems carry spans and are
//! their own (`config::Problem`).

use std::fmt;

use miette::Severity;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Stable code, `commcred::<area>::<name>`.
    pub code: &'static str,
    pub message: String,
    pub help: String,
    pub severity: Severity,
}

impl Notice {
    /// An error: it stops what it is about.
    pub fn new(code: &'static str, message: impl Into<String>, help: impl Into<String>) -> Self {
        // Values echoed from the YAML, a CSV or the tenant are windowed: a long value never
        // makes a long diagnostic.
        let window = |text: String| match super::source_window::window_values(&text) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(short) => short,
        };
        Notice {
            code,
            message: window(message.into()),
            help: window(help.into()),
            severity: Severity::Error,
        }
    }

    /// A warning: reported, and the work goes on.
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Notice {
            severity: Severity::Warning,
            ..Notice::new(code, message, help)
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Notice {}

impl miette::Diagnostic for Notice {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }
}
